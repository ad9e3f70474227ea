// PLACEHOLDER: not yet implemented; replaced by the real copy family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::copy(const Tensor&, const Tensor&) {
  fail("copy", "not implemented on cuda yet");
}
void CudaBackend::fill(const Tensor&, double) {
  fail("fill", "not implemented on cuda yet");
}
void CudaBackend::arange(const Tensor&, double, double) {
  fail("arange", "not implemented on cuda yet");
}

}  // namespace descent::cuda
