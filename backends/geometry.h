#pragma once
// make_geometry: the LoopGeometry of operands broadcast to `shape` (operand 0 is the
// output). Shared by the CPU loops (cpu/loops.h) and the CUDA launchers.
#include <descent/backends/loop_geometry.h>
#include <descent/core/tensor.h>

#include <array>

namespace descent {

static_assert(kMaxLoopDims == kMaxDims);

template <int N>
LoopGeometry<N> make_geometry(const Shape& shape, const std::array<const Tensor*, N>& ops) {
  LoopGeometry<N> g;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    g.shape[g.ndim] = shape[d];
    for (int k = 0; k < N; ++k) {
      // Operands broadcast to `shape` may have fewer dims (aligned right) or size 1.
      const Tensor& t = *ops[k];
      const int td = d - (shape.size() - t.dim());
      int64_t s = (td >= 0 && t.shape()[td] != 1) ? t.strides()[td] : 0;
      g.strides[k][g.ndim] = s * int64_t(t.element_size());
    }
    ++g.ndim;
  }
  // Merge dim d into d+1 when contiguous for all operands.
  int out = g.ndim == 0 ? 0 : 1;
  for (int d = 1; d < g.ndim; ++d) {
    bool merge = true;
    for (int k = 0; k < N; ++k) {
      if (g.strides[k][out - 1] != g.strides[k][d] * g.shape[d]) merge = false;
    }
    if (merge) {
      g.shape[out - 1] *= g.shape[d];
      for (int k = 0; k < N; ++k) g.strides[k][out - 1] = g.strides[k][d];
    } else {
      g.shape[out] = g.shape[d];
      for (int k = 0; k < N; ++k) g.strides[k][out] = g.strides[k][d];
      ++out;
    }
  }
  g.ndim = out;
  return g;
}

}  // namespace descent
