#pragma once
// Functions compiled for both the host and CUDA devices (the Philox generator, the
// optimizer rules of backends/optim_rules.h). DESCENT_HD marks them; DESCENT_HD_INLINE
// also forces inlining, for element functions that must vanish into the loop calling them.
#if defined(__CUDACC__)
#define DESCENT_HD __host__ __device__
#define DESCENT_HD_INLINE __host__ __device__ __forceinline__
#else
#define DESCENT_HD
#define DESCENT_HD_INLINE inline __attribute__((always_inline))
#endif
