// Softmax and log-softmax kernels, forward and backward, along the middle dim of a
// contiguous (outer, d, inner) tensor. A "line" is the d values of one (outer, inner)
// position; a group of `lanes` threads (1, 32 or a 256-thread block) owns a line:
//   inner == 1 (rows): a warp or a block per row, so neighbouring lanes read
//     neighbouring values; one thread per row when rows are very short;
//   inner > 1 (columns): one thread per line, neighbouring threads reading
//     neighbouring columns, unless there are too few lines to fill the GPU.
// The formulas and their order are backends/cpu/softmax.cpp's: each line subtracts its
// max before exp, softmax multiplies by 1/Σ, log_softmax computes (x − m) − log Σ.
// Values compute in f32 (f32, f16, bf16) or f64. Group sums use a fixed butterfly, so
// results are the same every run.
#include <cuda_runtime.h>
#include <descent/backends/cuda/softmax_kernels.h>

#include <descent/backends/cuda/device_math.cuh>
#include <descent/backends/cuda/device_types.cuh>
#include <descent/backends/cuda/group_reduce.cuh>
#include <limits>

namespace descent::cuda {

namespace {

template <class T>
__global__ void softmax_kernel(const T* x, T* y, int64_t outer, int64_t d, int64_t inner, bool log,
                               int lanes) {
  using C = compute_t<T>;
  __shared__ C sh[kThreads / 32];
  const int lane = int(threadIdx.x) % lanes;
  DESCENT_GROUP_STRIDE(line, outer * inner, lanes) {
    const int64_t o = line / inner, j = line - o * inner;
    const T* xl = x + o * d * inner + j;
    T* yl = y + o * d * inner + j;
    C m = -std::numeric_limits<C>::infinity();
    for (int64_t k = lane; k < d; k += lanes) m = max_c(m, load(xl + k * inner));
    m = group_all<true>(m, lanes, sh);
    C s = 0;
    for (int64_t k = lane; k < d; k += lanes) s += m_exp(load(xl + k * inner) - m);
    s = group_all<false>(s, lanes, sh);
    if (log) {
      const C ls = m_log(s);
      for (int64_t k = lane; k < d; k += lanes) {
        yl[k * inner] = convert<T>((load(xl + k * inner) - m) - ls);
      }
    } else {
      const C inv = C(1) / s;
      for (int64_t k = lane; k < d; k += lanes) {
        yl[k * inner] = convert<T>(m_exp(load(xl + k * inner) - m) * inv);
      }
    }
  }
}

template <class T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, int64_t outer, int64_t d,
                                        int64_t inner, bool log, int lanes) {
  using C = compute_t<T>;
  __shared__ C sh[kThreads / 32];
  const int lane = int(threadIdx.x) % lanes;
  DESCENT_GROUP_STRIDE(line, outer * inner, lanes) {
    const int64_t o = line / inner, j = line - o * inner;
    const int64_t base = o * d * inner + j;
    const T *yl = y + base, *gl = g + base;
    T* gxl = gx + base;
    C s = 0;
    if (log) {
      for (int64_t k = lane; k < d; k += lanes) s += load(gl + k * inner);
    } else {
      for (int64_t k = lane; k < d; k += lanes) s += load(gl + k * inner) * load(yl + k * inner);
    }
    s = group_all<false>(s, lanes, sh);
    if (log) {
      for (int64_t k = lane; k < d; k += lanes) {
        const int64_t i = k * inner;
        gxl[i] = convert<T>(load(gl + i) - m_exp(load(yl + i)) * s);
      }
    } else {
      for (int64_t k = lane; k < d; k += lanes) {
        const int64_t i = k * inner;
        gxl[i] = convert<T>(load(yl + i) * (load(gl + i) - s));
      }
    }
  }
}

}  // namespace

cudaError_t launch_softmax(KDType dt, const void* x, void* y, int64_t outer, int64_t d,
                           int64_t inner, bool log, Launch l) {
  if (outer * d * inner == 0) return cudaSuccess;
  const int lanes = lanes_for(outer, d, inner);
  return visit_floating(dt, [&]<class T>() {
    softmax_kernel<T><<<blocks_for_groups(outer * inner, lanes), kThreads, 0, l.stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), outer, d, inner, log, lanes);
    return cudaGetLastError();
  });
}

cudaError_t launch_softmax_backward(KDType dt, const void* y, const void* g, void* gx,
                                    int64_t outer, int64_t d, int64_t inner, bool log, Launch l) {
  if (outer * d * inner == 0) return cudaSuccess;
  const int lanes = lanes_for(outer, d, inner);
  return visit_floating(dt, [&]<class T>() {
    softmax_backward_kernel<T><<<blocks_for_groups(outer * inner, lanes), kThreads, 0, l.stream>>>(
        static_cast<const T*>(y), static_cast<const T*>(g), static_cast<T*>(gx), outer, d, inner,
        log, lanes);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
