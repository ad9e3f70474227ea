// Softmax and log-softmax, forward and backward, along any dim.
//
// The input is seen as (outer, D, inner) over contiguous memory (a strided input is
// copied first). inner == 1 — the last dim, the common case — runs row by row;
// otherwise blocks of up to kCols adjacent columns are processed together, so every
// inner loop walks contiguous memory and vectorizes. Values are computed in f32 (f32,
// f16, bf16) or f64, and each row subtracts its max before exp. Rows are independent and
// sums run in a fixed order, so results do not depend on the thread count (the vector
// width, picked per CPU below, may change the last bit).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace descent::cpu {

namespace {

// Columns handled together in the (outer, D, inner) layout: per-column accumulators
// live on the stack.
constexpr int64_t kCols = 256;
// Rows shorter than kShortRow are processed kShortBlock values (whole rows) at a time.
constexpr int64_t kShortRow = 64;
constexpr int64_t kShortBlock = 2048;

// The build targets baseline x86-64 (SSE2), where exp is the bottleneck. The functions
// that loop over rows are compiled for AVX-512 and AVX2 as well and the best one for the
// CPU is picked at load time (GCC's target_clones, an ifunc); the per-row helpers are
// forced inline so that they are compiled for the same ISA. Only GCC on x86-64 Linux.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DESCENT_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DESCENT_ISA_CLONES
#endif
#define DESCENT_FORCE_INLINE [[gnu::always_inline]] inline

// e^x for f32 that the compiler can vectorize (without -ffast-math std::exp is one libm
// call per element, which dominates softmax). Cephes' expf: x = n·ln2 + r with
// |r| ≤ ln2/2, a degree-6 polynomial for e^r and 2^n built in the exponent bits; within
// 1 ulp of std::exp on [-87, 88]. Below -87 it returns 0 (e^-87 ≈ 1.6e-38 is invisible
// next to a softmax row's sum, which is ≥ 1), above 88 +inf; NaN stays NaN.
// The range cases are integer masks on the bits: float compares and selects keep GCC
// from vectorizing the loop under its default -ftrapping-math.
DESCENT_FORCE_INLINE float exp_f32(float x) {
  const int32_t bits = std::bit_cast<int32_t>(x);
  const int32_t mag = bits & 0x7fffffff;
  const int32_t lo = -int32_t((bits < 0) & (mag > std::bit_cast<int32_t>(87.0f)));
  const int32_t hi = -int32_t((bits >= 0) & (mag > std::bit_cast<int32_t>(88.0f)));
  const int32_t nan = -int32_t(mag > 0x7f800000);
  const int32_t keep = ~(lo | hi);
  // x clamped into [-87, 88] (NaN included), so the int conversion below is defined.
  const float xc = std::bit_cast<float>((bits & keep) | (std::bit_cast<int32_t>(-87.0f) & lo) |
                                        (std::bit_cast<int32_t>(88.0f) & hi));
  // Round-to-nearest of xc·log2(e) with plain adds (no SSE4.1 round instruction needed).
  constexpr float kRound = 12582912.0f;  // 1.5·2^23
  const float n = (xc * 1.44269504088896341f + kRound) - kRound;
  // ln2 split in two so that n·ln2 is subtracted without losing bits of r.
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  const int32_t y = std::bit_cast<int32_t>(p * std::bit_cast<float>((int32_t(n) + 127) << 23));
  const int32_t out = (y & keep) | (0x7f800000 & hi);  // below -87: +0; above 88: +inf
  return std::bit_cast<float>((out & ~nan) | (bits & nan));
}

template <class C>
DESCENT_FORCE_INLINE C exp_c(C x) {
  if constexpr (std::is_same_v<C, float>) {
    return exp_f32(x);
  } else {
    return std::exp(x);
  }
}

// t[i] = exp(t[i]) for i < n, in blocks of kVec with a fixed trip count, so that no value
// falls to a scalar remainder loop (16 scalar exps cost more than a 16-wide vector one);
// the last n % kVec values go through a padded block.
template <class C>
DESCENT_FORCE_INLINE void exp_inplace(C* t, int64_t n) {
  if constexpr (!std::is_same_v<C, float>) {  // f64: libm, one call per value
    for (int64_t i = 0; i < n; ++i) t[i] = std::exp(t[i]);
    return;
  }
  constexpr int64_t kVec = 16;
  const int64_t full = n - n % kVec;
  for (int64_t b = 0; b < full; b += kVec) {
#pragma omp simd
    for (int64_t j = 0; j < kVec; ++j) t[b + j] = exp_c(t[b + j]);
  }
  if (full == n) return;
  C pad[kVec] = {};
  for (int64_t i = full; i < n; ++i) pad[i - full] = t[i];
#pragma omp simd
  for (int64_t j = 0; j < kVec; ++j) pad[j] = exp_c(pad[j]);
  for (int64_t i = full; i < n; ++i) t[i] = pad[i - full];
}

using Layout = SoftmaxLayout;

// Scratch of C values for a 16-bit T (f32/f64 work in the output buffer instead).
template <class T>
std::vector<compute_t<T>> scratch_for(int64_t n) {
  return std::vector<compute_t<T>>(std::is_same_v<T, compute_t<T>> ? 0 : size_t(n));
}

// ---- forward ------------------------------------------------------------------------

// One contiguous row of n values; `scratch` holds n values of C for a 16-bit T.
template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void forward_row(const T* x, T* y, int64_t n, bool log, C* scratch) {
  C m = -std::numeric_limits<C>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, C(x[i]));
  C* t;
  if constexpr (std::is_same_v<T, C>) {
    t = y;
  } else {
    t = scratch;
  }
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) t[i] = C(x[i]) - m;
  exp_inplace(t, n);
  C s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += t[i];
  if (log) {
    const C ls = std::log(s);
    // (x - m) - log(s) rather than x - (m + log s): exact for x near m.
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = T((C(x[i]) - m) - ls);
  } else {
    const C inv = C(1) / s;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = T(t[i] * inv);
  }
}

// Rows shorter than kShortRow, kShortBlock values (whole rows) at a time: per-row vector
// loops would spend their time in setup and reductions, so the exp runs once over the
// block; max, sums and scaling are short scalar loops per row.
template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void forward_short_rows(const T* x, T* y, int64_t rows, int64_t d, bool log) {
  C t[kShortBlock], m[kShortBlock];  // d ≥ 1: at most kShortBlock rows per block
  const int64_t rb = kShortBlock / d;
  for (int64_t r0 = 0; r0 < rows; r0 += rb) {
    const int64_t nr = std::min(rb, rows - r0);
    const T* xb = x + r0 * d;
    T* yb = y + r0 * d;
    for (int64_t r = 0; r < nr; ++r) {
      C mx = -std::numeric_limits<C>::infinity();
      for (int64_t k = 0; k < d; ++k) mx = std::max(mx, C(xb[r * d + k]));
      for (int64_t k = 0; k < d; ++k) t[r * d + k] = C(xb[r * d + k]) - mx;
      m[r] = mx;
    }
    exp_inplace(t, nr * d);
    for (int64_t r = 0; r < nr; ++r) {
      C s = 0;
      for (int64_t k = 0; k < d; ++k) s += t[r * d + k];
      if (log) {
        const C ls = std::log(s);
        for (int64_t k = 0; k < d; ++k) yb[r * d + k] = T((C(xb[r * d + k]) - m[r]) - ls);
      } else {
        const C inv = C(1) / s;
        for (int64_t k = 0; k < d; ++k) yb[r * d + k] = T(t[r * d + k] * inv);
      }
    }
  }
}

// Columns [j0, j0 + nj) of one (D, inner) slab; nj ≤ kCols.
template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void forward_cols(const T* x, T* y, const Layout& l, int64_t j0, int64_t nj,
                                       bool log) {
  C m[kCols], s[kCols], t[kCols];
  for (int64_t j = 0; j < nj; ++j) {
    m[j] = -std::numeric_limits<C>::infinity();
    s[j] = 0;
  }
  for (int64_t d = 0; d < l.d; ++d) {
    const T* xr = x + d * l.inner + j0;
    for (int64_t j = 0; j < nj; ++j) m[j] = std::max(m[j], C(xr[j]));
  }
  constexpr bool kStore = std::is_same_v<T, C>;  // keep exp values in y when exact
  for (int64_t d = 0; d < l.d; ++d) {
    const T* xr = x + d * l.inner + j0;
    T* yr = y + d * l.inner + j0;
    for (int64_t j = 0; j < nj; ++j) t[j] = C(xr[j]) - m[j];
    exp_inplace(t, nj);
    for (int64_t j = 0; j < nj; ++j) {
      s[j] += t[j];
      if constexpr (kStore) yr[j] = t[j];
    }
  }
  if (log) {
    for (int64_t j = 0; j < nj; ++j) s[j] = std::log(s[j]);
    for (int64_t d = 0; d < l.d; ++d) {
      const T* xr = x + d * l.inner + j0;
      T* yr = y + d * l.inner + j0;
      for (int64_t j = 0; j < nj; ++j) yr[j] = T((C(xr[j]) - m[j]) - s[j]);
    }
    return;
  }
  for (int64_t j = 0; j < nj; ++j) s[j] = C(1) / s[j];
  for (int64_t d = 0; d < l.d; ++d) {
    const T* xr = x + d * l.inner + j0;
    T* yr = y + d * l.inner + j0;
    if constexpr (kStore) {
      for (int64_t j = 0; j < nj; ++j) yr[j] *= s[j];
    } else {
      for (int64_t j = 0; j < nj; ++j) t[j] = C(xr[j]) - m[j];
      exp_inplace(t, nj);
      for (int64_t j = 0; j < nj; ++j) yr[j] = T(t[j] * s[j]);
    }
  }
}

// Rows [b, e) when inner == 1, else column tasks [b, e) (a slab's block of columns).
template <class T>
DESCENT_ISA_CLONES void forward_range(const T* x, T* y, Layout l, bool log, int64_t b, int64_t e) {
  if (l.inner == 1 && l.d < kShortRow) {
    forward_short_rows<T>(x + b * l.d, y + b * l.d, e - b, l.d, log);
  } else if (l.inner == 1) {
    auto scratch = scratch_for<T>(l.d);
    for (int64_t o = b; o < e; ++o) {
      forward_row<T>(x + o * l.d, y + o * l.d, l.d, log, scratch.data());
    }
  } else {
    const int64_t nb = (l.inner + kCols - 1) / kCols;
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / nb, j0 = (t % nb) * kCols, off = o * l.d * l.inner;
      forward_cols<T>(x + off, y + off, l, j0, std::min(kCols, l.inner - j0), log);
    }
  }
}

// ---- backward -----------------------------------------------------------------------
// softmax:     gx = y·(g − Σ g·y)
// log_softmax: gx = g − exp(y)·Σ g

template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void backward_row(const T* y, const T* g, T* gx, int64_t n, bool log,
                                       C* scratch) {
  C s = 0;
  if (!log) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += C(g[i]) * C(y[i]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) gx[i] = T(C(y[i]) * (C(g[i]) - s));
    return;
  }
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += C(g[i]);
  C* t;
  if constexpr (std::is_same_v<T, C>) {
    t = gx;
  } else {
    t = scratch;
  }
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) t[i] = C(y[i]);
  exp_inplace(t, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = T(C(g[i]) - t[i] * s);
}

// log_softmax's backward on short rows, for the same reason as forward_short_rows
// (softmax's backward has no exp and needs no such path).
template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void log_backward_short_rows(const T* y, const T* g, T* gx, int64_t rows,
                                                  int64_t d) {
  C t[kShortBlock];
  const int64_t rb = kShortBlock / d;
  for (int64_t r0 = 0; r0 < rows; r0 += rb) {
    const int64_t nr = std::min(rb, rows - r0), off = r0 * d;
    for (int64_t i = 0; i < nr * d; ++i) t[i] = C(y[off + i]);
    exp_inplace(t, nr * d);
    for (int64_t r = 0; r < nr; ++r) {
      const int64_t o = off + r * d;
      C s = 0;
      for (int64_t k = 0; k < d; ++k) s += C(g[o + k]);
      for (int64_t k = 0; k < d; ++k) gx[o + k] = T(C(g[o + k]) - t[r * d + k] * s);
    }
  }
}

template <class T, class C = compute_t<T>>
DESCENT_FORCE_INLINE void backward_cols(const T* y, const T* g, T* gx, const Layout& l, int64_t j0,
                                        int64_t nj, bool log) {
  C s[kCols], t[kCols];
  for (int64_t j = 0; j < nj; ++j) s[j] = 0;
  for (int64_t d = 0; d < l.d; ++d) {
    const int64_t off = d * l.inner + j0;
    if (log) {
      for (int64_t j = 0; j < nj; ++j) s[j] += C(g[off + j]);
    } else {
      for (int64_t j = 0; j < nj; ++j) s[j] += C(g[off + j]) * C(y[off + j]);
    }
  }
  for (int64_t d = 0; d < l.d; ++d) {
    const int64_t off = d * l.inner + j0;
    if (log) {
      for (int64_t j = 0; j < nj; ++j) t[j] = C(y[off + j]);
      exp_inplace(t, nj);
      for (int64_t j = 0; j < nj; ++j) gx[off + j] = T(C(g[off + j]) - t[j] * s[j]);
    } else {
      for (int64_t j = 0; j < nj; ++j) gx[off + j] = T(C(y[off + j]) * (C(g[off + j]) - s[j]));
    }
  }
}

template <class T>
DESCENT_ISA_CLONES void backward_range(const T* y, const T* g, T* gx, Layout l, bool log, int64_t b,
                                       int64_t e) {
  if (l.inner == 1 && l.d < kShortRow && log) {
    const int64_t off = b * l.d;
    log_backward_short_rows<T>(y + off, g + off, gx + off, e - b, l.d);
  } else if (l.inner == 1) {
    auto scratch = scratch_for<T>(log ? l.d : 0);
    for (int64_t o = b; o < e; ++o) {
      const int64_t off = o * l.d;
      backward_row<T>(y + off, g + off, gx + off, l.d, log, scratch.data());
    }
  } else {
    const int64_t nb = (l.inner + kCols - 1) / kCols;
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / nb, j0 = (t % nb) * kCols, off = o * l.d * l.inner;
      backward_cols<T>(y + off, g + off, gx + off, l, j0, std::min(kCols, l.inner - j0), log);
    }
  }
}

// Work items: rows, or (slab, column block) pairs.
int64_t work_items(const Layout& l) {
  return l.inner == 1 ? l.outer : l.outer * ((l.inner + kCols - 1) / kCols);
}

// Calls f(b, e) on contiguous ranges of [0, items) split among the OpenMP threads once
// the tensor is large enough. Each item is computed on its own, so results do not
// depend on the split.
template <class F>
void parallel_ranges(int64_t items, int64_t numel, F&& f) {
  if (numel < kParallelThreshold || items < 2 || omp_get_max_threads() == 1) {
    f(int64_t(0), items);
    return;
  }
#pragma omp parallel
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = (items + nt - 1) / nt;
    const int64_t b = std::min(items, t * chunk), e = std::min(items, b + chunk);
    if (b < e) f(b, e);
  }
}

}  // namespace

void CpuBackend::softmax(const SoftmaxArgs& a) {
  const std::string_view op = a.log ? "log_softmax" : "softmax";
  const int dim = check_softmax(a);
  if (a.x.numel() == 0) return;
  check(a.out.is_contiguous(), op, "output must be contiguous");
  const Tensor x = contiguous_copy(*this, a.x);
  const Layout l = softmax_layout(x.shape(), dim);
  visit_floating(x.dtype(), op, [&]<class T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    T* yp = static_cast<T*>(a.out.raw_data());
    parallel_ranges(work_items(l), x.numel(),
                    [&](int64_t b, int64_t e) { forward_range<T>(xp, yp, l, a.log, b, e); });
  });
}

void CpuBackend::softmax_backward(const SoftmaxBackwardArgs& a) {
  const std::string_view op = a.log ? "log_softmax_backward" : "softmax_backward";
  const int dim = check_softmax_backward(a);
  if (a.y.numel() == 0) return;
  check(a.grad_in.is_contiguous(), op, "grad_in must be contiguous");
  const Tensor y = contiguous_copy(*this, a.y);
  const Tensor g = contiguous_copy(*this, a.grad);
  const Layout l = softmax_layout(y.shape(), dim);
  visit_floating(y.dtype(), op, [&]<class T>() {
    const T* yp = static_cast<const T*>(y.raw_data());
    const T* gp = static_cast<const T*>(g.raw_data());
    T* gxp = static_cast<T*>(a.grad_in.raw_data());
    parallel_ranges(work_items(l), y.numel(),
                    [&](int64_t b, int64_t e) { backward_range<T>(yp, gp, gxp, l, a.log, b, e); });
  });
}

}  // namespace descent::cpu
