#include "backends/cpu/cpu_backend.h"
namespace descent::cpu {
void CpuBackend::softmax(const SoftmaxArgs&) { fail("softmax", "not implemented yet"); }
void CpuBackend::softmax_backward(const SoftmaxBackwardArgs&) {
  fail("softmax_backward", "not implemented yet");
}
}  // namespace descent::cpu
