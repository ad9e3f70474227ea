#include "backends/cpu/cpu_backend.h"
namespace descent::cpu {
void CpuBackend::matmul(const MatmulArgs&) { fail("matmul", "not implemented on the CPU yet"); }
}  // namespace descent::cpu
