// Indexing kernels: one grid-stride loop over a LoopGeometry<3> (target, index, source
// operands), as backends/cpu/index.cpp's two loops. Gathers copy raw elements (one
// kernel per element size); scatters add with atomics, so duplicate indices are safe
// (their order, and so the last bits of a float sum, may vary between runs). A kernel
// cannot throw: a bad index is clamped, keeping memory safe, and flagged.
#include <cuda_runtime.h>
#include <descent/backends/cuda/index_kernels.h>

#include <descent/backends/cuda/device_types.cuh>

namespace descent::cuda {

namespace {

// The index at p, clamped into [0, bound); a bad one raises the device flag.
__device__ __forceinline__ int64_t checked_index(const char* p, int64_t bound, int* flag) {
  int64_t ix = *reinterpret_cast<const int64_t*>(p);
  if (ix < 0 || ix >= bound) {
    atomicExch(flag, kIndexOutOfRangeCode);
    ix = ix < 0 ? 0 : bound - 1;
  }
  return ix;
}

template <class T>
__device__ __forceinline__ void atomic_accumulate(T* p, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    if (v) *p = true;  // dst || v: every writer stores the same byte
  } else if constexpr (std::is_same_v<T, int64_t>) {
    // Two's complement: an unsigned add wraps to the signed sum.
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else if constexpr (std::is_same_v<T, int32_t>) {
    atomicAdd(reinterpret_cast<int*>(p), static_cast<int>(v));
  } else {
    atomicAdd(p, v);  // float, double, __half, __nv_bfloat16: native on sm_90
  }
}

// Both loops over g's operands (target, index, source): the index moves the source
// (gather: out = x[ix]; E an element-sized word) or the target (scatter: out[ix] += src;
// E the element type) by ix · dim_stride bytes.
template <class E, bool Scatter>
__global__ void index_kernel(LoopGeometry<3> g, int64_t n, char* out, const char* index,
                             const char* src, int64_t dim_stride, int64_t bound, int* flag) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[3];
    offsets(g, i, n, off);
    const int64_t moved = checked_index(index + off[1], bound, flag) * dim_stride;
    if constexpr (Scatter) {
      atomic_accumulate(reinterpret_cast<E*>(out + off[0] + moved),
                        *reinterpret_cast<const E*>(src + off[2]));
    } else {
      *reinterpret_cast<E*>(out + off[0]) = *reinterpret_cast<const E*>(src + off[2] + moved);
    }
  }
}

template <class E, bool Scatter>
cudaError_t launch_index(const LoopGeometry<3>& g, int64_t n, void* out, const void* index,
                         const void* src, int64_t dim_stride, int64_t bound, Launch l) {
  index_kernel<E, Scatter><<<blocks_for(n), kThreads, 0, l.stream>>>(
      g, n, static_cast<char*>(out), static_cast<const char*>(index), static_cast<const char*>(src),
      dim_stride, bound, l.error_flag);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_gather(int elem_size, const LoopGeometry<3>& g, int64_t n, void* out,
                          const void* index, const void* x, int64_t x_dim_stride, int64_t bound,
                          Launch l) {
  if (n == 0) return cudaSuccess;
  if (bound < 1) return cudaErrorInvalidValue;
  return visit_bits(elem_size, [&]<class E>() {
    return launch_index<E, false>(g, n, out, index, x, x_dim_stride, bound, l);
  });
}

cudaError_t launch_scatter_add(KDType dt, const LoopGeometry<3>& g, int64_t n, void* out,
                               const void* index, const void* src, int64_t out_dim_stride,
                               int64_t bound, Launch l) {
  if (n == 0) return cudaSuccess;
  if (bound < 1) return cudaErrorInvalidValue;
  return visit(dt, [&]<class T>() {
    return launch_index<T, true>(g, n, out, index, src, out_dim_stride, bound, l);
  });
}

}  // namespace descent::cuda
