#pragma once
// Launchers of the scan (cumsum / cumprod) and sort kernels, called by scan_sort.cpp.
// Tensors arrive contiguous and checked (slot_helpers.h's check_scan / check_sort).
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// out = the running sum (prod = false) or product of x along the middle dim of
// (outer, n, inner); one thread per line, in order, as the CPU.
cudaError_t launch_scan(Launch l, KDType dt, bool prod, int64_t outer, int64_t n, int64_t inner,
                        void* out, const void* x);

// Sorts each row of x (rows, n) into values and i64 indices, stably, NaN greatest.
// `segments` is scratch of rows·n i64.
cudaError_t launch_sort(Launch l, KDType dt, bool descending, int64_t rows, int64_t n,
                        const void* x, void* values, int64_t* indices, int64_t* segments);

}  // namespace descent::cuda
