#pragma once
// The element formulas of the unary and binary ops, written once for the CPU loops
// (backends/cpu/elementwise.cpp) and the CUDA kernels (cuda/elementwise_kernels.cu), so
// both devices compute the same values in the same order. Each takes the op at run
// time: the CUDA kernels switch on it (uniform across the grid, so no divergence) and
// the CPU passes a compile-time constant, which folds the switch away inside its
// vectorizable loops. Values are in the compute type (16-bit floats as f32); integers
// wrap like two's complement (the arithmetic runs in the unsigned type). Which dtypes
// reach which formula is op_support.h's table: the ops a formula rejects are listed
// (no `default`, so -Werror=switch flags a new op here), and their `break` is never taken.
#include <descent/backends/element_math.h>
#include <descent/backends/integer_math.h>
#include <descent/backends/op_kinds.h>

#include <limits>
#include <type_traits>

namespace descent {

// ---- unary ------------------------------------------------------------------------
template <class C>
DESCENT_HD_INLINE C unary_float(UnaryOp op, C v, C alpha, C beta) {
  switch (op) {
    case UnaryOp::Neg: return -v;
    case UnaryOp::Exp: return m_exp(v);
    case UnaryOp::Log: return m_log(v);
    case UnaryOp::Log1p: return m_log1p(v);
    case UnaryOp::Sqrt: return m_sqrt(v);
    case UnaryOp::Rsqrt: return C(1) / m_sqrt(v);
    case UnaryOp::Abs: return m_fabs(v);
    case UnaryOp::Sign: return C((v > C(0)) - (v < C(0)));
    case UnaryOp::Reciprocal: return C(1) / v;
    case UnaryOp::Square: return v * v;
    case UnaryOp::Relu: return v <= C(0) ? C(0) : v;  // NaN passes through, as PyTorch
    case UnaryOp::Sigmoid: return C(1) / (C(1) + m_exp(-v));
    case UnaryOp::Tanh: return m_tanh(v);
    case UnaryOp::Gelu: return C(0.5) * v * (C(1) + m_erf(v * C(0.7071067811865476)));
    case UnaryOp::GeluTanh: {
      const C k = C(0.7978845608028654);  // sqrt(2/pi)
      return C(0.5) * v * (C(1) + m_tanh(k * (v + mul_rn(C(0.044715) * v * v, v))));
    }
    case UnaryOp::Silu: return v / (C(1) + m_exp(-v));
    // alpha = beta (PyTorch's name), beta = threshold
    case UnaryOp::Softplus: return alpha * v > beta ? v : m_log1p(m_exp(alpha * v)) / alpha;
    case UnaryOp::LeakyRelu: return v > C(0) ? v : alpha * v;
    case UnaryOp::Elu: return v > C(0) ? v : alpha * m_expm1(v);
    case UnaryOp::PowScalar: return alpha == C(2) ? v * v : m_pow(v, alpha);
    case UnaryOp::Clamp: {
      if (v != v) return v;               // NaN stays NaN
      const C m = v < alpha ? alpha : v;  // std::max(v, alpha)
      return beta < m ? beta : m;         // std::min(m, beta)
    }
    case UnaryOp::IsFinite: return m_fabs(v) < std::numeric_limits<C>::infinity() ? C(1) : C(0);
    case UnaryOp::LogicalNot: return v == C(0) ? C(1) : C(0);
    case UnaryOp::Sin: return m_sin(v);
    case UnaryOp::Cos: return m_cos(v);
    case UnaryOp::Tan: return m_tan(v);
    case UnaryOp::Asin: return m_asin(v);
    case UnaryOp::Acos: return m_acos(v);
    case UnaryOp::Atan: return m_atan(v);
    case UnaryOp::Sinh: return m_sinh(v);
    case UnaryOp::Cosh: return m_cosh(v);
    case UnaryOp::Erf: return m_erf(v);
    case UnaryOp::Erfc: return m_erfc(v);
    case UnaryOp::Floor: return m_floor(v);
    case UnaryOp::Ceil: return m_ceil(v);
    case UnaryOp::Round: return m_rint(v);
    case UnaryOp::Trunc: return m_trunc(v);
  }
  return v;
}

// lo/hi: the clamp bounds already saturated to C's range (integer_clamp_bounds).
template <class C>
DESCENT_HD_INLINE C unary_int(UnaryOp op, C v, C lo, C hi) {
  using U = std::make_unsigned_t<C>;
  switch (op) {
    case UnaryOp::Neg: return C(U(0) - U(v));
    case UnaryOp::Abs: return v < 0 ? C(U(0) - U(v)) : v;
    case UnaryOp::Sign: return C((v > 0) - (v < 0));
    case UnaryOp::Square: return C(U(v) * U(v));
    case UnaryOp::Relu: return v > 0 ? v : C(0);
    case UnaryOp::Clamp: {
      const C m = v < lo ? lo : v;
      return hi < m ? hi : m;
    }
    case UnaryOp::IsFinite: return C(1);
    case UnaryOp::LogicalNot: return v == 0 ? C(1) : C(0);
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc: return v;  // integers are whole already
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
    case UnaryOp::PowScalar:
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Tan:
    case UnaryOp::Asin:
    case UnaryOp::Acos:
    case UnaryOp::Atan:
    case UnaryOp::Sinh:
    case UnaryOp::Cosh:
    case UnaryOp::Erf:
    case UnaryOp::Erfc: break;  // floating only
  }
  return C(0);
}

DESCENT_HD_INLINE bool unary_bool(UnaryOp op, bool v) {
  switch (op) {
    case UnaryOp::LogicalNot: return !v;
    case UnaryOp::IsFinite: return true;
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Square:
    case UnaryOp::Relu: return v;  // the identity on {0, 1}
    case UnaryOp::Neg:
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
    case UnaryOp::PowScalar:
    case UnaryOp::Clamp:
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Tan:
    case UnaryOp::Asin:
    case UnaryOp::Acos:
    case UnaryOp::Atan:
    case UnaryOp::Sinh:
    case UnaryOp::Cosh:
    case UnaryOp::Erf:
    case UnaryOp::Erfc:
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc: break;  // not for bool
  }
  return false;
}

// ---- binary -----------------------------------------------------------------------
template <class C>
DESCENT_HD_INLINE C binary_float(BinaryOp op, C x, C y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Pow: return m_pow(x, y);
    case BinaryOp::Minimum:
      if (x != x || y != y) return x + y;  // NaN propagates
      return y < x ? y : x;
    case BinaryOp::Maximum:
      if (x != x || y != y) return x + y;
      return x < y ? y : x;
    case BinaryOp::SigmoidBackward: return x * y * (C(1) - y);
    case BinaryOp::TanhBackward: return x * (C(1) - mul_rn(y, y));
    case BinaryOp::Atan2: return m_atan2(x, y);
    case BinaryOp::Hypot: return m_hypot(x, y);
    case BinaryOp::Fmod: return m_fmod(x, y);
    case BinaryOp::Remainder: {
      // Python's modulo: the sign of the divisor (PyTorch's formula).
      C r = m_fmod(x, y);
      if (r != C(0) && ((y < C(0)) != (r < C(0)))) r += y;
      return r;
    }
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::LogicalAnd:
    case BinaryOp::LogicalOr:
    case BinaryOp::ReluBackward: break;  // binary_numeric's
  }
  return x;
}

// `flag.raise()` reports an integer division by zero or a negative integer power (the
// host throws); the CPU passes an atomic flag, CUDA a device int.
template <class C, class Flag>
DESCENT_HD_INLINE C binary_int(BinaryOp op, C x, C y, const Flag& flag) {
  using U = std::make_unsigned_t<C>;
  switch (op) {
    case BinaryOp::Add: return C(U(x) + U(y));
    case BinaryOp::Sub: return C(U(x) - U(y));
    case BinaryOp::Mul: return C(U(x) * U(y));
    case BinaryOp::Div:
      if (y == 0) {  // truncating; lowest / -1 wraps
        flag.raise();
        return C(0);
      }
      return wrapping_div(x, y);
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: {
      if (y == 0) {
        flag.raise();
        return C(0);
      }
      if (y == C(-1)) return C(0);  // lowest % -1 would trap
      C r = C(x % y);               // the sign of x (C's %, torch.fmod)
      if (op == BinaryOp::Remainder && r != 0 && ((y < 0) != (r < 0))) r = C(U(r) + U(y));
      return r;
    }
    case BinaryOp::Pow:
      if (y < 0) {  // exact powers by squaring, wrapping
        flag.raise();
        return C(0);
      }
      return wrapping_pow(x, y);
    case BinaryOp::Minimum: return y < x ? y : x;
    case BinaryOp::Maximum: return x < y ? y : x;
    case BinaryOp::SigmoidBackward: return C(U(x) * U(y) * (U(1) - U(y)));
    case BinaryOp::TanhBackward: return C(U(x) * (U(1) - U(y) * U(y)));
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::LogicalAnd:
    case BinaryOp::LogicalOr:
    case BinaryOp::ReluBackward:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot: break;  // floating only, or binary_numeric's
  }
  return x;
}

// Floats and integers: the ops with one formula for both (comparisons, logic and
// relu's backward), then binary_float's or binary_int's. Comparisons give 1 or 0.
template <class C, class Flag>
DESCENT_HD_INLINE C binary_numeric(BinaryOp op, C x, C y, const Flag& flag) {
  switch (op) {
    case BinaryOp::Eq: return C(x == y);
    case BinaryOp::Ne: return C(x != y);
    case BinaryOp::Lt: return C(x < y);
    case BinaryOp::Le: return C(x <= y);
    case BinaryOp::Gt: return C(x > y);
    case BinaryOp::Ge: return C(x >= y);
    case BinaryOp::LogicalAnd: return C(x != C(0) && y != C(0));
    case BinaryOp::LogicalOr: return C(x != C(0) || y != C(0));
    case BinaryOp::ReluBackward: return y <= C(0) ? C(0) : x;
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Pow:
    case BinaryOp::Minimum:
    case BinaryOp::Maximum:
    case BinaryOp::SigmoidBackward:
    case BinaryOp::TanhBackward:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: break;  // the arithmetic below
  }
  if constexpr (std::is_floating_point_v<C>) {
    return binary_float(op, x, y);
  } else {
    return binary_int(op, x, y, flag);
  }
}

DESCENT_HD_INLINE bool binary_bool(BinaryOp op, bool x, bool y) {
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Maximum:
    case BinaryOp::LogicalOr: return x || y;
    case BinaryOp::Mul:
    case BinaryOp::Minimum:
    case BinaryOp::LogicalAnd: return x && y;
    case BinaryOp::Eq: return x == y;
    case BinaryOp::Ne: return x != y;
    case BinaryOp::Sub:
    case BinaryOp::Div:
    case BinaryOp::Pow:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::ReluBackward:
    case BinaryOp::SigmoidBackward:
    case BinaryOp::TanhBackward:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: break;  // not for bool
  }
  return false;
}

// True for the integer ops that can raise binary_int's flag.
constexpr bool raises_integer_error(BinaryOp op) {
  return op == BinaryOp::Div || op == BinaryOp::Pow || op == BinaryOp::Fmod ||
         op == BinaryOp::Remainder;
}

// The clamp bounds [alpha, beta] in an integer type: ±inf (clamp_min / clamp_max) and
// out-of-range bounds saturate (converting them directly is undefined behaviour), and
// fractional ones round inwards. Host code.
template <class C>
inline void integer_clamp_bounds(double alpha, double beta, C& lo, C& hi) {
  using L = std::numeric_limits<C>;
  lo = alpha <= double(L::lowest()) ? L::lowest() : C(::ceil(alpha));
  hi = beta >= double(L::max()) ? L::max() : C(::floor(beta));
}

}  // namespace descent
