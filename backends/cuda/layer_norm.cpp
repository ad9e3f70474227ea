// Layer norm on CUDA: the row kernels of norm_pool_kernels.cu (f32 and f64).
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/norm_pool_kernels.h>

namespace descent::cuda {

void CudaBackend::layer_norm(const LayerNormArgs& a) {
  activate();
  check_device(device(), a.x, "layer_norm");
  check(a.x.dtype() == DType::F32 || a.x.dtype() == DType::F64, "layer_norm",
        "expected f32 or f64, got {}", a.x.dtype());
  const auto ptr = [](const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; };
  CUDA_CHECK(launch_layer_norm(kdtype(a.x.dtype()), a.x.raw_data(), ptr(a.weight), ptr(a.bias),
                               a.y.raw_data(), a.mean.raw_data(), a.var.raw_data(), a.x.size(0),
                               a.x.size(1), a.eps, Launch{stream(), error_flag()}));
}

void CudaBackend::layer_norm_backward(const LayerNormBackwardArgs& a) {
  activate();
  check_device(device(), a.x, "layer_norm_backward");
  check(a.x.dtype() == DType::F32 || a.x.dtype() == DType::F64, "layer_norm_backward",
        "expected f32 or f64, got {}", a.x.dtype());
  const auto ptr = [](const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; };
  CUDA_CHECK(launch_layer_norm_backward(
      kdtype(a.x.dtype()), a.x.raw_data(), a.grad_y.raw_data(), ptr(a.weight), a.mean.raw_data(),
      a.var.raw_data(), a.grad_x.raw_data(), ptr(a.grad_weight), ptr(a.grad_bias), a.x.size(0),
      a.x.size(1), a.eps, Launch{stream(), error_flag()}));
}

}  // namespace descent::cuda
