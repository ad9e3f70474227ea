// Copy-family kernels: bitwise strided copies (one kernel per element size), dtype
// conversions (one kernel per destination dtype, the source dtype a runtime switch),
// fills and arange. Conversions follow backends/cpu/copy.cpp: to Bool is v != 0, other
// targets take the value through the source's compute type (f32 for 16-bit floats),
// 16-bit targets round to nearest even from f32.
#include <cstdint>
#include <type_traits>

#include "backends/cuda/copy_kernels.h"
#include "backends/cuda/device_types.cuh"

namespace descent::cuda {
namespace {

// The byte offsets of linear element i (< n) for every operand, in one pass over the
// dims. Below 2^31 elements every index and size fits 32 bits, and 32-bit division is
// several times cheaper than 64-bit division on the GPU.
template <int N>
__device__ __forceinline__ void offsets(const LoopGeometry<N>& g, int64_t i, int64_t n,
                                        int64_t (&off)[N]) {
  const bool narrow = n <= INT32_MAX;
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
  for (int d = kMaxLoopDims - 1; d >= 0; --d) {
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
}

// True when the loop is one contiguous run: the destination dense, the source (if any)
// dense or broadcast; src_step is then 1 or 0 elements.
template <int N>
bool contiguous_run(const LoopGeometry<N>& g, int dst_size, int src_size, int64_t& src_step) {
  src_step = 0;
  if (g.ndim == 0) return true;
  if (g.ndim != 1 || g.strides[0][0] != dst_size) return false;
  if constexpr (N == 2) {
    if (g.strides[1][0] == src_size) {
      src_step = 1;
    } else if (g.strides[1][0] != 0) {
      return false;
    }
  }
  return true;
}

template <class E>
__global__ void copy_bits_kernel(LoopGeometry<2> g, bool contig, int64_t ss, int64_t n, char* dst,
                                 const char* src) {
  DESCENT_GRID_STRIDE(i, n) {
    if (contig) {
      reinterpret_cast<E*>(dst)[i] = reinterpret_cast<const E*>(src)[i * ss];
    } else {
      int64_t off[2];
      offsets(g, i, n, off);
      *reinterpret_cast<E*>(dst + off[0]) = *reinterpret_cast<const E*>(src + off[1]);
    }
  }
}

template <class D, class S>
__device__ __forceinline__ void convert_loop(const LoopGeometry<2>& g, bool contig, int64_t ss,
                                             int64_t n, char* dst, const char* src) {
  DESCENT_GRID_STRIDE(i, n) {
    D* o;
    const S* s;
    if (contig) {
      o = reinterpret_cast<D*>(dst) + i;
      s = reinterpret_cast<const S*>(src) + i * ss;
    } else {
      int64_t off[2];
      offsets(g, i, n, off);
      o = reinterpret_cast<D*>(dst + off[0]);
      s = reinterpret_cast<const S*>(src + off[1]);
    }
    *o = convert<D>(load(s));
  }
}

template <class D>
__global__ void convert_kernel(KDType src_dt, LoopGeometry<2> g, bool contig, int64_t ss, int64_t n,
                               char* dst, const char* src) {
  // Same-dtype copies take copy_bits_kernel, so that pair is never instantiated.
  auto run = [&]<class S>() {
    if constexpr (!std::is_same_v<D, S>) convert_loop<D, S>(g, contig, ss, n, dst, src);
  };
  switch (src_dt) {
    case KDType::F32: run.template operator()<float>(); break;
    case KDType::F64: run.template operator()<double>(); break;
    case KDType::F16: run.template operator()<__half>(); break;
    case KDType::BF16: run.template operator()<__nv_bfloat16>(); break;
    case KDType::I32: run.template operator()<int32_t>(); break;
    case KDType::I64: run.template operator()<int64_t>(); break;
    case KDType::Bool: run.template operator()<bool>(); break;
  }
}

template <class E>
__global__ void fill_kernel(LoopGeometry<1> g, bool contig, int64_t n, char* dst, E v) {
  DESCENT_GRID_STRIDE(i, n) {
    if (contig) {
      reinterpret_cast<E*>(dst)[i] = v;
    } else {
      int64_t off[1];
      offsets(g, i, n, off);
      *reinterpret_cast<E*>(dst + off[0]) = v;
    }
  }
}

template <class D>
__global__ void arange_kernel(int64_t n, D* out, double start, double step) {
  // __dmul_rn/__dadd_rn: two roundings like the CPU's start + i·step, never an FMA.
  DESCENT_GRID_STRIDE(i, n) out[i] = convert<D>(__dadd_rn(start, __dmul_rn(double(i), step)));
}

template <class E>
cudaError_t copy_bits_typed(Launch l, const LoopGeometry<2>& g, int64_t n, void* dst,
                            const void* src) {
  int64_t ss = 0;
  const bool contig = contiguous_run(g, int(sizeof(E)), int(sizeof(E)), ss);
  copy_bits_kernel<E><<<blocks_for(n), kThreads, 0, l.stream>>>(
      g, contig, ss, n, static_cast<char*>(dst), static_cast<const char*>(src));
  return cudaGetLastError();
}

template <class E>
cudaError_t fill_typed(Launch l, uint64_t bits, const LoopGeometry<1>& g, int64_t n, void* dst) {
  int64_t unused = 0;
  const bool contig = contiguous_run(g, int(sizeof(E)), 0, unused);
  fill_kernel<E>
      <<<blocks_for(n), kThreads, 0, l.stream>>>(g, contig, n, static_cast<char*>(dst), E(bits));
  return cudaGetLastError();
}

int dtype_size(KDType t) {
  switch (t) {
    case KDType::F32:
    case KDType::I32: return 4;
    case KDType::F64:
    case KDType::I64: return 8;
    case KDType::F16:
    case KDType::BF16: return 2;
    case KDType::Bool: return 1;
  }
  return 0;
}

}  // namespace

cudaError_t launch_copy_bits(Launch l, int elem_size, const LoopGeometry<2>& g, int64_t n,
                             void* dst, const void* src) {
  if (n == 0) return cudaSuccess;
  switch (elem_size) {
    case 1: return copy_bits_typed<uint8_t>(l, g, n, dst, src);
    case 2: return copy_bits_typed<uint16_t>(l, g, n, dst, src);
    case 4: return copy_bits_typed<uint32_t>(l, g, n, dst, src);
    case 8: return copy_bits_typed<uint64_t>(l, g, n, dst, src);
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_convert(Launch l, KDType dst_dt, KDType src_dt, const LoopGeometry<2>& g,
                           int64_t n, void* dst, const void* src) {
  if (n == 0) return cudaSuccess;
  if (dst_dt == src_dt) return launch_copy_bits(l, dtype_size(dst_dt), g, n, dst, src);
  int64_t ss = 0;
  const bool contig = contiguous_run(g, dtype_size(dst_dt), dtype_size(src_dt), ss);
  return visit(dst_dt, [&]<class D>() -> cudaError_t {
    convert_kernel<D><<<blocks_for(n), kThreads, 0, l.stream>>>(
        src_dt, g, contig, ss, n, static_cast<char*>(dst), static_cast<const char*>(src));
    return cudaGetLastError();
  });
}

cudaError_t launch_fill(Launch l, int elem_size, uint64_t bits, const LoopGeometry<1>& g, int64_t n,
                        void* dst) {
  if (n == 0) return cudaSuccess;
  switch (elem_size) {
    case 1: return fill_typed<uint8_t>(l, bits, g, n, dst);
    case 2: return fill_typed<uint16_t>(l, bits, g, n, dst);
    case 4: return fill_typed<uint32_t>(l, bits, g, n, dst);
    case 8: return fill_typed<uint64_t>(l, bits, g, n, dst);
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_arange(Launch l, KDType dt, int64_t n, void* out, double start, double step) {
  if (n == 0) return cudaSuccess;
  return visit(dt, [&]<class D>() -> cudaError_t {
    arange_kernel<D>
        <<<blocks_for(n), kThreads, 0, l.stream>>>(n, static_cast<D*>(out), start, step);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
