#pragma once
// Device-side helpers shared by the .cu files: the C++ type of each KDType, dtype
// dispatch (every dtype, the floating ones, or words of an element size for kernels that
// only move bits), compute types (16-bit floats compute in f32), strided offsets from a
// LoopGeometry and its contiguous fast path, and the launch shape of grid-stride loops.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <descent/backends/cuda/kernels.h>

#include <cstdint>
#include <type_traits>

namespace descent::cuda {

template <KDType D>
struct DevType;
template <>
struct DevType<KDType::F32> {
  using type = float;
};
template <>
struct DevType<KDType::F64> {
  using type = double;
};
template <>
struct DevType<KDType::F16> {
  using type = __half;
};
template <>
struct DevType<KDType::BF16> {
  using type = __nv_bfloat16;
};
template <>
struct DevType<KDType::I32> {
  using type = int32_t;
};
template <>
struct DevType<KDType::I64> {
  using type = int64_t;
};
template <>
struct DevType<KDType::Bool> {
  using type = bool;
};

// Calls f.template operator()<T>() with the device type of `dt`.
template <class F>
cudaError_t visit(KDType dt, F&& f) {
  switch (dt) {
    case KDType::F32: return f.template operator()<float>();
    case KDType::F64: return f.template operator()<double>();
    case KDType::F16: return f.template operator()<__half>();
    case KDType::BF16: return f.template operator()<__nv_bfloat16>();
    case KDType::I32: return f.template operator()<int32_t>();
    case KDType::I64: return f.template operator()<int64_t>();
    case KDType::Bool: return f.template operator()<bool>();
  }
  return cudaErrorInvalidValue;
}

// The same for the floating dtypes only (f32, f64, f16, bf16); others are invalid.
template <class F>
cudaError_t visit_floating(KDType dt, F&& f) {
  switch (dt) {
    case KDType::F32: return f.template operator()<float>();
    case KDType::F64: return f.template operator()<double>();
    case KDType::F16: return f.template operator()<__half>();
    case KDType::BF16: return f.template operator()<__nv_bfloat16>();
    case KDType::I32:
    case KDType::I64:
    case KDType::Bool: return cudaErrorInvalidValue;
  }
  return cudaErrorInvalidValue;
}

// Calls f.template operator()<E>() with the unsigned word of elem_size bytes (1, 2, 4 or
// 8): kernels that only move elements need one instantiation per size, not per dtype.
template <class F>
cudaError_t visit_bits(int elem_size, F&& f) {
  switch (elem_size) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    case 8: return f.template operator()<uint64_t>();
    default: return cudaErrorInvalidValue;
  }
}

// The type arithmetic on T runs in: f32 for the 16-bit floats, T otherwise.
template <class T>
struct Compute {
  using type = T;
};
template <>
struct Compute<__half> {
  using type = float;
};
template <>
struct Compute<__nv_bfloat16> {
  using type = float;
};
template <class T>
using compute_t = typename Compute<T>::type;

template <class T>
__device__ __forceinline__ compute_t<T> load(const T* p) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(*p);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __bfloat162float(*p);
  } else {
    return *p;
  }
}

// Converts any compute value to T (round to nearest for 16-bit floats).
template <class T, class V>
__device__ __forceinline__ T convert(V v) {
  if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(float(v));
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(float(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != V(0);
  } else {
    return T(v);
  }
}

// The byte offsets of linear element i of a LoopGeometry (row-major order) for every
// operand, in one pass over the dims; n is the geometry's element count (the product of
// its shape), i < n. Below 2^31 elements every index and size fits 32 bits, and 32-bit
// division is several times cheaper than 64-bit division on the GPU; the outermost dim
// needs no division at all (what is left of i is below its size).
template <int N>
__device__ __forceinline__ void offsets(const LoopGeometry<N>& g, int64_t i, int64_t n,
                                        int64_t (&off)[N]) {
  const bool narrow = n <= INT32_MAX;
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
  for (int d = kMaxLoopDims - 1; d > 0; --d) {
    if (d < g.ndim) {
      int64_t q, r;
      if (narrow) {
        const uint32_t u = uint32_t(i), s = uint32_t(g.shape[d]), uq = u / s;
        q = uq;
        r = u - uq * s;
      } else {
        q = i / g.shape[d];
        r = i - q * g.shape[d];
      }
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * g.strides[k][d];
      i = q;
    }
  }
  if (g.ndim > 0) {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += i * g.strides[k][0];
  }
}

// The byte offset of element i (< n) of a one-operand geometry.
__device__ __forceinline__ int64_t offset_of(const LoopGeometry<1>& g, int64_t i, int64_t n) {
  int64_t off[1];
  offsets(g, i, n, off);
  return off[0];
}

// True when the loop is one contiguous run: operand 0 (the output) dense, esize[0] bytes
// apart, and every other operand k dense (esize[k] bytes apart) or broadcast (stride 0).
// step[k] is then 1 or 0 elements (step[0] is 1; all 0 for a single element).
template <int N>
inline bool contiguous_run(const LoopGeometry<N>& g, const int (&esize)[N], int64_t (&step)[N]) {
  for (int k = 0; k < N; ++k) step[k] = 0;
  if (g.ndim == 0) return true;
  if (g.ndim != 1 || g.strides[0][0] != esize[0]) return false;
  step[0] = 1;
  for (int k = 1; k < N; ++k) {
    if (g.strides[k][0] == esize[k]) {
      step[k] = 1;
    } else if (g.strides[k][0] != 0) {
      return false;
    }
  }
  return true;
}

// Grid-stride loops: enough blocks to fill the GPU, never more than the work needs.
// Blocks have kThreads threads; work is handed out in groups of `lanes` threads (1, 32
// or kThreads), a group per item.
inline constexpr int kThreads = 256;
inline unsigned blocks_for_groups(int64_t groups, int lanes) {
  const int64_t per_block = kThreads / lanes;
  const int64_t b = (groups + per_block - 1) / per_block;
  return unsigned(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}
inline unsigned blocks_for(int64_t n) { return blocks_for_groups(n, 1); }

#define DESCENT_GRID_STRIDE(i, n)                                           \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(blockDim.x) * gridDim.x)

// Item g of n for each group of `lanes` threads (launched with kThreads per block). The
// bound is the same for every thread of a group, so all of them reach the group's
// shuffles and barriers.
#define DESCENT_GROUP_STRIDE(g, n, lanes)                                                       \
  for (int64_t g = int64_t(blockIdx.x) * (kThreads / (lanes)) + threadIdx.x / (lanes); g < (n); \
       g += int64_t(gridDim.x) * (kThreads / (lanes)))

}  // namespace descent::cuda
