#pragma once
// Launchers of the elementwise kernels (unary, binary, where), called by elementwise.cpp.
// Each takes the operands' LoopGeometry (operand 0 is the output), their base device
// pointers and the element count, picks the contiguous path (vectorized 16-byte loads
// for f32/f16/bf16 when the pointers allow) or the strided one, and returns the
// launch's error. Argument checks happen on the C++ side, before the launch.
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// Scalars of the unary ops: alpha/beta as UnaryParams (floating dtypes), and the
// clamp bounds already saturated to the integer dtype's range (integer dtypes).
struct UnaryScalars {
  double alpha = 0, beta = 0;
  int64_t lo = 0, hi = 0;
};

// out = op(x), x of dtype `dt`; out is Bool when `bool_out`, else of dtype `dt`.
cudaError_t launch_unary(Launch l, UnaryOp op, KDType dt, bool bool_out, UnaryScalars s,
                         const LoopGeometry<2>& g, int64_t n, void* out, const void* x);

// out = op(a, b), a and b of dtype `dt`; out is Bool when `bool_out`, else `dt`.
// `flag` (a device int, or null) is set to 1 where integer Div meets a zero divisor or
// integer Pow a negative exponent.
cudaError_t launch_binary(Launch l, BinaryOp op, KDType dt, bool bool_out, const LoopGeometry<3>& g,
                          int64_t n, void* out, const void* a, const void* b, int* flag);

// out = cond ? a : b, moving elements of `elem_size` bytes (1, 2, 4 or 8).
cudaError_t launch_where(Launch l, int elem_size, const LoopGeometry<4>& g, int64_t n, void* out,
                         const void* cond, const void* a, const void* b);

}  // namespace descent::cuda
