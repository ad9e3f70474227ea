// CPU memory: aligned_alloc, with freed blocks kept for reuse (cpu_backend.h says why).
#include <descent/backends/cpu/cpu_backend.h>

#include <cstdlib>

namespace descent::cpu {

namespace {
// Under AddressSanitizer blocks go straight back to malloc so use-after-free is caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif
size_t rounded(size_t nbytes) { return std::max<size_t>(64, (nbytes + 63) / 64 * 64); }
}  // namespace

void* CpuAllocator::allocate(size_t nbytes) {
  const size_t n = rounded(nbytes);
  void* p = nullptr;
  if (kCache && n <= kSmallBlock) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& list = free_[n / 64 - 1];
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
    }
  } else if (kCache) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = large_.find(n);
    if (it != large_.end()) {
      p = it->second;
      large_.erase(it);
      large_bytes_ -= n;
    }
  }
  if (!p) p = std::aligned_alloc(64, n);
  if (!p) throw Error(fmt::format("allocate: out of memory asking for {} bytes", nbytes));
  const size_t now = allocated_.fetch_add(nbytes) + nbytes;
  size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void CpuAllocator::deallocate(void* p, size_t nbytes) {
  allocated_.fetch_sub(nbytes);
  const size_t n = rounded(nbytes);
  if (kCache && n <= kSmallBlock) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& list = free_[n / 64 - 1];
    if (list.size() < kCachedPerClass) {
      list.push_back(p);
      return;
    }
  } else if (kCache && n <= kLargeCacheBytes / 4) {
    std::lock_guard<std::mutex> lock(mu_);
    // Room is made by freeing cached blocks, smallest first.
    while (large_bytes_ + n > kLargeCacheBytes && !large_.empty()) {
      std::free(large_.begin()->second);
      large_bytes_ -= large_.begin()->first;
      large_.erase(large_.begin());
    }
    large_.emplace(n, p);
    large_bytes_ += n;
    return;
  }
  std::free(p);
}

MemoryStats CpuAllocator::stats() const { return {allocated_.load(), peak_.load(), count_.load()}; }

void CpuAllocator::reset_peak() { peak_.store(allocated_.load()); }

}  // namespace descent::cpu
