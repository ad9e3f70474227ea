// Elementwise kernels: unary, binary (broadcast views) and where. Values of 16-bit
// float types are computed in f32.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/integer_math.h>
#include <descent/backends/slot_helpers.h>

#include <atomic>
#include <cmath>
#include <limits>

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

template <class C>
C gelu_tanh(C x) {
  const C k = C(0.7978845608028654);  // sqrt(2/pi)
  return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
}

template <class T>
void unary_typed(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  using C = compute_t<T>;
  const C alpha = C(p.alpha), beta = C(p.beta);
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T, T>(x, out, [](C v) { return -v; });
    case UnaryOp::Exp: return unary_loop<T, T>(x, out, [](C v) { return std::exp(v); });
    case UnaryOp::Log: return unary_loop<T, T>(x, out, [](C v) { return std::log(v); });
    case UnaryOp::Log1p: return unary_loop<T, T>(x, out, [](C v) { return std::log1p(v); });
    case UnaryOp::Sqrt: return unary_loop<T, T>(x, out, [](C v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return unary_loop<T, T>(x, out, [](C v) { return C(1) / std::sqrt(v); });
    case UnaryOp::Abs: return unary_loop<T, T>(x, out, [](C v) { return std::abs(v); });
    case UnaryOp::Sign:
      return unary_loop<T, T>(x, out, [](C v) { return C((v > C(0)) - (v < C(0))); });
    case UnaryOp::Reciprocal: return unary_loop<T, T>(x, out, [](C v) { return C(1) / v; });
    case UnaryOp::Square: return unary_loop<T, T>(x, out, [](C v) { return v * v; });
    // NaN is not <= 0, so it passes through (PyTorch: relu(NaN) = NaN).
    case UnaryOp::Relu: return unary_loop<T, T>(x, out, [](C v) { return v <= C(0) ? C(0) : v; });
    case UnaryOp::Sigmoid:
      return unary_loop<T, T>(x, out, [](C v) { return C(1) / (C(1) + std::exp(-v)); });
    case UnaryOp::Tanh: return unary_loop<T, T>(x, out, [](C v) { return std::tanh(v); });
    case UnaryOp::Gelu:
      return unary_loop<T, T>(
          x, out, [](C v) { return C(0.5) * v * (C(1) + std::erf(v * C(0.7071067811865476))); });
    case UnaryOp::GeluTanh: return unary_loop<T, T>(x, out, [](C v) { return gelu_tanh(v); });
    case UnaryOp::Silu:
      return unary_loop<T, T>(x, out, [](C v) { return v / (C(1) + std::exp(-v)); });
    case UnaryOp::Softplus:
      // alpha = beta (PyTorch's name), beta = threshold
      return unary_loop<T, T>(x, out, [alpha, beta](C v) {
        return alpha * v > beta ? v : std::log1p(std::exp(alpha * v)) / alpha;
      });
    case UnaryOp::LeakyRelu:
      return unary_loop<T, T>(x, out, [alpha](C v) { return v > C(0) ? v : alpha * v; });
    case UnaryOp::Elu:
      return unary_loop<T, T>(x, out,
                              [alpha](C v) { return v > C(0) ? v : alpha * std::expm1(v); });
    case UnaryOp::PowScalar:
      if (alpha == C(2)) return unary_loop<T, T>(x, out, [](C v) { return v * v; });
      return unary_loop<T, T>(x, out, [alpha](C v) { return std::pow(v, alpha); });
    case UnaryOp::Clamp:
      return unary_loop<T, T>(x, out, [alpha, beta](C v) {
        return std::isnan(double(v)) ? v : std::min(std::max(v, alpha), beta);
      });
    case UnaryOp::IsFinite:
      return unary_loop<T, bool>(x, out, [](C v) { return std::isfinite(double(v)); });
    case UnaryOp::LogicalNot: return unary_loop<T, bool>(x, out, [](C v) { return v == C(0); });
  }
}

// Integer and bool tensors support the ops that make sense for them.
template <class T>
void unary_integral(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  using C = compute_t<T>;
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T, T>(x, out, [](C v) { return C(-v); });
    case UnaryOp::Abs: return unary_loop<T, T>(x, out, [](C v) { return v < 0 ? C(-v) : v; });
    case UnaryOp::Sign: return unary_loop<T, T>(x, out, [](C v) { return C((v > 0) - (v < 0)); });
    case UnaryOp::Square: return unary_loop<T, T>(x, out, [](C v) { return C(v * v); });
    case UnaryOp::Relu: return unary_loop<T, T>(x, out, [](C v) { return v > 0 ? v : C(0); });
    case UnaryOp::Clamp: {
      // ±inf (clamp_min / clamp_max) and out-of-range bounds saturate: converting them
      // to C directly is undefined behaviour.
      using L = std::numeric_limits<C>;
      const C lo = p.alpha <= double(L::lowest()) ? L::lowest() : C(std::ceil(p.alpha));
      const C hi = p.beta >= double(L::max()) ? L::max() : C(std::floor(p.beta));
      return unary_loop<T, T>(x, out, [lo, hi](C v) { return std::min(std::max(v, lo), hi); });
    }
    case UnaryOp::IsFinite: return unary_loop<T, bool>(x, out, [](C) { return true; });
    case UnaryOp::LogicalNot: return unary_loop<T, bool>(x, out, [](C v) { return v == C(0); });
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Log1p:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal:
    case UnaryOp::Sigmoid:
    case UnaryOp::Tanh:
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh:
    case UnaryOp::Silu:
    case UnaryOp::Softplus:
    case UnaryOp::LeakyRelu:
    case UnaryOp::Elu:
    case UnaryOp::PowScalar: fail_unsupported(op, x.dtype());  // floating only (op_support.h)
  }
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  using C = compute_t<T>;
  switch (op) {
    case BinaryOp::Add: return binary_loop<T, T>(a, b, out, [](C x, C y) { return x + y; });
    case BinaryOp::Sub: return binary_loop<T, T>(a, b, out, [](C x, C y) { return x - y; });
    case BinaryOp::Mul: return binary_loop<T, T>(a, b, out, [](C x, C y) { return x * y; });
    case BinaryOp::Div:
      if constexpr (std::is_integral_v<C>) {
        // Integer division truncates; division by zero is an error, not UB. The flag is
        // atomic (threads share it); lowest / -1 wraps instead of trapping (SIGFPE).
        std::atomic<bool> zero{false};
        binary_loop<T, T>(a, b, out, [&zero](C x, C y) {
          if (y == 0) {
            zero.store(true, std::memory_order_relaxed);
            return C(0);
          }
          return wrapping_div(x, y);
        });
        check(!zero, "div", "integer division by zero");
        return;
      } else {
        return binary_loop<T, T>(a, b, out, [](C x, C y) { return x / y; });
      }
    case BinaryOp::Pow:
      if constexpr (std::is_integral_v<C>) {
        // Exact powers by squaring (wrapping like torch); negative exponents are an error.
        std::atomic<bool> negative{false};
        binary_loop<T, T>(a, b, out, [&negative](C x, C y) {
          if (y < 0) {
            negative.store(true, std::memory_order_relaxed);
            return C(0);
          }
          return wrapping_pow(x, y);
        });
        check(!negative, "pow", "integers to negative integer powers are not allowed");
        return;
      } else {
        return binary_loop<T, T>(a, b, out, [](C x, C y) { return C(std::pow(x, y)); });
      }
    case BinaryOp::Minimum:
      return binary_loop<T, T>(a, b, out, [](C x, C y) {
        if constexpr (std::is_floating_point_v<C>) {
          if (std::isnan(x) || std::isnan(y)) return x + y;  // NaN propagates
        }
        return std::min(x, y);
      });
    case BinaryOp::Maximum:
      return binary_loop<T, T>(a, b, out, [](C x, C y) {
        if constexpr (std::is_floating_point_v<C>) {
          if (std::isnan(x) || std::isnan(y)) return x + y;
        }
        return std::max(x, y);
      });
    case BinaryOp::Eq: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x == y; });
    case BinaryOp::Ne: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x != y; });
    case BinaryOp::Lt: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x < y; });
    case BinaryOp::Le: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x <= y; });
    case BinaryOp::Gt: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x > y; });
    case BinaryOp::Ge: return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x >= y; });
    case BinaryOp::LogicalAnd:
      return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x != C(0) && y != C(0); });
    case BinaryOp::LogicalOr:
      return binary_loop<T, bool>(a, b, out, [](C x, C y) { return x != C(0) || y != C(0); });
    case BinaryOp::ReluBackward:
      return binary_loop<T, T>(a, b, out, [](C g, C x) { return x <= C(0) ? C(0) : g; });
    case BinaryOp::SigmoidBackward:
      return binary_loop<T, T>(a, b, out, [](C g, C y) { return C(g * y * (C(1) - y)); });
    case BinaryOp::TanhBackward:
      return binary_loop<T, T>(a, b, out, [](C g, C y) { return C(g * (C(1) - y * y)); });
  }
}

// Bool tensors: logic, and the ops that are the identity on {0, 1}.
void unary_bool(UnaryOp op, const Tensor& x, const Tensor& out) {
  switch (op) {
    case UnaryOp::LogicalNot: return unary_loop<bool, bool>(x, out, [](bool v) { return !v; });
    case UnaryOp::IsFinite: return unary_loop<bool, bool>(x, out, [](bool) { return true; });
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Square:
    case UnaryOp::Relu: return unary_loop<bool, bool>(x, out, [](bool v) { return v; });
    case UnaryOp::Neg:
    case UnaryOp::Clamp:
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Log1p:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal:
    case UnaryOp::Sigmoid:
    case UnaryOp::Tanh:
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh:
    case UnaryOp::Silu:
    case UnaryOp::Softplus:
    case UnaryOp::LeakyRelu:
    case UnaryOp::Elu:
    case UnaryOp::PowScalar: fail_unsupported(op, DType::Bool);  // not for bool (op_support.h)
  }
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  check_supported(op, x.dtype());
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unary_bool(op, x, out);
    } else if constexpr (std::is_floating_point_v<compute_t<T>>) {
      unary_typed<T>(op, x, out, p);
    } else {
      unary_integral<T>(op, x, out, p);
    }
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_supported(op, a.dtype());
  visit_dtype(a.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      // Bool arithmetic goes through i32-free logic: only logical/compare ops make sense.
      switch (op) {
        case BinaryOp::Add:
        case BinaryOp::Maximum:
        case BinaryOp::LogicalOr:
          return binary_loop<bool, bool>(a, b, out, [](bool x, bool y) { return x || y; });
        case BinaryOp::Mul:
        case BinaryOp::Minimum:
        case BinaryOp::LogicalAnd:
          return binary_loop<bool, bool>(a, b, out, [](bool x, bool y) { return x && y; });
        case BinaryOp::Eq:
          return binary_loop<bool, bool>(a, b, out, [](bool x, bool y) { return x == y; });
        case BinaryOp::Ne:
          return binary_loop<bool, bool>(a, b, out, [](bool x, bool y) { return x != y; });
        case BinaryOp::Sub:
        case BinaryOp::Div:
        case BinaryOp::Pow:
        case BinaryOp::Lt:
        case BinaryOp::Le:
        case BinaryOp::Gt:
        case BinaryOp::Ge:
        case BinaryOp::ReluBackward:
        case BinaryOp::SigmoidBackward:
        case BinaryOp::TanhBackward: fail_unsupported(op, DType::Bool);  // op_support.h
      }
    } else {
      binary_typed<T>(op, a, b, out);
    }
  });
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
