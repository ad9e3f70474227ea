#pragma once
// Helpers shared by op files: run one backend kernel into a freshly allocated output,
// with argument checks. No autograd here; ops wrap these in autograd::Function structs.
#include <descent/backends/backend.h>
#include <descent/core/tensor.h>

namespace descent::ops {

// Throws naming `op` unless both tensors are on one device.
void check_same_device(const Tensor& a, const Tensor& b, std::string_view op);
// Throws naming `op` unless `t` is defined.
void check_defined(const Tensor& t, std::string_view op, std::string_view what = "input");
// Throws naming `op` unless both operands of a binary op are defined.
void check_operands(const Tensor& a, const Tensor& b, std::string_view op);

// out = op(x) with x's shape; out dtype is x's (Bool for IsFinite/LogicalNot).
Tensor unary(UnaryOp op, const Tensor& x, UnaryParams p = {});
// Broadcasts a and b, converts both to `compute` dtype, and runs op. Comparison and
// logical ops give Bool.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, DType compute, std::string_view name);

// Bitmask of dims (negative allowed) for reductions; empty `dims` means all.
uint32_t dim_mask(const Shape& dims, int ndim, std::string_view op);
// x's shape with the masked dims set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& shape, uint32_t mask, bool keepdim);

}  // namespace descent::ops
