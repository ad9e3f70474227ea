#pragma once
// Tensor: shape, strides and offset over a refcounted Storage, plus the autograd
// metadata (requires_grad, grad, grad_fn). Copying a Tensor copies a handle; views
// share storage. Math lives in ops/ as free functions (descent::add, F::relu...);
// the members below are the ones PyTorch users reach for first.
#include <descent/core/device.h>
#include <descent/core/dtype.h>
#include <descent/core/shape.h>
#include <descent/core/storage.h>

#include <concepts>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace descent {

namespace autograd {
class Node;
}

class Tensor;

// Options for factories: zeros({2, 3}, {.dtype = DType::F64, .requires_grad = true}).
struct TensorOptions {
  DType dtype = DType::F32;
  Device device = Device::CPU;
  bool requires_grad = false;
};

// A gradient hook: gets the gradient, may return a replacement (or an undefined
// tensor to keep it).
using GradHook = std::function<Tensor(const Tensor&)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;           // null for leaves
  uint32_t output_nr = 0;                            // which output of grad_fn this is
  std::shared_ptr<autograd::Node> grad_accumulator;  // leaves that require grad
  // Deferred gradient scaling: the true gradient is grad · grad_scale (see below).
  double grad_scale = 1.0;
  bool grad_known_finite = false;  // every element of grad checked finite since it was set
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Allocates an uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, TensorOptions opt = {});

  // ---- metadata -------------------------------------------------------------
  // Every accessor below throws descent::Error naming itself on an undefined tensor.
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return meta("shape").shape; }
  const Strides& strides() const { return meta("strides").strides; }
  int dim() const { return meta("dim").shape.size(); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t stride(int64_t d) const;
  int64_t numel() const { return meta("numel").shape.numel(); }
  int64_t offset() const { return meta("offset").offset; }
  DType dtype() const { return meta("dtype").dtype; }
  Device device() const { return meta("device").storage->device(); }
  bool is_contiguous() const;
  size_t element_size() const { return dtype_size(dtype()); }
  const std::shared_ptr<Storage>& storage() const { return meta("storage").storage; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // True when both handles view the same TensorImpl.
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // Raw pointer to the first element (device memory for CUDA tensors).
  void* raw_data() const;
  // Typed pointer to the first element; the tensor must be on the CPU and of type T.
  template <class T>
  T* data() const {
    check_data_access(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  // The single value of a one-element tensor, converted to T (copies from the device).
  template <class T = double>
  T item() const;
  // All values in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  // ---- autograd ---------------------------------------------------------------
  bool requires_grad() const { return meta("requires_grad").requires_grad; }
  // Marks a leaf as needing gradients (floating dtypes only). Returns *this.
  Tensor& requires_grad_(bool on = true);
  // The gradient, with any pending scale applied first (see "deferred gradient scaling").
  Tensor grad() const;
  void set_grad(const Tensor& g);
  const std::shared_ptr<autograd::Node>& grad_fn() const { return meta("grad_fn").grad_fn; }
  bool is_leaf() const { return meta("is_leaf").grad_fn == nullptr; }
  // Reverse-mode differentiation from this tensor. `gradient` may be omitted only for
  // a one-element tensor. retain_graph keeps saved tensors for a second backward;
  // create_graph records the backward itself for higher-order gradients.
  void backward(const Tensor& gradient = {}, bool retain_graph = false,
                bool create_graph = false) const;
  // Same data, cut from the graph.
  Tensor detach() const;
  // Runs `hook` on this tensor's gradient whenever one is computed.
  void register_hook(GradHook hook) const;
  // Keeps the gradient of a non-leaf in .grad() after backward.
  void retain_grad() const;

  // ---- views (share storage) and copies ----------------------------------------
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy; -1 infers
  Tensor view(const Shape& shape) const;     // a view or an error
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  // 2-D transpose
  Tensor permute(const Shape& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops `dim`
  Tensor expand(const Shape& shape) const;          // -1 keeps a dim
  Tensor broadcast_to(const Shape& shape) const { return expand(shape); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor contiguous() const;
  Tensor clone() const;
  // Copies src (broadcast, converted) into this tensor's memory. Not differentiable.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- common math (defined in ops/) -------------------------------------------
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  // One dim as a plain integer: x.sum(1), x.mean(-1). (A braced list is a Shape.)
  template <std::integral I>
  Tensor sum(I dim, bool keepdim = false) const {
    return sum(Shape{int64_t(dim)}, keepdim);
  }
  template <std::integral I>
  Tensor mean(I dim, bool keepdim = false) const {
    return mean(Shape{int64_t(dim)}, keepdim);
  }
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor matmul(const Tensor& other) const;

 private:
  void check_data_access(DType want) const;
  // The TensorImpl behind a metadata accessor; an undefined tensor (a default-constructed
  // one, or a gradient that was never computed) is an Error naming the accessor rather
  // than a null dereference. The check is one predictable branch.
  const TensorImpl& meta(const char* accessor) const {
    if (!impl_) [[unlikely]]
      fail_undefined(accessor);
    return *impl_;
  }
  [[noreturn]] static void fail_undefined(const char* accessor);
  std::shared_ptr<TensorImpl> impl_;
};

// ---- deferred gradient scaling -------------------------------------------------------
// Between backward() and the optimizer step, the loss scaler's 1/scale and the clipping
// coefficient are not written into the gradients: they multiply a per-tensor factor that
// the optimizer's fused update applies while it reads the gradient anyway (two passes
// over the gradients per step instead of six). grad() applies a pending factor before it
// hands the gradient out, so users always see true gradients; set_grad clears it.
struct PendingGrad {
  Tensor grad;         // as stored (undefined when there is none)
  double scale = 1.0;  // the factor still to apply
};
PendingGrad pending_grad(const Tensor& t);
// Multiplies the pending factor of t's gradient by `factor`.
void scale_grad_later(const Tensor& t, double factor);
// Clears t's gradient: to undefined (set_to_none, PyTorch's default) or to zeros in
// place; either way a pending factor is dropped. (Optimizer::zero_grad, Module::zero_grad)
void zero_grad(const Tensor& t, bool set_to_none = true);
// Whether every element of t's stored gradient is known to be finite (clip_grad_norm_
// found a finite norm since the gradient was last set); the loss scaler then skips its
// own check.
bool grad_known_finite(const Tensor& t);
void set_grad_known_finite(const Tensor& t, bool finite);

// Makes a view of `base`'s storage with the given geometry (no checks).
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset);

}  // namespace descent
