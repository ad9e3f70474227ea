// Pooling on CUDA: the kernels of norm_pool_kernels.cu over contiguous (N·C, H, W)
// planes, with the window arithmetic of backends/conv_geometry.h.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/norm_pool_kernels.h>

namespace descent::cuda {

namespace {

PoolPlanes planes_of(const Tensor& x, const Tensor& y) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

void check_pool(const Device& dev, std::initializer_list<const Tensor*> ts, std::string_view op) {
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    check_device(dev, *t, op);
    check(t->is_contiguous() && t->dim() == 4, op, "expected contiguous 4-D tensors, got {}",
          t->shape());
  }
}

}  // namespace

void CudaBackend::pool2d(const Pool2dArgs& a) {
  activate();
  check_pool(device(), {&a.x, &a.y, &a.indices}, "pool2d");
  CUDA_CHECK(launch_pool2d(kdtype(a.x.dtype()), a.x.raw_data(), a.y.raw_data(),
                           a.indices.defined() ? a.indices.data<int64_t>() : nullptr, a.geo,
                           planes_of(a.x, a.y), Launch{stream(), error_flag()}));
}

void CudaBackend::pool2d_backward(const Pool2dBackwardArgs& a) {
  activate();
  check_pool(device(), {&a.grad_y, &a.grad_x, &a.indices}, "pool2d_backward");
  CUDA_CHECK(launch_pool2d_backward(kdtype(a.grad_y.dtype()), a.grad_y.raw_data(),
                                    a.indices.defined() ? a.indices.data<int64_t>() : nullptr,
                                    a.grad_x.raw_data(), a.geo, planes_of(a.grad_x, a.grad_y),
                                    Launch{stream(), error_flag()}));
}

}  // namespace descent::cuda
