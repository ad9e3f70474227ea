#pragma once
// Shared oneDNN plumbing for the CPU backend (matmul here; batch norm, LSTM and
// softmax elsewhere): the one CPU engine and stream, dtype mapping, and memory
// descriptors built from a Tensor's shape and strides. Internal to backends/cpu:
// oneDNN is a private dependency of the library.
#include <descent/core/tensor.h>

#include <cstdint>
#include <dnnl.hpp>
#include <memory>
#include <unordered_map>

namespace descent::cpu {

// The process-wide CPU engine and stream. oneDNN's CPU stream executes synchronously
// with the OpenMP runtime, so no wait() is needed after execute().
dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// True for the dtypes oneDNN 2.6 has on the CPU (f32, bf16, f16, i32).
bool dnnl_supports(DType t);
// The oneDNN data type of `t`; throws naming `op` for dtypes oneDNN lacks (f64, i64, bool).
dnnl::memory::data_type dnnl_dtype(DType t, std::string_view op);

// A plain descriptor with t's shape and strides (a 0-dim tensor becomes {1}). Dims of
// size 1 get the stride a dense layout would give them, so that descriptors of
// equivalent views compare equal and match oneDNN's plain format tags.
dnnl::memory::desc dnnl_desc(const Tensor& t, std::string_view op);
// Same for explicit dims and element strides.
dnnl::memory::desc dnnl_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides,
                             DType t, std::string_view op);

// A memory object over t's data (no copy). The tensor must outlive its use.
dnnl::memory dnnl_memory(const Tensor& t, std::string_view op);

// One operand of a primitive created with format_tag::any: the user's plain layout, the
// layout the primitive chose, and a cached reorder between them when they differ (the
// padded or blocked layouts of ONEDNN.md's pitfall 3: compare descriptors, not tags).
struct Relayout {
  dnnl::memory::desc user, prim;
  dnnl::memory prim_mem;  // owns a buffer in the primitive's layout when !same
  dnnl::reorder reorder;  // user → primitive for inputs, primitive → user for outputs
  bool same = true;

  void init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& prim_md, bool to_user);
  // An input: the primitive's view of the user's data, reordered into prim_mem when the
  // layouts differ.
  dnnl::memory in(void* data);
  // An output: where the primitive writes; finish() then moves it into the user's data.
  dnnl::memory out(void* data);
  void finish(void* data);
};

// FNV-1a over 64-bit words: the hash of the primitive caches' keys.
class KeyHash {
 public:
  KeyHash& mix(uint64_t v) {
    h_ = (h_ ^ v) * 1099511628211ull;
    return *this;
  }
  template <class Range>
  KeyHash& mix_all(const Range& values) {
    for (auto v : values) mix(uint64_t(v));
    return *this;
  }
  size_t value() const { return size_t(h_); }

 private:
  uint64_t h_ = 1469598103934665603ull;
};

// This thread's cache of oneDNN objects by key: the slot for `key`, filled by make()
// (a std::unique_ptr<Value>, null allowed) on a miss. Per thread, so the hot path takes
// no lock and a primitive runs with the thread count it was made for (the keys hold
// omp_get_max_threads()); oneDNN's own cache makes a second thread's creation cheap.
// Cleared when it reaches `capacity` entries. One cache per call site.
template <class Key, class Hash, class Make>
auto& thread_cached(const Key& key, size_t capacity, Make&& make) {
  using Ptr = decltype(make());
  thread_local std::unordered_map<Key, Ptr, Hash> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= capacity) cache.clear();
  Ptr p = make();
  return cache.emplace(key, std::move(p)).first->second;
}

}  // namespace descent::cpu
