#include <descent/backends/backend.h>
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/thread_governor.h>
#include <descent/backends/slot_helpers.h>
#include <descent/core/cuda.h>

#include <cmath>

namespace descent {

#ifdef DESCENT_WITH_CUDA
Backend& cuda_backend(int index);  // backends/cuda
#endif

Backend& backend_for(Device device) {
  switch (device.type) {
    case DeviceType::CPU:
      cpu::before_cpu_op();  // the thread count of core/threads.h
      return cpu::cpu_backend();
    case DeviceType::CUDA:
#ifdef DESCENT_WITH_CUDA
      return cuda_backend(device.index);
#else
      throw Error("descent was built without CUDA: Device::CUDA is not available");
#endif
  }
  throw Error("backend_for: invalid device");
}

namespace {
// Storage (core/) asks this registry for memory; every device type's allocator is its
// backend's. Registered when the library loads, before any tensor can exist.
Allocator& backend_allocator(Device device) { return backend_for(device).allocator(); }
[[maybe_unused]] const bool g_allocators_registered = [] {
  register_allocator_source(DeviceType::CPU, &backend_allocator);
  register_allocator_source(DeviceType::CUDA, &backend_allocator);
  return true;
}();
}  // namespace

void Backend::power_sums(const PowerSumsArgs& a) {
  check_power_sums(a);
  for (size_t i = 0; i < a.xs.size(); ++i) {
    const Tensor& x = a.xs[i];
    // out[i] viewed with x's rank, so the reduce slot writes it directly.
    const Tensor out_i = make_view(a.out, Shape::filled(x.dim(), 1), Shape::filled(x.dim(), 0),
                                   a.out.offset() + int64_t(i));
    if (x.numel() == 0) {
      fill(out_i, 0.0);
      continue;
    }
    const Tensor t = Tensor::empty(x.shape(), {.dtype = DType::F64, .device = device()});
    copy(x, t);
    unary(UnaryOp::Abs, t, t, {});
    const uint32_t all = x.dim() == 0 ? 0u : uint32_t((uint64_t(1) << x.dim()) - 1);
    if (std::isinf(a.p)) {
      reduce({.op = ReduceOp::Max, .x = t, .dims = all, .out = out_i});
      continue;
    }
    if (a.p != 1) unary(UnaryOp::PowScalar, t, t, {.alpha = a.p});
    reduce({.op = ReduceOp::Sum, .x = t, .dims = all, .out = out_i});
  }
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
