#pragma once
// Launchers of the softmax kernels (softmax_kernels.cu), called by softmax.cpp. The
// tensors are contiguous and seen as (outer, d, inner) with the softmax dim in the
// middle; dt is F32, F64, F16 or BF16 (16-bit values compute in f32).
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// y = softmax(x) or log_softmax(x) along d.
cudaError_t launch_softmax(KDType dt, const void* x, void* y, int64_t outer, int64_t d,
                           int64_t inner, bool log, Launch l);

// softmax:     gx = y·(g − Σ g·y)
// log_softmax: gx = g − exp(y)·Σ g
cudaError_t launch_softmax_backward(KDType dt, const void* y, const void* g, void* gx,
                                    int64_t outer, int64_t d, int64_t inner, bool log, Launch l);

}  // namespace descent::cuda
