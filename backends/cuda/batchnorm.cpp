// PLACEHOLDER: not yet implemented; replaced by the real batchnorm family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::batch_norm(const BatchNormArgs&) {
  fail("batch_norm", "not implemented on cuda yet");
}
void CudaBackend::batch_norm_backward(const BatchNormBackwardArgs&) {
  fail("batch_norm_backward", "not implemented on cuda yet");
}

}  // namespace descent::cuda
