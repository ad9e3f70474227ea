// The caching device allocator (cuda_backend.h explains the policy).
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>

namespace descent::cuda {

namespace {
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t(2) << 20;
constexpr size_t kSmallLimit = size_t(1) << 20;
// A cached block serves a request when it is at most this much larger (so a 1 GiB
// block is not spent on a 2 MiB tensor).
constexpr size_t kMaxSlack = size_t(2);
}  // namespace

size_t CudaAllocator::round_size(size_t nbytes) {
  const size_t n = std::max<size_t>(nbytes, 1);
  const size_t r = n < kSmallLimit ? kSmallRound : kLargeRound;
  return (n + r - 1) / r * r;
}

CudaAllocator::~CudaAllocator() = default;  // the process is ending: leave blocks to the driver

void* CudaAllocator::allocate(size_t nbytes) {
  const size_t size = round_size(nbytes);
  std::lock_guard lock(mu_);
  void* p = nullptr;
  auto it = free_.lower_bound(size);
  if (it != free_.end() && it->first <= size * kMaxSlack) {
    p = it->second;
    live_[p] = it->first;
    cached_ -= it->first;
    free_.erase(it);
  } else {
    CUDA_CHECK(cudaSetDevice(device_));
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cache_locked();
      e = cudaMalloc(&p, size);
    }
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      fail(fmt::format("cuda:{}", device_),
           fmt::format("out of memory allocating {} bytes ({} MiB held by tensors, {} MiB free "
                       "of {} MiB on the device)",
                       nbytes, allocated_ >> 20, free_b >> 20, total_b >> 20));
    }
    check_cuda(e, "cudaMalloc");
    live_[p] = size;
  }
  allocated_ += nbytes;
  peak_ = std::max(peak_, allocated_);
  ++count_;
  return p;
}

void CudaAllocator::deallocate(void* p, size_t nbytes) {
  std::lock_guard lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) return;  // not ours: never happens through Storage
  free_.emplace(it->second, p);
  cached_ += it->second;
  live_.erase(it);
  allocated_ -= nbytes;
}

MemoryStats CudaAllocator::stats() const {
  std::lock_guard lock(mu_);
  return {allocated_, peak_, count_};
}

void CudaAllocator::reset_peak() {
  std::lock_guard lock(mu_);
  peak_ = allocated_;
}

void CudaAllocator::empty_cache() {
  std::lock_guard lock(mu_);
  release_cache_locked();
}

size_t CudaAllocator::cached_bytes() const {
  std::lock_guard lock(mu_);
  return cached_;
}

// Blocks may still be read by queued kernels: wait for the device before freeing them
// (cudaFree synchronizes too; this makes the ordering explicit).
void CudaAllocator::release_cache_locked() {
  if (free_.empty()) return;
  CUDA_CHECK(cudaSetDevice(device_));
  CUDA_CHECK(cudaDeviceSynchronize());
  // Each block leaves the list as it is freed, so a failing cudaFree leaves the list
  // holding only blocks that are still allocated.
  while (!free_.empty()) {
    auto it = free_.begin();
    void* p = it->second;
    cached_ -= it->first;
    free_.erase(it);
    CUDA_CHECK(cudaFree(p));
  }
}

}  // namespace descent::cuda
