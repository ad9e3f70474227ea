#include "core/tensor.h"

#include "backends/backend.h"
#include "core/function.h"
#include "core/grad_mode.h"
#include "core/node.h"
#include "ops/elementwise.h"

namespace descent {

Tensor Tensor::empty(const Shape& shape, TensorOptions opt) {
  for (int64_t d : shape) check(d >= 0, "empty", "negative dimension in shape {}", shape);
  auto impl = std::make_shared<TensorImpl>();
  const size_t nbytes = size_t(shape.numel()) * dtype_size(opt.dtype);
  impl->storage = make_storage(nbytes, opt.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opt.dtype;
  Tensor t(std::move(impl));
  if (opt.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return impl_->shape[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return impl_->strides[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (int i = dim() - 1; i >= 0; --i) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * int64_t(element_size());
}

void Tensor::check_data_access(DType want) const {
  check(defined(), "data", "tensor is undefined");
  check(device().is_cpu(), "data", "tensor is on {}; call .to(Device::CPU) first", device());
  check(dtype() == want, "data", "tensor has dtype {}, asked for {}", dtype(), want);
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

// ---- autograd --------------------------------------------------------------------

Tensor& Tensor::requires_grad_(bool on) {
  check(defined(), "requires_grad_", "tensor is undefined");
  check(!on || is_floating(dtype()), "requires_grad_",
        "only floating tensors can require gradients, got {}", dtype());
  check(on || is_leaf(), "requires_grad_",
        "cannot turn off requires_grad of a non-leaf tensor; use detach()");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl_ ? Tensor(impl_->grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) {
    check(g.shape() == shape(), "set_grad", "gradient shape {} does not match tensor shape {}",
          g.shape(), shape());
  }
  impl_->grad = g.impl_ptr();
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  check(defined(), "backward", "tensor is undefined");
  autograd::run_backward({*this}, {gradient}, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  Tensor t = make_view(*this, shape(), strides(), offset());
  return t;
}

void Tensor::register_hook(GradHook hook) const {
  check(requires_grad(), "register_hook",
        "cannot register a hook on a tensor that does not require grad");
  autograd::Edge e = autograd::gradient_edge(*this);
  e.node->pre_hooks.emplace_back(e.input_nr, std::move(hook));
}

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
  broadcast_shapes(src.shape(), shape(), "copy_");
  check(broadcast_shapes(src.shape(), shape(), "copy_") == shape(), "copy_",
        "source shape {} does not broadcast to destination shape {}", src.shape(), shape());
  Backend& be = backend_for(device().is_cpu() ? src.device() : device());
  be.copy(src, *this);
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check(defined(), "fill_", "tensor is undefined");
  check(!(GradMode::is_enabled() && requires_grad() && is_leaf()), "fill_",
        "a leaf tensor that requires grad cannot be modified in place; use NoGradGuard");
  backend_for(*this).fill(*this, value);
  return *this;
}

}  // namespace descent
