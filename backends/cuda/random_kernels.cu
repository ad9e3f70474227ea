// Philox random fills on the device. Each thread turns one counter into its 4 (or 2)
// values with exactly the CPU backend's arithmetic (backends/cpu/random.cpp), so the
// same generator state gives the same tensor on either device: bit for bit for
// uniform, and to a few ulp for normal (see normal_kernel).
//
// Products go through __fmul_rn / __dmul_rn: nvcc would otherwise fuse `a + b * c`
// into one FMA (a single rounding), while the CPU rounds the product and the sum
// separately.
#include <descent/backends/cuda/random_kernels.h>
#include <descent/core/random.h>  // fmt-free: Philox4x32 is __host__ __device__ under nvcc

#include <cmath>
#include <descent/backends/cuda/device_types.cuh>
#include <type_traits>

namespace descent::cuda {

namespace {

constexpr double kTwoPi = 6.283185307179586;  // as backends/cpu/random.cpp

// Values per counter: 4 of 24 random bits for f32, f16 and bf16 (computed in f32), 2 of
// 53 bits for f64 and the integer types (computed in f64).
template <class T>
inline constexpr int kPerCounter = std::is_same_v<compute_t<T>, float> ? 4 : 2;

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, int64_t counters, uint64_t seed, uint64_t first,
                               double lo, double hi) {
  constexpr int K = kPerCounter<T>;
  // The CPU rounds the range to f32 once, before its loop.
  const float base = float(lo), scale = float(hi - lo);
  DESCENT_GRID_STRIDE(c, counters) {
    const auto r = Philox4x32::generate(seed, first + uint64_t(c));
    for (int k = 0; k < K; ++k) {
      const int64_t i = c * K + k;
      if (i >= n) break;
      if constexpr (K == 4) {
        out[i] = convert<T>(base + __fmul_rn(scale, Philox4x32::to_unit_float(r[k])));
      } else {
        const double u = Philox4x32::to_unit_double(r[2 * k], r[2 * k + 1]);
        const double v = lo + __dmul_rn(u, hi - lo);
        if constexpr (std::is_integral_v<T>) {
          // floor, then std::min(v, hi - 1) as the CPU writes it.
          const double f = floor(v), top = hi - 1;
          out[i] = T(top < f ? top : f);
        } else {
          out[i] = T(v);
        }
      }
    }
  }
}

// Box–Muller in f64, one pair per counter. sqrt is correctly rounded on the device, but
// CUDA's double log, cos and sin are accurate to 1-2 ulp rather than glibc's (nearly)
// correctly rounded results, so a value may differ from the CPU's by a few ulp in f64
// (and, rarely, by one ulp after rounding to f32 or 16 bits).
template <class T>
__global__ void normal_kernel(T* out, int64_t n, int64_t counters, uint64_t seed, uint64_t first,
                              double mean, double std) {
  DESCENT_GRID_STRIDE(c, counters) {
    const auto r = Philox4x32::generate(seed, first + uint64_t(c));
    const double u1 = 1.0 - Philox4x32::to_unit_double(r[0], r[1]);  // (0, 1]
    const double u2 = Philox4x32::to_unit_double(r[2], r[3]);
    const double rad = sqrt(-2.0 * log(u1));
    const double theta = __dmul_rn(kTwoPi, u2);
    const double scaled = __dmul_rn(std, rad);
    out[c * 2] = convert<T>(mean + __dmul_rn(scaled, cos(theta)));
    if (c * 2 + 1 < n) out[c * 2 + 1] = convert<T>(mean + __dmul_rn(scaled, sin(theta)));
  }
}

}  // namespace

cudaError_t launch_uniform(void* out, KDType dt, int64_t n, uint64_t seed, uint64_t first,
                           double lo, double hi, Launch l) {
  if (n <= 0) return cudaSuccess;
  return visit(dt, [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      return cudaErrorInvalidValue;
    } else {
      const int64_t counters = (n + kPerCounter<T> - 1) / kPerCounter<T>;
      uniform_kernel<T><<<blocks_for(counters), kThreads, 0, l.stream>>>(
          static_cast<T*>(out), n, counters, seed, first, lo, hi);
      return cudaGetLastError();
    }
  });
}

cudaError_t launch_normal(void* out, KDType dt, int64_t n, uint64_t seed, uint64_t first,
                          double mean, double std, Launch l) {
  if (n <= 0) return cudaSuccess;
  const int64_t counters = (n + 1) / 2;
  return visit_floating(dt, [&]<class T>() {
    normal_kernel<T><<<blocks_for(counters), kThreads, 0, l.stream>>>(
        static_cast<T*>(out), n, counters, seed, first, mean, std);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
