#pragma once
// Launchers of the pooling and layer-norm kernels (norm_pool_kernels.cu), called by
// pool.cpp and layer_norm.cpp. Tensors are contiguous; dt is F32, F64, F16 or BF16 for
// pooling (16-bit values compute in f32) and F32 or F64 for layer norm.
#include <descent/backends/conv_geometry.h>
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

struct PoolPlanes {
  int64_t planes = 0, H = 0, W = 0, OH = 0, OW = 0;  // planes = N·C
};

// y (and, for Max, the i64 indices) from x: one thread per output element.
cudaError_t launch_pool2d(KDType dt, const void* x, void* y, int64_t* indices,
                          const Pool2dGeometry& g, PoolPlanes p, Launch l);
// grad_x from grad_y: one thread per input element gathers the outputs whose window
// holds it (no atomics, so results are the same every run).
cudaError_t launch_pool2d_backward(KDType dt, const void* grad_y, const int64_t* indices,
                                   void* grad_x, const Pool2dGeometry& g, PoolPlanes p, Launch l);

// Per row of x (rows, n): y = (x − mean)/√(var + eps)·w + b; writes mean and the biased
// var. w, b may be null.
cudaError_t launch_layer_norm(KDType dt, const void* x, const void* w, const void* b, void* y,
                              void* mean, void* var, int64_t rows, int64_t n, double eps, Launch l);
// gx per row; gw = Σ_rows dy·x̂ and gb = Σ_rows dy per column (either may be null).
cudaError_t launch_layer_norm_backward(KDType dt, const void* x, const void* gy, const void* w,
                                       const void* mean, const void* var, void* gx, void* gw,
                                       void* gb, int64_t rows, int64_t n, double eps, Launch l);

}  // namespace descent::cuda
