#pragma once
// Rearranging and masking, as PyTorch: flip, roll, tril/triu, diag, masked_fill,
// nonzero and F::pad. All but nonzero are differentiable (they are built on index_select,
// scatter_add and where).
#include <descent/core/tensor.h>
#include <descent/ops/scalar.h>

namespace descent {

// Reverses the order of elements along each of `dims`.
Tensor flip(const Tensor& x, const Shape& dims);
// Shifts elements along each of `dims` by the matching shift, wrapping around; without
// dims, shifts the flattened tensor and restores the shape.
Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims = {});
Tensor roll(const Tensor& x, int64_t shift, int64_t dim);
// The lower (upper) triangle of the last two dims: elements with col - row <= k
// (>= k); the rest are zero.
Tensor tril(const Tensor& x, int64_t k = 0);
Tensor triu(const Tensor& x, int64_t k = 0);
// 1-D x: the square matrix with x on diagonal k. 2-D x: its diagonal k as a 1-D tensor.
Tensor diag(const Tensor& x, int64_t k = 0);
// x with `value` where mask (Bool, broadcast to x's shape) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);
// The indices (i64, (count, x.dim())) of x's nonzero elements in row-major order, on
// x's device. Reads x on the host.
Tensor nonzero(const Tensor& x);

namespace F {
// torch.nn.functional.pad in constant mode: `pads` lists (before, after) amounts for
// the last dims, innermost first — (left, right) pads the last dim, (left, right, top,
// bottom) the last two. Amounts are non-negative. Differentiable in x (its gradient is
// the matching slice of the output's).
Tensor pad(const Tensor& x, const Shape& pads, double value = 0.0);
}  // namespace F

}  // namespace descent
