// PLACEHOLDER: not yet implemented; replaced by the real lstm family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::lstm(LstmArgs&) {
  fail("lstm", "not implemented on cuda yet");
}
void CudaBackend::lstm_backward(const LstmBackwardArgs&) {
  fail("lstm_backward", "not implemented on cuda yet");
}

}  // namespace descent::cuda
