// CUDA device discovery (plain C++ against the CUDA runtime API). The CUDA kernel
// backend itself is not part of this build yet: asking for a CUDA tensor gives a clear
// error instead of undefined behaviour.
#include <cuda_runtime_api.h>

#include "backends/backend.h"

namespace descent {

bool cuda_device_present() {
  int n = 0;
  // Any error (no driver, driver too old, no device) means "no GPU".
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

Backend& cuda_backend(int index) {
  check(cuda_device_present(), fmt::format("cuda:{}", index),
        "no usable CUDA device (cudaGetDeviceCount failed or found none)");
  throw Error(
      "the CUDA kernel backend is not available in this version of descent; use Device::CPU");
}

}  // namespace descent
