#pragma once
// Elementwise math beyond arithmetic: trigonometric and hyperbolic functions, the error
// function, rounding, and the two-operand functions of libm, with PyTorch's names,
// formulas and gradients. Integer and bool inputs of the smooth functions give f32 (as
// torch.sin(int_tensor)); rounding an integer tensor is the identity. Backwards are
// written with differentiable ops, so higher-order gradients work.
#include <descent/core/tensor.h>
#include <descent/ops/scalar.h>

namespace descent {

Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor erfc(const Tensor& x);

// Rounding: gradient zero (as PyTorch). round is half to even (round(2.5) == 2).
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);
Tensor trunc(const Tensor& x);
// x - trunc(x), the sign of x; gradient 1.
Tensor frac(const Tensor& x);

// atan2(a, b): the angle of the point (b, a), in (-π, π].
Tensor atan2(const Tensor& a, const Tensor& b);
// sqrt(a² + b²) without overflow or underflow in between.
Tensor hypot(const Tensor& a, const Tensor& b);
// a - trunc(a / b)·b, the sign of a (C's fmod, torch.fmod).
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, Scalar b);
// a - floor(a / b)·b, the sign of b (Python's %, torch.remainder).
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, Scalar b);
// log(exp(a) + exp(b)), without overflow.
Tensor logaddexp(const Tensor& a, const Tensor& b);
// a + weight·(b - a).
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight);
Tensor lerp(const Tensor& a, const Tensor& b, double weight);

}  // namespace descent
