// PLACEHOLDER: not yet implemented; replaced by the real index family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::index_select(const IndexSelectArgs&) {
  fail("index_select", "not implemented on cuda yet");
}
void CudaBackend::index_add(const IndexAddArgs&) {
  fail("index_add", "not implemented on cuda yet");
}
void CudaBackend::gather(const GatherArgs&) {
  fail("gather", "not implemented on cuda yet");
}
void CudaBackend::scatter_add(const ScatterAddArgs&) {
  fail("scatter_add", "not implemented on cuda yet");
}

}  // namespace descent::cuda
