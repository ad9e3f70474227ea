// GPU benchmarks (the goals of the CUDA backend, benchmarks/RESULTS.md), each next to
// its baseline in the same binary: matmul 4096³ in f32, TF32 and bf16 against cuBLAS
// called alone on the same buffers; an Adam step over 100M f32 parameters against a
// device-to-device copy (28 bytes per parameter against 8 for the copy); the LSTM
// training step of bench_lstm (T100 N64 512/512) in f32 and under bf16 autocast.
// Compare with benchmarks/torch_cuda.py on the same GPU. Without a GPU every benchmark
// reports "skipped: no CUDA device".
//   build/benchmarks/bench_cuda --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <descent/descent.h>
#include <descent/ops/lstm.h>

#include <chrono>
#include <cmath>
#include <vector>

using namespace descent;

namespace {

bool skip_without_gpu(benchmark::State& st) {
  if (cuda::is_available()) return false;
  st.SkipWithError("skipped: no CUDA device");
  return true;
}

// Times every iteration on the host from its start to the end of all GPU work it
// queued (cudaDeviceSynchronize: the baselines run on the legacy default stream,
// descent on its own stream).
template <class F>
void timed(benchmark::State& st, F&& body) {
  body();  // warm-up: handles, allocator blocks
  cuda::synchronize();
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    cudaDeviceSynchronize();
    st.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

enum class Precision { F32, TF32, BF16 };

// The n×n operands of both matmul benchmarks (arg 0: Precision), and their rate counter.
struct Gemm {
  static constexpr int n = 4096;
  Precision prec;
  DType dt;
  Tensor a, b;
  explicit Gemm(benchmark::State& st)
      : prec(Precision(st.range(0))),
        dt(prec == Precision::BF16 ? DType::BF16 : DType::F32),
        a(randn({n, n}, {.device = Device::CUDA}).to(dt)),
        b(randn({n, n}, {.device = Device::CUDA}).to(dt)) {}
  static void count(benchmark::State& st) {
    st.counters["TFLOP/s"] =
        benchmark::Counter(2.0 * n * n * n * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  }
};

// descent::matmul, 4096³.
void BM_CudaMatmul(benchmark::State& st) {
  if (skip_without_gpu(st)) return;
  const Gemm g(st);
  cuda::set_allow_tf32(g.prec == Precision::TF32);
  timed(st, [&] { benchmark::DoNotOptimize(matmul(g.a, g.b).raw_data()); });
  cuda::set_allow_tf32(false);
  Gemm::count(st);
}

// cublasGemmEx alone on buffers of the same size (the yardstick for BM_CudaMatmul).
void BM_CublasGemm(benchmark::State& st) {
  if (skip_without_gpu(st)) return;
  const Gemm g(st);
  const int n = Gemm::n;
  const Tensor c = Tensor::empty({n, n}, {.dtype = g.dt, .device = Device::CUDA});
  cublasHandle_t h = nullptr;
  cublasCreate(&h);
  const cudaDataType t = g.prec == Precision::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute =
      g.prec == Precision::TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const float one = 1, zero = 0;
  timed(st, [&] {
    cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, g.b.raw_data(), t, n, g.a.raw_data(),
                 t, n, &zero, c.raw_data(), t, n, compute, CUBLAS_GEMM_DEFAULT);
  });
  cublasDestroy(h);
  Gemm::count(st);
}

constexpr int64_t kParams = 100'000'000;

// optim::Adam over 100M parameters in 8 tensors (one multi-tensor step).
void BM_CudaAdamStep(benchmark::State& st) {
  if (skip_without_gpu(st)) return;
  std::vector<Tensor> ps;
  for (int i = 0; i < 8; ++i) {
    Tensor p = randn({kParams / 8}, {.device = Device::CUDA}).requires_grad_();
    p.set_grad(randn({kParams / 8}, {.device = Device::CUDA}) * 1e-2);
    ps.push_back(p);
  }
  optim::Adam opt(ps, {});
  timed(st, [&] { opt.step(); });
  st.SetBytesProcessed(int64_t(st.iterations()) * kParams * 28);
}

// cudaMemcpyAsync of 100M floats device to device: 8 bytes moved per float.
void BM_CudaDeviceCopy(benchmark::State& st) {
  if (skip_without_gpu(st)) return;
  const Tensor src = randn({kParams}, {.device = Device::CUDA});
  const Tensor dst = Tensor::empty({kParams}, {.device = Device::CUDA});
  timed(st, [&] {
    cudaMemcpyAsync(dst.raw_data(), src.raw_data(), size_t(kParams) * 4, cudaMemcpyDeviceToDevice);
  });
  st.SetBytesProcessed(int64_t(st.iterations()) * kParams * 8);
}

// y = lstm(x); y.sum().backward(), T100 N64 I512 H512. Arg: 1 for bf16 autocast.
void BM_CudaLstmStep(benchmark::State& st) {
  if (skip_without_gpu(st)) return;
  const bool bf16 = st.range(0) != 0;
  const int64_t T = 100, N = 64, I = 512, H = 512;
  const double k = 1.0 / std::sqrt(double(H));
  const auto leaf = [&](const Shape& s) {
    return (rand(s, {.device = Device::CUDA}) * (2 * k) - k).detach().requires_grad_();
  };
  std::vector<F::LstmLayerWeights> layers = {
      {leaf({4 * H, I}), leaf({4 * H, H}), leaf({4 * H}), leaf({4 * H})}};
  const Tensor x = randn({T, N, I}, {.device = Device::CUDA});
  timed(st, [&] {
    Tensor loss;
    {
      amp::Autocast cast(DType::BF16, bf16);
      loss = F::lstm(x, layers).output.to(DType::F32).sum();
    }
    loss.backward();
    for (auto& w : layers)
      for (Tensor* t : {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh}) t->set_grad({});
  });
}

}  // namespace

BENCHMARK(BM_CudaMatmul)->DenseRange(0, 2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CublasGemm)->DenseRange(0, 2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaAdamStep)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaDeviceCopy)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CudaLstmStep)->DenseRange(0, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
