// Elementwise kernels: unary and binary ops (one kernel per dtype and layout; the op is
// a runtime switch, uniform across the grid, so it costs no divergence) and where (one
// kernel per element size: it only moves bits). The formulas are
// backends/elementwise_formulas.h's, the CPU's own, so results agree with the CPU's;
// 16-bit floats compute in f32 and round to nearest even once, at the store.
#include <descent/backends/cuda/elementwise_kernels.h>
#include <descent/backends/elementwise_formulas.h>

#include <cstdint>
#include <descent/backends/cuda/device_math.cuh>
#include <descent/backends/cuda/device_types.cuh>
#include <limits>
#include <type_traits>

namespace descent::cuda {
namespace {

// The op's scalars in the compute type: alpha/beta (floating) or lo/hi (integers).
template <class T>
struct Consts {
  compute_t<T> a, b;
};
template <class T>
Consts<T> make_consts(const UnaryScalars& s) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<C, bool>) {
    return {false, false};
  } else if constexpr (std::is_floating_point_v<C>) {
    return {C(s.alpha), C(s.beta)};
  } else {
    return {C(s.lo), C(s.hi)};
  }
}

template <class T>
__device__ __forceinline__ compute_t<T> unary_apply(UnaryOp op, compute_t<T> v, Consts<T> k) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<C, bool>) {
    return unary_bool(op, v);
  } else if constexpr (std::is_floating_point_v<C>) {
    return unary_float(op, v, k.a, k.b);
  } else {
    return unary_int(op, v, k.a, k.b);
  }
}

// ---- binary -----------------------------------------------------------------------
// binary_int's flag: a device int (null where the op cannot raise it).
struct DeviceFlag {
  int* p;
  DESCENT_HD_INLINE void raise() const {
    if (p) *p = 1;
  }
};

template <class T>
__device__ __forceinline__ compute_t<T> binary_apply(BinaryOp op, compute_t<T> x, compute_t<T> y,
                                                     int* flag) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<C, bool>) {
    return binary_bool(op, x, y);
  } else {
    return binary_numeric(op, x, y, DeviceFlag{flag});
  }
}

// ---- layout helpers ---------------------------------------------------------------
// 16-byte packs for the vectorized contiguous path (f32, f16, bf16).
template <class T>
inline constexpr bool kVectorized =
    std::is_same_v<T, float> || std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;
template <class T>
struct alignas(16) Pack {
  static constexpr int size = 16 / int(sizeof(T));
  T v[size];
};

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Stores a result as Bool (comparisons, isfinite, logical ops) or converted to T.
template <class T>
__device__ __forceinline__ void store(void* p, bool bool_out, compute_t<T> r) {
  if (bool_out) {
    *static_cast<bool*>(p) = r != compute_t<T>(0);
  } else {
    *static_cast<T*>(p) = convert<T>(r);
  }
}

// ---- kernels ----------------------------------------------------------------------
template <class T>
__global__ void unary_contig(UnaryOp op, Consts<T> k, bool bool_out, bool vec, int64_t n, void* out,
                             const T* x, int64_t sx) {
  if constexpr (kVectorized<T>) {
    if (vec) {  // out and x dense, 16-byte aligned, out of type T
      constexpr int V = Pack<T>::size;
      const int64_t nv = n / V;
      const Pack<T>* xv = reinterpret_cast<const Pack<T>*>(x);
      Pack<T>* ov = static_cast<Pack<T>*>(out);
      DESCENT_GRID_STRIDE(j, nv) {
        const Pack<T> in = xv[j];
        Pack<T> r;
#pragma unroll
        for (int e = 0; e < V; ++e) r.v[e] = convert<T>(unary_apply<T>(op, load(&in.v[e]), k));
        ov[j] = r;
      }
      // The last n % V elements: one thread each.
      const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x + nv * V;
      if (t < n) static_cast<T*>(out)[t] = convert<T>(unary_apply<T>(op, load(x + t), k));
      return;
    }
  }
  const int64_t osize = bool_out ? 1 : int64_t(sizeof(T));
  DESCENT_GRID_STRIDE(i, n) {
    store<T>(static_cast<char*>(out) + i * osize, bool_out,
             unary_apply<T>(op, load(x + i * sx), k));
  }
}

template <class T>
__global__ void unary_strided(UnaryOp op, Consts<T> k, bool bool_out, LoopGeometry<2> g, int64_t n,
                              char* out, const char* x) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[2];
    offsets(g, i, n, off);
    const compute_t<T> v = load(reinterpret_cast<const T*>(x + off[1]));
    store<T>(out + off[0], bool_out, unary_apply<T>(op, v, k));
  }
}

template <class T>
__global__ void binary_contig(BinaryOp op, bool bool_out, bool vec, int64_t n, void* out,
                              const T* a, int64_t sa, const T* b, int64_t sb, int* flag) {
  using C = compute_t<T>;
  if constexpr (kVectorized<T>) {
    if (vec) {  // out dense of type T; a and b dense and 16-byte aligned, or broadcast
      constexpr int V = Pack<T>::size;
      const int64_t nv = n / V;
      const C a0 = load(a), b0 = load(b);  // the values of broadcast operands
      const Pack<T>* av = reinterpret_cast<const Pack<T>*>(a);
      const Pack<T>* bv = reinterpret_cast<const Pack<T>*>(b);
      Pack<T>* ov = static_cast<Pack<T>*>(out);
      DESCENT_GRID_STRIDE(j, nv) {
        Pack<T> pa, pb, r;
        if (sa) pa = av[j];
        if (sb) pb = bv[j];
#pragma unroll
        for (int e = 0; e < V; ++e) {
          const C x = sa ? load(&pa.v[e]) : a0;
          const C y = sb ? load(&pb.v[e]) : b0;
          r.v[e] = convert<T>(binary_apply<T>(op, x, y, flag));
        }
        ov[j] = r;
      }
      const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x + nv * V;
      if (t < n) {
        static_cast<T*>(out)[t] =
            convert<T>(binary_apply<T>(op, load(a + t * sa), load(b + t * sb), flag));
      }
      return;
    }
  }
  const int64_t osize = bool_out ? 1 : int64_t(sizeof(T));
  DESCENT_GRID_STRIDE(i, n) {
    const C r = binary_apply<T>(op, load(a + i * sa), load(b + i * sb), flag);
    store<T>(static_cast<char*>(out) + i * osize, bool_out, r);
  }
}

template <class T>
__global__ void binary_strided(BinaryOp op, bool bool_out, LoopGeometry<3> g, int64_t n, char* out,
                               const char* a, const char* b, int* flag) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[3];
    offsets(g, i, n, off);
    const compute_t<T> x = load(reinterpret_cast<const T*>(a + off[1]));
    const compute_t<T> y = load(reinterpret_cast<const T*>(b + off[2]));
    store<T>(out + off[0], bool_out, binary_apply<T>(op, x, y, flag));
  }
}

// where moves elements as unsigned words of their size; cond bytes are 0 or 1.
template <class E>
__global__ void where_contig(int64_t n, E* out, const uint8_t* c, int64_t sc, const E* a,
                             int64_t sa, const E* b, int64_t sb) {
  DESCENT_GRID_STRIDE(i, n) out[i] = c[i * sc] ? a[i * sa] : b[i * sb];
}

template <class E>
__global__ void where_strided(LoopGeometry<4> g, int64_t n, char* out, const char* c, const char* a,
                              const char* b) {
  DESCENT_GRID_STRIDE(i, n) {
    int64_t off[4];
    offsets(g, i, n, off);
    *reinterpret_cast<E*>(out + off[0]) = *reinterpret_cast<const uint8_t*>(c + off[1])
                                              ? *reinterpret_cast<const E*>(a + off[2])
                                              : *reinterpret_cast<const E*>(b + off[3]);
  }
}

template <class E>
cudaError_t where_typed(Launch l, const LoopGeometry<4>& g, int64_t n, void* out, const void* cond,
                        const void* a, const void* b) {
  const int esize[4] = {int(sizeof(E)), 1, int(sizeof(E)), int(sizeof(E))};
  int64_t step[4];
  if (contiguous_run(g, esize, step)) {
    where_contig<E><<<blocks_for(n), kThreads, 0, l.stream>>>(
        n, static_cast<E*>(out), static_cast<const uint8_t*>(cond), step[1],
        static_cast<const E*>(a), step[2], static_cast<const E*>(b), step[3]);
  } else {
    where_strided<E><<<blocks_for(n), kThreads, 0, l.stream>>>(
        g, n, static_cast<char*>(out), static_cast<const char*>(cond), static_cast<const char*>(a),
        static_cast<const char*>(b));
  }
  return cudaGetLastError();
}

}  // namespace

// ---- launchers --------------------------------------------------------------------
cudaError_t launch_unary(Launch l, UnaryOp op, KDType dt, bool bool_out, UnaryScalars s,
                         const LoopGeometry<2>& g, int64_t n, void* out, const void* x) {
  if (!supports(op, dtype_kind(dt))) return cudaErrorInvalidValue;  // op_support.h
  if (n == 0) return cudaSuccess;
  return visit(dt, [&]<class T>() -> cudaError_t {
    const Consts<T> k = make_consts<T>(s);
    const int esize[2] = {bool_out ? 1 : int(sizeof(T)), int(sizeof(T))};
    int64_t step[2];
    if (contiguous_run(g, esize, step)) {
      const bool vec =
          kVectorized<T> && !bool_out && step[1] == 1 && aligned16(out) && aligned16(x);
      const int64_t work = vec ? n / Pack<T>::size : n;
      unary_contig<T><<<blocks_for(work), kThreads, 0, l.stream>>>(
          op, k, bool_out, vec, n, out, static_cast<const T*>(x), step[1]);
    } else {
      unary_strided<T><<<blocks_for(n), kThreads, 0, l.stream>>>(
          op, k, bool_out, g, n, static_cast<char*>(out), static_cast<const char*>(x));
    }
    return cudaGetLastError();
  });
}

cudaError_t launch_binary(Launch l, BinaryOp op, KDType dt, bool bool_out, const LoopGeometry<3>& g,
                          int64_t n, void* out, const void* a, const void* b, int* flag) {
  if (!supports(op, dtype_kind(dt))) return cudaErrorInvalidValue;  // op_support.h
  if (n == 0) return cudaSuccess;
  return visit(dt, [&]<class T>() -> cudaError_t {
    const int esize[3] = {bool_out ? 1 : int(sizeof(T)), int(sizeof(T)), int(sizeof(T))};
    int64_t step[3];
    if (contiguous_run(g, esize, step)) {
      const bool vec = kVectorized<T> && !bool_out && aligned16(out) &&
                       (step[1] == 0 || aligned16(a)) && (step[2] == 0 || aligned16(b));
      const int64_t work = vec ? n / Pack<T>::size : n;
      binary_contig<T><<<blocks_for(work), kThreads, 0, l.stream>>>(
          op, bool_out, vec, n, out, static_cast<const T*>(a), step[1], static_cast<const T*>(b),
          step[2], flag);
    } else {
      binary_strided<T><<<blocks_for(n), kThreads, 0, l.stream>>>(
          op, bool_out, g, n, static_cast<char*>(out), static_cast<const char*>(a),
          static_cast<const char*>(b), flag);
    }
    return cudaGetLastError();
  });
}

cudaError_t launch_where(Launch l, int elem_size, const LoopGeometry<4>& g, int64_t n, void* out,
                         const void* cond, const void* a, const void* b) {
  if (n == 0) return cudaSuccess;
  return visit_bits(elem_size, [&]<class E>() { return where_typed<E>(l, g, n, out, cond, a, b); });
}

}  // namespace descent::cuda
