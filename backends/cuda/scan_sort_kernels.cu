// Scans and sorts. A scan runs each line in order in one thread, the CPU's order, so
// both devices give the same sums. Sorting is Thrust's stable merge sort over all rows
// at once: first by value (NaN greatest), carrying each element's row and position,
// then stably by row, which keeps every row's values in order (a segmented sort).
#include <descent/backends/cuda/scan_sort_kernels.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/zip_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>

#include <descent/backends/cuda/device_types.cuh>
#include <type_traits>

namespace descent::cuda {
namespace {

template <class T>
__global__ void scan_kernel(bool prod, int64_t lines, int64_t n, int64_t inner, T* out,
                            const T* x) {
  // Floating values accumulate in f64, as the CPU.
  using C = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, compute_t<T>>;
  DESCENT_GRID_STRIDE(line, lines) {
    const int64_t base = (line / inner) * n * inner + line % inner;
    C acc = prod ? C(1) : C(0);
    for (int64_t i = 0; i < n; ++i) {
      const C v = C(load(x + base + i * inner));
      if constexpr (std::is_integral_v<C>) {  // wrapping, as the CPU
        using U = std::make_unsigned_t<C>;
        acc = prod ? C(U(acc) * U(v)) : C(U(acc) + U(v));
      } else {
        acc = prod ? acc * v : acc + v;
      }
      out[base + i * inner] = convert<T>(acc);
    }
  }
}

// Ascending order with NaN last, or descending with NaN first.
template <class T>
struct ValueOrder {
  bool descending;
  __device__ bool operator()(const T& a, const T& b) const {
    using C = compute_t<T>;
    const C u = load(&a), v = load(&b);
    return descending ? less(v, u) : less(u, v);
  }
  __device__ static bool less(compute_t<T> u, compute_t<T> v) {
    if constexpr (std::is_floating_point_v<compute_t<T>>) {
      if (v != v) return u == u;  // NaN is greatest
      if (u != u) return false;
    }
    return u < v;
  }
};

// Element i of the flattened rows: its row and its position in the row.
struct RowOf {
  int64_t n;
  __host__ __device__ int64_t operator()(int64_t i) const { return i / n; }
};
struct PosOf {
  int64_t n;
  __host__ __device__ int64_t operator()(int64_t i) const { return i % n; }
};

}  // namespace

cudaError_t launch_scan(Launch l, KDType dt, bool prod, int64_t outer, int64_t n, int64_t inner,
                        void* out, const void* x) {
  const int64_t lines = outer * inner;
  if (lines == 0 || n == 0) return cudaSuccess;
  return visit(dt, [&]<class T>() -> cudaError_t {
    if constexpr (std::is_same_v<T, bool>) {
      return cudaErrorInvalidValue;  // ops/ scans bools as i64
    } else {
      scan_kernel<T><<<blocks_for(lines), kThreads, 0, l.stream>>>(
          prod, lines, n, inner, static_cast<T*>(out), static_cast<const T*>(x));
      return cudaGetLastError();
    }
  });
}

cudaError_t launch_sort(Launch l, KDType dt, bool descending, int64_t rows, int64_t n,
                        const void* x, void* values, int64_t* indices, int64_t* segments) {
  const int64_t total = rows * n;
  if (total == 0) return cudaSuccess;
  return visit(dt, [&]<class T>() -> cudaError_t {
    const auto policy = thrust::cuda::par.on(l.stream);
    T* v = static_cast<T*>(values);
    const T* in = static_cast<const T*>(x);
    cudaError_t e =
        cudaMemcpyAsync(v, in, size_t(total) * sizeof(T), cudaMemcpyDeviceToDevice, l.stream);
    if (e != cudaSuccess) return e;
    thrust::sequence(policy, indices, indices + total);
    thrust::transform(policy, indices, indices + total, segments, RowOf{n});
    thrust::transform(policy, indices, indices + total, indices, PosOf{n});
    auto carried = thrust::make_zip_iterator(thrust::make_tuple(segments, indices));
    thrust::stable_sort_by_key(policy, v, v + total, carried, ValueOrder<T>{descending});
    auto sorted = thrust::make_zip_iterator(thrust::make_tuple(v, indices));
    thrust::stable_sort_by_key(policy, segments, segments + total, sorted);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
