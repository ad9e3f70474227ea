#pragma once
// Sorting and order statistics, as PyTorch: sort, argsort, topk, kthvalue, median and
// unique. Sorts are stable (equal values keep their order) and put NaN after every
// number (first when descending). The values are differentiable: the gradient flows
// back to the elements they were taken from.
#include <descent/core/tensor.h>

namespace descent {

// torch's (values, indices) pair; indices are i64 positions along the dim.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};

ValuesIndices sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// The k largest (smallest with largest = false) elements along dim, in sorted order.
ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);
// The k-th smallest element along dim (k from 1).
ValuesIndices kthvalue(const Tensor& x, int64_t k, int64_t dim = -1, bool keepdim = false);
// The lower median along dim (the ((n - 1) / 2 + 1)-th smallest), as torch.median.
ValuesIndices median(const Tensor& x, int64_t dim, bool keepdim = false);
// The lower median of all elements.
Tensor median(const Tensor& x);

// The sorted distinct values of x (flattened), where each element of x went among them
// (inverse, x's shape) and how often each occurs (counts); all on x's device. Reads x on
// the host; not differentiable.
struct UniqueResult {
  Tensor values, inverse, counts;
};
UniqueResult unique(const Tensor& x);

}  // namespace descent
