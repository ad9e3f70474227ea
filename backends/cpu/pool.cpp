// Max and average pooling in plain loops, one (n, c) plane per iteration of a parallel
// loop: the windows of a small feature map are a few bytes each, so the work is memory
// bound and a plane per thread keeps the results independent of the thread count. The
// window arithmetic is backends/conv_geometry.h's, shared with the CUDA kernels.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>

#include <limits>
#include <vector>

namespace descent::cpu {

namespace {

struct Planes {
  int64_t planes, H, W, OH, OW;
};

Planes planes_of(const Tensor& x, const Tensor& y) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

// The windows of every output row and column, computed once per call.
struct Windows {
  std::vector<PoolWindow> rows, cols;
  Windows(const Pool2dGeometry& g, const Planes& p) {
    for (int64_t i = 0; i < p.OH; ++i) rows.push_back(pool_window(g, 0, i, p.H, p.OH));
    for (int64_t j = 0; j < p.OW; ++j) cols.push_back(pool_window(g, 1, j, p.W, p.OW));
  }
};

template <class T>
void pool_forward(const Pool2dArgs& a) {
  using C = compute_t<T>;
  const Planes p = planes_of(a.x, a.y);
  const Pool2dGeometry& g = a.geo;
  const Windows win(g, p);
  const T* x = a.x.data<T>();
  T* y = a.y.data<T>();
  int64_t* idx = g.kind == PoolKind::Max ? a.indices.data<int64_t>() : nullptr;
#pragma omp parallel for schedule(static) if (p.planes * p.H * p.W >= kParallelThreshold)
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    const T* xp = x + pl * p.H * p.W;
    for (int64_t i = 0; i < p.OH; ++i) {
      const PoolWindow& wh = win.rows[size_t(i)];
      for (int64_t j = 0; j < p.OW; ++j) {
        const PoolWindow& ww = win.cols[size_t(j)];
        const int64_t out = (pl * p.OH + i) * p.OW + j;
        if (g.kind == PoolKind::Max) {
          // torch's rule: a NaN always takes over; otherwise only a strictly greater value.
          C best = -std::numeric_limits<C>::infinity();
          int64_t at = wh.begin * p.W + ww.begin;
          for (int64_t h = wh.begin; h < wh.end; ++h)
            for (int64_t w = ww.begin; w < ww.end; ++w) {
              const C v = C(xp[h * p.W + w]);
              if (v > best || v != v) {
                best = v;
                at = h * p.W + w;
              }
            }
          y[out] = T(best);
          idx[out] = at;
          continue;
        }
        C sum = 0;
        for (int64_t h = wh.begin; h < wh.end; ++h)
          for (int64_t w = ww.begin; w < ww.end; ++w) sum += C(xp[h * p.W + w]);
        const int64_t div = g.divisor_override > 0 ? g.divisor_override : wh.count * ww.count;
        y[out] = wh.begin < wh.end && ww.begin < ww.end ? T(sum / C(div)) : T(0);
      }
    }
  }
}

template <class T>
void pool_backward(const Pool2dBackwardArgs& a) {
  using C = compute_t<T>;
  const Planes p = planes_of(a.grad_x, a.grad_y);
  const Pool2dGeometry& g = a.geo;
  const T* gy = a.grad_y.data<T>();
  T* gx = a.grad_x.data<T>();
  const int64_t* idx = g.kind == PoolKind::Max ? a.indices.data<int64_t>() : nullptr;
  const Windows win(g, p);
#pragma omp parallel for schedule(static) if (p.planes * p.H * p.W >= kParallelThreshold)
  for (int64_t pl = 0; pl < p.planes; ++pl) {
    // Sums in the compute type, rounded once per input element.
    std::vector<C> acc(size_t(p.H * p.W), C(0));
    for (int64_t i = 0; i < p.OH; ++i) {
      const PoolWindow& wh = win.rows[size_t(i)];
      for (int64_t j = 0; j < p.OW; ++j) {
        const int64_t out = (pl * p.OH + i) * p.OW + j;
        const C grad = C(gy[out]);
        if (g.kind == PoolKind::Max) {
          acc[size_t(idx[out])] += grad;
          continue;
        }
        const PoolWindow& ww = win.cols[size_t(j)];
        const int64_t div = g.divisor_override > 0 ? g.divisor_override : wh.count * ww.count;
        const C share = grad / C(div);
        for (int64_t h = wh.begin; h < wh.end; ++h)
          for (int64_t w = ww.begin; w < ww.end; ++w) acc[size_t(h * p.W + w)] += share;
      }
    }
    T* gxp = gx + pl * p.H * p.W;
    for (int64_t k = 0; k < p.H * p.W; ++k) gxp[k] = T(acc[size_t(k)]);
  }
}

}  // namespace

void CpuBackend::pool2d(const Pool2dArgs& a) {
  visit_floating(a.x.dtype(), "pool2d", [&]<class T>() { pool_forward<T>(a); });
}

void CpuBackend::pool2d_backward(const Pool2dBackwardArgs& a) {
  visit_floating(a.grad_y.dtype(), "pool2d_backward", [&]<class T>() { pool_backward<T>(a); });
}

}  // namespace descent::cpu
