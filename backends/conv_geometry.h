#pragma once
// The geometry of 2-D convolution and pooling windows, written once for ops/ (output
// shapes), the CPU loops and the CUDA kernels. Plain data, free of Tensor and fmt, so
// kernels take it by value.
#include <descent/core/host_device.h>

#include <cstdint>

namespace descent {

// Per spatial dim (0 = height, 1 = width), as torch.nn.functional.conv2d. Padding is
// symmetric here; ops/ pads the input itself for the asymmetric "same" case.
struct Conv2dGeometry {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};

// out = ⌊(in + 2·pad − dil·(k − 1) − 1) / stride⌋ + 1; ≤ 0 when the kernel does not fit.
DESCENT_HD_INLINE int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad,
                                        int64_t dil) {
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

enum class PoolKind : uint8_t {
  Max,
  Avg,          // fixed windows (kernel, stride, padding), ceil_mode, count_include_pad
  AdaptiveAvg,  // PyTorch's adaptive windows: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉)
};

struct Pool2dGeometry {
  PoolKind kind = PoolKind::Max;
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;  // Avg: padded positions count in the divisor
  int64_t divisor_override = 0;   // Avg: divide by this when > 0
};

// torch's pooling_output_shape: with ceil_mode the last window may start past the end
// of the input plus left padding, but not entirely inside the right padding.
DESCENT_HD_INLINE int64_t pool_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad,
                                        bool ceil_mode) {
  const int64_t span = in + 2 * pad - k;
  if (span < 0) return 0;
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// One output element's window along one dim: input positions [begin, end) and how much
// of it counts for an average (`count`; padded positions included when asked).
struct PoolWindow {
  int64_t begin = 0, end = 0, count = 0;
};

DESCENT_HD_INLINE PoolWindow pool_window(const Pool2dGeometry& g, int d, int64_t o, int64_t in,
                                         int64_t out) {
  PoolWindow w;
  if (g.kind == PoolKind::AdaptiveAvg) {
    w.begin = o * in / out;
    w.end = ((o + 1) * in + out - 1) / out;
    w.count = w.end - w.begin;
    return w;
  }
  const int64_t start = o * g.stride[d] - g.padding[d];
  // The padded extent: a window never reaches past in + padding (torch's pool_size).
  const int64_t padded_end =
      start + g.kernel[d] < in + g.padding[d] ? start + g.kernel[d] : in + g.padding[d];
  w.begin = start < 0 ? 0 : start;
  w.end = padded_end < in ? padded_end : in;
  w.count = g.count_include_pad ? padded_end - start : w.end - w.begin;
  return w;
}

}  // namespace descent
