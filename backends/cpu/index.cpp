// Indexing kernels. All four slots reduce to two strided loops:
// - gather: out[c] = x[c with c[dim] := index[c]], walked over out's shape with a view
//   of x whose `dim` stride is 0, so loops.h supplies the base address of every run;
// - scatter_add: out[c with c[dim] := index[c]] += src[c], walked over the index's shape
//   minus `dim`, each thread owning whole columns along `dim`. Every output element then
//   receives its contributions from one thread in index order: no races, and results
//   do not depend on the thread count.
// index_select and index_add are the same loops with the 1-D index broadcast (stride 0)
// over the other dims. Indices are validated before anything is written. Inputs may be
// strided; the in-place outputs of index_add/scatter_add too (written through their
// strides, so they must not overlap themselves or src).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace descent::cpu {

namespace {

// Throws unless every index lies in [0, bound). Runs before any write, so a bad index
// leaves the output untouched.
void check_indices(const Tensor& index, int64_t bound, int dim, std::string_view op) {
  check(index.dtype() == DType::I64, op, "index must be i64, got {}", index.dtype());
  const int64_t n = index.numel();
  if (n == 0) return;
  Tensor c = index;
  if (!index.is_contiguous()) {
    c = Tensor::empty(index.shape(), {.dtype = DType::I64});
    cpu_backend().copy(index, c);
  }
  const int64_t* p = c.data<int64_t>();
  // x | (bound-1-x) has its top bit set exactly when x < 0 or x >= bound; OR-ing them
  // vectorizes, unlike a compare-and-branch.
  const uint64_t last = uint64_t(bound) - 1;
  uint64_t acc = 0;
#pragma omp parallel for simd reduction(| : acc) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) acc |= uint64_t(p[i]) | (last - uint64_t(p[i]));
  if (!(acc >> 63) && bound > 0) return;
  int64_t i = 0;
  while (i + 1 < n && p[i] >= 0 && p[i] < bound) ++i;
  fail(op, fmt::format("index {} is out of range for dim {} of size {} (valid range [0, {}))", p[i],
                       dim, bound, bound));
}

// out = x[... index ...] along dim; index has out's shape (possibly a broadcast view).
void gather_loop(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  const Tensor xw = index_window(x, out.shape(), dim, 0);
  const int64_t xs = x.strides()[dim] * int64_t(x.element_size());
  visit_dtype(x.dtype(), [&]<class T>() {
    for_each<3>(out.shape(), {&out, &index, &xw}, [xs](auto p, auto s, int64_t n) {
      if (s[1] == 0) {
        // One index for the whole run (index_select, embedding rows): a row copy.
        const char* src = p[2] + at<int64_t>(p[1], 0, 0) * xs;
        if (s[0] == sizeof(T) && s[2] == sizeof(T)) {
          std::memcpy(p[0], src, size_t(n) * sizeof(T));
        } else {
          for (int64_t i = 0; i < n; ++i) {
            at<T>(p[0], i, s[0]) = *reinterpret_cast<const T*>(src + i * s[2]);
          }
        }
        return;
      }
      if (s[0] == sizeof(T) && s[1] == sizeof(int64_t) && s[2] == 0 && xs % sizeof(T) == 0) {
        // Gathering along the run's own dim (e.g. picking one class per row).
        T* o = reinterpret_cast<T*>(p[0]);
        const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
        const T* xb = reinterpret_cast<const T*>(p[2]);
        const int64_t xe = xs / int64_t(sizeof(T));
        for (int64_t i = 0; i < n; ++i) o[i] = xb[ix[i] * xe];
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        const char* src = p[2] + i * s[2] + at<int64_t>(p[1], i, s[1]) * xs;
        at<T>(p[0], i, s[0]) = *reinterpret_cast<const T*>(src);
      }
    });
  });
}

template <class T>
inline void accumulate(T& dst, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    dst = dst || v;
  } else {
    dst = T(compute_t<T>(dst) + compute_t<T>(v));
  }
}

// out[... index ...] += src along dim, over index's shape. out may be strided.
void scatter_add_loop(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  const Shape& ishape = index.shape();
  const int64_t m = ishape[dim];
  if (ishape.numel() == 0) return;
  // Operands over the index's shape without `dim`; the loop over `dim` runs inside.
  Shape rest = ishape;
  rest.erase(dim);
  auto drop = [&](const Tensor& t) {
    Strides st = t.strides();
    st.erase(dim);
    return make_view(t, rest, st, t.offset());
  };
  const Tensor ow = drop(out), iw = drop(index), sw = drop(src);
  const int64_t os = out.strides()[dim] * int64_t(out.element_size());
  const int64_t is = index.strides()[dim] * int64_t(sizeof(int64_t));
  const int64_t ss = src.strides()[dim] * int64_t(src.element_size());
  const int64_t r = rest.numel();
  const LoopGeometry<3> g = make_geometry<3>(rest, {&ow, &iw, &sw});
  const std::array<char*, 3> base = {static_cast<char*>(ow.raw_data()),
                                     static_cast<char*>(iw.raw_data()),
                                     static_cast<char*>(sw.raw_data())};
  visit_dtype(out.dtype(), [&]<class T>() {
    // Element strides: along `dim` (captured) and along the run (s / element size).
    const int64_t oe = os / int64_t(sizeof(T)), ie = is / 8, se = ss / int64_t(sizeof(T));
    auto inner = [m, oe, ie, se](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
      const T* sp = reinterpret_cast<const T*>(p[2]);
      const int64_t ok = s[0] / int64_t(sizeof(T)), ik = s[1] / 8, sk = s[2] / int64_t(sizeof(T));
      if (ik == 0 && ok == 1 && sk == 1) {
        // One index per run (index_add, embedding backward): add whole rows.
        for (int64_t i = 0; i < m; ++i) {
          T* dst = o + ix[i * ie] * oe;
          const T* row = sp + i * se;
#pragma omp simd
          for (int64_t k = 0; k < n; ++k) accumulate<T>(dst[k], row[k]);
        }
        return;
      }
      // Either order adds each output's contributions in index order; pick the one
      // that walks src along its smaller stride.
      auto add = [&](int64_t i, int64_t k) {
        accumulate<T>(o[ix[i * ie + k * ik] * oe + k * ok], sp[i * se + k * sk]);
      };
      if (n == 1 || std::abs(sk) <= std::abs(se)) {
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t k = 0; k < n; ++k) add(i, k);
        }
      } else {
        for (int64_t k = 0; k < n; ++k) {
          for (int64_t i = 0; i < m; ++i) add(i, k);
        }
      }
    };
    if (r < 2 || r * m < kParallelThreshold || omp_get_max_threads() == 1) {
      run_range<3>(g, base, 0, r, inner);
      return;
    }
#pragma omp parallel
    {
      const int nt = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t chunk = (r + nt - 1) / nt;
      const int64_t b = std::min(r, t * chunk), e = std::min(r, b + chunk);
      run_range<3>(g, base, b, e, inner);
    }
  });
}

void check_cpu(const Tensor& t, std::string_view op) {
  check(t.device().is_cpu(), op, "expected CPU tensors, got one on {}", t.device());
}

}  // namespace

void CpuBackend::index_select(const IndexSelectArgs& a) {
  check_cpu(a.x, "index_select");
  const Shape want = check_index_select(a);
  check_indices(a.index, a.x.shape()[a.dim], a.dim, "index_select");
  gather_loop(a.x, a.dim, broadcast_index(a.index, want, a.dim), a.out);
}

void CpuBackend::gather(const GatherArgs& a) {
  check_cpu(a.x, "gather");
  check_gather(a);
  if (a.x.dim() == 0) {  // a scalar: the only valid index is 0
    check_indices(a.index, 1, 0, "gather");
    copy(a.x, a.out);
    return;
  }
  check_indices(a.index, a.x.shape()[a.dim], a.dim, "gather");
  gather_loop(a.x, a.dim, a.index, a.out);
}

void CpuBackend::index_add(const IndexAddArgs& a) {
  check_cpu(a.out, "index_add");
  const Shape want = check_index_add(a);
  check_indices(a.index, a.out.shape()[a.dim], a.dim, "index_add");
  scatter_add_loop(a.out, a.dim, broadcast_index(a.index, want, a.dim), a.src);
}

void CpuBackend::scatter_add(const ScatterAddArgs& a) {
  check_cpu(a.out, "scatter_add");
  check_scatter_add(a);
  if (a.out.dim() == 0) {  // scalars: out += src when the index is 0
    check_indices(a.index, 1, 0, "scatter_add");
    auto one = [](const Tensor& t) { return make_view(t, {1}, {1}, t.offset()); };
    scatter_add_loop(one(a.out), 0, one(a.index), one(a.src));
    return;
  }
  check_indices(a.index, a.out.shape()[a.dim], a.dim, "scatter_add");
  scatter_add_loop(a.out, a.dim, a.index,
                   index_window(a.src, a.index.shape(), a.dim, a.src.strides()[a.dim]));
}

}  // namespace descent::cpu
