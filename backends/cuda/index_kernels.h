#pragma once
// Launchers of the indexing kernels (index_kernels.cu), called by index.cpp. Every
// kernel walks a LoopGeometry<3> of n elements whose operand 1 is the i64 index; the
// strides along the indexed dim are in bytes, like the geometry's. An
// index outside [0, bound) is clamped into it (bound ≥ 1) and sets *l.error_flag to
// DeviceError::IndexOutOfRange, which the backend raises at its next synchronize.
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// DeviceError::IndexOutOfRange (cuda_backend.h, which .cu files cannot include;
// index.cpp checks that the two agree).
inline constexpr int kIndexOutOfRangeCode = 1;

// out[off0] = x[off2 + index[off1]·x_dim_stride]: gather and index_select. Operand 0
// is out, operand 2 a view of x whose stride along the indexed dim is 0. Copies
// elements of elem_size bytes (1, 2, 4 or 8).
cudaError_t launch_gather(int elem_size, const LoopGeometry<3>& g, int64_t n, void* out,
                          const void* index, const void* x, int64_t x_dim_stride, int64_t bound,
                          Launch l);

// out[off0 + index[off1]·out_dim_stride] += src[off2] with atomics: scatter_add and
// index_add. Operand 0 is a view of out whose stride along the indexed dim is 0. Bool
// ORs, like the CPU.
cudaError_t launch_scatter_add(KDType dt, const LoopGeometry<3>& g, int64_t n, void* out,
                               const void* index, const void* src, int64_t out_dim_stride,
                               int64_t bound, Launch l);

}  // namespace descent::cuda
