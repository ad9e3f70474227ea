#pragma once
// Launchers of the Philox random fills (random_kernels.cu), called by random.cpp. The
// host reserves the counters (Generator::advance) and passes the first one, so the
// device draws exactly the numbers the CPU backend draws for the same state.
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// out[0, n) ~ U[lo, hi) of dtype dt (not Bool), from counters first, first + 1, ...:
// 4 values per counter for f32/f16/bf16, 2 for f64 and the integer types (which draw
// integers uniformly from [lo, hi)).
cudaError_t launch_uniform(void* out, KDType dt, int64_t n, uint64_t seed, uint64_t first,
                           double lo, double hi, Launch l);

// out[0, n) ~ N(mean, std²) of a floating dtype dt, 2 values (one Box–Muller pair) per
// counter.
cudaError_t launch_normal(void* out, KDType dt, int64_t n, uint64_t seed, uint64_t first,
                          double mean, double std, Launch l);

}  // namespace descent::cuda
