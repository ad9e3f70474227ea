#pragma once
// Cumulative sums and products along one dim, as torch.cumsum / torch.cumprod: integer
// and bool inputs give i64; floating ones keep their dtype. Differentiable in floating
// inputs (cumprod's gradient is exact where the input has zeros too).
#include <descent/core/tensor.h>

namespace descent {

Tensor cumsum(const Tensor& x, int64_t dim);
Tensor cumprod(const Tensor& x, int64_t dim);

}  // namespace descent
