// A conv layer's forward + backward (input, weight and bias gradients) through descent,
// next to the raw oneDNN primitives in the same binary, and the mnist_cnn training step
// (f32 and under bf16 autocast). Compare with benchmarks/torch_cnn.py, run in the same
// session on the same shapes and threads.
//   OMP_NUM_THREADS=2 bench_conv --benchmark_repetitions=5
//                                --benchmark_report_aggregates_only=true
//
// The raw floors, per shape (N, C, H, W) → O with a 3×3 kernel, padding 1:
// - RawNchw: what a oneDNN program with plain NCHW/OIHW tensors runs — the primitives
//   with format_tag::any and the reorders from and to its tensors (descent's path);
// - RawBlocked: the primitives alone, every operand already in the layout they chose
//   (a program that keeps its activations blocked between layers).
#include <benchmark/benchmark.h>
#include <descent/descent.h>

#include <dnnl.hpp>
#include <unordered_map>

using namespace descent;

namespace {

struct Shape4 {
  int64_t N, C, H, W, O;
};
Shape4 shape_of(const benchmark::State& st) {
  return {st.range(0), st.range(1), st.range(2), st.range(2), st.range(3)};
}

void set_flops(benchmark::State& st, const Shape4& s) {
  // Forward, backward data and backward weights: three products of 2·N·O·H·W·C·9.
  const double f = 3 * 2.0 * double(s.N * s.O * s.H * s.W * s.C * 9);
  st.counters["GFLOP/s"] =
      benchmark::Counter(f * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DescentConvStep(benchmark::State& st) {
  const Shape4 s = shape_of(st);
  Tensor x = randn({s.N, s.C, s.H, s.W}).requires_grad_();
  Tensor w = (randn({s.O, s.C, 3, 3}) * 0.1).requires_grad_(), b = zeros({s.O}).requires_grad_();
  const Tensor v = randn({s.N, s.O, s.H, s.W});
  for (auto _ : st) {
    Tensor y = F::conv2d(x, w, b, {.padding = 1});
    y.backward(v);
    x.set_grad({});
    w.set_grad({});
    b.set_grad({});
  }
  set_flops(st, s);
}

// The three primitives of one layer, with user NCHW buffers and (when `reorder`) the
// reorders between them and the primitives' layouts.
void raw_step(benchmark::State& st, bool reorder) {
  using tag = dnnl::memory::format_tag;
  using md = dnnl::memory::desc;
  const Shape4 s = shape_of(st);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const auto f32 = dnnl::memory::data_type::f32;
  const dnnl::memory::dims xd{s.N, s.C, s.H, s.W}, wd{s.O, s.C, 3, 3}, bd{s.O},
      yd{s.N, s.O, s.H, s.W}, one{1, 1}, zero{0, 0};
  const md x_any(xd, f32, tag::any), w_any(wd, f32, tag::any), y_any(yd, f32, tag::any),
      b_md(bd, f32, tag::x);
  const auto alg = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, alg, x_any, w_any, b_md, y_any, one, zero, one, one},
      eng);
  const dnnl::convolution_backward_data::primitive_desc bwd_d(
      {alg, x_any, w_any, y_any, one, zero, one, one}, eng, fwd);
  const dnnl::convolution_backward_weights::primitive_desc bwd_w(
      {alg, x_any, w_any, b_md, y_any, one, zero, one, one}, eng, fwd);
  // User buffers (NCHW / OIHW) and the primitives' own.
  const md x_u(xd, f32, tag::nchw), w_u(wd, f32, tag::oihw), y_u(yd, f32, tag::nchw);
  dnnl::memory xu(x_u, eng), wu(w_u, eng), yu(y_u, eng), gyu(y_u, eng), gxu(x_u, eng),
      gwu(w_u, eng), bias(b_md, eng), gbias(b_md, eng);
  for (dnnl::memory* m : {&xu, &wu, &gyu}) {
    auto* p = static_cast<float*>(m->get_data_handle());
    for (size_t i = 0; i < m->get_desc().get_size() / 4; ++i) p[i] = float(i % 7) * 0.1f;
  }
  std::memset(bias.get_data_handle(), 0, size_t(s.O) * 4);
  dnnl::memory xp(fwd.src_desc(), eng), wp(fwd.weights_desc(), eng), yp(fwd.dst_desc(), eng),
      gyp(bwd_d.diff_dst_desc(), eng), wbp(bwd_d.weights_desc(), eng),
      gxp(bwd_d.diff_src_desc(), eng), xwp(bwd_w.src_desc(), eng), gywp(bwd_w.diff_dst_desc(), eng),
      gwp(bwd_w.diff_weights_desc(), eng);
  const dnnl::convolution_forward f(fwd);
  const dnnl::convolution_backward_data bd_(bwd_d);
  const dnnl::convolution_backward_weights bw(bwd_w);
  bool relayout = true;  // the first pass fills the primitives' buffers with real values
  auto move = [&](dnnl::memory& from, dnnl::memory& to) {
    if (relayout && from.get_desc() != to.get_desc())
      dnnl::reorder(from, to).execute(strm, from, to);
  };
  auto step = [&] {
    move(xu, xp);
    move(wu, wp);
    f.execute(
        strm,
        {{DNNL_ARG_SRC, xp}, {DNNL_ARG_WEIGHTS, wp}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, yp}});
    move(yp, yu);
    move(gyu, gyp);
    move(wu, wbp);
    bd_.execute(strm,
                {{DNNL_ARG_DIFF_DST, gyp}, {DNNL_ARG_WEIGHTS, wbp}, {DNNL_ARG_DIFF_SRC, gxp}});
    move(gxp, gxu);
    move(xu, xwp);
    move(gyu, gywp);
    bw.execute(strm, {{DNNL_ARG_SRC, xwp},
                      {DNNL_ARG_DIFF_DST, gywp},
                      {DNNL_ARG_DIFF_WEIGHTS, gwp},
                      {DNNL_ARG_DIFF_BIAS, gbias}});
    move(gwp, gwu);
  };
  step();
  relayout = reorder;
  for (auto _ : st) step();
  set_flops(st, s);
}

void BM_RawNchwConvStep(benchmark::State& st) { raw_step(st, true); }
void BM_RawBlockedConvStep(benchmark::State& st) { raw_step(st, false); }

// mnist_cnn's network (width 32) and one Adam step on a batch of 128 images.
std::shared_ptr<nn::Sequential> make_cnn() {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(nn::Unflatten(1, {1, 28, 28}));
  for (auto [in, out] : {std::pair<int64_t, int64_t>{1, 32}, {32, 64}}) {
    for (int64_t c : {in, out}) {
      s->push_back(nn::Conv2d(c, out, 3, {.padding = 1, .bias = false}));
      s->push_back(nn::BatchNorm2d(out));
      s->push_back(nn::ReLU());
    }
    s->push_back(nn::MaxPool2d(2));
  }
  s->push_back(nn::Flatten());
  s->push_back(nn::Linear(64 * 7 * 7, 10));
  return s;
}

void cnn_step(benchmark::State& st, bool bf16) {
  auto model = make_cnn();
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  const Tensor x = randn({128, 784});
  const Tensor y = randint(0, 10, {128}, {.dtype = DType::I64});
  for (auto _ : st) {
    opt.zero_grad();
    Tensor loss;
    {
      amp::Autocast cast(DType::BF16, bf16);
      loss = F::cross_entropy((*model)(x), y);
    }
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  st.counters["samples/s"] = benchmark::Counter(128, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CnnTrainStepF32(benchmark::State& st) { cnn_step(st, false); }
void BM_CnnTrainStepBF16(benchmark::State& st) { cnn_step(st, true); }

}  // namespace

#define CONV_SHAPES \
  ->Args({128, 32, 28, 32})->Args({128, 32, 14, 64})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_DescentConvStep) CONV_SHAPES;
BENCHMARK(BM_RawNchwConvStep) CONV_SHAPES;
BENCHMARK(BM_RawBlockedConvStep) CONV_SHAPES;
BENCHMARK(BM_CnnTrainStepF32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CnnTrainStepBF16)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
