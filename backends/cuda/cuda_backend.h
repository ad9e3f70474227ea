#pragma once
// The CUDA backend: cuBLAS for matmul, cuDNN for batch norm and LSTM, our own kernels
// for the rest, all queued on one stream per device so that nothing on the training
// path waits for the GPU. Only copies to the host and all_finite synchronize. Like
// PyTorch's, a device's cuBLAS and cuDNN handles are shared: one host thread at a time
// should queue work on a device. Each family has a host side, <family>.cpp (checks,
// library calls), and device code, <family>_kernels.cu (kernels.h explains the split):
// copy, elementwise, reduce, softmax, index, random, optim; matmul.cpp, batchnorm.cpp
// and lstm.cpp are host code over cuBLAS and cuDNN.
#include <cuda_runtime_api.h>
#include <descent/backends/backend.h>
#include <descent/core/cuda.h>

#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>

struct cublasContext;
struct cudnnContext;

namespace descent::cuda {

// Caching allocator. cudaMalloc and cudaFree synchronize the device and cost tens of
// µs, so freed blocks are kept and handed out again (best fit by size). Sizes round
// up to 512 bytes below 1 MiB and to 2 MiB above, so blocks of similar tensors are
// interchangeable. All work of a device runs on its one stream, so a block freed by
// the host can be reused by the next kernel on that stream without an event. When
// cudaMalloc fails, the cache is returned to the driver and the call retried once;
// a second failure is a descent::Error that names the sizes and leaves the process
// usable.
class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}
  ~CudaAllocator() override;
  void* allocate(size_t nbytes) override;
  void deallocate(void* p, size_t nbytes) override;
  MemoryStats stats() const override;
  void reset_peak() override;
  // Returns every cached (free) block to the driver.
  void empty_cache();
  size_t cached_bytes() const;

  static size_t round_size(size_t nbytes);

 private:
  int device_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;       // rounded size → block
  std::unordered_map<void*, size_t> live_;  // block → rounded size
  size_t allocated_ = 0, peak_ = 0, count_ = 0, cached_ = 0;
  void release_cache_locked();
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index);
  ~CudaBackend() override;

  Device device() const override { return Device::cuda(index_); }
  Allocator& allocator() override { return alloc_; }
  void synchronize() override;

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
  bool all_finite_multi(std::span<const Tensor> xs) override;

  void batch_norm(const BatchNormArgs& args) override;
  void batch_norm_backward(const BatchNormBackwardArgs& args) override;
  void conv2d(const Conv2dArgs& args) override;                   // conv.cpp (cuDNN)
  void conv2d_backward(const Conv2dBackwardArgs& args) override;  // conv.cpp
  void pool2d(const Pool2dArgs& args) override;                   // pool.cpp
  void pool2d_backward(const Pool2dBackwardArgs& args) override;  // pool.cpp
  void layer_norm(const LayerNormArgs& args) override;            // layer_norm.cpp
  void layer_norm_backward(const LayerNormBackwardArgs& args) override;
  void lstm(LstmArgs& args) override;
  void lstm_backward(const LstmBackwardArgs& args) override;

  void optimizer_step(UpdateSpan updates) override;

  // ---- for the kernels ----
  int index() const { return index_; }
  cudaStream_t stream() const { return stream_; }
  cublasContext* cublas();  // created on first use, bound to stream()
  cudnnContext* cudnn();    // likewise
  CudaAllocator& cuda_allocator() { return alloc_; }
  // A device word kernels set to a nonzero code when they meet a bad index (which
  // they then clamp, so memory stays safe). Reading it would stall the stream, so it
  // is checked where the host waits anyway: synchronize() and all_finite() throw
  // when it is set, naming the op that set it.
  int* error_flag() const { return error_flag_; }
  // Makes this backend's device current for the calling thread.
  void activate() const;

 private:
  void raise_device_errors();

  int index_;
  CudaAllocator alloc_;
  cudaStream_t stream_ = nullptr;
  cublasContext* cublas_ = nullptr;
  cudnnContext* cudnn_ = nullptr;
  int* error_flag_ = nullptr;
  std::mutex handle_mu_;
};

// The backend of device `index` (created on first use).
CudaBackend& backend(int index);

// Codes of the device error flag (see CudaBackend::error_flag).
enum class DeviceError : int { None = 0, IndexOutOfRange = 1 };

}  // namespace descent::cuda
