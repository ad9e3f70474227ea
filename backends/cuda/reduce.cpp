// PLACEHOLDER: not yet implemented; replaced by the real reduce family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::reduce(const ReduceArgs&) {
  fail("reduce", "not implemented on cuda yet");
}
bool CudaBackend::all_finite(const Tensor&) {
  fail("all_finite", "not implemented on cuda yet");
}
bool CudaBackend::all_finite_multi(std::span<const Tensor>) {
  fail("all_finite", "not implemented on cuda yet");
}

}  // namespace descent::cuda
