#include "core/storage.h"

#include "backends/backend.h"

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

std::shared_ptr<Storage> make_storage(size_t nbytes, Device device) {
  Backend& be = backend_for(device);
  return std::make_shared<Storage>(nbytes, device, &be.allocator());
}

MemoryStats memory_stats(Device device) { return backend_for(device).allocator().stats(); }
void reset_peak_memory(Device device) { backend_for(device).allocator().reset_peak(); }

}  // namespace descent
