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
#include <descent/backends/conv_geometry.h>
#include <descent/backends/op_kinds.h>
#include <descent/backends/optim_rules.h>
#include <descent/core/random.h>
#include <descent/core/storage.h>
#include <descent/core/tensor.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>
#include <variant>

namespace descent {

// ---- reductions ------------------------------------------------------------------
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

// ---- scans and sorting ------------------------------------------------------------
// x and out contiguous, seen as (outer, n, inner) around the scanned dim:
// out[o, i, k] = x[o, 0, k] op … op x[o, i, k], in order. Numeric dtypes (ops/ scans
// bools as i64); floating values accumulate in f64, integers wrap.
enum class ScanOp : uint8_t { Sum, Prod };
struct ScanArgs {
  ScanOp op = ScanOp::Sum;
  Tensor x;
  int64_t outer = 1, n = 1, inner = 1;
  Tensor out;
};
// Sorts every row of x (rows, n), contiguous, into values (x's dtype) and indices (i64,
// the position in the row each value came from), both contiguous (rows, n). Stable:
// equal values keep their order. NaN sorts as the greatest value (last ascending, first
// descending), as torch.sort. Any dtype.
struct SortArgs {
  Tensor x;
  bool descending = false;
  Tensor values, indices;
};

// ---- batch norm ----------------------------------------------------------------------
// Per-channel normalisation of x (N, C, *) over N and the trailing dims, f32 or f64; on
// the CPU also bf16 data of shape (N, C, *) with f32 (C) tensors (mixed precision: x, y,
// grad_y and grad_x bf16, computed in f32). x, grad_y contiguous; (C) tensors contiguous.
struct BatchNormArgs {
  Tensor x;             // (N, C, *)
  Tensor weight, bias;  // (C) each, or undefined (scale 1 / shift 0)
  // training: outputs, the batch mean and *biased* variance;
  // inference: inputs, the running statistics to normalise with.
  Tensor mean, var;  // (C)
  bool training = true;
  double eps = 1e-5;
  Tensor y;  // (N, C, *) out
};
struct BatchNormBackwardArgs {
  Tensor x, grad_y;      // (N, C, *)
  Tensor weight;         // (C) or undefined
  Tensor mean, var;      // (C) the statistics the forward normalised with
  bool training = true;  // statistics were of this batch: their gradient flows into x
  double eps = 1e-5;
  Tensor grad_x;                  // (N, C, *) out
  Tensor grad_weight, grad_bias;  // (C) out, or undefined when not wanted
};

// ---- convolution and pooling (geometry: backends/conv_geometry.h) ---------------------
// 2-D cross-correlation as torch.nn.functional.conv2d:
//   y[n, o, i, j] = b[o] + Σ_{c ∈ group(o), p, q} x[n, c, i·s − pad + p·d, j·s − pad + q·d]·w[o, c,
//   p, q]
// x (N, C, H, W), weight (O, C/groups, kH, kW), y (N, O, OH, OW) with conv_out_size.
// One dtype: f32, bf16 (f32 accumulation) or f64. Every tensor contiguous.
struct Conv2dArgs {
  Tensor x, weight;
  Tensor bias;  // (O) or undefined
  Conv2dGeometry geo;
  Tensor y;
};
// Each output is written (not added to); an undefined output is not computed.
struct Conv2dBackwardArgs {
  Tensor x, weight, grad_y;
  Conv2dGeometry geo;
  Tensor grad_x, grad_weight, grad_bias;
};
// x (N, C, H, W) → y (N, C, OH, OW), contiguous, any floating dtype (16-bit ones
// accumulate in f32). Max also writes `indices` (i64, y's shape): the flat position
// h·W + w in the input plane that each maximum came from, as torch's return_indices;
// NaN wins, ties keep the first. A window without any input position gives 0 (Avg).
struct Pool2dArgs {
  Tensor x;
  Pool2dGeometry geo;
  Tensor y;
  Tensor indices;  // Max: out
};
// grad_x (overwritten) from grad_y: Max routes each gradient to its index; the averages
// spread it over the window with the forward's divisor.
struct Pool2dBackwardArgs {
  Tensor grad_y;
  Pool2dGeometry geo;
  Tensor indices;  // Max
  Tensor grad_x;
};

// ---- layer norm ----------------------------------------------------------------------
// x seen as (rows, n), contiguous: y = (x − mean)/√(var + eps)·w + b per row, with the
// biased variance; mean and var (rows) are written for the backward. weight and bias
// (n) or undefined. f32 and f64.
struct LayerNormArgs {
  Tensor x;
  Tensor weight, bias;
  double eps = 1e-5;
  Tensor y, mean, var;
};
struct LayerNormBackwardArgs {
  Tensor x, grad_y;
  Tensor weight;
  Tensor mean, var;  // from the forward
  double eps = 1e-5;
  Tensor grad_x, grad_weight, grad_bias;  // out; grad_weight/grad_bias may be undefined
};

// ---- LSTM ----------------------------------------------------------------------------
// One unidirectional LSTM layer, PyTorch's formulas and gate order (i, f, g, o):
//   gates = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh; c_t = f⊙c_{t-1} + i⊙g; h_t = o⊙tanh(c_t).
// f32 through oneDNN, f64 through reference loops. Every tensor is contiguous.
// What a training forward leaves for its backward (oneDNN's workspace); opaque to ops/.
struct LstmSaved {
  virtual ~LstmSaved() = default;
};
// Dtypes: all f32 or all f64; or mixed precision, where x, h0, y and h_n are 16-bit
// (the compute dtype) and c0, c_n, the weights, the biases and every gradient in
// LstmBackwardArgs are f32. Weights are f32 master copies the kernel converts itself.
struct LstmArgs {
  Tensor x;                          // (T, N, I)
  Tensor h0, c0;                     // (N, H)
  Tensor w_ih;                       // (4H, I)
  Tensor w_hh;                       // (4H, H)
  Tensor b_ih, b_hh;                 // (4H) each, or both undefined (no bias)
  bool training = true;              // fill `saved` for lstm_backward
  Tensor y;                          // (T, N, H) out: h_t for every step
  Tensor h_n, c_n;                   // (N, H) out
  std::shared_ptr<LstmSaved> saved;  // out when training
};
struct LstmBackwardArgs {
  const LstmArgs* forward = nullptr;  // the training forward's arguments and outputs
  Tensor grad_y;                      // (T, N, H)
  Tensor grad_h_n, grad_c_n;          // (N, H)
  Tensor grad_x;                      // (T, N, I) out
  Tensor grad_h0, grad_c0;            // (N, H) out
  Tensor grad_w_ih, grad_w_hh;        // (4H, I), (4H, H) out (overwritten, not added to)
  Tensor grad_b;                      // (4H) out, the gradient of b_ih and of b_hh; or undefined
};

// ---- gradient norms ------------------------------------------------------------------
// out[i] = Σ |xs[i]|^p accumulated in f64 (p = ∞: max |x|, NaN-propagating); a backend
// that overrides the default reads each input once, without an f64 copy. xs are floating
// tensors of this device in any layout; out is f64, (xs.size()) contiguous, on this
// device. The result does not depend on the thread count.
struct PowerSumsArgs {
  std::span<const Tensor> xs;
  double p = 2;
  Tensor out;
};

// ---- fused optimizer updates ----
// One optimizer step on one parameter in a single pass over memory: the rule
// (backends/optim_rules.h) reads param, grad and its state slots once and writes param
// and state in place. Contract: every tensor the rule uses is contiguous, of the param's
// shape and floating dtype (f32 or f64) and on the backend's device (optim/ allocates the
// state); slots the rule does not use may be undefined.
template <class Rule>
struct Update {
  Tensor param, grad;
  std::array<Tensor, Rule::kSlots> slots;  // in the order of Rule::kSlotNames
  Rule rule;
};

// Many updates of one rule, each with its own scalars: one variant alternative per
// rule of OptimRules.
template <class List>
struct UpdateSpanOf;
template <class... Rules>
struct UpdateSpanOf<RuleList<Rules...>> {
  using type = std::variant<std::span<const Update<Rules>>...>;
};
using UpdateSpan = UpdateSpanOf<OptimRules>::type;

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

  // ---- scans and sorting ----
  virtual void scan(const ScanArgs& args) = 0;
  virtual void sort(const SortArgs& args) = 0;

  // ---- random (counter-based: the same generator state gives the same numbers) ----
  // out ~ U[lo, hi) / N(mean, std²) elementwise (contiguous). Advances gen. uniform on
  // an integer dtype draws integers uniformly from [lo, hi).
  virtual void uniform(const Tensor& out, double lo, double hi, Generator& gen) = 0;
  virtual void normal(const Tensor& out, double mean, double std, Generator& gen) = 0;

  // ---- batch norm (default: throws "not implemented on <device>") ----
  virtual void batch_norm(const BatchNormArgs&) { unsupported("batch_norm"); }
  virtual void batch_norm_backward(const BatchNormBackwardArgs&) {
    unsupported("batch_norm_backward");
  }

  // ---- convolution, pooling, layer norm (default: throws) ----
  virtual void conv2d(const Conv2dArgs&) { unsupported("conv2d"); }
  virtual void conv2d_backward(const Conv2dBackwardArgs&) { unsupported("conv2d_backward"); }
  virtual void pool2d(const Pool2dArgs&) { unsupported("pool2d"); }
  virtual void pool2d_backward(const Pool2dBackwardArgs&) { unsupported("pool2d_backward"); }
  virtual void layer_norm(const LayerNormArgs&) { unsupported("layer_norm"); }
  virtual void layer_norm_backward(const LayerNormBackwardArgs&) {
    unsupported("layer_norm_backward");
  }

  // ---- LSTM (default: throws) ----
  // Fills y, h_n, c_n and, when args.training, args.saved.
  virtual void lstm(LstmArgs&) { unsupported("lstm"); }
  virtual void lstm_backward(const LstmBackwardArgs&) { unsupported("lstm_backward"); }

  // ---- checks ----
  // True when no element is NaN or ±Inf. Synchronizes.
  virtual bool all_finite(const Tensor& x) = 0;
  // The same over many tensors with a single wait for the device (the GradScaler's one
  // host read per step). Default: one all_finite per tensor.
  virtual bool all_finite_multi(std::span<const Tensor> xs) {
    for (const Tensor& x : xs)
      if (!all_finite(x)) return false;
    return true;
  }

  // ---- norms ----
  // Default: an f64 copy of each tensor through this backend's copy, unary and reduce
  // slots (correct on any device; a backend overrides it with a one-pass kernel).
  virtual void power_sums(const PowerSumsArgs& args);

  // ---- fused optimizer updates (Update above) ----
  // Runs every update of the span: a multi-tensor step, which a GPU runs in a few
  // launches instead of one per parameter. Updates of one parameter run in order.
  virtual void optimizer_step(UpdateSpan updates) = 0;

 private:
  [[noreturn]] void unsupported(std::string_view op) const {
    fail(op, fmt::format("not implemented on {}", device()));
  }
};

// The backend for a device. Throws "descent was built without CUDA" for CUDA in a
// CPU-only build, and a clear error when no GPU is present.
Backend& backend_for(Device device);
inline Backend& backend_for(const Tensor& t) { return backend_for(t.device()); }

// True when this build has the CUDA backend and a GPU is usable (cuda::is_available()).
bool cuda_available();

}  // namespace descent
