#pragma once
// Device math on the compute types (float, double) shared by the .cu files: the libm
// functions by their double names (m_exp(float) is expf), and the correctly rounded
// product, quotient and square root. Products and quotients that feed an addition go
// through *_rn: nvcc would otherwise contract `a + b * c` into one FMA, which rounds
// once where the CPU build (no -mfma) rounds twice.
#include <cuda_runtime.h>

namespace descent::cuda {

// Qualified (::expf, ::exp): a descent function of the same name must not hide CUDA's.
#define DESCENT_MATH1(name, fname)                                          \
  __device__ __forceinline__ float m_##name(float v) { return ::fname(v); } \
  __device__ __forceinline__ double m_##name(double v) { return ::name(v); }
DESCENT_MATH1(exp, expf)
DESCENT_MATH1(log, logf)
DESCENT_MATH1(log1p, log1pf)
DESCENT_MATH1(sqrt, sqrtf)
DESCENT_MATH1(tanh, tanhf)
DESCENT_MATH1(erf, erff)
DESCENT_MATH1(expm1, expm1f)
DESCENT_MATH1(fabs, fabsf)
#undef DESCENT_MATH1
__device__ __forceinline__ float m_pow(float x, float y) { return ::powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return ::pow(x, y); }

__device__ __forceinline__ float mul_rn(float x, float y) { return __fmul_rn(x, y); }
__device__ __forceinline__ double mul_rn(double x, double y) { return __dmul_rn(x, y); }
__device__ __forceinline__ float div_rn(float x, float y) { return __fdiv_rn(x, y); }
__device__ __forceinline__ double div_rn(double x, double y) { return __ddiv_rn(x, y); }
__device__ __forceinline__ float sqrt_rn(float x) { return __fsqrt_rn(x); }
__device__ __forceinline__ double sqrt_rn(double x) { return __dsqrt_rn(x); }

}  // namespace descent::cuda
