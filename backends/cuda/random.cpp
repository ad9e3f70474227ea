// PLACEHOLDER: not yet implemented; replaced by the real random family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::uniform(const Tensor&, double, double, Generator&) {
  fail("uniform", "not implemented on cuda yet");
}
void CudaBackend::normal(const Tensor&, double, double, Generator&) {
  fail("normal", "not implemented on cuda yet");
}

}  // namespace descent::cuda
