#pragma once
// Reductions over a group of `lanes` threads (1, 32 or a whole kThreads block) that owns
// one line of values: softmax (softmax_kernels.cu) and layer norm (norm_kernels.cu).
#include <descent/backends/cuda/device_types.cuh>

namespace descent::cuda {

// std::max(m, v) as the CPU has it: a NaN v leaves m alone.
template <class C>
__device__ __forceinline__ C max_c(C m, C v) {
  return m < v ? v : m;
}

// v combined over the group with max (Max) or + (otherwise), the result in every lane.
// A butterfly gives every lane the same bits (each step adds the same two values in
// either order). `sh` holds kThreads / 32 values; the whole block calls this when
// lanes == kThreads.
template <bool Max, class C>
__device__ __forceinline__ C group_all(C v, int lanes, C* sh) {
  if (lanes == 1) return v;
  for (int off = 16; off > 0; off >>= 1) {
    const C o = __shfl_xor_sync(0xffffffffu, v, off);
    v = Max ? max_c(v, o) : v + o;
  }
  if (lanes == 32) return v;
  if (threadIdx.x % 32 == 0) sh[threadIdx.x / 32] = v;
  __syncthreads();
  v = sh[0];
  for (int w = 1; w < kThreads / 32; ++w) v = Max ? max_c(v, sh[w]) : v + sh[w];
  __syncthreads();  // sh is reused by the next reduction
  return v;
}

// Threads per line of a contiguous (outer, d, inner) tensor whose lines run along d:
//   inner == 1 (rows): a warp or a block per row, so neighbouring lanes read
//     neighbouring values; one thread per row when rows are very short;
//   inner > 1 (columns): one thread per line, neighbouring threads reading
//     neighbouring columns, unless there are too few lines to fill the GPU.
inline int lanes_for(int64_t outer, int64_t d, int64_t inner) {
  if (inner == 1) return d <= 16 ? 1 : d < 2048 ? 32 : kThreads;
  if (outer * inner >= 8192) return 1;
  return d < 2048 ? 32 : kThreads;
}

}  // namespace descent::cuda
