// 2-D convolution in f64 loops, straight from the definition in backend.h: one pass
// over (output position, input channel, kernel tap) per gradient. Slow and exact, for
// the f64 gradchecks and as the oneDNN kernels' yardstick.
#include <descent/backends/cpu/fused_ref.h>
#include <descent/backends/cpu/loops.h>

#include <algorithm>

namespace descent::cpu {

namespace {

// The sizes of one convolution, and the input position a kernel tap reads.
struct ConvDims {
  int64_t N, C, H, W, O, KH, KW, OH, OW, G, Cg, Og;
  Conv2dGeometry g;

  ConvDims(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dGeometry& geo)
      : N(x.size(0)),
        C(x.size(1)),
        H(x.size(2)),
        W(x.size(3)),
        O(w.size(0)),
        KH(w.size(2)),
        KW(w.size(3)),
        OH(y.size(2)),
        OW(y.size(3)),
        G(geo.groups),
        Cg(C / geo.groups),
        Og(O / geo.groups),
        g(geo) {}

  // Calls fn(x index, w index, y index) for every (input, weight, output) triple of
  // output channel o and sample n.
  template <class Fn>
  void taps(int64_t n, int64_t o, Fn&& fn) const {
    const int64_t grp = o / Og;
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t yi = ((n * O + o) * OH + i) * OW + j;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t p = 0; p < KH; ++p) {
            const int64_t h = i * g.stride[0] - g.padding[0] + p * g.dilation[0];
            if (h < 0 || h >= H) continue;
            for (int64_t q = 0; q < KW; ++q) {
              const int64_t w = j * g.stride[1] - g.padding[1] + q * g.dilation[1];
              if (w < 0 || w >= W) continue;
              const int64_t xi = ((n * C + grp * Cg + c) * H + h) * W + w;
              const int64_t wi = ((o * Cg + c) * KH + p) * KW + q;
              fn(xi, wi, yi);
            }
          }
      }
  }
};

}  // namespace

void conv2d_ref(const Conv2dArgs& a) {
  const ConvDims d(a.x, a.weight, a.y, a.geo);
  const double* x = a.x.data<double>();
  const double* w = a.weight.data<double>();
  const double* b = a.bias.defined() ? a.bias.data<double>() : nullptr;
  double* y = a.y.data<double>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t o = 0; o < d.O; ++o) {
      double* plane = y + (n * d.O + o) * d.OH * d.OW;
      std::fill(plane, plane + d.OH * d.OW, b ? b[o] : 0.0);
      d.taps(n, o, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
    }
}

void conv2d_backward_ref(const Conv2dBackwardArgs& a) {
  const ConvDims d(a.x, a.weight, a.grad_y, a.geo);
  const double* x = a.x.data<double>();
  const double* w = a.weight.data<double>();
  const double* gy = a.grad_y.data<double>();
  if (a.grad_x.defined()) {
    double* gx = a.grad_x.data<double>();
    std::fill(gx, gx + a.grad_x.numel(), 0.0);
    // Samples are independent; within one, output channels write overlapping inputs.
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t o = 0; o < d.O; ++o)
        d.taps(n, o, [&](int64_t xi, int64_t wi, int64_t yi) { gx[xi] += gy[yi] * w[wi]; });
  }
  if (a.grad_weight.defined()) {
    double* gw = a.grad_weight.data<double>();
    std::fill(gw, gw + a.grad_weight.numel(), 0.0);
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < d.O; ++o)
      for (int64_t n = 0; n < d.N; ++n)
        d.taps(n, o, [&](int64_t xi, int64_t wi, int64_t yi) { gw[wi] += gy[yi] * x[xi]; });
  }
  if (a.grad_bias.defined()) {
    double* gb = a.grad_bias.data<double>();
    for (int64_t o = 0; o < d.O; ++o) {
      double s = 0;
      for (int64_t n = 0; n < d.N; ++n) {
        const double* plane = gy + (n * d.O + o) * d.OH * d.OW;
        for (int64_t i = 0; i < d.OH * d.OW; ++i) s += plane[i];
      }
      gb[o] = s;
    }
  }
}

}  // namespace descent::cpu
