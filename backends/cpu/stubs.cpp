// Slots not implemented yet: they throw instead of computing garbage.
#include "backends/cpu/cpu_backend.h"

namespace descent::cpu {

void CpuBackend::matmul(const MatmulArgs&) { fail("matmul", "not implemented on the CPU yet"); }
void CpuBackend::softmax(const SoftmaxArgs&) { fail("softmax", "not implemented yet"); }
void CpuBackend::softmax_backward(const SoftmaxBackwardArgs&) {
  fail("softmax_backward", "not implemented yet");
}
void CpuBackend::index_select(const IndexSelectArgs&) { fail("index_select", "not implemented"); }
void CpuBackend::index_add(const IndexAddArgs&) { fail("index_add", "not implemented"); }
void CpuBackend::gather(const GatherArgs&) { fail("gather", "not implemented"); }
void CpuBackend::scatter_add(const ScatterAddArgs&) { fail("scatter_add", "not implemented"); }

}  // namespace descent::cpu
