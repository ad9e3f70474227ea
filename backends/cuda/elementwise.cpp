// PLACEHOLDER: not yet implemented; replaced by the real elementwise family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::unary(UnaryOp, const Tensor&, const Tensor&, UnaryParams) {
  fail("unary", "not implemented on cuda yet");
}
void CudaBackend::binary(BinaryOp, const Tensor&, const Tensor&, const Tensor&) {
  fail("binary", "not implemented on cuda yet");
}
void CudaBackend::where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  fail("where", "not implemented on cuda yet");
}

}  // namespace descent::cuda
