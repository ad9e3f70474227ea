#include <descent/core/error.h>
#include <descent/core/storage.h>

#include <array>
#include <atomic>

namespace descent {

Storage::Storage(size_t nbytes, Device device, Allocator* alloc)
    : nbytes_(nbytes), device_(device), alloc_(alloc) {
  data_ = alloc_->allocate(nbytes);
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (alloc_) {
    alloc_->deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

namespace {
// Constant-initialised, so registrations made while other files' statics initialise
// are never overwritten. One entry per DeviceType.
std::array<std::atomic<AllocatorSource>, 2> g_sources{};

size_t source_index(DeviceType type) {
  switch (type) {
    case DeviceType::CPU: return 0;
    case DeviceType::CUDA: return 1;
  }
  fail("allocator_for", "invalid device type");
}
}  // namespace

void register_allocator_source(DeviceType type, AllocatorSource source) {
  g_sources[source_index(type)].store(source, std::memory_order_release);
}

Allocator& allocator_for(Device device) {
  const AllocatorSource source =
      g_sources[source_index(device.type)].load(std::memory_order_acquire);
  check(source != nullptr, "allocator_for", "no backend registered an allocator for {}", device);
  return source(device);
}

std::shared_ptr<Storage> make_storage(size_t nbytes, Device device) {
  return std::make_shared<Storage>(nbytes, device, &allocator_for(device));
}

MemoryStats memory_stats(Device device) { return allocator_for(device).stats(); }
void reset_peak_memory(Device device) { allocator_for(device).reset_peak(); }

}  // namespace descent
