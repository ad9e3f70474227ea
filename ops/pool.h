#pragma once
// 2-D pooling (torch.nn.functional.max_pool2d, avg_pool2d, adaptive_avg_pool2d) over
// (N, C, H, W) or unbatched (C, H, W) inputs of any floating dtype. One backend kernel
// forward and one backward; differentiable in x (no double backward).
#include <descent/core/tensor.h>
#include <descent/ops/conv.h>

#include <optional>

namespace descent::F {

struct MaxPool2dOptions {
  std::optional<Size2> stride = std::nullopt;  // default: the kernel size, as torch
  Size2 padding = 0;       // implicit -inf on each side, at most half the kernel
  bool ceil_mode = false;  // round the output size up (the last window may be partial)
};
// The maximum of each window; a NaN in a window wins. `indices` (when not null) gets the
// flat position h·W + w of each maximum in its input plane (i64, the output's shape),
// as torch's return_indices.
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, const MaxPool2dOptions& options = {},
                  Tensor* indices = nullptr);

struct AvgPool2dOptions {
  std::optional<Size2> stride = std::nullopt;  // default: the kernel size
  Size2 padding = 0;                           // implicit zeros, at most half the kernel
  bool ceil_mode = false;
  bool count_include_pad = true;  // padded zeros count in the divisor
  int64_t divisor_override = 0;   // > 0: divide every window's sum by this
};
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, const AvgPool2dOptions& options = {});

// The mean over torch's adaptive windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉): any input size to
// output_size (OH, OW).
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);

}  // namespace descent::F
