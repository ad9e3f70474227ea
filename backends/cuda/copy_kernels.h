#pragma once
// Launchers of the copy-family kernels (copy.cpp): same-dtype strided copies, dtype
// conversions, fills and arange. Strided operands come as a LoopGeometry (operand 0 is
// the destination, byte strides, 0 = broadcast); each launcher takes a dense fast path
// when the geometry is one contiguous run and returns the launch's error.
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// dst = src bit for bit, elements of `elem_size` bytes (1, 2, 4 or 8).
cudaError_t launch_copy_bits(Launch l, int elem_size, const LoopGeometry<2>& g, int64_t n,
                             void* dst, const void* src);

// dst = src converted from `src_dt` to `dst_dt` (different dtypes): to Bool is v != 0,
// floats to integers truncate, 16-bit floats round to nearest even (through f32).
cudaError_t launch_convert(Launch l, KDType dst_dt, KDType src_dt, const LoopGeometry<2>& g,
                           int64_t n, void* dst, const void* src);

// Every element of dst set to the `elem_size`-byte pattern `bits` (the value already
// converted to dst's dtype by the host).
cudaError_t launch_fill(Launch l, int elem_size, uint64_t bits, const LoopGeometry<1>& g, int64_t n,
                        void* dst);

// out[i] = start + i·step, computed in double (no FMA contraction, as on the CPU) and
// converted to `dt`; out is contiguous.
cudaError_t launch_arange(Launch l, KDType dt, int64_t n, void* out, double start, double step);

}  // namespace descent::cuda
