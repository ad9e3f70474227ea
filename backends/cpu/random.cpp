// Random fills from Philox counters: element i's numbers come from counter
// first + i / k, so the result is the same for any thread count (and on the GPU).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>

#include <cmath>

namespace descent::cpu {

namespace {
constexpr double kTwoPi = 6.283185307179586;
}

void CpuBackend::uniform(const Tensor& out, double lo, double hi, Generator& gen) {
  check(out.is_contiguous(), "uniform", "output must be contiguous");
  const int64_t n = out.numel();
  const uint64_t seed = gen.seed();
  visit_dtype(out.dtype(), [&]<class T>() {
    T* o = out.data<T>();
    if constexpr (std::is_same_v<T, bool>) {
      fail("uniform", "cannot draw random bool values; compare a rand() tensor instead");
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, Half> ||
                         std::is_same_v<T, BFloat16>) {
      // 4 numbers per counter, 24 random bits each.
      const int64_t counters = (n + 3) / 4;
      const uint64_t first = gen.advance(uint64_t(counters));
      const float scale = float(hi - lo), base = float(lo);
#pragma omp parallel for if (n >= kParallelThreshold)
      for (int64_t c = 0; c < counters; ++c) {
        auto r = Philox4x32::generate(seed, first + uint64_t(c));
        for (int k = 0; k < 4 && c * 4 + k < n; ++k) {
          o[c * 4 + k] = T(base + scale * Philox4x32::to_unit_float(r[size_t(k)]));
        }
      }
    } else {
      // f64 and integers: 2 numbers of 53 bits per counter.
      const int64_t counters = (n + 1) / 2;
      const uint64_t first = gen.advance(uint64_t(counters));
#pragma omp parallel for if (n >= kParallelThreshold)
      for (int64_t c = 0; c < counters; ++c) {
        auto r = Philox4x32::generate(seed, first + uint64_t(c));
        for (int k = 0; k < 2 && c * 2 + k < n; ++k) {
          const double u = Philox4x32::to_unit_double(r[size_t(2 * k)], r[size_t(2 * k + 1)]);
          if constexpr (std::is_integral_v<T>) {
            const double v = std::floor(lo + u * (hi - lo));
            o[c * 2 + k] = T(std::min(v, hi - 1));
          } else {
            o[c * 2 + k] = T(lo + u * (hi - lo));
          }
        }
      }
    }
  });
}

void CpuBackend::normal(const Tensor& out, double mean, double std, Generator& gen) {
  check(out.is_contiguous(), "normal", "output must be contiguous");
  const int64_t n = out.numel();
  const uint64_t seed = gen.seed();
  // Box–Muller: one counter gives two normals (two pairs of 32-bit draws... in f64 a pair
  // of 53-bit uniforms).
  const int64_t counters = (n + 1) / 2;
  const uint64_t first = gen.advance(uint64_t(counters));
  visit_floating(out.dtype(), "normal", [&]<class T>() {
    T* o = out.data<T>();
#pragma omp parallel for if (n >= kParallelThreshold)
    for (int64_t c = 0; c < counters; ++c) {
      auto r = Philox4x32::generate(seed, first + uint64_t(c));
      const double u1 = 1.0 - Philox4x32::to_unit_double(r[0], r[1]);  // (0, 1]
      const double u2 = Philox4x32::to_unit_double(r[2], r[3]);
      const double rad = std::sqrt(-2.0 * std::log(u1));
      o[c * 2] = T(compute_t<T>(mean + std * rad * std::cos(kTwoPi * u2)));
      if (c * 2 + 1 < n) o[c * 2 + 1] = T(compute_t<T>(mean + std * rad * std::sin(kTwoPi * u2)));
    }
  });
}

}  // namespace descent::cpu
