// LSTM training steps (forward + backward through the fused oneDNN kernels) and
// inference forwards. Compare with benchmarks/torch_nn.py, run in the same session.
//   OMP_NUM_THREADS=2 build/benchmarks/bench_lstm --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <descent/descent.h>
#include <descent/ops/lstm.h>

using namespace descent;

namespace {

std::vector<F::LstmLayerWeights> make_layers(int64_t I, int64_t H) {
  const double k = 1.0 / std::sqrt(double(H));
  const auto leaf = [&](const Shape& s) {
    Tensor t = rand(s) * (2 * k) - k;
    return t.detach().requires_grad_();
  };
  return {{leaf({4 * H, I}), leaf({4 * H, H}), leaf({4 * H}), leaf({4 * H})}};
}

// One step: y = lstm(x); loss = sum(y); loss.backward(); gradients reset like
// optimizer.zero_grad(set_to_none=True). Args: T, N, I, H, and 1 for bf16 autocast
// (f32 master weights, bf16 GEMMs).
void BM_LstmTrainStep(benchmark::State& st) {
  const int64_t T = st.range(0), N = st.range(1), I = st.range(2), H = st.range(3);
  const bool bf16 = st.range(4) != 0;
  auto layers = make_layers(I, H);
  Tensor x = randn({T, N, I});
  for (auto _ : st) {
    Tensor loss;
    {
      amp::Autocast cast(DType::BF16, bf16);
      loss = F::lstm(x, layers).output.to(DType::F32).sum();
    }
    loss.backward();
    for (auto& w : layers) {
      for (Tensor* t : {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh}) t->set_grad({});
    }
  }
}

void BM_LstmForwardNoGrad(benchmark::State& st) {
  const int64_t T = st.range(0), N = st.range(1), I = st.range(2), H = st.range(3);
  auto layers = make_layers(I, H);
  Tensor x = randn({T, N, I});
  NoGradGuard no_grad;
  for (auto _ : st) {
    auto r = F::lstm(x, layers);
    benchmark::DoNotOptimize(r.output.raw_data());
  }
}

}  // namespace

BENCHMARK(BM_LstmTrainStep)
    ->ArgsProduct({{28}, {128}, {28}, {128}, {0, 1}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LstmTrainStep)
    ->ArgsProduct({{100}, {64}, {512}, {512}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK(BM_LstmForwardNoGrad)->Args({28, 128, 28, 128})->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
