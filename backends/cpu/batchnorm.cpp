// Batch norm of (N, C) f32 batches through oneDNN's batch_normalization primitives;
// images (N, C, *) and f64 go to the per-channel loops of batchnorm_loops.cpp. Primitives, their
// memory objects and argument maps are cached per thread by (shape, flags, eps), so a call only
// swaps pointers in. Training forward computes the batch statistics (biased variance); inference
// and its backward use the given statistics (use_global_stats).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/dnnl_utils.h>
#include <descent/backends/cpu/fused_ref.h>
#include <descent/backends/cpu/loops.h>
#include <omp.h>

#include <array>
#include <cstring>
#include <memory>
#include <span>
#include <unordered_map>

namespace descent::cpu {

namespace {

using nf = dnnl::normalization_flags;

struct BnKey {
  bool backward = false;
  bool training = true;
  bool scale = false, shift = false;
  bool want_diff_params = false;  // backward: scale/shift diffs wanted
  float eps = 0;
  int ndims = 0;
  std::array<int64_t, kMaxDims> dims{};
  int threads = 0;  // a primitive splits its work for the thread count it was made under
  bool operator==(const BnKey&) const = default;
};

struct BnKeyHash {
  size_t operator()(const BnKey& k) const {
    uint32_t e;
    std::memcpy(&e, &k.eps, sizeof e);
    return KeyHash()
        .mix(uint64_t(k.backward) | uint64_t(k.training) << 1 | uint64_t(k.scale) << 2 |
             uint64_t(k.shift) << 3 | uint64_t(k.want_diff_params) << 4 | uint64_t(k.ndims) << 8 |
             uint64_t(k.threads) << 16)
        .mix(e)
        .mix_all(std::span(k.dims.data(), size_t(k.ndims)))
        .value();
  }
};

struct BnPrimitive {
  dnnl::primitive prim;
  // Forward: src, dst, mean, var, scale, shift. Backward adds diff_dst, diff_src,
  // diff_scale, diff_shift.
  dnnl::memory src, dst, mean, var, scale, shift, diff_dst, diff_src, diff_scale, diff_shift;
  std::unordered_map<int, dnnl::memory> args;
};

nf flags_of(const BnKey& k) {
  nf f = nf::none;
  if (!k.training) f |= nf::use_global_stats;
  if (k.scale) f |= nf::use_scale;
  if (k.shift) f |= nf::use_shift;
  return f;
}

std::unique_ptr<BnPrimitive> create(const BnKey& k) {
  dnnl::engine& eng = dnnl_engine();
  dnnl::memory::dims dims(k.dims.begin(), k.dims.begin() + k.ndims);
  const dnnl::memory::dim C = dims[1];
  dnnl::memory::desc data_md;
  if (k.ndims == 2) {
    // (N, C) is (N, C, 1, 1) in either channels-first or channels-last order; oneDNN's
    // JIT kernels take the channels-last one (its plain `nc` path is a slow loop).
    data_md = dnnl::memory::desc({dims[0], C, 1, 1}, dnnl::memory::data_type::f32,
                                 dnnl::memory::format_tag::nhwc);
  } else {
    // (N, C, L) runs as (N, C, L, 1): oneDNN's 3-D batch norm is its reference loop.
    if (k.ndims == 3) dims.push_back(1);
    data_md =
        dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nchw);
  }
  const auto stat_md = dnnl_desc({C}, {1}, DType::F32, "batch_norm");
  const nf flags = flags_of(k);
  const auto fwd_kind =
      k.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  const dnnl::batch_normalization_forward::primitive_desc fwd_pd({fwd_kind, data_md, k.eps, flags},
                                                                 eng);

  auto p = std::make_unique<BnPrimitive>();
  const auto mem = [&](const dnnl::memory::desc& md) {
    return dnnl::memory(md, eng, DNNL_MEMORY_NONE);
  };
  p->src = mem(data_md);
  p->mean = mem(stat_md);
  p->var = mem(stat_md);
  p->args[DNNL_ARG_SRC] = p->src;
  p->args[DNNL_ARG_MEAN] = p->mean;
  p->args[DNNL_ARG_VARIANCE] = p->var;
  if (k.scale) {
    p->scale = mem(stat_md);
    p->args[DNNL_ARG_SCALE] = p->scale;
  }
  // oneDNN's backward lists the shift as an input too (it only reads it for fused
  // activations): it gets a buffer of its own.
  if (k.shift) {
    p->shift = k.backward ? dnnl::memory(stat_md, eng) : mem(stat_md);
    p->args[DNNL_ARG_SHIFT] = p->shift;
  }
  if (!k.backward) {
    p->dst = mem(data_md);
    p->args[DNNL_ARG_DST] = p->dst;
    p->prim = dnnl::batch_normalization_forward(fwd_pd);
    return p;
  }
  // backward_data needs neither scale nor shift diffs; `backward` computes both.
  const auto bwd_kind =
      k.want_diff_params ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
  const dnnl::batch_normalization_backward::primitive_desc bwd_pd(
      {bwd_kind, data_md, data_md, k.eps, flags}, eng, fwd_pd);
  p->diff_dst = mem(data_md);
  p->diff_src = mem(data_md);
  p->args[DNNL_ARG_DIFF_DST] = p->diff_dst;
  p->args[DNNL_ARG_DIFF_SRC] = p->diff_src;
  if (k.want_diff_params) {
    if (k.scale) {
      p->diff_scale = mem(stat_md);
      p->args[DNNL_ARG_DIFF_SCALE] = p->diff_scale;
    }
    if (k.shift) {
      p->diff_shift = mem(stat_md);
      p->args[DNNL_ARG_DIFF_SHIFT] = p->diff_shift;
    }
  }
  p->prim = dnnl::batch_normalization_backward(bwd_pd);
  return p;
}

BnPrimitive& cached(const BnKey& k) {
  return *thread_cached<BnKey, BnKeyHash>(k, 256, [&] {
    try {
      return create(k);
    } catch (const dnnl::error& e) {
      fail("batch_norm",
           fmt::format("oneDNN has no batch normalization for shape {}: {}",
                       Shape(std::vector<int64_t>(k.dims.begin(), k.dims.begin() + k.ndims)),
                       e.what()));
    }
  });
}

BnKey key_of(const Tensor& x, bool training, double eps) {
  BnKey k;
  k.training = training;
  k.eps = float(eps);
  k.ndims = x.dim();
  for (int i = 0; i < x.dim(); ++i) k.dims[i] = x.size(i);
  k.threads = omp_get_max_threads();
  return k;
}

void set(dnnl::memory& m, const Tensor& t) {
  if (t.defined()) m.set_data_handle(t.raw_data());
}

// f64, and f32 with trailing dims: oneDNN's batch norm of plain (N, C, S) data is its
// non-JIT kernel, slower than batchnorm_loops.cpp's vectorised loops. (N, C) f32 runs
// on oneDNN's JIT kernels as channels-last.
bool use_loops(const Tensor& x) {
  return x.dtype() != DType::F32 || x.numel() / x.size(0) > x.size(1);
}

// f32 and f64; bf16 data (with f32 (C) tensors) only with trailing dims.
void check_dtype(const Tensor& x, std::string_view op) {
  const DType dt = x.dtype();
  check(dt == DType::F32 || dt == DType::F64 || (dt == DType::BF16 && x.dim() > 2), op,
        "expected f32 or f64 data, or bf16 data of shape (N, C, *), got {} of shape {}", dt,
        x.shape());
}

void check_args(const Tensor& x, std::string_view op) {
  check(x.dim() >= 2 && x.dim() <= kMaxDims && x.is_contiguous(), op,
        "expected a contiguous (N, C, *) input, got shape {}", x.shape());
}

}  // namespace

void CpuBackend::batch_norm(const BatchNormArgs& a) {
  check_args(a.x, "batch_norm");
  if (a.x.numel() == 0) return;
  check_dtype(a.x, "batch_norm");
  if (use_loops(a.x)) return batch_norm_loops(a);
  BnKey k = key_of(a.x, a.training, a.eps);
  k.scale = a.weight.defined();
  k.shift = a.bias.defined();
  BnPrimitive& p = cached(k);
  set(p.src, a.x);
  set(p.dst, a.y);
  set(p.mean, a.mean);
  set(p.var, a.var);
  set(p.scale, a.weight);
  set(p.shift, a.bias);
  p.prim.execute(dnnl_stream(), p.args);
}

void CpuBackend::batch_norm_backward(const BatchNormBackwardArgs& a) {
  check_args(a.x, "batch_norm_backward");
  if (a.x.numel() == 0) {
    if (a.grad_weight.defined()) fill(a.grad_weight, 0.0);
    if (a.grad_bias.defined()) fill(a.grad_bias, 0.0);
    return;
  }
  check_dtype(a.x, "batch_norm_backward");
  if (use_loops(a.x)) {
    if (!a.grad_y.is_contiguous()) {
      BatchNormBackwardArgs c = a;
      c.grad_y = a.grad_y.contiguous();
      return batch_norm_backward_loops(c);
    }
    return batch_norm_backward_loops(a);
  }
  // oneDNN always produces diff_src; the parameter diffs come with prop_kind::backward,
  // which wants the scale flag whenever a weight exists and shift for the bias diff.
  BnKey k = key_of(a.x, a.training, a.eps);
  k.backward = true;
  k.scale = a.weight.defined();
  k.shift = a.grad_bias.defined();
  k.want_diff_params = a.grad_weight.defined() || a.grad_bias.defined();
  // Without a weight, oneDNN cannot give the scale diff: add a unit scale for it.
  Tensor weight = a.weight;
  if (a.grad_weight.defined() && !weight.defined()) {
    weight = Tensor::empty({a.x.size(1)});
    fill(weight, 1.0);
    k.scale = true;
  }
  Tensor grad_x = a.grad_x.defined() ? a.grad_x : Tensor::empty(a.x.shape());
  Tensor grad_w = a.grad_weight;
  if (k.want_diff_params && k.scale && !grad_w.defined()) grad_w = Tensor::empty({a.x.size(1)});
  const Tensor grad_y = a.grad_y.is_contiguous() ? a.grad_y : a.grad_y.contiguous();
  BnPrimitive& p = cached(k);
  set(p.src, a.x);
  set(p.mean, a.mean);
  set(p.var, a.var);
  set(p.scale, weight);
  set(p.diff_dst, grad_y);
  set(p.diff_src, grad_x);
  set(p.diff_scale, grad_w);
  set(p.diff_shift, a.grad_bias);
  p.prim.execute(dnnl_stream(), p.args);
}

}  // namespace descent::cpu
