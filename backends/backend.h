#pragma once
// The kernel interface every device implements (backends/cpu, backends/cuda).
//
// Contract for every slot:
// - Outputs are allocated by the caller (ops/) with the right shape, dtype and device;
//   kernels only write into them. Outputs are contiguous unless the slot says so.
// - Inputs may be strided views (transposed, sliced, broadcast with stride 0); a kernel
//   that needs contiguous memory makes its own copy.
// - Unless a slot says otherwise, all tensors are on the backend's device and share one
//   dtype; ops/ promotes and converts before calling.
// - Kernels may run asynchronously on the device's current stream. Only the slots that
//   return a host value (all_finite) synchronize. Errors are descent::Error.
#include <cstdint>
#include <iterator>
#include <string_view>

#include "core/random.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace descent {

// ---- elementwise ---------------------------------------------------------------
enum class UnaryOp : uint8_t {
  Neg,
  Exp,
  Log,
  Log1p,
  Sqrt,
  Rsqrt,
  Abs,
  Sign,
  Reciprocal,
  Square,
  Relu,
  Sigmoid,
  Tanh,
  Gelu,      // exact: x·Φ(x)
  GeluTanh,  // tanh approximation
  Silu,
  Softplus,    // log(1 + exp(beta·x)) / beta, linear above `threshold`
  LeakyRelu,   // alpha = negative slope
  Elu,         // alpha
  PowScalar,   // x ** alpha
  Clamp,       // into [alpha, beta]
  IsFinite,    // out dtype Bool
  LogicalNot,  // out dtype Bool
};

struct UnaryParams {
  double alpha = 0;
  double beta = 0;
};

enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Minimum,
  Maximum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,  // out dtype Bool
  LogicalAnd,
  LogicalOr,  // out dtype Bool
  // Fused backward kernels: (a, b) = (grad, saved) → grad_in.
  ReluBackward,     // b = x: grad where x > 0
  SigmoidBackward,  // b = y: grad·y·(1-y)
  TanhBackward,     // b = y: grad·(1-y²)
};

// Names for error messages.
constexpr std::string_view op_name(UnaryOp op) {
  constexpr std::string_view names[] = {
      "neg",        "exp",        "log",  "log1p",   "sqrt",  "rsqrt",    "abs",        "sign",
      "reciprocal", "square",     "relu", "sigmoid", "tanh",  "gelu",     "gelu_tanh",  "silu",
      "softplus",   "leaky_relu", "elu",  "pow",     "clamp", "isfinite", "logical_not"};
  static_assert(std::size(names) == size_t(UnaryOp::LogicalNot) + 1);
  return names[int(op)];
}
constexpr std::string_view op_name(BinaryOp op) {
  constexpr std::string_view names[] = {"add",
                                        "sub",
                                        "mul",
                                        "div",
                                        "pow",
                                        "minimum",
                                        "maximum",
                                        "eq",
                                        "ne",
                                        "lt",
                                        "le",
                                        "gt",
                                        "ge",
                                        "logical_and",
                                        "logical_or",
                                        "relu_backward",
                                        "sigmoid_backward",
                                        "tanh_backward"};
  static_assert(std::size(names) == size_t(BinaryOp::TanhBackward) + 1);
  return names[int(op)];
}

// ---- reductions ------------------------------------------------------------------
enum class ReduceOp : uint8_t { Sum, Max, Min, ArgMax, ArgMin, All, Any };

// Reduces `x` over the dims whose bit is set in `dims` into `out`, which has x's
// shape with those dims set to 1. ArgMax/ArgMin write i64 (index along the single
// reduced dim, or into the flattened tensor when all dims reduce); All/Any write Bool;
// the others write x's dtype. Sums accumulate in at least f32.
struct ReduceArgs {
  ReduceOp op;
  Tensor x;
  uint32_t dims = 0;
  Tensor out;
};

// ---- linear algebra -----------------------------------------------------------------
// out (..., M, N) = a (..., M, K) · b (..., K, N) [+ bias (N)]. Batch dims of a and b
// equal out's or are 1 (broadcast). a and b may be transposed views. f32, bf16 (f32
// accumulation) and f64.
struct MatmulArgs {
  Tensor a, b;
  Tensor bias;  // optional, added to every row
  Tensor out;
};

// ---- softmax -------------------------------------------------------------------
struct SoftmaxArgs {
  Tensor x;
  int dim = -1;
  bool log = false;  // log_softmax
  Tensor out;
};
struct SoftmaxBackwardArgs {
  Tensor y;     // the forward's output
  Tensor grad;  // gradient of y
  int dim = -1;
  bool log = false;
  Tensor grad_in;
};

// ---- indexing ---------------------------------------------------------------------
// out = x.index_select(dim, index): index is 1-D i64; out's `dim` has index.numel().
// Out-of-range indices throw.
struct IndexSelectArgs {
  Tensor x;
  int dim = 0;
  Tensor index;
  Tensor out;
};
// out.index_add_(dim, index, src): out[..., index[i], ...] += src[..., i, ...] (in place).
struct IndexAddArgs {
  Tensor out;
  int dim = 0;
  Tensor index;
  Tensor src;
};
// out = x.gather(dim, index): index is i64 of out's shape.
struct GatherArgs {
  Tensor x;
  int dim = 0;
  Tensor index;
  Tensor out;
};
// out.scatter_add_(dim, index, src): out[index[i][j]][j] += src[i][j] (dim 0), in place.
struct ScatterAddArgs {
  Tensor out;
  int dim = 0;
  Tensor index;
  Tensor src;
};

// ---- fused optimizer updates ----
// One optimizer step on one parameter in a single pass over memory: each slot reads
// param, grad and the state slots once and writes param and state in place. Contract:
// every tensor is contiguous, of the param's shape and floating dtype (f32 or f64) and
// on the backend's device (optim/ checks it and allocates the state). Scalars that
// depend on the step count (bias corrections, step sizes) are computed on the host by
// optim/ and passed in, so each kernel is a pure elementwise map, the same on every
// device. In every rule `g` is the gradient, negated first when `maximize`, then
// g += weight_decay·param (coupled decay) unless the rule says otherwise.

// SGD / GD (torch.optim.SGD): with momentum, buf = momentum·buf + (1-dampening)·g
// (buf = g when init_buffer), g = nesterov ? g + momentum·buf : buf; p -= lr·g.
struct SgdUpdateArgs {
  Tensor param{}, grad{};
  Tensor momentum_buffer{};  // undefined when momentum == 0
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool init_buffer = false;  // the buffer's first step: buf = g
};
// RMSprop: v = alpha·v + (1-alpha)·g²; centered: ga = alpha·ga + (1-alpha)·g,
// avg = sqrt(v - ga²) + eps, else sqrt(v) + eps; momentum > 0: buf = momentum·buf + g/avg,
// p -= lr·buf; else p -= lr·g/avg.
struct RmspropUpdateArgs {
  Tensor param{}, grad{}, square_avg{};
  Tensor grad_avg{};         // centered only
  Tensor momentum_buffer{};  // momentum > 0 only
  double lr = 0, alpha = 0, eps = 0, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// Adam / AdamW / AMSGrad: decoupled: p *= 1 - lr·weight_decay (and no coupled decay);
// m = beta1·m + (1-beta1)·g; v = beta2·v + (1-beta2)·g²; amsgrad: vmax = max(vmax, v)
// and v := vmax below; p -= step_size · m / (sqrt(v)/bias_correction2_sqrt + eps).
struct AdamUpdateArgs {
  Tensor param{}, grad{}, exp_avg{}, exp_avg_sq{};
  Tensor max_exp_avg_sq{};  // amsgrad only
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double step_size = 0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 0;  // sqrt(1 - beta2^t)
  bool amsgrad = false, decoupled_weight_decay = false, maximize = false;
};
// NAdam: m, v as Adam; d = sqrt(v) / bias_correction2_sqrt + eps;
// p += grad_coef·g/d; p += exp_avg_coef·m/d (coefficients negative, from mu_t).
struct NadamUpdateArgs {
  Tensor param{}, grad{}, exp_avg{}, exp_avg_sq{};
  double beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double bias_correction2_sqrt = 0, grad_coef = 0, exp_avg_coef = 0;
  bool maximize = false;
};
// RAdam: m, v as Adam; mhat = m / bias_correction1; rectified:
// p -= mhat·lr·(bias_correction2_sqrt / (sqrt(v) + eps))·rect, else p -= mhat·lr.
struct RadamUpdateArgs {
  Tensor param{}, grad{}, exp_avg{}, exp_avg_sq{};
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double bias_correction1 = 0, bias_correction2_sqrt = 0, rect = 0;
  bool rectified = false, maximize = false;
};
// Adagrad: sum += g²; p -= clr · g / (sqrt(sum) + eps), clr = lr / (1 + (t-1)·lr_decay).
struct AdagradUpdateArgs {
  Tensor param{}, grad{}, sum{};
  double clr = 0, eps = 0, weight_decay = 0;
  bool maximize = false;
};
// Adadelta: v = rho·v + (1-rho)·g²; delta = sqrt(u + eps) / sqrt(v + eps) · g;
// u = rho·u + (1-rho)·delta²; p -= lr·delta.
struct AdadeltaUpdateArgs {
  Tensor param{}, grad{}, square_avg{}, acc_delta{};
  double lr = 0, rho = 0, eps = 0, weight_decay = 0;
  bool maximize = false;
};
// Adamax: m = beta1·m + (1-beta1)·g; u = max(beta2·u, |g| + eps); p -= clr·m/u,
// clr = lr / (1 - beta1^t).
struct AdamaxUpdateArgs {
  Tensor param{}, grad{}, exp_avg{}, exp_inf{};
  double beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0, clr = 0;
  bool maximize = false;
};
// Lion (Chen et al. 2023): p *= 1 - lr·weight_decay (decoupled);
// p -= lr·sign(beta1·m + (1-beta1)·g); m = beta2·m + (1-beta2)·g.
struct LionUpdateArgs {
  Tensor param{}, grad{}, exp_avg{};
  double lr = 0, beta1 = 0, beta2 = 0, weight_decay = 0;
  bool maximize = false;
};
// ---- end of fused optimizer updates ----

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // ---- memory and execution ----
  // The allocator storages of this device come from.
  virtual Allocator& allocator() = 0;
  // Waits for all queued work of this device.
  virtual void synchronize() = 0;

  // ---- data movement ----
  // dst = src, converting dtype; src broadcasts to dst's shape; dst may be strided.
  // Either tensor may live on another device (host↔device transfers).
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  // Sets every element of dst (may be strided) to value, converted to its dtype.
  virtual void fill(const Tensor& dst, double value) = 0;
  // out[i] = start + i·step (contiguous, any non-bool dtype).
  virtual void arange(const Tensor& out, double start, double step) = 0;

  // ---- elementwise ----
  // out = op(x); out has x's shape; x's dtype unless the op says Bool.
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) = 0;
  // out = op(a, b); a and b have out's shape (broadcast views) and one dtype.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = cond ? a : b; cond is Bool; all have out's shape (broadcast views).
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // ---- reductions, linear algebra, softmax ----
  virtual void reduce(const ReduceArgs& args) = 0;
  virtual void matmul(const MatmulArgs& args) = 0;
  virtual void softmax(const SoftmaxArgs& args) = 0;
  virtual void softmax_backward(const SoftmaxBackwardArgs& args) = 0;

  // ---- indexing ----
  virtual void index_select(const IndexSelectArgs& args) = 0;
  virtual void index_add(const IndexAddArgs& args) = 0;
  virtual void gather(const GatherArgs& args) = 0;
  virtual void scatter_add(const ScatterAddArgs& args) = 0;

  // ---- random (counter-based: the same generator state gives the same numbers) ----
  // out ~ U[lo, hi) / N(mean, std²) elementwise (contiguous). Advances gen. uniform on
  // an integer dtype draws integers uniformly from [lo, hi).
  virtual void uniform(const Tensor& out, double lo, double hi, Generator& gen) = 0;
  virtual void normal(const Tensor& out, double mean, double std, Generator& gen) = 0;

  // ---- checks ----
  // True when no element is NaN or ±Inf. Synchronizes.
  virtual bool all_finite(const Tensor& x) = 0;

  // ---- fused optimizer updates (see the arg structs above) ----
  virtual void sgd_update(const SgdUpdateArgs& args) = 0;
  virtual void rmsprop_update(const RmspropUpdateArgs& args) = 0;
  virtual void adam_update(const AdamUpdateArgs& args) = 0;
  virtual void nadam_update(const NadamUpdateArgs& args) = 0;
  virtual void radam_update(const RadamUpdateArgs& args) = 0;
  virtual void adagrad_update(const AdagradUpdateArgs& args) = 0;
  virtual void adadelta_update(const AdadeltaUpdateArgs& args) = 0;
  virtual void adamax_update(const AdamaxUpdateArgs& args) = 0;
  virtual void lion_update(const LionUpdateArgs& args) = 0;
};

// The backend for a device. Throws "descent was built without CUDA" for CUDA in a
// CPU-only build, and a clear error when no GPU is present.
Backend& backend_for(Device device);
inline Backend& backend_for(const Tensor& t) { return backend_for(t.device()); }

// True when this build has the CUDA backend and a GPU is usable.
bool cuda_available();

}  // namespace descent
