#pragma once
// The closed sets of elementwise and reduction operations the backends implement
// (backend.h's unary/binary/reduce slots), with their names for error messages. Kept
// free of Tensor and fmt so that CUDA device code can include it.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace descent {

// ---- elementwise ---------------------------------------------------------------
enum class UnaryOp : uint8_t {
  Neg,
  Exp,
  Log,
  Log1p,
  Sqrt,
  Rsqrt,
  Abs,
  Sign,
  Reciprocal,
  Square,
  Relu,
  Sigmoid,
  Tanh,
  Gelu,      // exact: x·Φ(x)
  GeluTanh,  // tanh approximation
  Silu,
  Softplus,    // log(1 + exp(beta·x)) / beta, linear above `threshold`
  LeakyRelu,   // alpha = negative slope
  Elu,         // alpha
  PowScalar,   // x ** alpha
  Clamp,       // into [alpha, beta]
  IsFinite,    // out dtype Bool
  LogicalNot,  // out dtype Bool
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Erf,
  Erfc,
  Floor,
  Ceil,
  Round,  // half to even
  Trunc,
};

struct UnaryParams {
  double alpha = 0;
  double beta = 0;
};

enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Minimum,
  Maximum,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,  // out dtype Bool
  LogicalAnd,
  LogicalOr,  // out dtype Bool
  // Fused backward kernels: (a, b) = (grad, saved) → grad_in.
  ReluBackward,     // b = x: grad where x > 0
  SigmoidBackward,  // b = y: grad·y·(1-y)
  TanhBackward,     // b = y: grad·(1-y²)
  Atan2,            // atan2(a, b): the angle of the point (b, a)
  Hypot,
  Fmod,       // a - trunc(a / b)·b: the sign of a (C's fmod, torch.fmod)
  Remainder,  // a - floor(a / b)·b: the sign of b (Python's %, torch.remainder)
};

// Names for error messages.
constexpr std::string_view op_name(UnaryOp op) {
  constexpr std::string_view names[] = {
      "neg",        "exp",        "log",  "log1p",   "sqrt",  "rsqrt",    "abs",         "sign",
      "reciprocal", "square",     "relu", "sigmoid", "tanh",  "gelu",     "gelu_tanh",   "silu",
      "softplus",   "leaky_relu", "elu",  "pow",     "clamp", "isfinite", "logical_not", "sin",
      "cos",        "tan",        "asin", "acos",    "atan",  "sinh",     "cosh",        "erf",
      "erfc",       "floor",      "ceil", "round",   "trunc"};
  static_assert(std::size(names) == size_t(UnaryOp::Trunc) + 1);
  return names[int(op)];
}
constexpr std::string_view op_name(BinaryOp op) {
  constexpr std::string_view names[] = {"add",
                                        "sub",
                                        "mul",
                                        "div",
                                        "pow",
                                        "minimum",
                                        "maximum",
                                        "eq",
                                        "ne",
                                        "lt",
                                        "le",
                                        "gt",
                                        "ge",
                                        "logical_and",
                                        "logical_or",
                                        "relu_backward",
                                        "sigmoid_backward",
                                        "tanh_backward",
                                        "atan2",
                                        "hypot",
                                        "fmod",
                                        "remainder"};
  static_assert(std::size(names) == size_t(BinaryOp::Remainder) + 1);
  return names[int(op)];
}

// How many ops each enum has (the loops that turn an op into a compile-time constant).
inline constexpr size_t kNumUnaryOps = size_t(UnaryOp::Trunc) + 1;
inline constexpr size_t kNumBinaryOps = size_t(BinaryOp::Remainder) + 1;

// True for the unary ops whose result is Bool.
constexpr bool is_bool_result(UnaryOp op) {
  return op == UnaryOp::IsFinite || op == UnaryOp::LogicalNot;
}

// True for the binary ops whose result is Bool (comparisons and logic).
constexpr bool is_bool_result(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::LogicalAnd:
    case BinaryOp::LogicalOr: return true;
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Pow:
    case BinaryOp::Minimum:
    case BinaryOp::Maximum:
    case BinaryOp::ReluBackward:
    case BinaryOp::SigmoidBackward:
    case BinaryOp::TanhBackward:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: return false;
  }
  return false;
}

// ---- reductions ------------------------------------------------------------------
enum class ReduceOp : uint8_t { Sum, Max, Min, ArgMax, ArgMin, All, Any };

constexpr std::string_view op_name(ReduceOp op) {
  constexpr std::string_view names[] = {"sum", "max", "min", "argmax", "argmin", "all", "any"};
  static_assert(std::size(names) == size_t(ReduceOp::Any) + 1);
  return names[int(op)];
}

}  // namespace descent
