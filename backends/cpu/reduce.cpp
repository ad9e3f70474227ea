// Reductions. Every case is brought to the form (outer, R, inner) over contiguous
// memory: reduce R, keep outer × inner. Sums are computed in fixed-size blocks whose
// partial results are combined in order, so results do not depend on thread count.
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/loops.h"

namespace descent::cpu {

namespace {

constexpr int64_t kBlock = 8192;

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double,
                                 std::conditional_t<std::is_integral_v<T>, int64_t, float>>;

struct Layout {
  int64_t outer = 1, r = 1, inner = 1;
};

// Is the tensor contiguous and are the reduced dims one block? Then no copy is needed.
bool block_layout(const Tensor& x, uint32_t dims, Layout& l) {
  if (!x.is_contiguous()) return false;
  int first = -1, last = -1;
  for (int d = 0; d < x.dim(); ++d) {
    if (!(dims >> d & 1u) || x.shape()[d] == 1) continue;
    if (first < 0) first = d;
    last = d;
  }
  if (first < 0) {  // only size-1 dims reduce
    l = {x.numel(), 1, 1};
    return true;
  }
  for (int d = first; d <= last; ++d) {
    if (!(dims >> d & 1u) && x.shape()[d] != 1) return false;
  }
  l = {};
  for (int d = 0; d < first; ++d) l.outer *= x.shape()[d];
  for (int d = first; d <= last; ++d) l.r *= x.shape()[d];
  for (int d = last + 1; d < x.dim(); ++d) l.inner *= x.shape()[d];
  return true;
}

template <class T, class A>
A sum_row(const T* p, int64_t n) {
  A acc = 0;
  if constexpr (std::is_same_v<T, A>) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += p[i];
  } else {
    for (int64_t i = 0; i < n; ++i) acc += A(compute_t<T>(p[i]));
  }
  return acc;
}

template <class T>
void sum_kernel(const T* x, T* out, const Layout& l) {
  using A = acc_t<T>;
  if (l.inner == 1 && l.outer == 1) {
    // One long row: fixed blocks, partials in order.
    const int64_t nb = (l.r + kBlock - 1) / kBlock;
    std::vector<A> part(size_t(std::max<int64_t>(nb, 1)), A(0));
#pragma omp parallel for if (l.r >= kParallelThreshold)
    for (int64_t b = 0; b < nb; ++b) {
      part[b] = sum_row<T, A>(x + b * kBlock, std::min(kBlock, l.r - b * kBlock));
    }
    A acc = 0;
    for (A v : part) acc += v;
    out[0] = T(acc);
    return;
  }
  if (l.inner == 1) {
#pragma omp parallel for if (l.outer * l.r >= kParallelThreshold)
    for (int64_t o = 0; o < l.outer; ++o) out[o] = T(sum_row<T, A>(x + o * l.r, l.r));
    return;
  }
  // Column sums: accumulate rows of length `inner` (vectorizes over j).
#pragma omp parallel for if (l.outer * l.r * l.inner >= kParallelThreshold && l.outer > 1)
  for (int64_t o = 0; o < l.outer; ++o) {
    std::vector<A> acc(size_t(l.inner), A(0));
    const T* base = x + o * l.r * l.inner;
    for (int64_t r = 0; r < l.r; ++r) {
      const T* row = base + r * l.inner;
      for (int64_t j = 0; j < l.inner; ++j) acc[j] += A(compute_t<T>(row[j]));
    }
    for (int64_t j = 0; j < l.inner; ++j) out[o * l.inner + j] = T(acc[j]);
  }
}

// Max/Min/ArgMax/ArgMin/All/Any: a comparison scan; NaN wins for max/min like PyTorch.
template <class T, class Out, class Init, class Step, class Fin>
void scan_kernel(const T* x, Out* out, const Layout& l, Init init, Step step, Fin fin) {
#pragma omp parallel for if (l.outer * l.r * l.inner >= kParallelThreshold)
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t j = 0; j < l.inner; ++j) {
      auto state = init();
      const T* p = x + o * l.r * l.inner + j;
      for (int64_t r = 0; r < l.r; ++r) step(state, compute_t<T>(p[r * l.inner]), r);
      out[o * l.inner + j] = fin(state);
    }
  }
}

template <class C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  return false;
}

}  // namespace

void CpuBackend::reduce(const ReduceArgs& a) {
  const Tensor& x0 = a.x;
  Layout l;
  Tensor x = x0;
  if (!block_layout(x0, a.dims, l)) {
    // Move the reduced dims last and copy: (outer, R, 1).
    Shape perm;
    for (int d = 0; d < x0.dim(); ++d) {
      if (!(a.dims >> d & 1u)) perm.push_back(d);
    }
    for (int d = 0; d < x0.dim(); ++d) {
      if (a.dims >> d & 1u) perm.push_back(d);
    }
    Shape ps, pst;
    for (int d : perm) {
      ps.push_back(x0.shape()[d]);
      pst.push_back(x0.strides()[d]);
    }
    Tensor view = make_view(x0, ps, pst, x0.offset());
    x = Tensor::empty(ps, {.dtype = x0.dtype()});
    copy(view, x);
    l = {};
    for (int d = 0; d < x0.dim(); ++d) (a.dims >> d & 1u ? l.r : l.outer) *= x0.shape()[d];
  }
  const Tensor& out = a.out;
  check(out.is_contiguous(), "reduce", "output must be contiguous");
  if (l.r == 0) {
    check(a.op == ReduceOp::Sum || a.op == ReduceOp::All || a.op == ReduceOp::Any, "reduce",
          "cannot take max/min/argmax/argmin over an empty dimension");
  }

  visit_dtype(x.dtype(), [&]<class T>() {
    using C = compute_t<T>;
    const T* xp = static_cast<const T*>(x.raw_data());
    switch (a.op) {
      case ReduceOp::Sum:
        if constexpr (std::is_same_v<T, bool>) {
          fail("sum", "sum of a bool tensor: convert it to an integer dtype first");
        } else {
          sum_kernel<T>(xp, out.data<T>(), l);
        }
        return;
      case ReduceOp::Max:
      case ReduceOp::Min: {
        const bool mx = a.op == ReduceOp::Max;
        scan_kernel(
            xp, out.data<T>(), l, [] { return std::pair<C, bool>{C(0), false}; },
            [mx](std::pair<C, bool>& s, C v, int64_t) {
              if (!s.second || is_nan(v) || (!is_nan(s.first) && (mx ? v > s.first : v < s.first))) {
                if (!(s.second && is_nan(s.first))) s.first = v;
                s.second = true;
              }
            },
            [](const std::pair<C, bool>& s) { return T(s.first); });
        return;
      }
      case ReduceOp::ArgMax:
      case ReduceOp::ArgMin: {
        const bool mx = a.op == ReduceOp::ArgMax;
        struct S {
          C v;
          int64_t i;
        };
        scan_kernel(
            xp, out.data<int64_t>(), l, [] { return S{C(0), -1}; },
            [mx](S& s, C v, int64_t r) {
              if (s.i < 0) {
                s = {v, r};
              } else if (is_nan(s.v)) {
                return;  // first NaN wins
              } else if (is_nan(v) || (mx ? v > s.v : v < s.v)) {
                s = {v, r};
              }
            },
            [](const S& s) { return s.i; });
        return;
      }
      case ReduceOp::All:
      case ReduceOp::Any: {
        const bool all = a.op == ReduceOp::All;
        scan_kernel(
            xp, out.data<bool>(), l, [all] { return all; },
            [all](bool& s, C v, int64_t) {
              const bool nz = v != C(0);
              s = all ? (s && nz) : (s || nz);
            },
            [](bool s) { return s; });
        return;
      }
    }
  });
}

}  // namespace descent::cpu
