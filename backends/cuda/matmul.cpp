// PLACEHOLDER: not yet implemented; replaced by the real matmul family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::matmul(const MatmulArgs&) {
  fail("matmul", "not implemented on cuda yet");
}

}  // namespace descent::cuda
