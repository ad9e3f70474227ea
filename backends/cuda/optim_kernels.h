#pragma once
// The fused optimizer kernels' launch interface (optim_kernels.cu), called by optim.cpp.
// One launch updates a chunk of up to kOptimMaxTensors parameters with one rule
// (multi-tensor apply): the chunk travels as the kernel's argument, and each block
// updates one slice of kOptimSlice elements of one tensor. Per-tensor scalars are
// deduplicated into a few scalar sets, so a chunk stays under 4 KB (the limit on kernel
// arguments before CUDA 12.1 and on GPUs before Volta; sm_90 allows 32 KB).
#include <cstdint>

#include "backends/cuda/kernels.h"

namespace descent::cuda {

enum class OptimRule : uint8_t {
  Sgd,
  Rmsprop,
  Adam,
  Nadam,
  Radam,
  Adagrad,
  Adadelta,
  Adamax,
  Lion
};

inline constexpr int kOptimMaxTensors = 48;
inline constexpr int kOptimMaxSets = 8;
inline constexpr int kOptimMaxOperands = 5;  // param, grad and up to three state tensors
inline constexpr int kOptimMaxScalars = 10;
inline constexpr int kOptimThreads = 256;
inline constexpr int64_t kOptimSlice = 16 * kOptimThreads;  // elements per block

// Flag bits of OptimScalars::flags. Bits 0 and 1 mean the same for every rule; the
// rule-specific ones are documented where optim.cpp packs them.
inline constexpr uint32_t kOptMaximize = 1u << 0;
inline constexpr uint32_t kOptWeightDecay = 1u << 1;  // weight_decay != 0
inline constexpr uint32_t kOptFlag2 = 1u << 2;
inline constexpr uint32_t kOptFlag3 = 1u << 3;
inline constexpr uint32_t kOptFlag4 = 1u << 4;

// The scalars of one update, as doubles exactly as the CPU backend computes them in
// double (e.g. 1 - beta1); the kernel rounds each to the param's dtype, as the CPU does.
struct OptimScalars {
  double v[kOptimMaxScalars];
  uint32_t flags;
};

struct OptimChunk {
  OptimRule rule = OptimRule::Sgd;
  int count = 0;  // tensors in the chunk
  int sets = 0;   // scalar sets in use
  // Operand order per rule: see optim.cpp's pack_* functions. Unused entries are null.
  void* ptr[kOptimMaxTensors][kOptimMaxOperands];
  int64_t numel[kOptimMaxTensors];
  // Tensor t owns blocks [block_start[t], block_start[t + 1]); block_start[count] is the
  // grid size.
  int32_t block_start[kOptimMaxTensors + 1];
  uint8_t set[kOptimMaxTensors];  // index into scalars
  OptimScalars scalars[kOptimMaxSets];
};
static_assert(sizeof(OptimChunk) <= 4096, "an OptimChunk must fit the 4 KB kernel argument limit");

// Runs the chunk's updates on elements of dtype dt (F32 or F64).
cudaError_t launch_optim(KDType dt, const OptimChunk& chunk, Launch l);

}  // namespace descent::cuda
