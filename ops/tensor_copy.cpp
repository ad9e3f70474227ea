// The Tensor members that run kernels (declared in core/tensor.h): copies, conversions,
// fills and reads back to the host. They live here, above the backends, so that core/
// stays the ground floor.
#include <descent/backends/backend.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/core/tensor.h>
#include <descent/ops/elementwise.h>

namespace descent {

// The pending factor of a deferred gradient scaling (core/tensor.h) is applied here, in
// place, the first time someone outside the optimizer step asks for the gradient.
Tensor Tensor::grad() const {
  if (!impl_ || !impl_->grad) return Tensor();
  if (impl_->grad_scale != 1.0) {
    NoGradGuard no_grad;
    // Out of place: the stored gradient may share memory with another tensor's.
    impl_->grad = (Tensor(impl_->grad) * impl_->grad_scale).impl_ptr();
    impl_->grad_scale = 1.0;
  }
  impl_->grad_known_finite = false;  // the caller may write to it
  return Tensor(impl_->grad);
}

void zero_grad(const Tensor& t, bool set_to_none) {
  Tensor grad = pending_grad(t).grad;
  if (!set_to_none && grad.defined()) grad.zero_();
  Tensor(t).set_grad(set_to_none ? Tensor() : grad);
}

// ---- copies ----------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

namespace {
// Differentiable copy into fresh memory of a given dtype/device.
struct CopyOp {
  static constexpr std::string_view name = "copy";
  std::vector<Tensor> backward(const Tensor& g) { return {g}; }  // the engine casts back
  Tensor forward(const Tensor& x, DType dtype, Device device) {
    Tensor out = Tensor::empty(x.shape(), {.dtype = dtype, .device = device});
    Backend& be = backend_for(device.is_cpu() ? x.device() : device);
    be.copy(x, out);
    return out;
  }
};
struct ToDeviceOp {  // gradient goes back to the source device
  static constexpr std::string_view name = "to_device";
  Device src;
  std::vector<Tensor> backward(const Tensor& g) { return {g.to(src)}; }
  Tensor forward(const Tensor& x, Device device) {
    src = x.device();
    Tensor out = Tensor::empty(x.shape(), {.dtype = x.dtype(), .device = device});
    Backend& be = backend_for(device.is_cpu() ? x.device() : device);
    be.copy(x, out);
    return out;
  }
};
}  // namespace

Tensor Tensor::clone() const {
  check(defined(), "clone", "tensor is undefined");
  return autograd::apply<CopyOp>(*this, dtype(), device());
}

Tensor Tensor::to(DType dt) const {
  check(defined(), "to", "tensor is undefined");
  if (dt == dtype()) return *this;
  return autograd::apply<CopyOp>(*this, dt, device());
}

Tensor Tensor::to(Device dev) const {
  check(defined(), "to", "tensor is undefined");
  if (dev == device()) return *this;
  return autograd::apply<ToDeviceOp>(*this, dev);
}

Tensor& Tensor::copy_(const Tensor& src) {
  check(defined() && src.defined(), "copy_", "tensor is undefined");
  check(!(GradMode::is_enabled() && requires_grad() && is_leaf()), "copy_",
        "a leaf tensor that requires grad cannot be modified in place; use NoGradGuard");
  // broadcast_shapes throws when the shapes do not broadcast at all; the result must
  // also be the destination's own shape.
  const Shape joint = broadcast_shapes(src.shape(), shape(), "copy_");
  check(joint == shape(), "copy_", "source shape {} does not broadcast to destination shape {}",
        src.shape(), shape());
  Backend& be = backend_for(device().is_cpu() ? src.device() : device());
  be.copy(src, *this);
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check(defined(), "fill_", "tensor is undefined");
  check(!(GradMode::is_enabled() && requires_grad() && is_leaf()), "fill_",
        "a leaf tensor that requires grad cannot be modified in place; use NoGradGuard");
  backend_for(*this).fill(*this, value);
  storage()->bump_version();
  return *this;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  check(defined(), "to_vector", "tensor is undefined");
  Tensor c = Tensor(*this).to(Device::CPU).to(dtype_of<T>()).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}

template <class T>
T Tensor::item() const {
  check(defined(), "item", "tensor is undefined");
  check(numel() == 1, "item", "expected a tensor with one element, got shape {}", shape());
  return to_vector<T>()[0];
}

#define DESCENT_INSTANTIATE(T)                       \
  template std::vector<T> Tensor::to_vector() const; \
  template T Tensor::item() const;
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)
DESCENT_INSTANTIATE(Half)
DESCENT_INSTANTIATE(BFloat16)
DESCENT_INSTANTIATE(int32_t)
DESCENT_INSTANTIATE(int64_t)
DESCENT_INSTANTIATE(bool)
#undef DESCENT_INSTANTIATE

void Tensor::retain_grad() const {
  check(requires_grad(), "retain_grad", "tensor does not require grad");
  if (is_leaf()) return;  // leaves keep their gradient anyway
  std::weak_ptr<TensorImpl> weak = impl_;
  register_hook([weak](const Tensor& g) {
    if (auto impl = weak.lock()) {
      NoGradGuard no_grad;
      Tensor self(impl);
      Tensor prev = self.grad();
      self.set_grad(prev.defined() ? add(prev, g) : g.detach().clone());
    }
    return Tensor();
  });
}

}  // namespace descent
