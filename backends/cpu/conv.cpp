// 2-D convolution through oneDNN's convolution primitives (f32, and bf16 with f32
// accumulation); f64 goes to the reference loops in conv_ref.cpp.
//
// The primitives are created with format_tag::any for every operand, so oneDNN picks its
// fast blocked layouts (nChw16c and the like on AVX-512); each operand reaches it through
// a cached Relayout that reorders the user's plain NCHW / OIHW (GOIHW with groups) tensor
// in or out when the chosen layout differs. Per shape, a thread caches the forward,
// backward-data and backward-weights primitives and their reorders, each created when
// first needed.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/dnnl_utils.h>
#include <descent/backends/cpu/fused_ref.h>
#include <omp.h>

#include <array>
#include <memory>
#include <unordered_map>

namespace descent::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;
using dims = dnnl::memory::dims;

struct ConvKey {
  std::array<int64_t, 4> x{}, w{};  // (N, C, H, W), (O, C/g, kH, kW)
  std::array<int64_t, 7> geo{};     // stride, padding, dilation (h, w), groups
  DType dt = DType::F32;
  bool bias = false;
  int threads = 0;  // a primitive splits its work for the thread count it was made under
  bool operator==(const ConvKey&) const = default;
};

struct ConvKeyHash {
  size_t operator()(const ConvKey& k) const {
    return KeyHash()
        .mix_all(k.x)
        .mix_all(k.w)
        .mix_all(k.geo)
        .mix(uint64_t(k.dt) | uint64_t(k.bias) << 8 | uint64_t(k.threads) << 16)
        .value();
  }
};

// The plain user descriptors and the convolution's parameters of one key.
struct Descs {
  md src, weights, bias, dst;  // user layouts
  md src_any, weights_any, bias_any, dst_any;
  dims strides, dilates, padding;
};

Descs descs_of(const ConvKey& k, int64_t OH, int64_t OW) {
  const auto t = dnnl_dtype(k.dt, "conv2d");
  const int64_t G = k.geo[6];
  const int64_t O = k.w[0];
  // With groups, oneDNN's weights are (G, O/G, C/G, kH, kW): the same bytes as OIHW.
  const dims w_dims =
      G == 1 ? dims{O, k.w[1], k.w[2], k.w[3]} : dims{G, O / G, k.w[1], k.w[2], k.w[3]};
  const tag w_tag = G == 1 ? tag::oihw : tag::goihw;
  const dims x_dims(k.x.begin(), k.x.end()), y_dims{k.x[0], O, OH, OW};
  return {.src = md(x_dims, t, tag::nchw),
          .weights = md(w_dims, t, w_tag),
          .bias = md({O}, t, tag::x),
          .dst = md(y_dims, t, tag::nchw),
          .src_any = md(x_dims, t, tag::any),
          .weights_any = md(w_dims, t, tag::any),
          .bias_any = md({O}, t, tag::x),
          .dst_any = md(y_dims, t, tag::any),
          .strides = {k.geo[0], k.geo[1]},
          // oneDNN counts dilation from 0 (a dense kernel has dilation 0).
          .dilates = {k.geo[4] - 1, k.geo[5] - 1},
          .padding = {k.geo[2], k.geo[3]}};
}

struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  Relayout src, weights, dst;
};
struct BackwardData {
  dnnl::convolution_backward_data prim;
  Relayout diff_dst, weights, diff_src;
};
struct BackwardWeights {
  dnnl::convolution_backward_weights prim;
  Relayout src, diff_dst, diff_weights;
};

struct ConvPrimitives {
  Descs d;
  std::unique_ptr<Forward> fwd;
  std::unique_ptr<BackwardData> bwd_data;
  std::unique_ptr<BackwardWeights> bwd_weights;
};

dnnl::convolution_forward::desc forward_desc(const Descs& d, bool bias) {
  const auto kind = dnnl::prop_kind::forward_training;
  const auto alg = dnnl::algorithm::convolution_direct;
  if (bias)
    return {kind,      alg,       d.src_any, d.weights_any, d.bias_any,
            d.dst_any, d.strides, d.dilates, d.padding,     d.padding};
  return {kind,      alg,       d.src_any, d.weights_any, d.dst_any,
          d.strides, d.dilates, d.padding, d.padding};
}

std::unique_ptr<Forward> make_forward(const ConvPrimitives& p, bool bias) {
  auto f = std::make_unique<Forward>();
  f->pd = dnnl::convolution_forward::primitive_desc(forward_desc(p.d, bias), dnnl_engine());
  f->prim = dnnl::convolution_forward(f->pd);
  f->src.init(p.d.src, f->pd.src_desc(), false);
  f->weights.init(p.d.weights, f->pd.weights_desc(), false);
  f->dst.init(p.d.dst, f->pd.dst_desc(), true);
  return f;
}

std::unique_ptr<BackwardData> make_backward_data(const ConvPrimitives& p, const Forward& f) {
  const Descs& d = p.d;
  const dnnl::convolution_backward_data::primitive_desc pd(
      {dnnl::algorithm::convolution_direct, d.src_any, d.weights_any, d.dst_any, d.strides,
       d.dilates, d.padding, d.padding},
      dnnl_engine(), f.pd);
  auto b = std::make_unique<BackwardData>();
  b->prim = dnnl::convolution_backward_data(pd);
  b->diff_dst.init(d.dst, pd.diff_dst_desc(), false);
  b->weights.init(d.weights, pd.weights_desc(), false);
  b->diff_src.init(d.src, pd.diff_src_desc(), true);
  return b;
}

std::unique_ptr<BackwardWeights> make_backward_weights(const ConvPrimitives& p, const Forward& f,
                                                       bool bias) {
  const Descs& d = p.d;
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto desc =
      bias ? dnnl::convolution_backward_weights::desc(alg, d.src_any, d.weights_any, d.bias_any,
                                                      d.dst_any, d.strides, d.dilates, d.padding,
                                                      d.padding)
           : dnnl::convolution_backward_weights::desc(alg, d.src_any, d.weights_any, d.dst_any,
                                                      d.strides, d.dilates, d.padding, d.padding);
  const dnnl::convolution_backward_weights::primitive_desc pd(desc, dnnl_engine(), f.pd);
  auto b = std::make_unique<BackwardWeights>();
  b->prim = dnnl::convolution_backward_weights(pd);
  b->src.init(d.src, pd.src_desc(), false);
  b->diff_dst.init(d.dst, pd.diff_dst_desc(), false);
  b->diff_weights.init(d.weights, pd.diff_weights_desc(), true);
  return b;
}

ConvKey key_of(const Tensor& x, const Tensor& w, const Conv2dGeometry& g, bool bias) {
  ConvKey k;
  for (int i = 0; i < 4; ++i) {
    k.x[i] = x.size(i);
    k.w[i] = w.size(i);
  }
  k.geo = {g.stride[0],   g.stride[1],   g.padding[0], g.padding[1],
           g.dilation[0], g.dilation[1], g.groups};
  k.dt = x.dtype();
  k.bias = bias;
  k.threads = omp_get_max_threads();
  return k;
}

ConvPrimitives& primitives(const ConvKey& k, int64_t OH, int64_t OW) {
  return *thread_cached<ConvKey, ConvKeyHash>(k, 128, [&] {
    auto p = std::make_unique<ConvPrimitives>();
    p->d = descs_of(k, OH, OW);
    return p;
  });
}

template <class T>
T& lazily(std::unique_ptr<T>& slot, auto&& make) {
  if (!slot) {
    try {
      slot = make();
    } catch (const dnnl::error& e) {
      fail("conv2d", fmt::format("oneDNN could not create a convolution primitive: {}", e.what()));
    }
  }
  return *slot;
}

void check_dtype(const Tensor& x, std::string_view op) {
  check(x.dtype() == DType::F32 || x.dtype() == DType::BF16, op,
        "expected f32, bf16 or f64 tensors, got {}", x.dtype());
}

}  // namespace

void CpuBackend::conv2d(const Conv2dArgs& a) {
  if (a.y.numel() == 0) return;
  if (a.x.dtype() == DType::F64) return conv2d_ref(a);
  check_dtype(a.x, "conv2d");
  const ConvKey k = key_of(a.x, a.weight, a.geo, a.bias.defined());
  ConvPrimitives& p = primitives(k, a.y.size(2), a.y.size(3));
  Forward& f = lazily(p.fwd, [&] { return make_forward(p, k.bias); });
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, f.src.in(a.x.raw_data())},
                                             {DNNL_ARG_WEIGHTS, f.weights.in(a.weight.raw_data())},
                                             {DNNL_ARG_DST, f.dst.out(a.y.raw_data())}};
  if (k.bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(p.d.bias, dnnl_engine(), a.bias.raw_data()));
  f.prim.execute(dnnl_stream(), args);
  f.dst.finish(a.y.raw_data());
}

void CpuBackend::conv2d_backward(const Conv2dBackwardArgs& a) {
  if (a.x.dtype() == DType::F64) return conv2d_backward_ref(a);
  check_dtype(a.x, "conv2d_backward");
  const bool want_bias = a.grad_bias.defined();
  if (a.grad_y.numel() == 0 || a.x.numel() == 0) {
    for (const Tensor* t : {&a.grad_x, &a.grad_weight, &a.grad_bias})
      if (t->defined()) fill(*t, 0.0);
    return;
  }
  const ConvKey k = key_of(a.x, a.weight, a.geo, want_bias);
  ConvPrimitives& p = primitives(k, a.grad_y.size(2), a.grad_y.size(3));
  Forward& f = lazily(p.fwd, [&] { return make_forward(p, k.bias); });
  if (a.grad_x.defined()) {
    BackwardData& b = lazily(p.bwd_data, [&] { return make_backward_data(p, f); });
    b.prim.execute(dnnl_stream(), {{DNNL_ARG_DIFF_DST, b.diff_dst.in(a.grad_y.raw_data())},
                                   {DNNL_ARG_WEIGHTS, b.weights.in(a.weight.raw_data())},
                                   {DNNL_ARG_DIFF_SRC, b.diff_src.out(a.grad_x.raw_data())}});
    b.diff_src.finish(a.grad_x.raw_data());
  }
  if (a.grad_weight.defined() || want_bias) {
    BackwardWeights& b =
        lazily(p.bwd_weights, [&] { return make_backward_weights(p, f, want_bias); });
    // The primitive always computes the weight gradient: without a destination it goes
    // to a scratch tensor.
    const Tensor gw = a.grad_weight.defined()
                          ? a.grad_weight
                          : Tensor::empty(a.weight.shape(), {.dtype = a.x.dtype()});
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, b.src.in(a.x.raw_data())},
        {DNNL_ARG_DIFF_DST, b.diff_dst.in(a.grad_y.raw_data())},
        {DNNL_ARG_DIFF_WEIGHTS, b.diff_weights.out(gw.raw_data())}};
    if (want_bias)
      args.emplace(DNNL_ARG_DIFF_BIAS,
                   dnnl::memory(p.d.bias, dnnl_engine(), a.grad_bias.raw_data()));
    b.prim.execute(dnnl_stream(), args);
    b.diff_weights.finish(gw.raw_data());
  }
}

}  // namespace descent::cpu
