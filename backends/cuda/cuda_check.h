#pragma once
// Every CUDA runtime, cuBLAS and cuDNN call goes through one of these: a failure
// becomes a descent::Error naming the call and the library's message. The runtime's
// sticky "last error" is cleared first, so that after an Error (out of memory, say)
// the next call does not report it again and the process stays usable.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <descent/core/error.h>

namespace descent::cuda {

inline void check_cuda(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return;
  cudaGetLastError();
  throw Error(
      fmt::format("{}: CUDA error {} ({})", call, cudaGetErrorName(e), cudaGetErrorString(e)));
}

inline void check_cublas(cublasStatus_t s, const char* call) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw Error(fmt::format("{}: cuBLAS error {} ({})", call, cublasGetStatusName(s),
                          cublasGetStatusString(s)));
}

inline void check_cudnn(cudnnStatus_t s, const char* call) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  throw Error(fmt::format("{}: cuDNN error {}", call, cudnnGetErrorString(s)));
}

}  // namespace descent::cuda

// The call's own text is its name in the message: CUDA_CHECK(cudaMemcpyAsync(...)).
#define CUDA_CHECK(expr) ::descent::cuda::check_cuda((expr), #expr)
#define CUBLAS_CHECK(expr) ::descent::cuda::check_cublas((expr), #expr)
#define CUDNN_CHECK(expr) ::descent::cuda::check_cudnn((expr), #expr)
