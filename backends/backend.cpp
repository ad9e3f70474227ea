#include "backends/backend.h"

#include "backends/cpu/cpu_backend.h"
#include "core/cuda.h"

namespace descent {

#ifdef DESCENT_WITH_CUDA
Backend& cuda_backend(int index);  // backends/cuda
#endif

Backend& backend_for(Device device) {
  switch (device.type) {
    case DeviceType::CPU: return cpu::cpu_backend();
    case DeviceType::CUDA:
#ifdef DESCENT_WITH_CUDA
      return cuda_backend(device.index);
#else
      throw Error("descent was built without CUDA: Device::CUDA is not available");
#endif
  }
  throw Error("backend_for: invalid device");
}

bool cuda_available() { return cuda::is_available(); }

bool cuda::is_built() {
#ifdef DESCENT_WITH_CUDA
  return true;
#else
  return false;
#endif
}

#ifndef DESCENT_WITH_CUDA
// A CPU-only build: no device, and the device functions say why.
namespace cuda {
namespace {
[[noreturn]] void no_cuda(std::string_view what) {
  fail(what, "descent was built without CUDA: Device::CUDA is not available");
}
}  // namespace
bool is_available() { return false; }
int device_count() { return 0; }
void synchronize(int) { no_cuda("cuda::synchronize"); }
void empty_cache(int) {}
size_t cached_bytes(int) { return 0; }
void* current_stream(int) { no_cuda("cuda::current_stream"); }
bool allow_tf32() { return false; }
void set_allow_tf32(bool) {}
}  // namespace cuda
#endif

}  // namespace descent
