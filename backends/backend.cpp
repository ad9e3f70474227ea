#include "backends/backend.h"

#include "backends/cpu/cpu_backend.h"

namespace descent {

#ifdef DESCENT_WITH_CUDA
Backend& cuda_backend(int index);  // backends/cuda
bool cuda_device_present();
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

bool cuda_available() {
#ifdef DESCENT_WITH_CUDA
  return cuda_device_present();
#else
  return false;
#endif
}

}  // namespace descent
