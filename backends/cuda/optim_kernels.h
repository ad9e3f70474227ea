#pragma once
// The fused optimizer kernels' launch interface (optim_kernels.cu), called by optim.cpp.
// One launch updates a chunk of up to kOptimMaxTensors parameters with one rule of
// backends/optim_rules.h (multi-tensor apply): the chunk travels as the kernel's
// argument, and each block updates one slice of kOptimSlice elements of one tensor.
#include <descent/backends/cuda/kernels.h>
#include <descent/backends/optim_rules.h>

#include <cstdint>

namespace descent::cuda {

inline constexpr int kOptimMaxTensors = 48;
inline constexpr int kOptimThreads = 256;
inline constexpr int64_t kOptimSlice = 16 * kOptimThreads;  // elements per block

template <class Rule>
struct OptimChunk {
  int count = 0;  // tensors in the chunk
  void* param[kOptimMaxTensors];
  const void* grad[kOptimMaxTensors];
  void* slot[kOptimMaxTensors][Rule::kSlots];  // null where the rule leaves a slot unused
  int64_t numel[kOptimMaxTensors];
  // Tensor t owns blocks [block_start[t], block_start[t + 1]); block_start[count] is the
  // grid size.
  int32_t block_start[kOptimMaxTensors + 1];
  Rule rule[kOptimMaxTensors];  // each tensor's own scalars
};

// Kernel arguments may take 32,764 bytes on sm_70 and newer with CUDA 12.1+.
template <class... Rules>
constexpr bool chunks_fit(RuleList<Rules...>) {
  return ((sizeof(OptimChunk<Rules>) <= 32764) && ...);
}
static_assert(chunks_fit(OptimRules{}), "an OptimChunk must fit the kernel argument limit");

// Runs the chunk of rule number `rule` of OptimRules on elements of dtype dt (F32 or F64).
cudaError_t launch_optim(int rule, KDType dt, const void* chunk, Launch l);

template <class Rule>
cudaError_t launch_optim(KDType dt, const OptimChunk<Rule>& chunk, Launch l) {
  return launch_optim(rule_index<Rule>(OptimRules{}), dt, &chunk, l);
}

}  // namespace descent::cuda
