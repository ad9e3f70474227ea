// layer_norm as one autograd::Function over the backend's (rows, n) layer_norm kernels;
// group_norm is a layer norm of the (N·G, C/G·S) view without affine parameters, then
// the per-channel affine transform as broadcast ops.
#include <descent/backends/backend.h>
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/layernorm.h>

namespace descent::F {

namespace {

struct LayerNorm : autograd::Function<LayerNorm> {
  static constexpr std::string_view name = "layer_norm";
  Tensor x, weight, mean, var;
  bool has_bias = false;
  double eps = 1e-5;

  // x2 (rows, n); weight and bias flattened to (n).
  Tensor forward(const Tensor& x2, const Tensor& w, const Tensor& b, double eps_) {
    x = x2.contiguous();
    weight = w.defined() ? w.contiguous() : w;
    has_bias = b.defined();
    eps = eps_;
    const TensorOptions opt{.dtype = x.dtype(), .device = x.device()};
    mean = Tensor::empty({x.size(0)}, opt);
    var = Tensor::empty({x.size(0)}, opt);
    Tensor y = Tensor::empty(x.shape(), opt);
    backend_for(x).layer_norm({.x = x,
                               .weight = weight,
                               .bias = b.defined() ? b.contiguous() : b,
                               .eps = eps,
                               .y = y,
                               .mean = mean,
                               .var = var});
    return y;
  }

  std::vector<Tensor> backward(const Tensor& g) {
    const TensorOptions opt{.dtype = x.dtype(), .device = x.device()};
    Tensor gx = Tensor::empty(x.shape(), opt);
    Tensor gw = weight.defined() ? Tensor::empty({x.size(1)}, opt) : Tensor();
    Tensor gb = has_bias ? Tensor::empty({x.size(1)}, opt) : Tensor();
    backend_for(x).layer_norm_backward({.x = x,
                                        .grad_y = g.contiguous(),
                                        .weight = weight,
                                        .mean = mean,
                                        .var = var,
                                        .eps = eps,
                                        .grad_x = gx,
                                        .grad_weight = gw,
                                        .grad_bias = gb});
    return {gx, gw, gb};
  }
};

void check_param(const Tensor& t, const Tensor& x, const Shape& shape, std::string_view op,
                 std::string_view what) {
  if (!t.defined()) return;
  ops::check_same_device(t, x, op);
  check(t.shape() == shape, op, "{} has shape {}, expected {}", what, t.shape(), shape);
  check(t.dtype() == x.dtype(), op, "{} is {}, expected the input's dtype {}", what, t.dtype(),
        x.dtype());
}

// Under autocast a 16-bit input is normalised in f32 and handed on in its dtype.
template <class Fn>
Tensor in_f32(const Tensor& x, Fn&& fn) {
  amp::Autocast off(x.dtype(), /*enabled=*/false);
  return fn(x.to(DType::F32)).to(x.dtype());
}

bool autocast_16bit(const Tensor& x) {
  return amp::autocast_enabled() && (x.dtype() == DType::BF16 || x.dtype() == DType::F16);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  constexpr std::string_view op = "layer_norm";
  ops::check_defined(x, op);
  if (autocast_16bit(x))
    return in_f32(
        x, [&](const Tensor& x32) { return layer_norm(x32, normalized_shape, weight, bias, eps); });
  const int k = int(normalized_shape.size());
  check(k >= 1 && k <= x.dim(), op, "normalized_shape {} must name 1 to {} trailing dims of {}",
        normalized_shape, x.dim(), x.shape());
  for (int i = 0; i < k; ++i)
    check(x.size(x.dim() - k + i) == normalized_shape[i], op,
          "input of shape {} does not end in normalized_shape {}", x.shape(), normalized_shape);
  check(x.dtype() == DType::F32 || x.dtype() == DType::F64, op, "expected f32 or f64, got {}",
        x.dtype());
  check(eps >= 0, op, "eps must be non-negative, got {}", eps);
  check_param(weight, x, normalized_shape, op, "weight");
  check_param(bias, x, normalized_shape, op, "bias");
  const int64_t n = normalized_shape.numel();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  const Tensor y =
      LayerNorm::apply(x.reshape({rows, n}), weight.defined() ? weight.reshape({n}) : weight,
                       bias.defined() ? bias.reshape({n}) : bias, eps);
  return y.reshape(x.shape());
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  constexpr std::string_view op = "group_norm";
  ops::check_defined(x, op);
  if (autocast_16bit(x))
    return in_f32(
        x, [&](const Tensor& x32) { return group_norm(x32, num_groups, weight, bias, eps); });
  check(x.dim() >= 2, op, "expected input of shape (N, C, *), got {}", x.shape());
  const int64_t N = x.size(0), C = x.size(1);
  check(num_groups > 0 && C % num_groups == 0, op,
        "num_groups={} must be positive and divide the {} channels of input shape {}", num_groups,
        C, x.shape());
  check_param(weight, x, Shape{C}, op, "weight");
  check_param(bias, x, Shape{C}, op, "bias");
  const int64_t per_group = N == 0 ? 0 : x.numel() / (N * num_groups);
  Tensor y = layer_norm(x.reshape({N, num_groups, per_group}), Shape{per_group}, {}, {}, eps)
                 .reshape(x.shape());
  // (C) parameters broadcast as (C, 1, …, 1) against (N, C, *).
  Shape channel = Shape::filled(x.dim() - 1, 1);
  channel[0] = C;
  if (weight.defined()) y = y * weight.reshape(channel);
  if (bias.defined()) y = y + bias.reshape(channel);
  return y;
}

}  // namespace descent::F
