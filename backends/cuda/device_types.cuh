#pragma once
// Device-side helpers shared by the .cu files: the C++ type of each KDType, dtype
// dispatch, compute types (16-bit floats compute in f32), strided offsets from a
// LoopGeometry, and the launch shape of grid-stride loops.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "backends/cuda/kernels.h"

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

// Byte offset of linear element i of a LoopGeometry for operand k (row-major order).
template <int N>
__device__ __forceinline__ int64_t offset_of(const LoopGeometry<N>& g, int k, int64_t i) {
  int64_t off = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    const int64_t size = g.shape[d];
    off += (i % size) * g.strides[k][d];
    i /= size;
  }
  return off;
}

// Grid-stride loops: enough blocks to fill the GPU, never more than the work needs.
inline constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

#define DESCENT_GRID_STRIDE(i, n)                                                     \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);           \
       i += int64_t(blockDim.x) * gridDim.x)

}  // namespace descent::cuda
