// Power sums for gradient norms (backend.h, "gradient norms"): one pass over each
// contiguous f32/f64 tensor, accumulating in f64. The tensor is cut into fixed blocks
// summed in parallel and added up in block order, so the result does not depend on the
// thread count. Other layouts and dtypes take the generic path (Backend::power_sums).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>
#include <omp.h>

#include <cmath>
#include <vector>

namespace descent::cpu {

namespace {

constexpr int64_t kBlock = 1 << 14;

enum class Power { One, Two, Inf, General };

// Σ |x|^p (or max |x|) over x[0, n), in f64.
template <Power kPower, class T>
double block_sum(const T* x, int64_t n, double p) {
  if constexpr (kPower == Power::Inf) {
    double m = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(double(x[i]));
      if (a > m || a != a) m = a;
      if (m != m) return m;  // a NaN sticks, as torch's max
    }
    return m;
  } else {
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) {
      const double v = double(x[i]);
      if constexpr (kPower == Power::One) {
        acc += std::fabs(v);
      } else if constexpr (kPower == Power::Two) {
        acc += v * v;
      } else {
        acc += std::pow(std::fabs(v), p);
      }
    }
    return acc;
  }
}

template <Power kPower, class T>
double power_sum(const T* x, int64_t n, double p) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> part(size_t(blocks), 0.0);
  const bool parallel = n >= kParallelThreshold && omp_get_max_threads() > 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlock;
    part[size_t(b)] = block_sum<kPower>(x + begin, std::min(kBlock, n - begin), p);
  }
  double total = 0;
  for (double s : part) {
    if constexpr (kPower == Power::Inf) {
      if (s > total || s != s) total = s;
      if (total != total) break;
    } else {
      total += s;
    }
  }
  return total;
}

template <class T>
double power_sum(const T* x, int64_t n, double p) {
  if (std::isinf(p)) return power_sum<Power::Inf>(x, n, p);
  if (p == 1) return power_sum<Power::One>(x, n, p);
  if (p == 2) return power_sum<Power::Two>(x, n, p);
  return power_sum<Power::General>(x, n, p);
}

}  // namespace

void CpuBackend::power_sums(const PowerSumsArgs& a) {
  check_power_sums(a);
  double* out = a.out.data<double>();
  for (size_t i = 0; i < a.xs.size(); ++i) {
    const Tensor& x = a.xs[i];
    if (x.is_contiguous() && x.dtype() == DType::F32) {
      out[i] = power_sum(x.data<float>(), x.numel(), a.p);
    } else if (x.is_contiguous() && x.dtype() == DType::F64) {
      out[i] = power_sum(x.data<double>(), x.numel(), a.p);
    } else {
      Backend::power_sums(
          {.xs = a.xs.subspan(i, 1), .p = a.p, .out = a.out.narrow(0, int64_t(i), 1)});
    }
  }
}

}  // namespace descent::cpu
