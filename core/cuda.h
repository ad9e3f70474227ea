#pragma once
// The CUDA device as a user sees it. Every function works in a CPU-only build too
// (is_available() is then false and the rest throw or do nothing, as documented).
//
//   if (cuda::is_available()) model.to(Device::CUDA);
#include <cstddef>

namespace descent::cuda {

// True when this build has the CUDA backend (whether or not a GPU is present).
bool is_built();
// True when this build has the CUDA backend and at least one GPU is usable.
bool is_available();
// GPUs usable (0 when none or when built without CUDA).
int device_count();
// Waits for every queued kernel of `device`. Throws if an earlier kernel met a bad
// index (see CudaBackend::error_flag) or failed.
void synchronize(int device = 0);
// Returns the caching allocator's free blocks of `device` to the driver.
void empty_cache(int device = 0);
// Bytes the caching allocator keeps free for reuse on `device`.
size_t cached_bytes(int device = 0);
// The cudaStream_t every kernel of `device` is queued on (as a void*, so this header
// needs no CUDA headers): a custom op's own kernels go on it to stay in order with
// descent's. Throws without CUDA.
void* current_stream(int device = 0);
// f32 matmuls on tensor cores as TF32 (10-bit mantissa). Off by default.
bool allow_tf32();
void set_allow_tf32(bool on);

}  // namespace descent::cuda
