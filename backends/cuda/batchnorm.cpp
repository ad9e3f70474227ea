// Batch norm through cuDNN's batch-normalization functions in CUDNN_BATCHNORM_SPATIAL mode.
// x (N, C, *) is described as the NCHW tensor (N, C, S, 1), S the product of the trailing
// dims: spatial batch norm normalises over N and every trailing dim alike, so (N, C) is
// (N, C, 1, 1) and (N, C, L) is (N, C, L, 1). Dtypes: f32 and f64 (cuDNN runs double batch
// norm natively), and f16 data with f32 (C) tensors (cuDNN's mixed precision). bf16 is
// rejected: PyTorch keeps it away from cuDNN's batch norm too, and ops/ normalises 16-bit
// input in f32 anyway.
//
// - Training forward (at most kMaxTrainBatch samples, as PyTorch limits it): cuDNN
//   returns the batch mean and 1/sqrt(var + eps) (its saveMean and saveInvVariance); the
//   contract wants the biased variance, derived as 1/invstd² - eps (clamped at 0). The
//   running statistics are updated by ops/, so cuDNN's running-average outputs are null.
// - Inference: the given statistics, in chunks of at most kMaxEvalBatch samples (cuDNN's
//   inference kernels are limited in N; normalising with fixed statistics is per sample).
// - Training backward: cuDNN's backward with mean and rsqrt(var + eps) as its saved
//   statistics. Eval backward (the statistics are constants) is no cuDNN function:
//   dx = dy·w·rsqrt(var + eps), dw = Σ dy·(x - mean)·rsqrt(var + eps), db = Σ dy, built from
//   this backend's elementwise and reduce slots.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <climits>
#include <cmath>

namespace descent::cuda {

namespace {

constexpr std::string_view kFwd = "batch_norm", kBwd = "batch_norm_backward";
// The batch sizes up to which cuDNN's spatial batch norm is known to work (PyTorch uses
// cuDNN only up to these).
constexpr int64_t kMaxTrainBatch = 880801, kMaxEvalBatch = 65535;

class TensorDesc {
 public:
  TensorDesc() { CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d_); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

// cuDNN's rule: the (C) tensors are double for double data and float otherwise.
DType stat_dtype(DType x) { return x == DType::F64 ? DType::F64 : DType::F32; }

// The blend factors alpha = 1, beta = 0 in the type cuDNN reads for the data type.
struct Blend {
  explicit Blend(DType x) : dbl(x == DType::F64) {}
  const void* one() const { return dbl ? static_cast<const void*>(&d1) : &f1; }
  const void* zero() const { return dbl ? static_cast<const void*>(&d0) : &f0; }
  bool dbl;
  float f1 = 1.f, f0 = 0.f;
  double d1 = 1.0, d0 = 0.0;
};

// x's descriptor for `n` samples and, derived from it, the (1, C, 1, 1) one of the
// statistics, weight and bias.
struct Descs {
  TensorDesc x, stat;
  Descs(DType dt, const ChannelDims& d, int64_t n) {
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NCHW, cudnn_dtype(dt), int(n),
                                           int(d.c), int(d.s), 1));
    CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(stat.get(), x.get(), CUDNN_BATCHNORM_SPATIAL));
  }
};

void check_input(const Tensor& x, double eps, std::string_view op) {
  check(x.defined() && x.dim() >= 2 && x.is_contiguous(), op,
        "expected a contiguous (N, C, *) input, got shape {}", x.defined() ? x.shape() : Shape{});
  const DType dt = x.dtype();
  check(dt == DType::F32 || dt == DType::F64 || dt == DType::F16, op,
        "expected f32, f64 or f16 input, got {}", dt);
  const ChannelDims d = channel_dims(x);
  check(d.n <= INT_MAX && d.c <= INT_MAX && d.s <= INT_MAX, op,
        "input of shape {} is too large for cuDNN (N, C and the product of the trailing dims "
        "must each fit in 32 bits)",
        x.shape());
  check(eps >= CUDNN_BN_MIN_EPSILON, op, "eps must be at least cuDNN's minimum {}, got {}",
        CUDNN_BN_MIN_EPSILON, eps);
}

// A (C) tensor of the statistics dtype, or undefined when `optional`.
void check_channel(const Tensor& t, const Tensor& x, std::string_view what, bool optional,
                   std::string_view op) {
  if (!t.defined()) {
    check(optional, op, "{} is undefined", what);
    return;
  }
  const int64_t C = x.size(1);
  check(t.dim() == 1 && t.size(0) == C && t.is_contiguous(), op,
        "{} has shape {}, expected a contiguous ({}) for input of shape {}", what, t.shape(), C,
        x.shape());
  const DType want = stat_dtype(x.dtype());
  check(t.dtype() == want, op, "{} is {}, expected {} for a {} input", what, t.dtype(), want,
        x.dtype());
}

void check_like_x(const Tensor& t, const Tensor& x, std::string_view what, std::string_view op) {
  check(t.shape() == x.shape() && t.dtype() == x.dtype(), op,
        "{} is {} of shape {}, expected {} of the input's shape {}", what, t.dtype(), t.shape(),
        x.dtype(), x.shape());
}

Tensor empty_like(CudaBackend& be, const Shape& shape, DType dt) {
  return Tensor::empty(shape, {.dtype = dt, .device = be.device()});
}

Tensor filled(CudaBackend& be, const Shape& shape, DType dt, double value) {
  Tensor t = empty_like(be, shape, dt);
  be.fill(t, value);
  return t;
}

// `t` (one value, or a contiguous (C)) seen as `shape` through stride 0 on every dim but
// `keep` (-1: none).
Tensor broadcast(const Tensor& t, const Shape& shape, int keep) {
  Strides st = Shape::filled(shape.size(), 0);
  if (keep >= 0) st[keep] = 1;
  return make_view(t, shape, st, t.offset());
}

Tensor scalar(CudaBackend& be, const Shape& shape, DType dt, double value) {
  return broadcast(filled(be, {1}, dt, value), shape, -1);
}

Tensor in_dtype(CudaBackend& be, const Tensor& t, DType dt) {
  if (t.dtype() == dt) return t;
  Tensor out = empty_like(be, t.shape(), dt);
  be.copy(t, out);
  return out;
}

Tensor contiguous(CudaBackend& be, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty_like(be, t.shape(), t.dtype());
  be.copy(t, out);
  return out;
}

// rsqrt(var + eps), elementwise over (C).
Tensor rstd_of(CudaBackend& be, const Tensor& var, double eps) {
  Tensor sum = empty_like(be, var.shape(), var.dtype());
  be.binary(BinaryOp::Add, var, scalar(be, var.shape(), var.dtype(), eps), sum);
  Tensor r = empty_like(be, var.shape(), var.dtype());
  be.unary(UnaryOp::Rsqrt, sum, r, {});
  return r;
}

// out (C) = Σ of `t` over every dim of x but the channel dim.
void sum_per_channel(CudaBackend& be, const Tensor& t, const Tensor& out) {
  Shape kept = Shape::filled(t.dim(), 1);
  kept[1] = t.size(1);
  const uint32_t dims = ((1u << t.dim()) - 1u) & ~2u;
  be.reduce({.op = ReduceOp::Sum,
             .x = t,
             .dims = dims,
             .out = make_view(out, kept, contiguous_strides(kept), out.offset())});
}

// The training backward is cuDNN's; `a` is checked.
void backward_training(CudaBackend& be, const BatchNormBackwardArgs& a, const Tensor& grad_y) {
  const ChannelDims d = channel_dims(a.x);
  check(d.n <= kMaxTrainBatch, kBwd, "cuDNN's batch norm takes at most {} samples, got {}",
        kMaxTrainBatch, d.n);
  const DType sdt = stat_dtype(a.x.dtype());
  const Tensor w = a.weight.defined() ? a.weight : filled(be, {d.c}, sdt, 1.0);
  const Tensor gx = a.grad_x.defined() ? a.grad_x : empty_like(be, a.x.shape(), a.x.dtype());
  // cuDNN always writes both parameter gradients.
  const Tensor gw = a.grad_weight.defined() ? a.grad_weight : empty_like(be, {d.c}, sdt);
  const Tensor gb = a.grad_bias.defined() ? a.grad_bias : empty_like(be, {d.c}, sdt);
  const Tensor rstd = rstd_of(be, a.var, a.eps);
  const Descs desc(a.x.dtype(), d, d.n);
  const Blend blend(a.x.dtype());
  CUDNN_CHECK(cudnnBatchNormalizationBackward(
      be.cudnn(), CUDNN_BATCHNORM_SPATIAL, blend.one(), blend.zero(), blend.one(), blend.zero(),
      desc.x.get(), a.x.raw_data(), desc.x.get(), grad_y.raw_data(), desc.x.get(), gx.raw_data(),
      desc.stat.get(), w.raw_data(), gw.raw_data(), gb.raw_data(), a.eps, a.mean.raw_data(),
      rstd.raw_data()));
}

// The eval backward, in the statistics dtype (a 16-bit x and grad_y are converted).
void backward_eval(CudaBackend& be, const BatchNormBackwardArgs& a, const Tensor& grad_y) {
  const Shape& shape = a.x.shape();
  const DType sdt = stat_dtype(a.x.dtype());
  const Tensor rstd = rstd_of(be, a.var, a.eps);
  const Tensor gy = in_dtype(be, grad_y, sdt);
  if (a.grad_x.defined()) {
    Tensor scale = rstd;
    if (a.weight.defined()) {
      scale = empty_like(be, rstd.shape(), sdt);
      be.binary(BinaryOp::Mul, a.weight, rstd, scale);
    }
    const Tensor gx = a.grad_x.dtype() == sdt ? a.grad_x : empty_like(be, shape, sdt);
    be.binary(BinaryOp::Mul, gy, broadcast(scale, shape, 1), gx);
    if (!gx.is_same(a.grad_x)) be.copy(gx, a.grad_x);
  }
  if (a.grad_bias.defined()) sum_per_channel(be, gy, a.grad_bias);
  if (a.grad_weight.defined()) {
    const Tensor x = in_dtype(be, a.x, sdt);
    Tensor t = empty_like(be, shape, sdt);
    be.binary(BinaryOp::Sub, x, broadcast(a.mean, shape, 1), t);
    be.binary(BinaryOp::Mul, t, broadcast(rstd, shape, 1), t);
    be.binary(BinaryOp::Mul, t, gy, t);
    sum_per_channel(be, t, a.grad_weight);
  }
}

}  // namespace

void CudaBackend::batch_norm(const BatchNormArgs& a) {
  activate();
  check_input(a.x, a.eps, kFwd);
  check_channel(a.weight, a.x, "weight", true, kFwd);
  check_channel(a.bias, a.x, "bias", true, kFwd);
  check_channel(a.mean, a.x, "mean", false, kFwd);
  check_channel(a.var, a.x, "var", false, kFwd);
  check(a.y.defined() && a.y.is_contiguous(), kFwd, "expected a contiguous output y");
  check_like_x(a.y, a.x, "y", kFwd);
  if (a.x.numel() == 0) return;

  const ChannelDims d = channel_dims(a.x);
  const DType sdt = stat_dtype(a.x.dtype());
  const Tensor w = a.weight.defined() ? a.weight : filled(*this, {d.c}, sdt, 1.0);
  const Tensor b = a.bias.defined() ? a.bias : filled(*this, {d.c}, sdt, 0.0);
  const Blend blend(a.x.dtype());
  if (a.training) {
    check(d.n <= kMaxTrainBatch, kFwd, "cuDNN's batch norm takes at most {} samples, got {}",
          kMaxTrainBatch, d.n);
    const Descs desc(a.x.dtype(), d, d.n);
    const Tensor invstd = empty_like(*this, {d.c}, sdt);
    CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        cudnn(), CUDNN_BATCHNORM_SPATIAL, blend.one(), blend.zero(), desc.x.get(), a.x.raw_data(),
        desc.x.get(), a.y.raw_data(), desc.stat.get(), w.raw_data(), b.raw_data(),
        /*exponentialAverageFactor=*/1.0, /*resultRunningMean=*/nullptr,
        /*resultRunningVariance=*/nullptr, a.eps, a.mean.raw_data(), invstd.raw_data()));
    // var = max(1 / invstd² - eps, 0): the clamp keeps rounding from making it negative
    // (and, unlike a relu, lets NaN through).
    const Shape c{d.c};
    const Tensor sq = empty_like(*this, c, sdt), inv = empty_like(*this, c, sdt),
                 diff = empty_like(*this, c, sdt);
    unary(UnaryOp::Square, invstd, sq, {});
    unary(UnaryOp::Reciprocal, sq, inv, {});
    binary(BinaryOp::Sub, inv, scalar(*this, c, sdt, a.eps), diff);
    unary(UnaryOp::Clamp, diff, a.var, {.alpha = 0.0, .beta = HUGE_VAL});
    return;
  }
  // Inference, chunked over N; x and y are contiguous, so a chunk is a pointer offset.
  const int64_t sample_bytes = d.c * d.s * int64_t(a.x.element_size());
  for (int64_t n0 = 0; n0 < d.n; n0 += kMaxEvalBatch) {
    const int64_t n = std::min(kMaxEvalBatch, d.n - n0);
    const Descs desc(a.x.dtype(), d, n);
    const char* x = static_cast<const char*>(a.x.raw_data()) + n0 * sample_bytes;
    char* y = static_cast<char*>(a.y.raw_data()) + n0 * sample_bytes;
    CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
        cudnn(), CUDNN_BATCHNORM_SPATIAL, blend.one(), blend.zero(), desc.x.get(), x, desc.x.get(),
        y, desc.stat.get(), w.raw_data(), b.raw_data(), a.mean.raw_data(), a.var.raw_data(),
        a.eps));
  }
}

void CudaBackend::batch_norm_backward(const BatchNormBackwardArgs& a) {
  activate();
  check_input(a.x, a.eps, kBwd);
  check(a.grad_y.defined(), kBwd, "grad_y is undefined");
  check_like_x(a.grad_y, a.x, "grad_y", kBwd);
  if (a.grad_x.defined()) {
    check_like_x(a.grad_x, a.x, "grad_x", kBwd);
    check(a.grad_x.is_contiguous(), kBwd, "expected a contiguous grad_x");
  }
  check_channel(a.weight, a.x, "weight", true, kBwd);
  check_channel(a.mean, a.x, "mean", false, kBwd);
  check_channel(a.var, a.x, "var", false, kBwd);
  check_channel(a.grad_weight, a.x, "grad_weight", true, kBwd);
  check_channel(a.grad_bias, a.x, "grad_bias", true, kBwd);
  if (a.x.numel() == 0) {
    if (a.grad_weight.defined()) fill(a.grad_weight, 0.0);
    if (a.grad_bias.defined()) fill(a.grad_bias, 0.0);
    return;
  }
  const Tensor grad_y = contiguous(*this, a.grad_y);
  if (a.training) {
    backward_training(*this, a, grad_y);
  } else {
    backward_eval(*this, a, grad_y);
  }
}

}  // namespace descent::cuda
