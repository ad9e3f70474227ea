// BatchNorm1d forward + backward on (128, 512) f32 through the oneDNN kernels, in
// training and eval mode, and a training forward alone. Compare with
// benchmarks/torch_nn.py, run in the same session.
//   OMP_NUM_THREADS=2 build/benchmarks/bench_batchnorm --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <descent/descent.h>
#include <descent/nn/batchnorm.h>

using namespace descent;

namespace {

// y = bn(x); sum(y·v).backward(): gradients w.r.t. x, weight and bias.
void run_step(benchmark::State& st, bool training) {
  const int64_t N = st.range(0), C = st.range(1);
  nn::BatchNorm1d bn(C);
  if (!training) bn.eval();
  Tensor x = randn({N, C}).requires_grad_(), v = randn({N, C});
  for (auto _ : st) {
    (bn(x) * v).sum().backward();
    x.set_grad({});
    bn.zero_grad();
  }
}

void BM_BatchNorm1dTrainStep(benchmark::State& st) { run_step(st, true); }
void BM_BatchNorm1dEvalStep(benchmark::State& st) { run_step(st, false); }

void BM_BatchNorm1dForwardNoGrad(benchmark::State& st) {
  const int64_t N = st.range(0), C = st.range(1);
  nn::BatchNorm1d bn(C);
  Tensor x = randn({N, C});
  NoGradGuard no_grad;
  for (auto _ : st) {
    Tensor y = bn(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

}  // namespace

BENCHMARK(BM_BatchNorm1dTrainStep)->Args({128, 512})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm1dEvalStep)->Args({128, 512})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm1dForwardNoGrad)->Args({128, 512})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
