#pragma once
// Strided N-operand loops for CPU kernels. Operand 0 is the output. The loop drops
// size-1 dims, merges dims that are contiguous for every operand (make_geometry, shared
// with the CUDA backend), and hands the
// kernel runs along the innermost dim with per-operand byte strides, so a kernel can
// take a vectorizable fast path when every stride equals the element size (or 0 for a
// broadcast scalar). Above kParallelThreshold elements the range is split among the
// OpenMP threads; results do not depend on the thread count.
#include <descent/backends/geometry.h>
#include <descent/core/tensor.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace descent::cpu {

inline constexpr int64_t kParallelThreshold = 32768;

// inner(std::array<char*, N> ptrs, std::array<int64_t, N> byte_strides, int64_t n)
template <int N, class Inner>
void run_range(const LoopGeometry<N>& g, std::array<char*, N> base, int64_t begin, int64_t end,
               Inner& inner) {
  if (g.ndim == 0) {
    if (begin < end) inner(base, std::array<int64_t, N>{}, int64_t(1));
    return;
  }
  const int last = g.ndim - 1;
  int64_t idx[kMaxDims];
  int64_t rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % g.shape[d];
    rem /= g.shape[d];
  }
  std::array<char*, N> p = base;
  std::array<int64_t, N> is;
  for (int k = 0; k < N; ++k) {
    for (int d = 0; d <= last; ++d) p[k] += idx[d] * g.strides[k][d];
    is[k] = g.strides[k][last];
  }
  int64_t i = begin;
  while (i < end) {
    const int64_t n = std::min(g.shape[last] - idx[last], end - i);
    inner(p, is, n);
    i += n;
    idx[last] += n;
    for (int k = 0; k < N; ++k) p[k] += n * is[k];
    for (int d = last; d > 0 && idx[d] == g.shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
      for (int k = 0; k < N; ++k) p[k] += g.strides[k][d - 1] - g.shape[d] * g.strides[k][d];
    }
  }
}

// Runs `inner` over every element of `shape` for the operands (output first).
template <int N, class Inner>
void for_each(const Shape& shape, const std::array<const Tensor*, N>& ops, Inner&& inner) {
  const int64_t numel = shape.numel();
  if (numel == 0) return;
  LoopGeometry<N> g = make_geometry<N>(shape, ops);
  std::array<char*, N> base;
  for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(ops[k]->raw_data());
  if (numel < kParallelThreshold || omp_get_max_threads() == 1) {
    run_range<N>(g, base, 0, numel, inner);
    return;
  }
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = (numel + nt - 1) / nt;
    const int64_t b = std::min(numel, t * chunk), e = std::min(numel, b + chunk);
    run_range<N>(g, base, b, e, inner);
  }
}

// Element access helpers.
template <class T>
inline T& at(char* p, int64_t i, int64_t stride) {
  return *reinterpret_cast<T*>(p + i * stride);
}

}  // namespace descent::cpu
