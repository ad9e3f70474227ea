// One optimizer step over 10M f32 parameters in four tensors (4M + 3M + 2M + 1M), the
// fused kernels against a memcpy bandwidth baseline in the same binary. Bytes counted
// per parameter (reads + writes): Adam 28 (p, g, m, v read; p, m, v written),
// SGD-momentum and RMSprop 20, memcpy 8 (one float read, one written). Compare
// bytes_per_second across rows, and the times with benchmarks/torch_optim.py.
#include <benchmark/benchmark.h>
#include <descent/descent.h>
#include <descent/optim.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using namespace descent;

namespace {

constexpr int64_t kParams = 10'000'000;

std::vector<Tensor> make_params() {
  std::vector<Tensor> ps;
  for (int64_t n : {4'000'000, 3'000'000, 2'000'000, 1'000'000}) {
    Tensor p = randn({n}).requires_grad_();
    p.set_grad(randn({n}) * 1e-2);
    ps.push_back(p);
  }
  return ps;
}

template <class Opt, class Options>
void step_bench(benchmark::State& st, const Options& options, int64_t bytes_per_param) {
  std::vector<Tensor> ps = make_params();
  Opt opt(ps, options);
  opt.step();  // allocates the state outside the timed loop
  for (auto _ : st) opt.step();
  st.SetBytesProcessed(int64_t(st.iterations()) * kParams * bytes_per_param);
}

void BM_AdamStep(benchmark::State& st) { step_bench<optim::Adam>(st, optim::AdamOptions{}, 28); }
void BM_AdamWStep(benchmark::State& st) { step_bench<optim::AdamW>(st, optim::AdamWOptions{}, 28); }
void BM_SgdMomentumStep(benchmark::State& st) {
  step_bench<optim::SGD>(st, optim::SGDOptions{.lr = 0.01, .momentum = 0.9}, 20);
}
void BM_RmspropStep(benchmark::State& st) {
  step_bench<optim::RMSprop>(st, optim::RMSpropOptions{}, 20);
}

// The whole step between backward() and the next forward, as a mixed-precision loop
// with clipping runs it: GradScaler.unscale_, clip_grad_norm_ (which clips: the
// gradients' norm is ~30), GradScaler.step (inf check + Adam) and update. Compare with
// BM_AdamStep: the extra cost is what reading the gradients for the scaler and the clip
// adds (goal ≤ 1.3× the Adam step alone).
void BM_AdamStepScaledClipped(benchmark::State& st) {
  std::vector<Tensor> ps = make_params();
  optim::Adam opt(ps);
  amp::GradScaler scaler({.init_scale = 1024, .growth_interval = 1 << 30});
  opt.step();
  for (auto _ : st) {
    for (Tensor& p : ps) p.set_grad(pending_grad(p).grad);  // as if backward had just run
    scaler.unscale_(opt);
    nn::utils::clip_grad_norm_(ps, 1.0);
    scaler.step(opt);
    scaler.update();
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * kParams * 28);
}

// memcpy of the same 10M floats (40 MB → 40 MB), on one thread and split over
// `threads` std::threads (the kernels run on OMP_NUM_THREADS threads).
void BM_Memcpy(benchmark::State& st) {
  const int threads = int(st.range(0));
  std::unique_ptr<float[]> src(new float[kParams]), dst(new float[kParams]);
  std::memset(src.get(), 1, kParams * sizeof(float));
  std::memset(dst.get(), 0, kParams * sizeof(float));
  for (auto _ : st) {
    if (threads == 1) {
      std::memcpy(dst.get(), src.get(), kParams * sizeof(float));
    } else {
      std::vector<std::thread> pool;
      const int64_t chunk = kParams / threads;
      for (int t = 0; t < threads; ++t) {
        const int64_t b = t * chunk, n = t == threads - 1 ? kParams - b : chunk;
        pool.emplace_back([&, b, n] { std::memcpy(dst.get() + b, src.get() + b, n * 4); });
      }
      for (auto& th : pool) th.join();
    }
    benchmark::DoNotOptimize(dst.get());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * kParams * 8);
}

}  // namespace

BENCHMARK(BM_Memcpy)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamStepScaledClipped)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamWStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SgdMomentumStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RmspropStep)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
