// Indexing kernels: one grid-stride loop over a LoopGeometry<3> (target, index, source
// operands), as backends/cpu/index.cpp's two loops. Gathers copy raw elements (one
// kernel per element size); scatters add with atomics, so duplicate indices are safe
// (their order, and so the last bits of a float sum, may vary between runs). A kernel
// cannot throw: a bad index is clamped, keeping memory safe, and flagged.
#include <cuda_runtime.h>

#include "backends/cuda/device_types.cuh"
#include "backends/cuda/index_kernels.h"

namespace descent::cuda {

namespace {

// Byte offsets of element i for all three operands with one division per dim; the
// outermost dim needs none (i is below its size).
__device__ __forceinline__ void offsets_of(const LoopGeometry<3>& g, int64_t i, int64_t (&off)[3]) {
  off[0] = off[1] = off[2] = 0;
  for (int d = g.ndim - 1; d > 0; --d) {
    const int64_t s = g.shape[d], q = i / s, r = i - q * s;
    off[0] += r * g.strides[0][d];
    off[1] += r * g.strides[1][d];
    off[2] += r * g.strides[2][d];
    i = q;
  }
  if (g.ndim > 0) {
    off[0] += i * g.strides[0][0];
    off[1] += i * g.strides[1][0];
    off[2] += i * g.strides[2][0];
  }
}

// The index at p, clamped into [0, bound); a bad one raises the device flag.
__device__ __forceinline__ int64_t checked_index(const char* p, int64_t bound, int* flag) {
  int64_t ix = *reinterpret_cast<const int64_t*>(p);
  if (ix < 0 || ix >= bound) {
    atomicExch(flag, kIndexOutOfRangeCode);
    ix = ix < 0 ? 0 : bound - 1;
  }
  return ix;
}

template <class E>
__global__ void gather_kernel(LoopGeometry<3> g, int64_t n, char* out, const char* index,
                              const char* x, int64_t xs, int64_t bound, int* flag) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[3];
    offsets_of(g, i, off);
    const int64_t ix = checked_index(index + off[1], bound, flag);
    *reinterpret_cast<E*>(out + off[0]) = *reinterpret_cast<const E*>(x + off[2] + ix * xs);
  }
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

template <class T>
__global__ void scatter_add_kernel(LoopGeometry<3> g, int64_t n, char* out, const char* index,
                                   const char* src, int64_t os, int64_t bound, int* flag) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[3];
    offsets_of(g, i, off);
    const int64_t ix = checked_index(index + off[1], bound, flag);
    atomic_accumulate(reinterpret_cast<T*>(out + off[0] + ix * os),
                      *reinterpret_cast<const T*>(src + off[2]));
  }
}

}  // namespace

cudaError_t launch_gather(int elem_size, const LoopGeometry<3>& g, int64_t n, void* out,
                          const void* index, const void* x, int64_t x_dim_stride, int64_t bound,
                          Launch l) {
  if (n == 0) return cudaSuccess;
  if (bound < 1) return cudaErrorInvalidValue;
  auto run = [&]<class E>() {
    gather_kernel<E><<<blocks_for(n), kThreads, 0, l.stream>>>(
        g, n, static_cast<char*>(out), static_cast<const char*>(index), static_cast<const char*>(x),
        x_dim_stride, bound, l.error_flag);
    return cudaGetLastError();
  };
  switch (elem_size) {
    case 1: return run.template operator()<uint8_t>();
    case 2: return run.template operator()<uint16_t>();
    case 4: return run.template operator()<uint32_t>();
    case 8: return run.template operator()<uint64_t>();
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t launch_scatter_add(KDType dt, const LoopGeometry<3>& g, int64_t n, void* out,
                               const void* index, const void* src, int64_t out_dim_stride,
                               int64_t bound, Launch l) {
  if (n == 0) return cudaSuccess;
  if (bound < 1) return cudaErrorInvalidValue;
  return visit(dt, [&]<class T>() {
    scatter_add_kernel<T><<<blocks_for(n), kThreads, 0, l.stream>>>(
        g, n, static_cast<char*>(out), static_cast<const char*>(index),
        static_cast<const char*>(src), out_dim_stride, bound, l.error_flag);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
