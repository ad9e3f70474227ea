#pragma once
// Which dtypes each elementwise and reduction op is defined for: the one table that
// ops/ (to reject a call before any kernel runs) and both backends (CPU and CUDA,
// host and device code) read, so that they agree by construction. Tensor- and
// fmt-free like op_kinds.h, so CUDA device code can include it; the host-side check
// that throws is check_supported (backends/slot_helpers.h). Every switch lists every
// op: a new op does not compile (-Werror=switch) until its row is written here.
#include <descent/backends/op_kinds.h>

#include <cstdint>
#include <string_view>

namespace descent {

// The dtype families the table distinguishes: f32/f64/f16/bf16, i32/i64, and bool.
enum class DTypeKind : uint8_t { Floating, Integral, Bool };

// The dtypes an op accepts, from widest to narrowest.
enum class OpDomain : uint8_t {
  Any,       // every dtype
  Numeric,   // floating and integer dtypes, not bool
  Floating,  // floating dtypes only
};

constexpr OpDomain op_domain(UnaryOp op) {
  switch (op) {
    // Defined on bool too: the identity on {0, 1}, or a test.
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Square:
    case UnaryOp::Relu:
    case UnaryOp::IsFinite:
    case UnaryOp::LogicalNot: return OpDomain::Any;
    case UnaryOp::Neg:
    case UnaryOp::Clamp:
    case UnaryOp::Floor:  // the identity on integers
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc: return OpDomain::Numeric;
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
    case UnaryOp::Erfc: return OpDomain::Floating;
  }
  return OpDomain::Floating;
}

constexpr OpDomain op_domain(BinaryOp op) {
  switch (op) {
    // On bool: add/maximum/logical_or are `or`, mul/minimum/logical_and are `and`.
    case BinaryOp::Add:
    case BinaryOp::Mul:
    case BinaryOp::Minimum:
    case BinaryOp::Maximum:
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::LogicalAnd:
    case BinaryOp::LogicalOr: return OpDomain::Any;
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
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: return OpDomain::Numeric;
    case BinaryOp::Atan2:
    case BinaryOp::Hypot: return OpDomain::Floating;
  }
  return OpDomain::Floating;
}

constexpr OpDomain op_domain(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return OpDomain::Numeric;  // ops/ sums bools as i64
    case ReduceOp::Max:
    case ReduceOp::Min:
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin:
    case ReduceOp::All:
    case ReduceOp::Any: return OpDomain::Any;
  }
  return OpDomain::Floating;
}

constexpr bool domain_contains(OpDomain d, DTypeKind k) {
  switch (d) {
    case OpDomain::Any: return true;
    case OpDomain::Numeric: return k != DTypeKind::Bool;
    case OpDomain::Floating: return k == DTypeKind::Floating;
  }
  return false;
}

// What an op expects, for error messages.
constexpr std::string_view domain_name(OpDomain d) {
  switch (d) {
    case OpDomain::Any: return "any dtype";
    case OpDomain::Numeric: return "a floating or integer dtype (not bool)";
    case OpDomain::Floating: return "a floating dtype (f32, f64, f16, bf16)";
  }
  return "";
}

constexpr bool supports(UnaryOp op, DTypeKind k) { return domain_contains(op_domain(op), k); }
constexpr bool supports(BinaryOp op, DTypeKind k) { return domain_contains(op_domain(op), k); }
constexpr bool supports(ReduceOp op, DTypeKind k) { return domain_contains(op_domain(op), k); }

}  // namespace descent
