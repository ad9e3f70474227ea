#pragma once
// Integer division and powers that wrap in two's complement instead of trapping or
// overflowing into UB, written once for backends/cpu/elementwise.cpp and the CUDA
// kernels (cuda/elementwise_kernels.cu), so both devices compute the same integers.
// fmt-free, and __host__ __device__ under nvcc.
#include <type_traits>

#if defined(__CUDACC__)
#define DESCENT_INT_MATH __host__ __device__ __forceinline__
#else
#define DESCENT_INT_MATH inline
#endif

namespace descent {

// x / y, truncating, for y != 0 (the callers report a zero divisor). lowest / -1 wraps
// to lowest, where the plain division would trap (SIGFPE on x86).
template <class C>
DESCENT_INT_MATH C wrapping_div(C x, C y) {
  using U = std::make_unsigned_t<C>;
  if (y == C(-1)) return C(U(0) - U(x));
  return C(x / y);
}

// x to the power y, for y >= 0 (the callers report negative exponents): exact powers by
// squaring, wrapping like torch.
template <class C>
DESCENT_INT_MATH C wrapping_pow(C x, C y) {
  using U = std::make_unsigned_t<C>;
  U r = 1, base = U(x);
  for (C e = y; e > 0; e >>= 1) {
    if (e & 1) r *= base;
    base *= base;
  }
  return C(r);
}

}  // namespace descent

#undef DESCENT_INT_MATH
