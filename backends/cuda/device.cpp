// CUDA devices: discovery, one CudaBackend per device (its stream, cuBLAS/cuDNN
// handles and error flag), and the user-facing functions of core/cuda.h.
#include <cublas_v2.h>
#include <cudnn.h>
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>

#include <array>
#include <atomic>
#include <mutex>

namespace descent {

Backend& cuda_backend(int index) { return cuda::backend(index); }

namespace cuda {

namespace {
constexpr int kMaxDevices = 16;
std::atomic<bool> g_tf32{false};
}  // namespace

CudaBackend& backend(int index) {
  // Every op asks for its backend: the common case is one atomic load, no driver call.
  static std::array<std::atomic<CudaBackend*>, kMaxDevices> backends{};
  if (index >= 0 && index < kMaxDevices) {
    if (CudaBackend* b = backends[size_t(index)].load(std::memory_order_acquire)) return *b;
  }
  static std::mutex mu;
  std::lock_guard lock(mu);
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    fail(fmt::format("cuda:{}", index),
         fmt::format("no usable CUDA device ({}: {})", cudaGetErrorName(e), cudaGetErrorString(e)));
  }
  check(index >= 0 && index < n && index < kMaxDevices, fmt::format("cuda:{}", index),
        "no such device: {} GPU(s) present", n);
  auto& slot = backends[size_t(index)];
  // Never deleted: tensors held in statics may free their memory after static
  // destructors have run.
  if (!slot.load()) slot.store(new CudaBackend(index), std::memory_order_release);
  return *slot.load();
}

CudaBackend::CudaBackend(int index) : index_(index), alloc_(index) {
  activate();
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&error_flag_), sizeof(int)));
  CUDA_CHECK(cudaMemsetAsync(error_flag_, 0, sizeof(int), stream_));
}

CudaBackend::~CudaBackend() {
  // Errors are ignored here: the driver may already be shutting down.
  if (cublas_) cublasDestroy(cublas_);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (error_flag_) cudaFree(error_flag_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaBackend::activate() const { CUDA_CHECK(cudaSetDevice(index_)); }

cublasContext* CudaBackend::cublas() {
  std::lock_guard lock(handle_mu_);
  if (!cublas_) {
    activate();
    CUBLAS_CHECK(cublasCreate(&cublas_));
    CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  }
  return cublas_;
}

cudnnContext* CudaBackend::cudnn() {
  std::lock_guard lock(handle_mu_);
  if (!cudnn_) {
    activate();
    CUDNN_CHECK(cudnnCreate(&cudnn_));
    CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  }
  return cudnn_;
}

void CudaBackend::synchronize() {
  activate();
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  raise_device_errors();
}

// The host has just waited for the stream, so reading the flag costs no extra stall.
// Both the read and the reset go on stream_: the plain cudaMemcpy / cudaMemset would
// run on the legacy default stream, which does not order with a non-blocking stream, so
// the reset could land after a later kernel on stream_ had raised the flag again.
void CudaBackend::raise_device_errors() {
  int code = 0;
  CUDA_CHECK(cudaMemcpyAsync(&code, error_flag_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (code == int(DeviceError::None)) return;
  CUDA_CHECK(cudaMemsetAsync(error_flag_, 0, sizeof(int), stream_));
  fail(fmt::format("cuda:{}", index_),
       "an index_select, index_add, gather or scatter_add queued earlier met an index out "
       "of range (it was clamped; the results of that op are wrong)");
}

// ---- core/cuda.h --------------------------------------------------------------------

int device_count() {
  int n = 0;
  // Any error (no driver, driver too old, no device) means "no GPU".
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

bool is_available() { return device_count() > 0; }

void synchronize(int device) { backend(device).synchronize(); }
void empty_cache(int device) { backend(device).cuda_allocator().empty_cache(); }
size_t cached_bytes(int device) { return backend(device).cuda_allocator().cached_bytes(); }
void* current_stream(int device) { return backend(device).stream(); }
bool allow_tf32() { return g_tf32.load(); }
void set_allow_tf32(bool on) { g_tf32.store(on); }

}  // namespace cuda
}  // namespace descent
