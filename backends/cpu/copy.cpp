// Copies, casts and fills.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace descent::cpu {

CpuBackend& cpu_backend() {
  // Never destroyed: tensors with static lifetime may free memory after main returns.
  static CpuBackend* be = new CpuBackend;
  return *be;
}

namespace {
template <class D, class S>
inline D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) {
    return compute_t<S>(v) != compute_t<S>(0);
  } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
    return D(float(compute_t<S>(v)));
  } else {
    return D(compute_t<S>(v));
  }
}
}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  check(src.device().is_cpu() && dst.device().is_cpu(), "copy",
        "the CPU backend copies between CPU tensors only, got {} → {}", src.device(), dst.device());
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    if (src.raw_data() != dst.raw_data()) {
      std::memcpy(dst.raw_data(), src.raw_data(), size_t(src.numel()) * src.element_size());
    }
    return;
  }
  visit_dtype(dst.dtype(), [&]<class D>() {
    visit_dtype(src.dtype(), [&]<class S>() {
      for_each<2>(dst.shape(), {&dst, &src}, [](auto p, auto s, int64_t n) {
        if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
          D* o = reinterpret_cast<D*>(p[0]);
          const S* in = reinterpret_cast<const S*>(p[1]);
          for (int64_t i = 0; i < n; ++i) o[i] = convert<D, S>(in[i]);
        } else {
          for (int64_t i = 0; i < n; ++i)
            at<D>(p[0], i, s[0]) = convert<D, S>(at<S>(p[1], i, s[1]));
        }
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&]<class D>() {
    const D v = convert<D, double>(value);
    for_each<1>(dst.shape(), {&dst}, [v](auto p, auto s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) at<D>(p[0], i, s[0]) = v;
    });
  });
}

void CpuBackend::arange(const Tensor& out, double start, double step) {
  visit_dtype(out.dtype(), [&]<class D>() {
    D* o = out.data<D>();
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = convert<D, double>(start + double(i) * step);
  });
}

bool CpuBackend::all_finite(const Tensor& x) {
  if (!is_floating(x.dtype())) return true;
  bool ok = true;
  visit_floating(x.dtype(), "all_finite", [&]<class T>() {
    Tensor c = x.contiguous();
    const T* p = c.data<T>();
    const int64_t n = c.numel();
    for (int64_t i = 0; i < n && ok; ++i) ok = std::isfinite(double(compute_t<T>(p[i])));
  });
  return ok;
}

}  // namespace descent::cpu
