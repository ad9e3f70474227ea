#pragma once
// What the CPU and CUDA backends' slots share: the argument checks of each slot family
// with their messages, and the shape helpers built on them, so that both devices accept
// the same arguments and reject bad ones with the same Error. Host code (fmt through
// core/error.h): the .cu files never include it.
#include <descent/backends/backend.h>
#include <descent/backends/op_support.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace descent {

// ---- op/dtype support (backends/op_support.h's table) ---------------------------------
DTypeKind dtype_kind(DType dt);
// Throw, under the slot family's name (unary, binary, reduce), naming the op, the dtype
// and what the op expects, unless op_support.h's table accepts `dt` for `op`. ops/ calls
// them before it runs a kernel; the backends call them at the start of their slots.
void check_supported(UnaryOp op, DType dt);
void check_supported(BinaryOp op, DType dt);
void check_supported(ReduceOp op, DType dt);
// The error check_supported throws, for a switch's explicit list of rejected ops.
[[noreturn]] void fail_unsupported(UnaryOp op, DType dt);
[[noreturn]] void fail_unsupported(BinaryOp op, DType dt);
[[noreturn]] void fail_unsupported(ReduceOp op, DType dt);
// The error of an integer op whose kernel raised its flag (elementwise_formulas.h's
// binary_int): a zero divisor, or a negative power.
[[noreturn]] void fail_integer_op(BinaryOp op);

// ---- reductions --------------------------------------------------------------------
// Checks reduce's output (contiguous, x's shape with the reduced dims set to 1, i64 for
// ArgMax/ArgMin, Bool for All/Any, x's dtype otherwise) and returns the reduced dims
// that do work: those of size other than 1.
uint32_t check_reduce(const ReduceArgs& a);
// For an x without elements, `dims` from check_reduce: true when out receives the op's
// identity (a reduced dim has size 0; only Sum, All and Any have one, the others throw),
// false when there is nothing to write (out is empty too).
bool empty_reduce_writes_identity(const ReduceArgs& a, uint32_t dims);

// ---- matmul ------------------------------------------------------------------------
struct MatmulDims {
  int64_t M = 0, N = 0, K = 0;
};
// a, b and out defined, of ranks (..., M, K), (..., K, N), (..., M, N), one dtype.
void check_matmul_operands(const MatmulArgs& args);
// M, N and K, checked against b and the bias. After check_matmul_operands.
MatmulDims check_matmul_shapes(const MatmulArgs& args);
// Stride of batch dim `d` (of out's `nd` dims) in `x`, whose dims align to the right;
// 0 where x broadcasts. Throws when the dim is neither out's size nor 1.
int64_t matmul_batch_stride(const Tensor& x, int d, int nd, int64_t size, std::string_view which);

// ---- softmax -----------------------------------------------------------------------
// A tensor seen as (outer, d, inner) around dim `dim`.
struct SoftmaxLayout {
  int64_t outer = 1, d = 1, inner = 1;
};
SoftmaxLayout softmax_layout(const Shape& shape, int dim);
// The checks of softmax / softmax_backward; return the wrapped dim.
int check_softmax(const SoftmaxArgs& a);
int check_softmax_backward(const SoftmaxBackwardArgs& a);
// A contiguous tensor with t's values on be's device: t itself when it already is one.
Tensor contiguous_copy(Backend& be, const Tensor& t);

// ---- indexing ----------------------------------------------------------------------
// The shape checks of the four index slots. index_select and index_add return the shape
// of out (src) with `dim` set to the index's length. The index values are each
// backend's to check.
Shape check_index_select(const IndexSelectArgs& a);
void check_gather(const GatherArgs& a);
Shape check_index_add(const IndexAddArgs& a);
void check_scatter_add(const ScatterAddArgs& a);
// `t`'s geometry restricted to `shape` (same rank, each size <= t's), with the stride of
// `dim` replaced.
Tensor index_window(const Tensor& t, const Shape& shape, int dim, int64_t dim_stride);
// The 1-D index viewed with `shape`: its stride along `dim`, 0 elsewhere.
Tensor broadcast_index(const Tensor& index, const Shape& shape, int dim);

// ---- scans and sorting -------------------------------------------------------------
// x and out contiguous, of one numeric dtype and x.numel() == outer·n·inner elements.
void check_scan(const ScanArgs& a);
// x contiguous 2-D; values of x's shape and dtype, indices of x's shape and i64, both
// contiguous.
void check_sort(const SortArgs& a);

// ---- batch norm --------------------------------------------------------------------
// x (N, C, *) as (N, C, S), S the product of the trailing dims.
struct ChannelDims {
  int64_t n = 0, c = 0, s = 1;
};
ChannelDims channel_dims(const Tensor& x);

// ---- gradient norms ----------------------------------------------------------------
// out is a contiguous f64 tensor with one element per input.
void check_power_sums(const PowerSumsArgs& args);

// ---- fused optimizer updates -------------------------------------------------------
// The kernels index raw memory: a caller that breaks the contract gets an Error, not an
// out-of-bounds access. param is f32 or f64, contiguous and on `device`; grad and every
// slot the rule uses are defined, contiguous and of param's shape, dtype and device.
void check_optim_param(std::string_view op, const Tensor& param, Device device);
void check_optim_operand(std::string_view op, const Tensor& param, const Tensor& t,
                         std::string_view name);
template <class Rule>
void check_update(const Update<Rule>& u, Device device) {
  check_optim_param(Rule::kOp, u.param, device);
  check_optim_operand(Rule::kOp, u.param, u.grad, "grad");
  for (int k = 0; k < Rule::kSlots; ++k) {
    if (u.rule.uses_slot(k))
      check_optim_operand(Rule::kOp, u.param, u.slots[k], Rule::kSlotNames[k]);
  }
}

}  // namespace descent
