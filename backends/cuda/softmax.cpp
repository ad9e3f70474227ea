// Softmax and log-softmax on CUDA, forward and backward, along any dim: the checks shared
// with backends/cpu/softmax.cpp (slot_helpers.h), a contiguous copy of strided inputs,
// then the (outer, d, inner) kernels of softmax_kernels.cu.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/softmax_kernels.h>
#include <descent/backends/slot_helpers.h>

namespace descent::cuda {

void CudaBackend::softmax(const SoftmaxArgs& a) {
  activate();
  const std::string_view op = a.log ? "log_softmax" : "softmax";
  const int dim = check_softmax(a);
  check_device(device(), a.x, op);
  check_device(device(), a.out, op);
  if (a.x.numel() == 0) return;
  check(a.out.is_contiguous(), op, "output must be contiguous");
  const Tensor x = contiguous_copy(*this, a.x);
  const SoftmaxLayout l = softmax_layout(x.shape(), dim);
  CUDA_CHECK(launch_softmax(kdtype(x.dtype()), x.raw_data(), a.out.raw_data(), l.outer, l.d,
                            l.inner, a.log, Launch{stream(), error_flag()}));
}

void CudaBackend::softmax_backward(const SoftmaxBackwardArgs& a) {
  activate();
  const std::string_view op = a.log ? "log_softmax_backward" : "softmax_backward";
  const int dim = check_softmax_backward(a);
  check_device(device(), a.y, op);
  check_device(device(), a.grad, op);
  check_device(device(), a.grad_in, op);
  if (a.y.numel() == 0) return;
  check(a.grad_in.is_contiguous(), op, "grad_in must be contiguous");
  const Tensor y = contiguous_copy(*this, a.y);
  const Tensor g = contiguous_copy(*this, a.grad);
  const SoftmaxLayout l = softmax_layout(y.shape(), dim);
  CUDA_CHECK(launch_softmax_backward(kdtype(y.dtype()), y.raw_data(), g.raw_data(),
                                     a.grad_in.raw_data(), l.outer, l.d, l.inner, a.log,
                                     Launch{stream(), error_flag()}));
}

}  // namespace descent::cuda
