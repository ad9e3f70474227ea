// PLACEHOLDER: not yet implemented; replaced by the real softmax family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::softmax(const SoftmaxArgs&) {
  fail("softmax", "not implemented on cuda yet");
}
void CudaBackend::softmax_backward(const SoftmaxBackwardArgs&) {
  fail("softmax_backward", "not implemented on cuda yet");
}

}  // namespace descent::cuda
