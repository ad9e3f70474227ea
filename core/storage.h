#pragma once
// Storage: one refcounted block of device memory that tensors view into. CPU blocks
// are 64-byte aligned so that vector loads and oneDNN never see a split cache line.
#include <descent/core/device.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace descent {

// Hands out and takes back raw memory for one device. The CUDA backend's is a caching
// allocator; the CPU's is aligned_alloc.
struct MemoryStats {
  size_t allocated_bytes = 0;  // held by live storages now
  size_t peak_bytes = 0;       // most ever held at once (since reset_peak)
  size_t allocations = 0;      // calls to allocate so far
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
};

class Storage {
 public:
  Storage(size_t nbytes, Device device, Allocator* alloc);
  // Wraps memory the caller owns; `deleter` (may be empty) runs when the last view dies.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Counts the in-place writes to this memory (copy_, fill_, add_, mul_, optimizer and
  // running-statistics updates), as PyTorch's version counter: views share their
  // storage and so the count. The autograd engine compares it with the count a saved
  // tensor had at forward time, so a changed saved tensor is an error, not a wrong
  // gradient.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  uint64_t version_ = 0;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* alloc_ = nullptr;
  std::function<void(void*)> deleter_;
};

// Where each device type's memory comes from. Storage knows no backend: each backend
// registers the function that returns its allocator for a device (backends/backend.cpp
// does so for every device type at load time).
using AllocatorSource = Allocator& (*)(Device device);
void register_allocator_source(DeviceType type, AllocatorSource source);
// The allocator for `device`; throws when no backend registered one for its type.
Allocator& allocator_for(Device device);

// Allocates a storage of `nbytes` on `device` through allocator_for(device).
std::shared_ptr<Storage> make_storage(size_t nbytes, Device device);

// Memory held by tensors of a device (wrapped external memory not counted).
MemoryStats memory_stats(Device device = Device::CPU);
void reset_peak_memory(Device device = Device::CPU);

}  // namespace descent
