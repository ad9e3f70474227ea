#pragma once
// Reductions over all dims (no dims given) or the given dims, with keepdim.
// Negative dims count from the end.
#include <descent/core/tensor.h>

#include <concepts>
#include <vector>

namespace descent {

Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim = false);
// Variance / standard deviation with Bessel's correction by default (correction=1),
// as torch.var.
Tensor var(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
// Max/min values; the gradient goes to the maximal elements (shared evenly on ties).
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor amin(const Tensor& x, const Shape& dims, bool keepdim = false);
// Indices (i64) of the first max/min: into the flattened tensor, or along `dim`.
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// log(sum(exp(x))) computed stably.
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);

// One dim as a plain integer, as PyTorch accepts: sum(x, 1), mean(x, -1), amax(x, 0).
// Templates so that a braced list — sum(x, {}), sum(x, {0, 1}) — still means a Shape.
template <std::integral I>
Tensor sum(const Tensor& x, I dim, bool keepdim = false) {
  return sum(x, Shape{int64_t(dim)}, keepdim);
}
template <std::integral I>
Tensor mean(const Tensor& x, I dim, bool keepdim = false) {
  return mean(x, Shape{int64_t(dim)}, keepdim);
}
template <std::integral I>
Tensor var(const Tensor& x, I dim, int64_t correction = 1, bool keepdim = false) {
  return var(x, Shape{int64_t(dim)}, correction, keepdim);
}
template <std::integral I>
Tensor std(const Tensor& x, I dim, int64_t correction = 1, bool keepdim = false) {
  return std(x, Shape{int64_t(dim)}, correction, keepdim);
}
template <std::integral I>
Tensor amax(const Tensor& x, I dim, bool keepdim = false) {
  return amax(x, Shape{int64_t(dim)}, keepdim);
}
template <std::integral I>
Tensor amin(const Tensor& x, I dim, bool keepdim = false) {
  return amin(x, Shape{int64_t(dim)}, keepdim);
}
template <std::integral I>
Tensor logsumexp(const Tensor& x, I dim, bool keepdim = false) {
  return logsumexp(x, Shape{int64_t(dim)}, keepdim);
}
// True when every / some element is nonzero (Bool, no gradient).
Tensor all(const Tensor& x);
Tensor any(const Tensor& x);

// Σ |x|^p of each tensor, accumulated in f64 without an f64 copy on the CPU (max |x| for
// p = ∞; 0 for an empty tensor), for gradient norms: one host read per device, not per
// tensor. Not differentiable.
std::vector<double> power_sums(const std::vector<Tensor>& xs, double p);

}  // namespace descent
