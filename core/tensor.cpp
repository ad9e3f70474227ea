#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/core/node.h>
#include <descent/core/tensor.h>

namespace descent {

Tensor Tensor::empty(const Shape& shape, TensorOptions opt) {
  const int64_t numel = checked_numel(shape, dtype_size(opt.dtype), "empty");
  auto impl = std::make_shared<TensorImpl>();
  const size_t nbytes = size_t(numel) * dtype_size(opt.dtype);
  impl->storage = make_storage(nbytes, opt.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opt.dtype;
  Tensor t(std::move(impl));
  if (opt.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  checked_numel(shape, base.element_size(), "view");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

void Tensor::fail_undefined(const char* accessor) {
  throw Error(
      fmt::format("{}: tensor is undefined (a default-constructed Tensor, or a gradient "
                  "that was never computed)",
                  accessor));
}

int64_t Tensor::size(int64_t d) const { return meta("size").shape[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const {
  return meta("stride").strides[wrap_dim(d, dim(), "stride")];
}

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
  return static_cast<char*>(meta("raw_data").storage->data()) +
         impl_->offset * int64_t(element_size());
}

void Tensor::check_data_access(DType want) const {
  check(defined(), "data", "tensor is undefined");
  check(device().is_cpu(), "data", "tensor is on {}; call .to(Device::CPU) first", device());
  check(dtype() == want, "data", "tensor has dtype {}, asked for {}", dtype(), want);
}

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

void Tensor::set_grad(const Tensor& g) {
  check(defined(), "set_grad", "tensor is undefined");
  if (g.defined()) {
    check(g.shape() == shape(), "set_grad", "gradient shape {} does not match tensor shape {}",
          g.shape(), shape());
  }
  impl_->grad = g.impl_ptr();
  impl_->grad_scale = 1.0;
  impl_->grad_known_finite = false;
}

// ---- deferred gradient scaling ------------------------------------------------------

PendingGrad pending_grad(const Tensor& t) {
  if (!t.defined()) return {};
  return {Tensor(t.impl()->grad), t.impl()->grad_scale};
}

void scale_grad_later(const Tensor& t, double factor) {
  check(t.defined(), "scale_grad_later", "tensor is undefined");
  t.impl()->grad_scale *= factor;
}

bool grad_known_finite(const Tensor& t) { return t.defined() && t.impl()->grad_known_finite; }

void set_grad_known_finite(const Tensor& t, bool finite) {
  check(t.defined(), "set_grad_known_finite", "tensor is undefined");
  t.impl()->grad_known_finite = finite;
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

}  // namespace descent
