// PLACEHOLDER: not yet implemented; replaced by the real optim family.
#include "backends/cuda/cuda_backend.h"

namespace descent::cuda {

void CudaBackend::sgd_update(const SgdUpdateArgs&) {
  fail("sgd_update", "not implemented on cuda yet");
}
void CudaBackend::rmsprop_update(const RmspropUpdateArgs&) {
  fail("rmsprop_update", "not implemented on cuda yet");
}
void CudaBackend::adam_update(const AdamUpdateArgs&) {
  fail("adam_update", "not implemented on cuda yet");
}
void CudaBackend::nadam_update(const NadamUpdateArgs&) {
  fail("nadam_update", "not implemented on cuda yet");
}
void CudaBackend::radam_update(const RadamUpdateArgs&) {
  fail("radam_update", "not implemented on cuda yet");
}
void CudaBackend::adagrad_update(const AdagradUpdateArgs&) {
  fail("adagrad_update", "not implemented on cuda yet");
}
void CudaBackend::adadelta_update(const AdadeltaUpdateArgs&) {
  fail("adadelta_update", "not implemented on cuda yet");
}
void CudaBackend::adamax_update(const AdamaxUpdateArgs&) {
  fail("adamax_update", "not implemented on cuda yet");
}
void CudaBackend::lion_update(const LionUpdateArgs&) {
  fail("lion_update", "not implemented on cuda yet");
}
void CudaBackend::sgd_update_multi(std::span<const SgdUpdateArgs>) {
  fail("sgd_update", "not implemented on cuda yet");
}
void CudaBackend::rmsprop_update_multi(std::span<const RmspropUpdateArgs>) {
  fail("rmsprop_update", "not implemented on cuda yet");
}
void CudaBackend::adam_update_multi(std::span<const AdamUpdateArgs>) {
  fail("adam_update", "not implemented on cuda yet");
}
void CudaBackend::nadam_update_multi(std::span<const NadamUpdateArgs>) {
  fail("nadam_update", "not implemented on cuda yet");
}
void CudaBackend::radam_update_multi(std::span<const RadamUpdateArgs>) {
  fail("radam_update", "not implemented on cuda yet");
}
void CudaBackend::adagrad_update_multi(std::span<const AdagradUpdateArgs>) {
  fail("adagrad_update", "not implemented on cuda yet");
}
void CudaBackend::adadelta_update_multi(std::span<const AdadeltaUpdateArgs>) {
  fail("adadelta_update", "not implemented on cuda yet");
}
void CudaBackend::adamax_update_multi(std::span<const AdamaxUpdateArgs>) {
  fail("adamax_update", "not implemented on cuda yet");
}
void CudaBackend::lion_update_multi(std::span<const LionUpdateArgs>) {
  fail("lion_update", "not implemented on cuda yet");
}

}  // namespace descent::cuda
