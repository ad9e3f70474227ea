#pragma once
// The iteration space of an N-operand elementwise loop after simplification: size-1
// dims dropped and dims merged where every operand is contiguous across them. Strides
// are in bytes; 0 marks a broadcast dim. Plain data, free of Tensor and fmt, so CUDA
// kernels take it by value. Built by make_geometry (backends/geometry.h).
#include <cstdint>

namespace descent {

inline constexpr int kMaxLoopDims = 8;  // core/shape.h's kMaxDims

template <int N>
struct LoopGeometry {
  int ndim = 0;
  int64_t shape[kMaxLoopDims] = {};
  int64_t strides[N][kMaxLoopDims] = {};  // bytes
};

}  // namespace descent
