// batch_norm as one autograd::Function over the backend's fused forward and backward
// kernels. The statistics the forward normalised with are saved for the backward (the
// running ones are copied: a later training step updates them in place).
#include <descent/backends/backend.h>
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/ops/batchnorm.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>

namespace descent::F {

namespace {

constexpr std::string_view kOp = "batch_norm";

// Not a Tensor argument of apply(): the running statistics are no inputs of the graph.
struct RunningStats {
  Tensor mean, var;
  double momentum = 0.1;
};

DType stat_dtype(const Tensor& x) { return x.dtype() == DType::BF16 ? DType::F32 : x.dtype(); }

struct BatchNorm : autograd::Function<BatchNorm> {
  static constexpr std::string_view name = "batch_norm";
  Tensor x, weight, mean, var;
  bool training = true, has_bias = false;
  double eps = 1e-5;

  Tensor forward(const Tensor& x_, const Tensor& weight_, const Tensor& bias_,
                 const RunningStats& running, bool training_, double eps_) {
    x = x_.contiguous();
    weight = weight_;
    has_bias = bias_.defined();
    training = training_;
    eps = eps_;
    const int64_t C = x.size(1);
    // The statistics are f32 for bf16 data (mixed precision), else x's dtype.
    const TensorOptions opt{.dtype = stat_dtype(x), .device = x.device()};
    Backend& be = backend_for(x);
    if (training) {
      mean = Tensor::empty({C}, opt);
      var = Tensor::empty({C}, opt);
    } else {
      mean = running.mean.contiguous().clone();
      var = running.var.contiguous().clone();
    }
    Tensor y = Tensor::empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
    be.batch_norm({.x = x,
                   .weight = weight_.defined() ? weight_.contiguous() : Tensor(),
                   .bias = bias_.defined() ? bias_.contiguous() : Tensor(),
                   .mean = mean,
                   .var = var,
                   .training = training,
                   .eps = eps,
                   .y = y});
    if (training && running.mean.defined()) {
      const double m = running.momentum;
      const double count = double(x.numel() / C);
      Tensor rm = running.mean, rv = running.var;
      mul_(rm, 1.0 - m);
      add_(rm, mean, m);
      mul_(rv, 1.0 - m);
      add_(rv, var, m * count / (count - 1.0));
    }
    return y;
  }

  std::vector<Tensor> backward(const Tensor& g) {
    const int64_t C = x.size(1);
    const TensorOptions opt{.dtype = stat_dtype(x), .device = x.device()};
    Tensor gx = Tensor::empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
    Tensor gw = weight.defined() ? Tensor::empty({C}, opt) : Tensor();
    Tensor gb = has_bias ? Tensor::empty({C}, opt) : Tensor();
    backend_for(x).batch_norm_backward({.x = x,
                                        .grad_y = g.to(x.dtype()).contiguous(),
                                        .weight = weight.defined() ? weight.contiguous() : Tensor(),
                                        .mean = mean,
                                        .var = var,
                                        .training = training,
                                        .eps = eps,
                                        .grad_x = gx,
                                        .grad_weight = gw,
                                        .grad_bias = gb});
    return {gx, gw, gb};
  }
};

// A (C) tensor of x's channel count in `dtype` (x's, or f32 for bf16 data).
void check_channel_tensor(const Tensor& t, const Tensor& x, DType dtype, std::string_view what) {
  if (!t.defined()) return;
  check(t.dim() == 1 && t.size(0) == x.size(1), kOp,
        "{} has shape {}, expected ({}) for input of shape {}", what, t.shape(), x.size(1),
        x.shape());
  if (dtype == x.dtype()) {
    check(t.dtype() == dtype, kOp, "{} is {}, expected the input's dtype {}", what, t.dtype(),
          dtype);
  } else {
    check(t.dtype() == dtype, kOp, "{} is {}, expected {} for {} input", what, t.dtype(), dtype,
          x.dtype());
  }
  ops::check_same_device(t, x, kOp);
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  ops::check_defined(x, kOp);
  // The CPU kernel normalises bf16 images under autocast itself, with f32 statistics
  // and parameters (backend.h): the activation is read and written once, in 16 bits.
  const auto f32_or_absent = [](const Tensor& t) {
    return !t.defined() || t.dtype() == DType::F32;
  };
  const bool mixed = amp::autocast_enabled() && x.dtype() == DType::BF16 && x.device().is_cpu() &&
                     (x.dim() == 3 || x.dim() == 4) && f32_or_absent(weight) &&
                     f32_or_absent(bias) && f32_or_absent(running_mean) &&
                     f32_or_absent(running_var);
  if (!mixed && amp::autocast_enabled() && (x.dtype() == DType::BF16 || x.dtype() == DType::F16)) {
    // Under amp::Autocast a 16-bit input (a linear layer's output) is normalised in f32
    // — batch statistics need it — and handed on in its own dtype, so the activation
    // memory stays 16-bit.
    amp::Autocast off(x.dtype(), /*enabled=*/false);
    return batch_norm(x.to(DType::F32), running_mean, running_var, weight, bias, training, momentum,
                      eps)
        .to(x.dtype());
  }
  check(x.dim() >= 2 && x.dim() <= 4, kOp,
        "expected input of shape (N, C), (N, C, L) or (N, C, H, W), got {}", x.shape());
  check(mixed || x.dtype() == DType::F32 || x.dtype() == DType::F64, kOp,
        "expected f32 or f64, got {}", x.dtype());
  const DType param_dtype = mixed ? DType::F32 : x.dtype();
  check(running_mean.defined() == running_var.defined(), kOp,
        "running_mean and running_var must both be given or both be undefined");
  check(training || running_mean.defined(), kOp,
        "needs running_mean and running_var when not training");
  check(eps >= 0, kOp, "eps must be non-negative, got {}", eps);
  check_channel_tensor(running_mean, x, param_dtype, "running_mean");
  check_channel_tensor(running_var, x, param_dtype, "running_var");
  check_channel_tensor(weight, x, param_dtype, "weight");
  check_channel_tensor(bias, x, param_dtype, "bias");
  if (training) {
    check(x.numel() / std::max<int64_t>(x.size(1), 1) > 1, kOp,
          "expected more than 1 value per channel when training, got input of shape {}", x.shape());
  }
  return BatchNorm::apply(x, weight, bias, RunningStats{running_mean, running_var, momentum},
                          training, eps);
}

}  // namespace descent::F
