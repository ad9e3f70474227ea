#include "backends/cpu/cpu_backend.h"
namespace descent::cpu {
void CpuBackend::index_select(const IndexSelectArgs&) { fail("index_select", "not implemented"); }
void CpuBackend::index_add(const IndexAddArgs&) { fail("index_add", "not implemented"); }
void CpuBackend::gather(const GatherArgs&) { fail("gather", "not implemented"); }
void CpuBackend::scatter_add(const ScatterAddArgs&) { fail("scatter_add", "not implemented"); }
}  // namespace descent::cpu
