// Elementwise kernels: unary, binary (broadcast views) and where. The element formulas
// are backends/elementwise_formulas.h's, shared with CUDA; values of 16-bit float types
// are computed in f32.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/elementwise_formulas.h>
#include <descent/backends/slot_helpers.h>

#include <atomic>
#include <utility>

namespace descent::cpu {

namespace {

// out = f(x) with a contiguous fast path the compiler can vectorize.
template <class In, class Out, class F>
void unary_loop(const Tensor& x, const Tensor& out, F f) {
  for_each<2>(out.shape(), {&out, &x}, [&f](auto p, auto s, int64_t n) {
    if (s[0] == sizeof(Out) && s[1] == sizeof(In)) {
      Out* o = reinterpret_cast<Out*>(p[0]);
      const In* a = reinterpret_cast<const In*>(p[1]);
      for (int64_t i = 0; i < n; ++i) o[i] = Out(f(compute_t<In>(a[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        at<Out>(p[0], i, s[0]) = Out(f(compute_t<In>(at<In>(p[1], i, s[1]))));
      }
    }
  });
}

template <class In, class Out, class F>
void binary_loop(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  using C = compute_t<In>;
  for_each<3>(out.shape(), {&out, &a, &b}, [&f](auto p, auto s, int64_t n) {
    Out* o = reinterpret_cast<Out*>(p[0]);
    const In* x = reinterpret_cast<const In*>(p[1]);
    const In* y = reinterpret_cast<const In*>(p[2]);
    if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == sizeof(In)) {
      for (int64_t i = 0; i < n; ++i) o[i] = Out(f(C(x[i]), C(y[i])));
    } else if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == 0) {
      const C yv = C(y[0]);
      for (int64_t i = 0; i < n; ++i) o[i] = Out(f(C(x[i]), yv));
    } else if (s[0] == sizeof(Out) && s[1] == 0 && s[2] == sizeof(In)) {
      const C xv = C(x[0]);
      for (int64_t i = 0; i < n; ++i) o[i] = Out(f(xv, C(y[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        at<Out>(p[0], i, s[0]) = Out(f(C(at<In>(p[1], i, s[1])), C(at<In>(p[2], i, s[2]))));
      }
    }
  });
}

// Calls f.template operator()<Op(k)>() for the k with Op(k) == op: the op becomes a
// compile-time constant, so elementwise_formulas.h's switch folds away and each op's
// loop vectorizes on its own.
template <class Op, size_t kCount, class F>
void with_constant_op(Op op, F&& f) {
  [&]<size_t... k>(std::index_sequence<k...>) {
    (void)((op == Op(k) ? (f.template operator()<Op(k)>(), true) : false) || ...);
  }
  (std::make_index_sequence<kCount>{});
}

// The flag binary_int raises (threads share it).
struct AtomicFlag {
  std::atomic<bool>* raised;
  void raise() const { raised->store(true, std::memory_order_relaxed); }
};

// The dtype family of a compute type (op_support.h's rows).
template <class C>
inline constexpr DTypeKind kind_of = std::is_same_v<C, bool>       ? DTypeKind::Bool
                                     : std::is_floating_point_v<C> ? DTypeKind::Floating
                                                                   : DTypeKind::Integral;

template <class T>
void unary_typed(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  using C = compute_t<T>;
  constexpr DTypeKind kind = kind_of<C>;
  // x ** 2 is the product (exact, and vectorizes).
  if (op == UnaryOp::PowScalar && p.alpha == 2) op = UnaryOp::Square;
  C a{}, b{};
  if constexpr (kind == DTypeKind::Floating) {
    a = C(p.alpha);
    b = C(p.beta);
  } else if constexpr (kind == DTypeKind::Integral) {
    if (op == UnaryOp::Clamp) integer_clamp_bounds(p.alpha, p.beta, a, b);
  }
  with_constant_op<UnaryOp, kNumUnaryOps>(op, [&]<UnaryOp kOp>() {
    if constexpr (supports(kOp, kind)) {  // no loop for the op/dtype pairs never called
      auto f = [a, b](C v) -> C {
        if constexpr (kind_of<C> == DTypeKind::Bool) {
          return unary_bool(kOp, v);
        } else if constexpr (kind_of<C> == DTypeKind::Floating) {
          return unary_float(kOp, v, a, b);
        } else {
          return unary_int(kOp, v, a, b);
        }
      };
      if constexpr (is_bool_result(kOp)) {
        unary_loop<T, bool>(x, out, [f](C v) { return f(v) != C(0); });
      } else {
        unary_loop<T, T>(x, out, f);
      }
    }
  });
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  using C = compute_t<T>;
  constexpr DTypeKind kind = kind_of<C>;
  std::atomic<bool> raised{false};
  const AtomicFlag flag{&raised};
  with_constant_op<BinaryOp, kNumBinaryOps>(op, [&]<BinaryOp kOp>() {
    if constexpr (supports(kOp, kind)) {
      auto f = [flag](C x, C y) -> C {
        if constexpr (kind_of<C> == DTypeKind::Bool) {
          return binary_bool(kOp, x, y);
        } else {
          return binary_numeric(kOp, x, y, flag);
        }
      };
      if constexpr (is_bool_result(kOp)) {
        binary_loop<T, bool>(a, b, out, [f](C x, C y) { return f(x, y) != C(0); });
      } else {
        binary_loop<T, T>(a, b, out, f);
      }
    }
  });
  if (raised) fail_integer_op(op);
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  check_supported(op, x.dtype());
  visit_dtype(x.dtype(), [&]<class T>() { unary_typed<T>(op, x, out, p); });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_supported(op, a.dtype());
  visit_dtype(a.dtype(), [&]<class T>() { binary_typed<T>(op, a, b, out); });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    for_each<4>(out.shape(), {&out, &cond, &a, &b}, [](auto p, auto s, int64_t n) {
      constexpr int64_t t = sizeof(T);
      T* o = reinterpret_cast<T*>(p[0]);
      const bool* c = reinterpret_cast<const bool*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      if (s[0] == t && s[1] == 1 && s[2] == t && s[3] == t) {
        for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
      } else if (s[0] == t && s[1] == 1 && s[2] == t && s[3] == 0) {  // where(c, x, scalar)
        const T yv = y[0];
        for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : yv;
      } else if (s[0] == t && s[1] == 1 && s[2] == 0 && s[3] == t) {  // where(c, scalar, y)
        const T xv = x[0];
        for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? xv : y[i];
      } else {
        for (int64_t i = 0; i < n; ++i) {
          at<T>(p[0], i, s[0]) =
              at<bool>(p[1], i, s[1]) ? at<T>(p[2], i, s[2]) : at<T>(p[3], i, s[3]);
        }
      }
    });
  });
}

}  // namespace descent::cpu
