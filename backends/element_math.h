#pragma once
// Scalar math on the compute types (float, double) for the element formulas that the
// CPU loops and the CUDA kernels share (backends/elementwise_formulas.h, the optimizer
// rules, the random and softmax kernels): libm by its double names (m_exp(float) is
// expf) and the correctly rounded product, quotient and square root. Products and
// quotients that feed an addition go through *_rn: nvcc would otherwise contract
// `a + b * c` into one FMA, which rounds once where the CPU build (no -mfma) rounds
// twice. On the host *_rn are the plain operators.
#include <descent/core/host_device.h>
#include <math.h>

namespace descent {

// Qualified (::expf, ::exp): a descent function of the same name must not hide libm's.
#define DESCENT_MATH1(name, fname)                                 \
  DESCENT_HD_INLINE float m_##name(float v) { return ::fname(v); } \
  DESCENT_HD_INLINE double m_##name(double v) { return ::name(v); }
DESCENT_MATH1(exp, expf)
DESCENT_MATH1(expm1, expm1f)
DESCENT_MATH1(log, logf)
DESCENT_MATH1(log1p, log1pf)
DESCENT_MATH1(sqrt, sqrtf)
DESCENT_MATH1(fabs, fabsf)
DESCENT_MATH1(sin, sinf)
DESCENT_MATH1(cos, cosf)
DESCENT_MATH1(tan, tanf)
DESCENT_MATH1(asin, asinf)
DESCENT_MATH1(acos, acosf)
DESCENT_MATH1(atan, atanf)
DESCENT_MATH1(sinh, sinhf)
DESCENT_MATH1(cosh, coshf)
DESCENT_MATH1(tanh, tanhf)
DESCENT_MATH1(erf, erff)
DESCENT_MATH1(erfc, erfcf)
DESCENT_MATH1(floor, floorf)
DESCENT_MATH1(ceil, ceilf)
DESCENT_MATH1(trunc, truncf)
DESCENT_MATH1(rint, rintf)  // round half to even, as torch.round
#undef DESCENT_MATH1

#define DESCENT_MATH2(name, fname)                                             \
  DESCENT_HD_INLINE float m_##name(float x, float y) { return ::fname(x, y); } \
  DESCENT_HD_INLINE double m_##name(double x, double y) { return ::name(x, y); }
DESCENT_MATH2(pow, powf)
DESCENT_MATH2(atan2, atan2f)
DESCENT_MATH2(fmod, fmodf)
DESCENT_MATH2(hypot, hypotf)
#undef DESCENT_MATH2

#if defined(__CUDA_ARCH__)
DESCENT_HD_INLINE float mul_rn(float x, float y) { return __fmul_rn(x, y); }
DESCENT_HD_INLINE double mul_rn(double x, double y) { return __dmul_rn(x, y); }
DESCENT_HD_INLINE float div_rn(float x, float y) { return __fdiv_rn(x, y); }
DESCENT_HD_INLINE double div_rn(double x, double y) { return __ddiv_rn(x, y); }
DESCENT_HD_INLINE float sqrt_rn(float x) { return __fsqrt_rn(x); }
DESCENT_HD_INLINE double sqrt_rn(double x) { return __dsqrt_rn(x); }
#else
template <class C>
DESCENT_HD_INLINE C mul_rn(C x, C y) {
  return x * y;
}
template <class C>
DESCENT_HD_INLINE C div_rn(C x, C y) {
  return x / y;
}
template <class C>
DESCENT_HD_INLINE C sqrt_rn(C x) {
  return m_sqrt(x);
}
#endif

}  // namespace descent
