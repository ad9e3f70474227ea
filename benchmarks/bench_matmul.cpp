// descent::matmul against raw oneDNN in the same binary: f32 square products next to
// dnnl_sgemm, bf16 next to a bare oneDNN matmul primitive. Counters report GFLOP/s.
//   OMP_NUM_THREADS=2 bench_matmul --benchmark_repetitions=5
//                                  --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <descent/descent.h>
#include <dnnl.h>

#include <dnnl.hpp>
#include <unordered_map>

using namespace descent;

namespace {

void set_flops(benchmark::State& st, int64_t m, int64_t n, int64_t k) {
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m) * double(n) * double(k) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// The whole op: checks, promotion, output allocation, primitive lookup, execution.
void BM_DescentMatmulF32(benchmark::State& st) {
  const int64_t n = st.range(0);
  Tensor a = randn({n, n}), b = randn({n, n});
  benchmark::DoNotOptimize(matmul(a, b).raw_data());  // warm: primitive creation, pages
  for (auto _ : st) {
    Tensor c = matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(st, n, n, n);
}

// The backend kernel into a preallocated output: what the op costs without allocation.
void BM_DescentKernelF32(benchmark::State& st) {
  const int64_t n = st.range(0);
  Tensor a = randn({n, n}), b = randn({n, n}), c = empty({n, n});
  Backend& be = backend_for(Device::CPU);
  be.matmul({.a = a, .b = b, .bias = {}, .out = c});
  for (auto _ : st) {
    be.matmul({.a = a, .b = b, .bias = {}, .out = c});
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(st, n, n, n);
}

void BM_DnnlSgemm(benchmark::State& st) {
  const int64_t n = st.range(0);
  Tensor a = randn({n, n}), b = randn({n, n}), c = empty({n, n});
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* pc = c.data<float>();
  dnnl_sgemm('N', 'N', n, n, n, 1.f, pa, n, pb, n, 0.f, pc, n);
  for (auto _ : st) {
    dnnl_sgemm('N', 'N', n, n, n, 1.f, pa, n, pb, n, 0.f, pc, n);
    benchmark::DoNotOptimize(pc);
  }
  set_flops(st, n, n, n);
}

void BM_DescentMatmulBF16(benchmark::State& st) {
  const int64_t n = st.range(0);
  Tensor a = randn({n, n}).to(DType::BF16), b = randn({n, n}).to(DType::BF16);
  benchmark::DoNotOptimize(matmul(a, b).raw_data());
  for (auto _ : st) {
    Tensor c = matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(st, n, n, n);
}

// A bare oneDNN bf16 matmul primitive, created once (no C gemm API for bf16 in 2.6).
void BM_DnnlMatmulBF16(benchmark::State& st) {
  const int64_t n = st.range(0);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const dnnl::memory::desc md({n, n}, dt::bf16, tag::ab);
  dnnl::matmul prim(dnnl::matmul::primitive_desc({md, md, md}, eng));
  Tensor a = randn({n, n}).to(DType::BF16), b = randn({n, n}).to(DType::BF16);
  Tensor c = empty({n, n}, {.dtype = DType::BF16});
  dnnl::memory ma(md, eng, a.raw_data()), mb(md, eng, b.raw_data()), mc(md, eng, c.raw_data());
  const std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
  prim.execute(s, args);
  for (auto _ : st) {
    prim.execute(s, args);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(st, n, n, n);
}

// A training-sized linear layer (MLP hidden layer, batch 128): bias fused, W transposed.
void BM_DescentLinearF32(benchmark::State& st) {
  Tensor x = randn({128, 784}), w = randn({512, 784}), b = randn({512});
  benchmark::DoNotOptimize(F::linear(x, w, b).raw_data());
  for (auto _ : st) {
    Tensor y = F::linear(x, w, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(st, 128, 512, 784);
}

}  // namespace

BENCHMARK(BM_DescentMatmulF32)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DescentKernelF32)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DnnlSgemm)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DescentMatmulBF16)->Arg(1024)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DnnlMatmulBF16)->Arg(1024)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DescentLinearF32)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
