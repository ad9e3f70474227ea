// Batch norm in f64 loops: x is viewed as (N, C, S) with S the product of the trailing
// dims. Statistics are two-pass (mean, then the centred sum of squares) so they stay
// exact enough for finite differences.
#include <descent/backends/cpu/fused_ref.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <cmath>

namespace descent::cpu {

namespace {

const double* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<double>() : nullptr; }

}  // namespace

void batch_norm_ref(const BatchNormArgs& a) {
  const ChannelDims d = channel_dims(a.x);
  const double* x = a.x.data<double>();
  const double* w = ptr_or_null(a.weight);
  const double* b = ptr_or_null(a.bias);
  double* mean = a.mean.data<double>();
  double* var = a.var.data<double>();
  double* y = a.y.data<double>();
  const double count = double(d.n * d.s);
#pragma omp parallel for schedule(static) if (d.n * d.c * d.s >= kParallelThreshold)
  for (int64_t c = 0; c < d.c; ++c) {
    if (a.training) {
      double sum = 0;
      for (int64_t n = 0; n < d.n; ++n)
        for (int64_t s = 0; s < d.s; ++s) sum += x[(n * d.c + c) * d.s + s];
      const double m = sum / count;
      double sq = 0;
      for (int64_t n = 0; n < d.n; ++n)
        for (int64_t s = 0; s < d.s; ++s) {
          const double v = x[(n * d.c + c) * d.s + s] - m;
          sq += v * v;
        }
      mean[c] = m;
      var[c] = sq / count;
    }
    const double rstd = 1.0 / std::sqrt(var[c] + a.eps);
    const double scale = (w ? w[c] : 1.0) * rstd;
    const double shift = (b ? b[c] : 0.0) - mean[c] * scale;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t s = 0; s < d.s; ++s) {
        const int64_t i = (n * d.c + c) * d.s + s;
        y[i] = x[i] * scale + shift;
      }
  }
}

// With x̂ = (x - μ)·rstd: dβ = Σ dy, dγ = Σ dy·x̂, and
//   training: dx = γ·rstd·(dy - dβ/M - x̂·dγ/M)   (μ and σ² depend on x)
//   eval:     dx = γ·rstd·dy.
void batch_norm_backward_ref(const BatchNormBackwardArgs& a) {
  const ChannelDims d = channel_dims(a.x);
  const double* x = a.x.data<double>();
  const double* gy = a.grad_y.data<double>();
  const double* w = ptr_or_null(a.weight);
  const double* mean = a.mean.data<double>();
  const double* var = a.var.data<double>();
  double* gx = a.grad_x.defined() ? a.grad_x.data<double>() : nullptr;
  double* gw = a.grad_weight.defined() ? a.grad_weight.data<double>() : nullptr;
  double* gb = a.grad_bias.defined() ? a.grad_bias.data<double>() : nullptr;
  const double count = double(d.n * d.s);
#pragma omp parallel for schedule(static) if (d.n * d.c * d.s >= kParallelThreshold)
  for (int64_t c = 0; c < d.c; ++c) {
    const double rstd = 1.0 / std::sqrt(var[c] + a.eps);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t s = 0; s < d.s; ++s) {
        const int64_t i = (n * d.c + c) * d.s + s;
        sum_dy += gy[i];
        sum_dy_xhat += gy[i] * (x[i] - mean[c]) * rstd;
      }
    if (gw) gw[c] = sum_dy_xhat;
    if (gb) gb[c] = sum_dy;
    if (!gx) continue;
    const double scale = (w ? w[c] : 1.0) * rstd;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t s = 0; s < d.s; ++s) {
        const int64_t i = (n * d.c + c) * d.s + s;
        if (a.training) {
          const double xhat = (x[i] - mean[c]) * rstd;
          gx[i] = scale * (gy[i] - sum_dy / count - xhat * sum_dy_xhat / count);
        } else {
          gx[i] = scale * gy[i];
        }
      }
  }
}

}  // namespace descent::cpu
