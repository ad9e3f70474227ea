// The fused optimizer updates on the device: one kernel per rule and dtype, each block
// calling the rule's element function (backends/optim_rules.h) — the same function the
// CPU loop calls. This file is compiled with --fmad=false (CMakeLists.txt): nvcc would
// otherwise contract a·b + c into one FMA, which rounds once where the CPU rounds twice.
// With it, a step gives the CPU's result bit for bit.
#include <descent/backends/cuda/optim_kernels.h>

#include <array>

namespace descent::cuda {

namespace {

// One block per (tensor, slice). __grid_constant__ lets threads index the chunk in
// the parameter space directly instead of copying it to local memory.
template <class Rule, class T>
__global__ void __launch_bounds__(kOptimThreads)
    optim_kernel(const __grid_constant__ OptimChunk<Rule> c) {
  const int b = int(blockIdx.x);
  int t = 0;
  while (t + 1 < c.count && b >= c.block_start[t + 1]) ++t;
  const int64_t begin = int64_t(b - c.block_start[t]) * kOptimSlice;
  const int64_t end = begin + kOptimSlice < c.numel[t] ? begin + kOptimSlice : c.numel[t];
  const Rule& rule = c.rule[t];
  const auto k = rule.template consts<T>();
  const unsigned on = rule.switches();  // uniform across the block
  T* p = static_cast<T*>(c.param[t]);
  const T* g = static_cast<const T*>(c.grad[t]);
  T* slot[Rule::kSlots];
  for (int s = 0; s < Rule::kSlots; ++s) slot[s] = static_cast<T*>(c.slot[t][s]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) Rule::step(k, on, i, p, g, slot);
}

template <class Rule>
cudaError_t launch_rule(KDType dt, const void* chunk, Launch l) {
  const auto& c = *static_cast<const OptimChunk<Rule>*>(chunk);
  if (c.count <= 0) return cudaSuccess;
  const int blocks = c.block_start[c.count];
  if (blocks <= 0) return cudaSuccess;
  switch (dt) {
    case KDType::F32: optim_kernel<Rule, float><<<blocks, kOptimThreads, 0, l.stream>>>(c); break;
    case KDType::F64: optim_kernel<Rule, double><<<blocks, kOptimThreads, 0, l.stream>>>(c); break;
    case KDType::F16:
    case KDType::BF16:
    case KDType::I32:
    case KDType::I64:
    case KDType::Bool: return cudaErrorInvalidValue;  // params are f32 or f64
  }
  return cudaGetLastError();
}

using LaunchFn = cudaError_t (*)(KDType, const void*, Launch);
template <class... Rules>
constexpr std::array<LaunchFn, sizeof...(Rules)> launchers(RuleList<Rules...>) {
  return {&launch_rule<Rules>...};
}

}  // namespace

cudaError_t launch_optim(int rule, KDType dt, const void* chunk, Launch l) {
  static constexpr auto table = launchers(OptimRules{});
  if (rule < 0 || rule >= int(table.size())) return cudaErrorInvalidValue;
  return table[rule](dt, chunk, l);
}

}  // namespace descent::cuda
