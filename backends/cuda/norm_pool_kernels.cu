// Pooling and layer-norm kernels. Pooling uses backends/conv_geometry.h's windows, the
// same arithmetic as the CPU loops (backends/cpu/pool.cpp); layer norm follows
// backends/cpu/layer_norm.cpp's reference formulas, a group of threads per row
// (group_reduce.cuh) and a thread per column for the parameter gradients.
#include <cuda_runtime.h>
#include <descent/backends/cuda/norm_pool_kernels.h>

#include <descent/backends/cuda/device_math.cuh>
#include <descent/backends/cuda/device_types.cuh>
#include <descent/backends/cuda/group_reduce.cuh>
#include <limits>

namespace descent::cuda {

namespace {

template <class T>
__global__ void pool_kernel(const T* x, T* y, int64_t* idx, Pool2dGeometry g, PoolPlanes p) {
  using C = compute_t<T>;
  DESCENT_GRID_STRIDE(out, p.planes * p.OH * p.OW) {
    const int64_t j = out % p.OW, i = (out / p.OW) % p.OH, pl = out / (p.OW * p.OH);
    const PoolWindow wh = pool_window(g, 0, i, p.H, p.OH);
    const PoolWindow ww = pool_window(g, 1, j, p.W, p.OW);
    const T* xp = x + pl * p.H * p.W;
    if (g.kind == PoolKind::Max) {
      C best = -std::numeric_limits<C>::infinity();
      int64_t at = wh.begin * p.W + ww.begin;
      for (int64_t h = wh.begin; h < wh.end; ++h)
        for (int64_t w = ww.begin; w < ww.end; ++w) {
          const C v = load(xp + h * p.W + w);
          if (v > best || v != v) {
            best = v;
            at = h * p.W + w;
          }
        }
      y[out] = convert<T>(best);
      idx[out] = at;
      continue;
    }
    C sum = 0;
    for (int64_t h = wh.begin; h < wh.end; ++h)
      for (int64_t w = ww.begin; w < ww.end; ++w) sum += load(xp + h * p.W + w);
    const int64_t div = g.divisor_override > 0 ? g.divisor_override : wh.count * ww.count;
    y[out] = convert<T>(wh.begin < wh.end && ww.begin < ww.end ? sum / C(div) : C(0));
  }
}

// The outputs along one dim whose window may hold input position `h`: a superset,
// filtered by pool_window.
__device__ __forceinline__ void candidates(const Pool2dGeometry& g, int d, int64_t h, int64_t in,
                                           int64_t out, int64_t& lo, int64_t& hi) {
  if (g.kind == PoolKind::AdaptiveAvg) {
    lo = h * out / in - 1;
    hi = ((h + 1) * out + in - 1) / in + 1;
  } else {
    lo = (h + g.padding[d] - g.kernel[d]) / g.stride[d];
    hi = (h + g.padding[d]) / g.stride[d] + 1;
  }
  lo = lo < 0 ? 0 : lo;
  hi = hi > out ? out : hi;
}

template <class T>
__global__ void pool_backward_kernel(const T* gy, const int64_t* idx, T* gx, Pool2dGeometry g,
                                     PoolPlanes p) {
  using C = compute_t<T>;
  DESCENT_GRID_STRIDE(in, p.planes * p.H * p.W) {
    const int64_t w = in % p.W, h = (in / p.W) % p.H, pl = in / (p.W * p.H);
    int64_t i0, i1, j0, j1;
    candidates(g, 0, h, p.H, p.OH, i0, i1);
    candidates(g, 1, w, p.W, p.OW, j0, j1);
    C acc = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const PoolWindow wh = pool_window(g, 0, i, p.H, p.OH);
      if (h < wh.begin || h >= wh.end) continue;
      for (int64_t j = j0; j < j1; ++j) {
        const PoolWindow ww = pool_window(g, 1, j, p.W, p.OW);
        if (w < ww.begin || w >= ww.end) continue;
        const int64_t out = (pl * p.OH + i) * p.OW + j;
        if (g.kind == PoolKind::Max) {
          if (idx[out] == h * p.W + w) acc += load(gy + out);
          continue;
        }
        const int64_t div = g.divisor_override > 0 ? g.divisor_override : wh.count * ww.count;
        acc += load(gy + out) / C(div);
      }
    }
    gx[in] = convert<T>(acc);
  }
}

template <class T>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, T* y, T* mean, T* var,
                                  int64_t rows, int64_t n, T eps, int lanes) {
  __shared__ T sh[kThreads / 32];
  const int lane = int(threadIdx.x) % lanes;
  DESCENT_GROUP_STRIDE(r, rows, lanes) {
    const T* xr = x + r * n;
    T s = 0;
    for (int64_t i = lane; i < n; i += lanes) s += xr[i];
    const T m = group_all<false>(s, lanes, sh) / T(n);
    T sq = 0;
    for (int64_t i = lane; i < n; i += lanes) sq += (xr[i] - m) * (xr[i] - m);
    const T v = group_all<false>(sq, lanes, sh) / T(n);
    const T rstd = T(1) / m_sqrt(v + eps);
    for (int64_t i = lane; i < n; i += lanes)
      y[r * n + i] = (xr[i] - m) * rstd * (w ? w[i] : T(1)) + (b ? b[i] : T(0));
    if (lane == 0) {
      mean[r] = m;
      var[r] = v;
    }
  }
}

template <class T>
__global__ void layer_norm_backward_kernel(const T* x, const T* gy, const T* w, const T* mean,
                                           const T* var, T* gx, int64_t rows, int64_t n, T eps,
                                           int lanes) {
  __shared__ T sh[kThreads / 32];
  const int lane = int(threadIdx.x) % lanes;
  DESCENT_GROUP_STRIDE(r, rows, lanes) {
    const T rstd = T(1) / m_sqrt(var[r] + eps), m = mean[r];
    T sg = 0, sgx = 0;
    for (int64_t i = lane; i < n; i += lanes) {
      const T g = gy[r * n + i] * (w ? w[i] : T(1));
      sg += g;
      sgx += g * (x[r * n + i] - m) * rstd;
    }
    sg = group_all<false>(sg, lanes, sh);
    sgx = group_all<false>(sgx, lanes, sh);
    for (int64_t i = lane; i < n; i += lanes) {
      const T g = gy[r * n + i] * (w ? w[i] : T(1));
      const T xhat = (x[r * n + i] - m) * rstd;
      gx[r * n + i] = rstd * (g - sg / T(n) - xhat * sgx / T(n));
    }
  }
}

template <class T>
__global__ void layer_norm_params_kernel(const T* x, const T* gy, const T* mean, const T* var,
                                         T* gw, T* gb, int64_t rows, int64_t n, T eps) {
  DESCENT_GRID_STRIDE(i, n) {
    T sw = 0, sb = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const T g = gy[r * n + i];
      sw += g * (x[r * n + i] - mean[r]) / m_sqrt(var[r] + eps);
      sb += g;
    }
    if (gw) gw[i] = sw;
    if (gb) gb[i] = sb;
  }
}

template <class F>
cudaError_t visit_f32_f64(KDType dt, F&& f) {
  if (dt == KDType::F32) return f.template operator()<float>();
  if (dt == KDType::F64) return f.template operator()<double>();
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_pool2d(KDType dt, const void* x, void* y, int64_t* indices,
                          const Pool2dGeometry& g, PoolPlanes p, Launch l) {
  const int64_t n = p.planes * p.OH * p.OW;
  if (n == 0) return cudaSuccess;
  return visit_floating(dt, [&]<class T>() {
    pool_kernel<T><<<blocks_for(n), kThreads, 0, l.stream>>>(static_cast<const T*>(x),
                                                             static_cast<T*>(y), indices, g, p);
    return cudaGetLastError();
  });
}

cudaError_t launch_pool2d_backward(KDType dt, const void* grad_y, const int64_t* indices,
                                   void* grad_x, const Pool2dGeometry& g, PoolPlanes p, Launch l) {
  const int64_t n = p.planes * p.H * p.W;
  if (n == 0) return cudaSuccess;
  return visit_floating(dt, [&]<class T>() {
    pool_backward_kernel<T><<<blocks_for(n), kThreads, 0, l.stream>>>(
        static_cast<const T*>(grad_y), indices, static_cast<T*>(grad_x), g, p);
    return cudaGetLastError();
  });
}

cudaError_t launch_layer_norm(KDType dt, const void* x, const void* w, const void* b, void* y,
                              void* mean, void* var, int64_t rows, int64_t n, double eps,
                              Launch l) {
  if (rows * n == 0) return cudaSuccess;
  const int lanes = lanes_for(rows, n, 1);
  return visit_f32_f64(dt, [&]<class T>() {
    layer_norm_kernel<T><<<blocks_for_groups(rows, lanes), kThreads, 0, l.stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b),
        static_cast<T*>(y), static_cast<T*>(mean), static_cast<T*>(var), rows, n, T(eps), lanes);
    return cudaGetLastError();
  });
}

cudaError_t launch_layer_norm_backward(KDType dt, const void* x, const void* gy, const void* w,
                                       const void* mean, const void* var, void* gx, void* gw,
                                       void* gb, int64_t rows, int64_t n, double eps, Launch l) {
  if (rows * n == 0) return cudaSuccess;
  const int lanes = lanes_for(rows, n, 1);
  return visit_f32_f64(dt, [&]<class T>() {
    const auto* xs = static_cast<const T*>(x);
    const auto* gys = static_cast<const T*>(gy);
    const auto* ms = static_cast<const T*>(mean);
    const auto* vs = static_cast<const T*>(var);
    layer_norm_backward_kernel<T><<<blocks_for_groups(rows, lanes), kThreads, 0, l.stream>>>(
        xs, gys, static_cast<const T*>(w), ms, vs, static_cast<T*>(gx), rows, n, T(eps), lanes);
    if (gw || gb)
      layer_norm_params_kernel<T><<<blocks_for(n), kThreads, 0, l.stream>>>(
          xs, gys, ms, vs, static_cast<T*>(gw), static_cast<T*>(gb), rows, n, T(eps));
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
