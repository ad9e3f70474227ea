// Batch norm of (N, C, S) tensors in per-channel loops: x is viewed as (N, C, S) with S
// the product of the trailing dims. oneDNN's batch norm of plain NCHW data is its slow
// non-JIT path, so the CPU backend runs images (and every f64 tensor) here; (N, C) f32
// batches stay on oneDNN's JIT kernels (batchnorm.cpp). Data is f32, f64 or bf16; the
// (C) tensors and the arithmetic are f32 (f64 for f64 data), so a bf16 activation
// under autocast is normalised without a converted copy.
//
// Each channel is one task of a parallel loop (the result does not depend on the thread
// count). Sums run over each contiguous S-run in the element type with an OpenMP SIMD
// reduction (vectorised without reassociating flags) and add up across runs in f64.
// Statistics are two-pass (mean, then the centred sum of squares), exact enough for the
// f64 finite-difference gradchecks.
#include <descent/backends/cpu/fused_ref.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <cmath>

namespace descent::cpu {

namespace {

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Σ f(p[i]) over one run in the compute type S, vectorised.
template <class S, class T, class Fn>
double run_sum(const T* p, int64_t n, Fn f) {
  S acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += f(S(p[i]));
  return double(acc);
}

// T: the data's type; S = compute_t<T>: the (C) tensors' and the arithmetic's.
template <class T>
void forward(const BatchNormArgs& a) {
  using S = compute_t<T>;
  const ChannelDims d = channel_dims(a.x);
  const T* x = a.x.data<T>();
  const S* w = ptr_or_null<S>(a.weight);
  const S* b = ptr_or_null<S>(a.bias);
  S* mean = a.mean.data<S>();
  S* var = a.var.data<S>();
  T* y = a.y.data<T>();
  const double count = double(d.n * d.s);
#pragma omp parallel for schedule(static) if (d.n * d.c * d.s >= kParallelThreshold)
  for (int64_t c = 0; c < d.c; ++c) {
    if (a.training) {
      double sum = 0;
      for (int64_t n = 0; n < d.n; ++n)
        sum += run_sum<S>(x + (n * d.c + c) * d.s, d.s, [](S v) { return v; });
      const S m = S(sum / count);
      double sq = 0;
      for (int64_t n = 0; n < d.n; ++n)
        sq += run_sum<S>(x + (n * d.c + c) * d.s, d.s, [m](S v) { return (v - m) * (v - m); });
      mean[c] = m;
      var[c] = S(sq / count);
    }
    const double rstd = 1.0 / std::sqrt(double(var[c]) + a.eps);
    const S scale = S((w ? double(w[c]) : 1.0) * rstd);
    const S shift = S((b ? double(b[c]) : 0.0) - double(mean[c]) * double(scale));
    for (int64_t n = 0; n < d.n; ++n) {
      const T* xr = x + (n * d.c + c) * d.s;
      T* yr = y + (n * d.c + c) * d.s;
#pragma omp simd
      for (int64_t s = 0; s < d.s; ++s) yr[s] = T(S(xr[s]) * scale + shift);
    }
  }
}

// With x̂ = (x - μ)·rstd: dβ = Σ dy, dγ = Σ dy·x̂, and
//   training: dx = γ·rstd·(dy - dβ/M - x̂·dγ/M)   (μ and σ² depend on x)
//   eval:     dx = γ·rstd·dy,
// computed as dx = k1·dy - k2 - k3·(x - μ).
template <class T>
void backward(const BatchNormBackwardArgs& a) {
  using S = compute_t<T>;
  const ChannelDims d = channel_dims(a.x);
  const T* x = a.x.data<T>();
  const T* gy = a.grad_y.data<T>();
  const S* w = ptr_or_null<S>(a.weight);
  const S* mean = a.mean.data<S>();
  const S* var = a.var.data<S>();
  T* gx = a.grad_x.defined() ? a.grad_x.data<T>() : nullptr;
  S* gw = a.grad_weight.defined() ? a.grad_weight.data<S>() : nullptr;
  S* gb = a.grad_bias.defined() ? a.grad_bias.data<S>() : nullptr;
  const double count = double(d.n * d.s);
#pragma omp parallel for schedule(static) if (d.n * d.c * d.s >= kParallelThreshold)
  for (int64_t c = 0; c < d.c; ++c) {
    const double rstd = 1.0 / std::sqrt(double(var[c]) + a.eps);
    const S m = mean[c];
    double sum_dy = 0, sum_dy_xc = 0;
    for (int64_t n = 0; n < d.n; ++n) {
      const T* xr = x + (n * d.c + c) * d.s;
      const T* gr = gy + (n * d.c + c) * d.s;
      S acc = 0, acc_xc = 0;
#pragma omp simd reduction(+ : acc, acc_xc)
      for (int64_t s = 0; s < d.s; ++s) {
        acc += S(gr[s]);
        acc_xc += S(gr[s]) * (S(xr[s]) - m);
      }
      sum_dy += double(acc);
      sum_dy_xc += double(acc_xc);
    }
    const double sum_dy_xhat = sum_dy_xc * rstd;
    if (gw) gw[c] = S(sum_dy_xhat);
    if (gb) gb[c] = S(sum_dy);
    if (!gx) continue;
    const double scale = (w ? double(w[c]) : 1.0) * rstd;
    const S k1 = S(scale);
    const S k2 = a.training ? S(scale * sum_dy / count) : S(0);
    const S k3 = a.training ? S(scale * rstd * sum_dy_xhat / count) : S(0);
    for (int64_t n = 0; n < d.n; ++n) {
      const T* xr = x + (n * d.c + c) * d.s;
      const T* gr = gy + (n * d.c + c) * d.s;
      T* out = gx + (n * d.c + c) * d.s;
#pragma omp simd
      for (int64_t s = 0; s < d.s; ++s) out[s] = T(k1 * S(gr[s]) - k2 - k3 * (S(xr[s]) - m));
    }
  }
}

}  // namespace

void batch_norm_loops(const BatchNormArgs& a) {
  if (a.x.dtype() == DType::F64) return forward<double>(a);
  if (a.x.dtype() == DType::BF16) return forward<BFloat16>(a);
  forward<float>(a);
}

void batch_norm_backward_loops(const BatchNormBackwardArgs& a) {
  if (a.x.dtype() == DType::F64) return backward<double>(a);
  if (a.x.dtype() == DType::BF16) return backward<BFloat16>(a);
  backward<float>(a);
}

}  // namespace descent::cpu
