// Reductions. The input is first brought to a dense view without size-1 dims: the
// tensor itself, its dims reordered by stride (transposed views need no copy), or, as a
// last resort, a copy with the reduced dims last. The reduced dims then form blocks;
// each block is one (outer, R, inner) pass over contiguous memory, innermost block
// first, so NCHW → C statistics cost one pass over the input plus a small one.
//   inner == 1: row reductions, vectorized over R;
//   inner >  1: column reductions, vectorized over chunks of inner (no transpose).
// Sums fold fixed-size blocks in a fixed order, so results do not depend on the
// thread count. NaN propagates through max/min, and argmax/argmin point at the first
// NaN, as in PyTorch.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

namespace descent::cpu {

namespace {

constexpr int64_t kBlock = 8192;    // row elements per ordered partial sum
constexpr int64_t kRowBlock = 256;  // rows a column partial sum covers before it is folded
constexpr int64_t kMaxCols = 1024;  // columns one task keeps on its stack (≤ 16 KiB)
constexpr int64_t kMinCols = 16;

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double,
                                 std::conditional_t<std::is_integral_v<T>, int64_t, float>>;

template <class C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  return false;
}

struct Layout {
  int64_t outer = 1, r = 1, inner = 1;
};

template <class F>
void parallel_for(int64_t n, bool par, F&& f) {
  if (!par || n < 2 || omp_get_max_threads() == 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) f(i);
}

bool parallel(const Layout& l) { return l.outer * l.r * l.inner >= kParallelThreshold; }

// Row reductions (inner == 1). row(p, n, first_index) → S; combine(a, b) with a the
// earlier part; write(o, S). Long rows split into ordered blocks when there are too
// few rows to share among threads; the split depends on the shape only.
template <class T, class S, class Row, class Combine, class Write>
void drive_rows(const T* x, const Layout& l, Row row, Combine combine, Write write) {
  if (l.r > kBlock && l.outer < 8) {
    const int64_t nb = (l.r + kBlock - 1) / kBlock;
    std::vector<S> part(size_t(l.outer * nb));
    parallel_for(l.outer * nb, parallel(l), [&](int64_t t) {
      const int64_t o = t / nb, b = t % nb;
      part[size_t(t)] =
          row(x + o * l.r + b * kBlock, std::min(kBlock, l.r - b * kBlock), b * kBlock);
    });
    for (int64_t o = 0; o < l.outer; ++o) {
      S s = part[size_t(o * nb)];
      for (int64_t b = 1; b < nb; ++b) s = combine(s, part[size_t(o * nb + b)]);
      write(o, s);
    }
    return;
  }
  parallel_for(l.outer, parallel(l), [&](int64_t o) { write(o, row(x + o * l.r, l.r, 0)); });
}

// Column reductions (inner > 1): task(o, j0, jn) reduces columns [j0, j0 + jn) of
// outer slice o. Chunks are as wide as possible (long contiguous row segments stream
// best) and shrink only until every thread has work; the result of a column does not
// depend on the chunking.
template <class Task>
void drive_cols(const Layout& l, Task task) {
  int64_t cols = kMaxCols;
  const int64_t want = parallel(l) ? int64_t(omp_get_max_threads()) : 1;
  while (cols > kMinCols && l.outer * ((l.inner + cols - 1) / cols) < want) cols /= 2;
  const int64_t nc = (l.inner + cols - 1) / cols;
  parallel_for(l.outer * nc, parallel(l), [&](int64_t t) {
    const int64_t o = t / nc, j0 = (t % nc) * cols;
    task(o, j0, std::min(cols, l.inner - j0));
  });
}

// ---- sum ------------------------------------------------------------------------

// kLanes independent accumulators: a single vector accumulator would wait on the
// latency of every add (or max); 16 lanes keep several vector chains in flight.
constexpr int kLanes = 16;

template <class T, class A>
A sum_span(const T* p, int64_t n) {
  A lane[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) lane[k] += A(compute_t<T>(p[i + k]));
  }
  A acc = 0;
  for (int k = 0; k < kLanes; ++k) acc += lane[k];
  for (; i < n; ++i) acc += A(compute_t<T>(p[i]));
  return acc;
}

// Blocks of kBlock keep the error of long f32 rows near pairwise summation's.
template <class T, class A>
A sum_row(const T* p, int64_t n) {
  if (n <= kBlock) return sum_span<T, A>(p, n);
  A acc = 0;
  for (int64_t b = 0; b < n; b += kBlock) acc += sum_span<T, A>(p + b, std::min(kBlock, n - b));
  return acc;
}

// O is the output type: T itself, or f32 for the intermediate stage of a 16-bit sum.
template <class T, class O>
void sum_kernel(const T* x, O* out, const Layout& l) {
  using A = acc_t<T>;
  if (l.inner == 1) {
    drive_rows<T, A>(
        x, l, [](const T* p, int64_t n, int64_t) { return sum_row<T, A>(p, n); },
        [](A a, A b) { return A(a + b); }, [out](int64_t o, A s) { out[o] = O(s); });
    return;
  }
  drive_cols(l, [&](int64_t o, int64_t j0, int64_t jn) {
    A acc[kMaxCols], part[kMaxCols];
    std::fill_n(acc, jn, A(0));
    const T* base = x + o * l.r * l.inner + j0;
    for (int64_t r0 = 0; r0 < l.r; r0 += kRowBlock) {
      std::fill_n(part, jn, A(0));
      const int64_t r1 = std::min(l.r, r0 + kRowBlock);
      for (int64_t r = r0; r < r1; ++r) {
        const T* row = base + r * l.inner;
        for (int64_t j = 0; j < jn; ++j) part[j] += A(compute_t<T>(row[j]));
      }
      for (int64_t j = 0; j < jn; ++j) acc[j] += part[j];
    }
    O* dst = out + o * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) dst[j] = O(acc[j]);
  });
}

// ---- max / min --------------------------------------------------------------------

template <class C, bool Max>
bool better(C v, C m) {
  return Max ? v > m : v < m;
}

// Max (or min) of a row; NaN if the row holds one. Four partial extremes per vector
// lane: one chain would wait on the latency of every compare (measured 1.7x faster).
template <class T, bool Max>
compute_t<T> minmax_row(const T* p, int64_t n) {
  using C = compute_t<T>;
  C m0 = C(p[0]), m1 = m0, m2 = m0, m3 = m0;
  int nan = 0;
  const int64_t n4 = n / 4 * 4;
  auto step = [](C& m, C v) { m = better<C, Max>(v, m) ? v : m; };
  if constexpr (Max) {
#pragma omp simd reduction(max : m0, m1, m2, m3) reduction(| : nan)
    for (int64_t i = 0; i < n4; i += 4) {
      const C a = C(p[i]), b = C(p[i + 1]), c = C(p[i + 2]), d = C(p[i + 3]);
      step(m0, a), step(m1, b), step(m2, c), step(m3, d);
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
    }
  } else {
#pragma omp simd reduction(min : m0, m1, m2, m3) reduction(| : nan)
    for (int64_t i = 0; i < n4; i += 4) {
      const C a = C(p[i]), b = C(p[i + 1]), c = C(p[i + 2]), d = C(p[i + 3]);
      step(m0, a), step(m1, b), step(m2, c), step(m3, d);
      nan |= (a != a) | (b != b) | (c != c) | (d != d);
    }
  }
  for (int64_t i = n4; i < n; ++i) {
    const C v = C(p[i]);
    step(m0, v);
    nan |= v != v;
  }
  step(m0, m1), step(m0, m2), step(m0, m3);
  if constexpr (std::is_floating_point_v<C>) {
    if (nan) return std::numeric_limits<C>::quiet_NaN();
  }
  return m0;
}

template <class T, bool Max>
void minmax_kernel(const T* x, T* out, const Layout& l) {
  using C = compute_t<T>;
  if (l.inner == 1) {
    drive_rows<T, C>(
        x, l, [](const T* p, int64_t n, int64_t) { return minmax_row<T, Max>(p, n); },
        [](C a, C b) { return is_nan(a) || !(is_nan(b) || better<C, Max>(b, a)) ? a : b; },
        [out](int64_t o, C s) { out[o] = T(s); });
    return;
  }
  drive_cols(l, [&](int64_t o, int64_t j0, int64_t jn) {
    C m[kMaxCols];
    const T* base = x + o * l.r * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) m[j] = C(base[j]);
    for (int64_t r = 1; r < l.r; ++r) {
      const T* row = base + r * l.inner;
      for (int64_t j = 0; j < jn; ++j) {
        const C v = C(row[j]);
        // v != v: a NaN replaces the running value and nothing replaces a NaN.
        m[j] = (better<C, Max>(v, m[j]) | (v != v)) ? v : m[j];
      }
    }
    T* dst = out + o * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) dst[j] = T(m[j]);
  });
}

// ---- argmax / argmin ----------------------------------------------------------------

template <class C>
struct Arg {
  C v;
  int64_t i;
};

template <class T, bool Max>
Arg<compute_t<T>> arg_row(const T* p, int64_t n, int64_t first) {
  using C = compute_t<T>;
  // Two vectorizable passes beat one branchy one: the extreme, then its first position.
  const C m = minmax_row<T, Max>(p, n);
  // The first x == m (or NaN when m is): find the chunk with a vector scan, then the
  // element. m came from the row, so the scan always stops inside it.
  const bool nan = is_nan(m);
  constexpr int64_t kChunk = 256;
  int64_t i = 0;
  for (; i < n; i += kChunk) {
    const int64_t len = std::min(kChunk, n - i);
    const T* q = p + i;
    int any = 0;
    if (nan) {
#pragma omp simd reduction(| : any)
      for (int64_t k = 0; k < len; ++k) any |= C(q[k]) != C(q[k]);
    } else {
#pragma omp simd reduction(| : any)
      for (int64_t k = 0; k < len; ++k) any |= C(q[k]) == m;
    }
    if (any) break;
  }
  while (i < n - 1 && !(nan ? is_nan(C(p[i])) : C(p[i]) == m)) ++i;
  return {m, first + i};
}

// Column argmax/argmin with indices of type I.
template <class T, bool Max, class I>
void arg_cols(const T* x, int64_t* out, const Layout& l) {
  using C = compute_t<T>;
  drive_cols(l, [&](int64_t o, int64_t j0, int64_t jn) {
    C m[kMaxCols];
    I idx[kMaxCols];
    const T* base = x + o * l.r * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) {
      m[j] = C(base[j]);
      idx[j] = 0;
    }
    for (int64_t r = 1; r < l.r; ++r) {
      const T* row = base + r * l.inner;
      const I ri = I(r);
      for (int64_t j = 0; j < jn; ++j) {
        const C v = C(row[j]);
        // Strictly better keeps the first extreme; the first NaN wins and stays.
        const bool take = better<C, Max>(v, m[j]) | ((v != v) & (m[j] == m[j]));
        m[j] = take ? v : m[j];
        idx[j] = take ? ri : idx[j];
      }
    }
    int64_t* dst = out + o * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) dst[j] = idx[j];
  });
}

template <class T, bool Max>
void arg_kernel(const T* x, int64_t* out, const Layout& l) {
  using C = compute_t<T>;
  using S = Arg<C>;
  if (l.inner == 1) {
    drive_rows<T, S>(
        x, l, [](const T* p, int64_t n, int64_t first) { return arg_row<T, Max>(p, n, first); },
        [](const S& a, const S& b) {
          return is_nan(a.v) || !(is_nan(b.v) || better<C, Max>(b.v, a.v)) ? a : b;
        },
        [out](int64_t o, const S& s) { out[o] = s.i; });
    return;
  }
  // Indices as wide as the values let the loop vectorize.
  using I = std::conditional_t<sizeof(C) <= 4, int32_t, int64_t>;
  if (l.r > std::numeric_limits<I>::max()) return arg_cols<T, Max, int64_t>(x, out, l);
  arg_cols<T, Max, I>(x, out, l);
}

// ---- all / any ----------------------------------------------------------------------

template <class T, bool All>
void logical_kernel(const T* x, bool* out, const Layout& l) {
  using C = compute_t<T>;
  if (l.inner == 1) {
    // Counts the elements that decide the answer: zeros for all, nonzeros for any.
    drive_rows<T, int>(
        x, l,
        [](const T* p, int64_t n, int64_t) {
          int hit = 0;
#pragma omp simd reduction(| : hit)
          for (int64_t i = 0; i < n; ++i) hit |= All ? C(p[i]) == C(0) : C(p[i]) != C(0);
          return hit;
        },
        [](int a, int b) { return a | b; },
        [out](int64_t o, int hit) { out[o] = All ? !hit : hit; });
    return;
  }
  drive_cols(l, [&](int64_t o, int64_t j0, int64_t jn) {
    uint8_t s[kMaxCols];
    std::fill_n(s, jn, uint8_t(All));
    const T* base = x + o * l.r * l.inner + j0;
    for (int64_t r = 0; r < l.r; ++r) {
      const T* row = base + r * l.inner;
      for (int64_t j = 0; j < jn; ++j) {
        const bool nz = C(row[j]) != C(0);
        s[j] = All ? (s[j] & nz) : (s[j] | nz);
      }
    }
    bool* dst = out + o * l.inner + j0;
    for (int64_t j = 0; j < jn; ++j) dst[j] = s[j] != 0;
  });
}

// ---- planning -------------------------------------------------------------------------

// A contiguous tensor without size-1 dims and the dims of it that reduce.
struct Dense {
  Tensor v;
  uint32_t mask = 0;
  int orig[kMaxDims] = {};    // x's dim for each dim of v
  bool kept_in_order = true;  // v's kept dims are in x's order: out's memory order
};

// Views x as dense memory with its dims ordered by stride, if it is dense. Argmax
// indices count in x's order, so for them the reduced dims must not move.
bool dense_view(const Tensor& x, uint32_t dims, bool fixed_reduced_order, Dense& d) {
  int idx[kMaxDims];
  int n = 0;
  for (int k = 0; k < x.dim(); ++k) {
    if (x.shape()[k] != 1) idx[n++] = k;
  }
  std::stable_sort(idx, idx + n, [&](int a, int b) { return x.strides()[a] > x.strides()[b]; });
  int64_t expected = 1;
  for (int i = n - 1; i >= 0; --i) {
    if (x.strides()[idx[i]] != expected) return false;
    expected *= x.shape()[idx[i]];
  }
  int last_kept = -1, last_reduced = -1;
  Shape shape, strides;
  d.mask = 0;
  d.kept_in_order = true;
  for (int i = 0; i < n; ++i) {
    const int k = idx[i];
    if (dims >> k & 1u) {
      if (fixed_reduced_order && k < last_reduced) return false;
      last_reduced = k;
      d.mask |= 1u << i;
    } else {
      if (k < last_kept) d.kept_in_order = false;
      last_kept = k;
    }
    d.orig[i] = k;
    shape.push_back(x.shape()[k]);
    strides.push_back(x.strides()[k]);
  }
  d.v = make_view(x, shape, strides, x.offset());
  return true;
}

// The innermost run of reduced dims [first, last] of a mask.
void innermost_block(uint32_t mask, int& first, int& last) {
  last = 31 - std::countl_zero(mask);
  first = last;
  while (first > 0 && (mask >> (first - 1) & 1u)) --first;
}

Layout layout_of(const Shape& s, int first, int last) {
  Layout l;
  for (int k = 0; k < s.size(); ++k) (k < first ? l.outer : k <= last ? l.r : l.inner) *= s[k];
  return l;
}

template <class T, class O>
void run_sum(const Tensor& v, const Layout& l, const Tensor& out) {
  sum_kernel<T, O>(static_cast<const T*>(v.raw_data()), static_cast<O*>(out.raw_data()), l);
}

// One (outer, R, inner) pass from v into out (contiguous).
void run_pass(ReduceOp op, const Tensor& v, const Layout& l, const Tensor& out) {
  if (op == ReduceOp::Sum) {
    if (v.dtype() == DType::F32 && out.dtype() != DType::F32) {  // last stage of a 16-bit sum
      visit_floating(out.dtype(), "sum", [&]<class O>() { run_sum<float, O>(v, l, out); });
      return;
    }
    visit_dtype(v.dtype(), [&]<class T>() {
      if constexpr (std::is_same_v<T, bool>) {
        fail_unsupported(ReduceOp::Sum, DType::Bool);
      } else if constexpr (!std::is_same_v<T, compute_t<T>>) {
        if (out.dtype() == DType::F32) return run_sum<T, float>(v, l, out);
        run_sum<T, T>(v, l, out);
      } else {
        run_sum<T, T>(v, l, out);
      }
    });
    return;
  }
  visit_dtype(v.dtype(), [&]<class T0>() {
    // Bools are bytes holding 0 or 1: reduce them as such.
    using T = std::conditional_t<std::is_same_v<T0, bool>, uint8_t, T0>;
    const T* x = static_cast<const T*>(v.raw_data());
    void* o = out.raw_data();
    switch (op) {
      case ReduceOp::Sum: return;
      case ReduceOp::Max: return minmax_kernel<T, true>(x, static_cast<T*>(o), l);
      case ReduceOp::Min: return minmax_kernel<T, false>(x, static_cast<T*>(o), l);
      case ReduceOp::ArgMax: return arg_kernel<T, true>(x, static_cast<int64_t*>(o), l);
      case ReduceOp::ArgMin: return arg_kernel<T, false>(x, static_cast<int64_t*>(o), l);
      case ReduceOp::All: return logical_kernel<T, true>(x, static_cast<bool*>(o), l);
      case ReduceOp::Any: return logical_kernel<T, false>(x, static_cast<bool*>(o), l);
    }
  });
}

}  // namespace

void CpuBackend::reduce(const ReduceArgs& a) {
  const Tensor& x = a.x;
  const Tensor& out = a.out;
  check_supported(a.op, x.dtype());
  const bool is_arg = a.op == ReduceOp::ArgMax || a.op == ReduceOp::ArgMin;
  const uint32_t dims = check_reduce(a);
  if (x.numel() == 0) {
    if (empty_reduce_writes_identity(a, dims)) fill(out, a.op == ReduceOp::All ? 1.0 : 0.0);
    return;
  }

  Dense d;
  bool ok = dense_view(x, dims, is_arg, d);
  if (ok && is_arg && d.mask != 0) {  // argmax takes one block
    int first, last;
    innermost_block(d.mask, first, last);
    ok = d.mask == ((2u << last) - (1u << first));
  }
  if (!ok) {
    // Copy with the kept dims first and the reduced dims last, both in x's order.
    Shape ps, pst;
    int n = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (int k = 0; k < x.dim(); ++k) {
        if (x.shape()[k] == 1 || bool(dims >> k & 1u) != bool(pass)) continue;
        d.orig[n++] = k;
        ps.push_back(x.shape()[k]);
        pst.push_back(x.strides()[k]);
      }
    }
    d.v = Tensor::empty(ps, {.dtype = x.dtype()});
    copy(make_view(x, ps, pst, x.offset()), d.v);
    d.mask = 0;
    for (int k = 0; k < n; ++k) {
      if (dims >> d.orig[k] & 1u) d.mask |= 1u << k;
    }
    d.kept_in_order = true;
  }

  Tensor v = d.v;
  uint32_t mask = d.mask;
  int orig[kMaxDims];
  std::copy(d.orig, d.orig + kMaxDims, orig);
  if (mask == 0) {  // only size-1 dims reduce: one pass with R = 1
    if (d.kept_in_order) return run_pass(a.op, v, {v.numel(), 1, 1}, out);
    Tensor t = Tensor::empty(v.shape(), {.dtype = out.dtype()});
    run_pass(a.op, v, {v.numel(), 1, 1}, t);
    v = t;
  }
  // Reduce the innermost block of reduced dims until one remains; 16-bit sums keep
  // their partial results in f32.
  while (mask != 0) {
    int first, last;
    innermost_block(mask, first, last);
    const Layout l = layout_of(v.shape(), first, last);
    const uint32_t block = (2u << last) - (1u << first);
    Shape rest;
    int rest_orig[kMaxDims];
    for (int k = 0; k < v.dim(); ++k) {
      if (block >> k & 1u) continue;
      rest_orig[rest.size()] = orig[k];
      rest.push_back(v.shape()[k]);
    }
    const bool final_pass = mask == block;
    if (final_pass && d.kept_in_order) {
      run_pass(a.op, v, l, out);
      return;
    }
    DType dt = final_pass ? out.dtype() : v.dtype();
    if (a.op == ReduceOp::Sum && !final_pass && (dt == DType::F16 || dt == DType::BF16)) {
      dt = DType::F32;
    }
    if (a.op == ReduceOp::All || a.op == ReduceOp::Any) dt = DType::Bool;
    Tensor t = Tensor::empty(rest, {.dtype = dt});
    run_pass(a.op, v, l, t);
    v = t;
    std::copy(rest_orig, rest_orig + rest.size(), orig);
    // Dims below the block keep their positions; those above it are kept dims.
    mask &= ~block;
  }
  // The kept dims came out in stride order: scatter them back into x's order.
  Strides st = Shape::filled(out.dim(), 0);
  for (int k = 0; k < v.dim(); ++k) st[orig[k]] = v.strides()[k];
  copy(make_view(v, out.shape(), st, 0), out);
}

}  // namespace descent::cpu
