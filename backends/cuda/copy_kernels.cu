// Copy-family kernels: bitwise strided copies (one kernel per element size), dtype
// conversions (one kernel per destination dtype, the source dtype a runtime switch),
// fills and arange. Conversions follow backends/cpu/copy.cpp: to Bool is v != 0, other
// targets take the value through the source's compute type (f32 for 16-bit floats),
// 16-bit targets round to nearest even from f32.
#include <descent/backends/cuda/copy_kernels.h>

#include <cstdint>
#include <descent/backends/cuda/device_types.cuh>
#include <type_traits>

namespace descent::cuda {
namespace {

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
  return visit_bits(elem_size, [&]<class E>() {
    const int esize[2] = {int(sizeof(E)), int(sizeof(E))};
    int64_t step[2];
    const bool contig = contiguous_run(g, esize, step);
    copy_bits_kernel<E><<<blocks_for(n), kThreads, 0, l.stream>>>(
        g, contig, step[1], n, static_cast<char*>(dst), static_cast<const char*>(src));
    return cudaGetLastError();
  });
}

cudaError_t launch_convert(Launch l, KDType dst_dt, KDType src_dt, const LoopGeometry<2>& g,
                           int64_t n, void* dst, const void* src) {
  if (n == 0) return cudaSuccess;
  if (dst_dt == src_dt) return launch_copy_bits(l, dtype_size(dst_dt), g, n, dst, src);
  const int esize[2] = {dtype_size(dst_dt), dtype_size(src_dt)};
  int64_t step[2];
  const bool contig = contiguous_run(g, esize, step);
  return visit(dst_dt, [&]<class D>() -> cudaError_t {
    convert_kernel<D><<<blocks_for(n), kThreads, 0, l.stream>>>(
        src_dt, g, contig, step[1], n, static_cast<char*>(dst), static_cast<const char*>(src));
    return cudaGetLastError();
  });
}

cudaError_t launch_fill(Launch l, int elem_size, uint64_t bits, const LoopGeometry<1>& g, int64_t n,
                        void* dst) {
  if (n == 0) return cudaSuccess;
  return visit_bits(elem_size, [&]<class E>() {
    const int esize[1] = {int(sizeof(E))};
    int64_t step[1];
    const bool contig = contiguous_run(g, esize, step);
    fill_kernel<E>
        <<<blocks_for(n), kThreads, 0, l.stream>>>(g, contig, n, static_cast<char*>(dst), E(bits));
    return cudaGetLastError();
  });
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
