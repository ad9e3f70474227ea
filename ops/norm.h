#pragma once
// Vector norms and pairwise distances, as torch.linalg.vector_norm / torch.norm and
// torch.cdist. p = 2 by default; p = ∞ is the largest |x|, p = 0 counts the nonzero
// elements (no gradient). At a zero vector the gradient is 0, as PyTorch's.
#include <descent/core/tensor.h>

#include <concepts>

namespace descent {

// (Σ |x|^p)^(1/p) over `dims` (all when empty).
Tensor norm(const Tensor& x, double p = 2.0, const Shape& dims = {}, bool keepdim = false);
template <std::integral I>
Tensor norm(const Tensor& x, double p, I dim, bool keepdim = false) {
  return norm(x, p, Shape{int64_t(dim)}, keepdim);
}

// The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
// (..., P, R).
Tensor cdist(const Tensor& x1, const Tensor& x2, double p = 2.0);

}  // namespace descent
