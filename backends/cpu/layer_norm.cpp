// Layer norm through oneDNN's layer_normalization primitives (f32); f64 goes to the
// reference loops below. x is (rows, n) normalised over n; oneDNN's statistics are the
// mean and the biased variance, which the backward reads back. Primitives and argument
// maps are cached per thread by (shape, flags, eps), so a call only swaps pointers in.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/dnnl_utils.h>
#include <descent/backends/cpu/fused_ref.h>
#include <descent/backends/cpu/loops.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace descent::cpu {

namespace {

using nf = dnnl::normalization_flags;

struct LnKey {
  int64_t rows = 0, n = 0;
  bool backward = false, scale = false, shift = false;
  float eps = 0;
  int threads = 0;
  bool operator==(const LnKey&) const = default;
};

struct LnKeyHash {
  size_t operator()(const LnKey& k) const {
    uint32_t e;
    std::memcpy(&e, &k.eps, sizeof e);
    return KeyHash()
        .mix(uint64_t(k.rows))
        .mix(uint64_t(k.n))
        .mix(e)
        .mix(uint64_t(k.backward) | uint64_t(k.scale) << 1 | uint64_t(k.shift) << 2 |
             uint64_t(k.threads) << 8)
        .value();
  }
};

struct LnPrimitive {
  dnnl::primitive prim;
  dnnl::memory src, dst, mean, var, scale, shift, diff_dst, diff_src, diff_scale, diff_shift;
  std::unordered_map<int, dnnl::memory> args;
};

std::unique_ptr<LnPrimitive> create(const LnKey& k) {
  dnnl::engine& eng = dnnl_engine();
  const dnnl::memory::desc data_md({k.rows, k.n}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::nc);
  const dnnl::memory::desc stat_md({k.rows}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::x);
  const dnnl::memory::desc param_md({k.n}, dnnl::memory::data_type::f32,
                                    dnnl::memory::format_tag::x);
  nf flags = nf::none;
  if (k.scale) flags |= nf::use_scale;
  if (k.shift) flags |= nf::use_shift;
  const dnnl::layer_normalization_forward::primitive_desc fwd_pd(
      {dnnl::prop_kind::forward_training, data_md, stat_md, k.eps, flags}, eng);
  auto p = std::make_unique<LnPrimitive>();
  const auto slot = [&](dnnl::memory& m, const dnnl::memory::desc& d, int arg) {
    m = dnnl::memory(d, eng, DNNL_MEMORY_NONE);
    p->args[arg] = m;
  };
  slot(p->src, data_md, DNNL_ARG_SRC);
  slot(p->mean, stat_md, DNNL_ARG_MEAN);
  slot(p->var, stat_md, DNNL_ARG_VARIANCE);
  if (k.scale) slot(p->scale, param_md, DNNL_ARG_SCALE);
  if (k.shift) {
    // The backward lists the shift as an input it never reads: a buffer of its own.
    if (k.backward) {
      p->shift = dnnl::memory(param_md, eng);
      p->args[DNNL_ARG_SHIFT] = p->shift;
    } else {
      slot(p->shift, param_md, DNNL_ARG_SHIFT);
    }
  }
  if (!k.backward) {
    slot(p->dst, data_md, DNNL_ARG_DST);
    p->prim = dnnl::layer_normalization_forward(fwd_pd);
    return p;
  }
  const bool params = k.scale || k.shift;
  const dnnl::layer_normalization_backward::primitive_desc bwd_pd(
      {params ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data, data_md, data_md,
       stat_md, k.eps, flags},
      eng, fwd_pd);
  slot(p->diff_dst, data_md, DNNL_ARG_DIFF_DST);
  slot(p->diff_src, data_md, DNNL_ARG_DIFF_SRC);
  if (k.scale) slot(p->diff_scale, param_md, DNNL_ARG_DIFF_SCALE);
  if (k.shift) slot(p->diff_shift, param_md, DNNL_ARG_DIFF_SHIFT);
  p->prim = dnnl::layer_normalization_backward(bwd_pd);
  return p;
}

LnPrimitive& cached(const LnKey& k) {
  return *thread_cached<LnKey, LnKeyHash>(k, 128, [&] {
    try {
      return create(k);
    } catch (const dnnl::error& e) {
      fail("layer_norm", fmt::format("oneDNN has no layer normalization for ({}, {}): {}", k.rows,
                                     k.n, e.what()));
    }
  });
}

void set(dnnl::memory& m, const Tensor& t) {
  if (t.defined()) m.set_data_handle(t.raw_data());
}

LnKey key_of(const Tensor& x, double eps, bool backward, bool scale, bool shift) {
  return {.rows = x.size(0),
          .n = x.size(1),
          .backward = backward,
          .scale = scale,
          .shift = shift,
          .eps = float(eps),
          .threads = omp_get_max_threads()};
}

void check_dtype(const Tensor& x, std::string_view op) {
  check(x.dtype() == DType::F32, op, "expected f32 or f64, got {}", x.dtype());
}

}  // namespace

void CpuBackend::layer_norm(const LayerNormArgs& a) {
  if (a.x.numel() == 0) return;
  if (a.x.dtype() == DType::F64) return layer_norm_ref(a);
  check_dtype(a.x, "layer_norm");
  LnPrimitive& p = cached(key_of(a.x, a.eps, false, a.weight.defined(), a.bias.defined()));
  set(p.src, a.x);
  set(p.dst, a.y);
  set(p.mean, a.mean);
  set(p.var, a.var);
  set(p.scale, a.weight);
  set(p.shift, a.bias);
  p.prim.execute(dnnl_stream(), p.args);
}

void CpuBackend::layer_norm_backward(const LayerNormBackwardArgs& a) {
  if (a.x.numel() == 0) {
    if (a.grad_weight.defined()) fill(a.grad_weight, 0.0);
    if (a.grad_bias.defined()) fill(a.grad_bias, 0.0);
    return;
  }
  if (a.x.dtype() == DType::F64) return layer_norm_backward_ref(a);
  check_dtype(a.x, "layer_norm_backward");
  // oneDNN's parameter gradients come with the flags: without a weight the scale
  // gradient needs a unit scale.
  const bool scale = a.weight.defined() || a.grad_weight.defined();
  const bool shift = a.grad_bias.defined();
  Tensor weight = a.weight;
  if (scale && !weight.defined()) {
    weight = Tensor::empty({a.x.size(1)});
    fill(weight, 1.0);
  }
  Tensor gw = a.grad_weight;
  if (scale && !gw.defined()) gw = Tensor::empty({a.x.size(1)});
  LnPrimitive& p = cached(key_of(a.x, a.eps, true, scale, shift));
  set(p.src, a.x);
  set(p.mean, a.mean);
  set(p.var, a.var);
  set(p.scale, weight);
  set(p.diff_dst, a.grad_y);
  set(p.diff_src, a.grad_x);
  set(p.diff_scale, gw);
  set(p.diff_shift, a.grad_bias);
  p.prim.execute(dnnl_stream(), p.args);
}

// ---- f64 reference ------------------------------------------------------------------
// Per row, with x̂ = (x − μ)·rstd and ĝ = dy·w:
//   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  dw = Σ_rows dy·x̂,  db = Σ_rows dy.

void layer_norm_ref(const LayerNormArgs& a) {
  const int64_t rows = a.x.size(0), n = a.x.size(1);
  const double* x = a.x.data<double>();
  const double* w = a.weight.defined() ? a.weight.data<double>() : nullptr;
  const double* b = a.bias.defined() ? a.bias.data<double>() : nullptr;
  double* y = a.y.data<double>();
  double* mean = a.mean.data<double>();
  double* var = a.var.data<double>();
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * n;
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += xr[i];
    const double m = s / double(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) sq += (xr[i] - m) * (xr[i] - m);
    mean[r] = m;
    var[r] = sq / double(n);
    const double rstd = 1.0 / std::sqrt(var[r] + a.eps);
    for (int64_t i = 0; i < n; ++i)
      y[r * n + i] = (xr[i] - m) * rstd * (w ? w[i] : 1.0) + (b ? b[i] : 0.0);
  }
}

void layer_norm_backward_ref(const LayerNormBackwardArgs& a) {
  const int64_t rows = a.x.size(0), n = a.x.size(1);
  const double* x = a.x.data<double>();
  const double* gy = a.grad_y.data<double>();
  const double* w = a.weight.defined() ? a.weight.data<double>() : nullptr;
  const double* mean = a.mean.data<double>();
  const double* var = a.var.data<double>();
  double* gx = a.grad_x.data<double>();
  for (int64_t r = 0; r < rows; ++r) {
    const double rstd = 1.0 / std::sqrt(var[r] + a.eps);
    double sum_g = 0, sum_gx = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double g = gy[r * n + i] * (w ? w[i] : 1.0);
      sum_g += g;
      sum_gx += g * (x[r * n + i] - mean[r]) * rstd;
    }
    for (int64_t i = 0; i < n; ++i) {
      const double g = gy[r * n + i] * (w ? w[i] : 1.0);
      const double xhat = (x[r * n + i] - mean[r]) * rstd;
      gx[r * n + i] = rstd * (g - sum_g / double(n) - xhat * sum_gx / double(n));
    }
  }
  for (const auto& [out, with_xhat] : {std::pair{&a.grad_weight, true}, {&a.grad_bias, false}}) {
    if (!out->defined()) continue;
    double* o = out->data<double>();
    for (int64_t i = 0; i < n; ++i) o[i] = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double rstd = 1.0 / std::sqrt(var[r] + a.eps);
      for (int64_t i = 0; i < n; ++i)
        o[i] += gy[r * n + i] * (with_xhat ? (x[r * n + i] - mean[r]) * rstd : 1.0);
    }
  }
}

}  // namespace descent::cpu
