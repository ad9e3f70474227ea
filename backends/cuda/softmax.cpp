// Softmax and log-softmax on CUDA, forward and backward, along any dim: the checks of
// backends/cpu/softmax.cpp, a contiguous copy of strided inputs, then the
// (outer, d, inner) kernels of softmax_kernels.cu.
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/softmax_kernels.h"

namespace descent::cuda {

namespace {

struct Layout {
  int64_t outer = 1, d = 1, inner = 1;
};

Layout layout_of(const Shape& shape, int dim) {
  Layout l;
  for (int i = 0; i < shape.size(); ++i) {
    if (i < dim) {
      l.outer *= shape[i];
    } else if (i == dim) {
      l.d = shape[i];
    } else {
      l.inner *= shape[i];
    }
  }
  return l;
}

KDType kdtype(DType t) { return KDType(uint8_t(t)); }

void check_device(const Device& want, const Tensor& t, std::string_view op) {
  check(t.device() == want, op, "expected tensors on {}, got one on {}", want, t.device());
}

// A contiguous tensor with t's values: t itself when it already is one.
Tensor contiguous_copy(CudaBackend& be, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), {.dtype = t.dtype(), .device = be.device()});
  be.copy(t, c);
  return c;
}

void check_same(const Tensor& t, const Tensor& ref, std::string_view op, std::string_view what) {
  check(t.defined() && t.shape() == ref.shape() && t.dtype() == ref.dtype(), op,
        "{} must have shape {} and dtype {}, got {} {}", what, ref.shape(), ref.dtype(),
        t.defined() ? fmt::format("{}", t.shape()) : "undefined",
        t.defined() ? dtype_name(t.dtype()) : "");
}

}  // namespace

void CudaBackend::softmax(const SoftmaxArgs& a) {
  activate();
  const std::string_view op = a.log ? "log_softmax" : "softmax";
  check_same(a.out, a.x, op, "output");
  check(is_floating(a.x.dtype()), op, "expected a floating dtype (f32, f64, f16, bf16), got {}",
        a.x.dtype());
  const int dim = wrap_dim(a.dim, a.x.dim(), op);
  check_device(device(), a.x, op);
  check_device(device(), a.out, op);
  if (a.x.numel() == 0) return;
  check(a.out.is_contiguous(), op, "output must be contiguous");
  const Tensor x = contiguous_copy(*this, a.x);
  const Layout l = layout_of(x.shape(), dim);
  CUDA_CHECK(launch_softmax(kdtype(x.dtype()), x.raw_data(), a.out.raw_data(), l.outer, l.d,
                            l.inner, a.log, Launch{stream(), error_flag()}));
}

void CudaBackend::softmax_backward(const SoftmaxBackwardArgs& a) {
  activate();
  const std::string_view op = a.log ? "log_softmax_backward" : "softmax_backward";
  check(a.y.defined(), op, "the forward output is an undefined tensor");
  check_same(a.grad, a.y, op, "grad");
  check_same(a.grad_in, a.y, op, "grad_in");
  check(is_floating(a.y.dtype()), op, "expected a floating dtype (f32, f64, f16, bf16), got {}",
        a.y.dtype());
  const int dim = wrap_dim(a.dim, a.y.dim(), op);
  check_device(device(), a.y, op);
  check_device(device(), a.grad, op);
  check_device(device(), a.grad_in, op);
  if (a.y.numel() == 0) return;
  check(a.grad_in.is_contiguous(), op, "grad_in must be contiguous");
  const Tensor y = contiguous_copy(*this, a.y);
  const Tensor g = contiguous_copy(*this, a.grad);
  const Layout l = layout_of(y.shape(), dim);
  CUDA_CHECK(launch_softmax_backward(kdtype(y.dtype()), y.raw_data(), g.raw_data(),
                                     a.grad_in.raw_data(), l.outer, l.d, l.inner, a.log,
                                     Launch{stream(), error_flag()}));
}

}  // namespace descent::cuda
