#pragma once
// The CPU backend: oneDNN primitives for matmul, batch norm and the LSTM (with f64
// reference loops beside them), OpenMP-parallel strided loops for everything else. Each
// family lives in its own file: copy.cpp, elementwise.cpp, reduce.cpp, matmul.cpp,
// softmax.cpp, index.cpp, random.cpp, batchnorm.cpp, conv.cpp, pool.cpp,
// layer_norm.cpp, lstm.cpp, norm.cpp (gradient-norm
// power sums), optim.cpp (the fused optimizer rules' loop).
#include <descent/backends/backend.h>

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace descent::cpu {

// 64-byte aligned blocks. Small blocks (≤ kSmallBlock bytes) are kept on per-size free
// lists after use: the many tiny tensors of an autograd graph then cost no trip through
// malloc's aligned path. Large blocks are kept too, by exact size, up to
// kLargeCacheBytes in all: a training step allocates the same activation sizes every
// time, and handing them back to the system (glibc trims freed heap tops and unmaps
// large chunks) made every step fault its pages in again.
class CpuAllocator final : public Allocator {
 public:
  static constexpr size_t kSmallBlock = 4096;
  static constexpr size_t kCachedPerClass = 256;
  static constexpr size_t kLargeCacheBytes = size_t(256) << 20;

  void* allocate(size_t nbytes) override;
  void deallocate(void* p, size_t nbytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;

 private:
  std::atomic<size_t> allocated_{0}, peak_{0}, count_{0};
  std::mutex mu_;
  std::vector<void*> free_[kSmallBlock / 64];
  std::multimap<size_t, void*> large_;  // cached large blocks by rounded size
  size_t large_bytes_ = 0;
};

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::CPU; }
  Allocator& allocator() override { return alloc_; }
  void synchronize() override {}

  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void arange(const Tensor& out, double start, double step) override;

  void unary(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;

  void reduce(const ReduceArgs& args) override;
  void matmul(const MatmulArgs& args) override;
  void softmax(const SoftmaxArgs& args) override;
  void softmax_backward(const SoftmaxBackwardArgs& args) override;

  void index_select(const IndexSelectArgs& args) override;
  void index_add(const IndexAddArgs& args) override;
  void gather(const GatherArgs& args) override;
  void scatter_add(const ScatterAddArgs& args) override;

  void scan(const ScanArgs& args) override;
  void sort(const SortArgs& args) override;

  void uniform(const Tensor& out, double lo, double hi, Generator& gen) override;
  void normal(const Tensor& out, double mean, double std, Generator& gen) override;

  bool all_finite(const Tensor& x) override;

  // ---- batch norm (batchnorm.cpp: oneDNN f32; batchnorm_ref.cpp: f64) ----
  void batch_norm(const BatchNormArgs& args) override;
  void batch_norm_backward(const BatchNormBackwardArgs& args) override;

  // ---- convolution (conv.cpp: oneDNN f32/bf16; conv_ref.cpp: f64), pooling (pool.cpp),
  // layer norm (layer_norm.cpp: oneDNN f32 and f64 loops) ----
  void conv2d(const Conv2dArgs& args) override;
  void conv2d_backward(const Conv2dBackwardArgs& args) override;
  void pool2d(const Pool2dArgs& args) override;
  void pool2d_backward(const Pool2dBackwardArgs& args) override;
  void layer_norm(const LayerNormArgs& args) override;
  void layer_norm_backward(const LayerNormBackwardArgs& args) override;

  // ---- LSTM (lstm.cpp: oneDNN f32; lstm_ref.cpp: f64) ----
  void lstm(LstmArgs& args) override;
  void lstm_backward(const LstmBackwardArgs& args) override;

  // Gradient norms: norm.cpp.
  void power_sums(const PowerSumsArgs& args) override;

  // Fused optimizer updates: backends/cpu/optim.cpp.
  void optimizer_step(UpdateSpan updates) override;

 private:
  CpuAllocator alloc_;
};

CpuBackend& cpu_backend();

}  // namespace descent::cpu
