// Framework overhead on tiny tensors, where the kernels cost next to nothing: one
// add without autograd, and a 4-op forward + backward with autograd. Compare with
// benchmarks/torch_dispatch.py.
#include <benchmark/benchmark.h>
#include <descent/descent.h>

using namespace descent;

namespace {

void BM_AddNoGrad16(benchmark::State& st) {
  Tensor a = randn({16}), b = randn({16});
  for (auto _ : st) {
    Tensor c = a + b;
    benchmark::DoNotOptimize(c.raw_data());
  }
}

// y = ((a·b) + a).exp().sum(); y.backward(): mul, add, exp, sum forward, their four
// backwards, and two leaf accumulations. Gradients are reset like `a.grad = None`.
void BM_ForwardBackward4Op16(benchmark::State& st) {
  Tensor a = randn({16}).requires_grad_(), b = randn({16}).requires_grad_();
  for (auto _ : st) {
    Tensor y = ((a * b) + a).exp().sum();
    y.backward();
    a.set_grad(Tensor());
    b.set_grad(Tensor());
  }
}

// The same forward without backward, to split the cost.
void BM_Forward4OpWithGrad16(benchmark::State& st) {
  Tensor a = randn({16}).requires_grad_(), b = randn({16}).requires_grad_();
  for (auto _ : st) {
    Tensor y = ((a * b) + a).exp().sum();
    benchmark::DoNotOptimize(y.raw_data());
  }
}

// Allocation alone: the floor under any op that returns a new tensor.
void BM_Empty16(benchmark::State& st) {
  for (auto _ : st) {
    Tensor c = Tensor::empty({16});
    benchmark::DoNotOptimize(c.raw_data());
  }
}

}  // namespace

BENCHMARK(BM_AddNoGrad16);
BENCHMARK(BM_ForwardBackward4Op16);
BENCHMARK(BM_Forward4OpWithGrad16);
BENCHMARK(BM_Empty16);

BENCHMARK_MAIN();
