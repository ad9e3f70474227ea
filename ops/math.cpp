// Elementwise math functions and their gradients (ops/math.h). The smooth unary
// functions share one Function template: what differs is the derivative.
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/math.h>

#include <numbers>

namespace descent {

namespace {

// The input of a function defined on floats: integer and bool tensors become f32.
Tensor floating(const Tensor& x, std::string_view op) {
  ops::check_defined(x, op);
  return is_floating(x.dtype()) ? x : x.to(DType::F32);
}

// A smooth unary function: g · op'(x), where derivative<op> (below, one
// specialization per function) is written with differentiable ops.
template <UnaryOp kOp>
Tensor derivative(const Tensor& x);

template <UnaryOp kOp>
struct Smooth {
  static constexpr std::string_view name = op_name(kOp);
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(kOp, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g * derivative<kOp>(x)}; }
};

// 2/√π · exp(-x²), the derivative of erf.
Tensor erf_slope(const Tensor& x) { return (2.0 / std::sqrt(std::numbers::pi)) * exp(-square(x)); }

template <>
Tensor derivative<UnaryOp::Sin>(const Tensor& x) {
  return cos(x);
}
template <>
Tensor derivative<UnaryOp::Cos>(const Tensor& x) {
  return -sin(x);
}
template <>
Tensor derivative<UnaryOp::Tan>(const Tensor& x) {
  return 1.0 + square(tan(x));
}
template <>
Tensor derivative<UnaryOp::Asin>(const Tensor& x) {
  return rsqrt(1.0 - square(x));
}
template <>
Tensor derivative<UnaryOp::Acos>(const Tensor& x) {
  return -rsqrt(1.0 - square(x));
}
template <>
Tensor derivative<UnaryOp::Atan>(const Tensor& x) {
  return reciprocal(1.0 + square(x));
}
template <>
Tensor derivative<UnaryOp::Sinh>(const Tensor& x) {
  return cosh(x);
}
template <>
Tensor derivative<UnaryOp::Cosh>(const Tensor& x) {
  return sinh(x);
}
template <>
Tensor derivative<UnaryOp::Erf>(const Tensor& x) {
  return erf_slope(x);
}
template <>
Tensor derivative<UnaryOp::Erfc>(const Tensor& x) {
  return -erf_slope(x);
}

// A rounding function: piecewise constant, so its gradient is zero (PyTorch's choice).
template <UnaryOp kOp>
struct Step {
  static constexpr std::string_view name = op_name(kOp);
  Tensor forward(const Tensor& x) { return ops::unary(kOp, x); }
  std::vector<Tensor> backward(const Tensor& g) { return {zeros_like(g)}; }
};

template <UnaryOp kOp>
Tensor smooth(const Tensor& x) {
  return autograd::apply<Smooth<kOp>>(floating(x, op_name(kOp)));
}
template <UnaryOp kOp>
Tensor step(const Tensor& x) {
  ops::check_defined(x, op_name(kOp));
  return autograd::apply<Step<kOp>>(x);
}

// The dtype of a two-operand function defined on floats (atan2, hypot).
DType floating_result(const Tensor& a, const Tensor& b) {
  const DType dt = result_type(a, b);
  return is_floating(dt) ? dt : DType::F32;
}

struct Atan2 {
  static constexpr std::string_view name = "atan2";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(BinaryOp::Atan2, a_, b_, floating_result(a_, b_), name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor r2 = square(a) + square(b);
    return {g * b / r2, -g * a / r2};
  }
};

struct Hypot {
  static constexpr std::string_view name = "hypot";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(BinaryOp::Hypot, a_, b_, floating_result(a_, b_), name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor h = hypot(a, b);
    return {g * a / h, g * b / h};
  }
};

// fmod (quotient rounded by trunc) and remainder (by floor): d/da = 1,
// d/db = -rounded(a / b).
template <BinaryOp kOp>
struct Modulo {
  static constexpr std::string_view name = op_name(kOp);
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(kOp, a_, b_, result_type(a_, b_), name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gb;
    if (b.requires_grad()) {
      Tensor q = a / b;
      gb = -g * (kOp == BinaryOp::Fmod ? trunc(q) : floor(q));
    }
    return {g, gb};
  }
};

struct LogAddExp {
  static constexpr std::string_view name = "logaddexp";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    NoGradGuard no_grad;
    // max + log1p(exp(-|a - b|)); equal operands (±inf included, where a - b is NaN)
    // give a + log 2.
    Tensor d = where(a_ == b_, zeros_like(a_), a_ - b_);
    return maximum(a_, b_) + log1p(exp(-abs(d)));
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // d/da = exp(a) / (exp(a) + exp(b)) = sigmoid(a - b).
    Tensor wa = reciprocal(1.0 + exp(b - a));
    return {g * wa, g * (1.0 - wa)};
  }
};

}  // namespace

Tensor sin(const Tensor& x) { return smooth<UnaryOp::Sin>(x); }
Tensor cos(const Tensor& x) { return smooth<UnaryOp::Cos>(x); }
Tensor tan(const Tensor& x) { return smooth<UnaryOp::Tan>(x); }
Tensor asin(const Tensor& x) { return smooth<UnaryOp::Asin>(x); }
Tensor acos(const Tensor& x) { return smooth<UnaryOp::Acos>(x); }
Tensor atan(const Tensor& x) { return smooth<UnaryOp::Atan>(x); }
Tensor sinh(const Tensor& x) { return smooth<UnaryOp::Sinh>(x); }
Tensor cosh(const Tensor& x) { return smooth<UnaryOp::Cosh>(x); }
Tensor erf(const Tensor& x) { return smooth<UnaryOp::Erf>(x); }
Tensor erfc(const Tensor& x) { return smooth<UnaryOp::Erfc>(x); }

Tensor floor(const Tensor& x) { return step<UnaryOp::Floor>(x); }
Tensor ceil(const Tensor& x) { return step<UnaryOp::Ceil>(x); }
Tensor round(const Tensor& x) { return step<UnaryOp::Round>(x); }
Tensor trunc(const Tensor& x) { return step<UnaryOp::Trunc>(x); }
Tensor frac(const Tensor& x) {
  ops::check_defined(x, "frac");
  check(is_floating(x.dtype()), "frac", "expected a floating tensor, got {}", x.dtype());
  return x - trunc(x);
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "atan2");
  return autograd::apply<Atan2>(a, b);
}
Tensor hypot(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "hypot");
  return autograd::apply<Hypot>(a, b);
}
Tensor fmod(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "fmod");
  return autograd::apply<Modulo<BinaryOp::Fmod>>(a, b);
}
Tensor fmod(const Tensor& a, Scalar b) { return fmod(a, scalar_like(b, a)); }
Tensor remainder(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "remainder");
  return autograd::apply<Modulo<BinaryOp::Remainder>>(a, b);
}
Tensor remainder(const Tensor& a, Scalar b) { return remainder(a, scalar_like(b, a)); }
Tensor logaddexp(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "logaddexp");
  const DType dt = floating_result(a, b);
  return autograd::apply<LogAddExp>(a.to(dt), b.to(dt));
}
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight) {
  ops::check_operands(a, b, "lerp");
  ops::check_defined(weight, "lerp", "weight");
  check(is_floating(a.dtype()), "lerp", "expected floating tensors, got {}", a.dtype());
  return a + weight * (b - a);
}
Tensor lerp(const Tensor& a, const Tensor& b, double weight) {
  return lerp(a, b, scalar_like(weight, a));
}

}  // namespace descent
