#pragma once
// 2-D convolution (torch.nn.functional.conv2d): one backend kernel forward (oneDNN on
// the CPU, cuDNN on CUDA, f64 reference loops) and one backward.
#include <descent/core/tensor.h>

#include <cstdint>

namespace descent::F {

// A per-dim pair (height, width); one number means both, as torch's int-or-tuple.
struct Size2 {
  int64_t h = 0, w = 0;
  constexpr Size2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit, like torch's `stride=2`
  constexpr Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  friend bool operator==(const Size2&, const Size2&) = default;
};

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;  // zeros on each side (torch's padding_mode="zeros")
  // torch's padding="same": the output has the input's size (stride 1 only); an even
  // extent dilation·(k − 1) puts the extra zero at the bottom/right, as torch does.
  bool padding_same = false;
  Size2 dilation = 1;
  int64_t groups = 1;
};

// x (N, C, H, W) or unbatched (C, H, W); weight (O, C/groups, kH, kW); bias (O) or
// undefined → (N, O, OH, OW), OH = ⌊(H + 2·pad − dil·(kH − 1) − 1)/stride⌋ + 1. Floating
// dtypes, promoted to one; under amp::Autocast f32 operands run in the autocast dtype
// (f16 computes in f32 on the CPU, whose oneDNN has no f16 convolution).
// Differentiable in x, weight and bias (no double backward). Throws descent::Error for
// ranks, channel counts or groups that do not match, a kernel larger than the padded
// input, non-positive strides or dilations, and padding_same with a stride other than 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const Conv2dOptions& options = {});

}  // namespace descent::F
