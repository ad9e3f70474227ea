// View ops: new shape/strides over the same storage, each with its gradient.
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>

#include <numeric>

namespace descent {

namespace {

// Strides for viewing `t` as `shape` without copying, if possible (PyTorch's
// computeStride): each run of merged input dims must be contiguous in memory.
bool view_strides(const Tensor& t, const Shape& shape, Strides& out) {
  out = Shape::filled(shape.size(), 1);
  if (t.numel() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  const Shape& os = t.shape();
  const Strides& ost = t.strides();
  int view_d = shape.size() - 1;
  int64_t chunk_base_stride = ost.size() ? ost.back() : 1;
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = os.size() - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Shape infer_shape(const Shape& shape, int64_t numel, std::string_view op) {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      check(infer < 0, op, "only one dimension can be -1, got {}", shape);
      infer = i;
    } else {
      check(out[i] >= 0, op, "invalid size {} in shape {}", out[i], shape);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    check(known != 0 && numel % known == 0, op, "shape {} is invalid for input of size {}", shape,
          numel);
    out[infer] = numel / known;
  }
  check(out.numel() == numel, op, "shape {} is invalid for input of size {}", shape, numel);
  return out;
}

struct View {
  static constexpr std::string_view name = "view";
  Shape in_shape;
  Tensor forward(const Tensor& x, const Shape& shape, bool allow_copy) {
    in_shape = x.shape();
    const Shape s = infer_shape(shape, x.numel(), allow_copy ? "reshape" : "view");
    Strides st;
    if (view_strides(x, s, st)) return make_view(x, s, st, x.offset());
    check(allow_copy, "view",
          "cannot view a tensor of shape {} with strides {} as {}: its memory is not "
          "contiguous enough; use reshape() or contiguous() first",
          x.shape(), x.strides(), s);
    Tensor c = x.clone();
    return make_view(c, s, contiguous_strides(s), 0);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g.reshape(in_shape)}; }
};

struct Permute {
  static constexpr std::string_view name = "permute";
  Shape inverse;
  Tensor forward(const Tensor& x, const Shape& dims) {
    check(dims.size() == x.dim(), name, "got {} dims {} for a tensor with {} dims", dims.size(),
          dims, x.dim());
    Shape s, st;
    inverse = Shape::filled(x.dim(), 0);
    uint32_t seen = 0;
    for (int i = 0; i < dims.size(); ++i) {
      const int d = wrap_dim(dims[i], x.dim(), name);
      check(!(seen >> d & 1u), name, "dim {} repeats in {}", d, dims);
      seen |= 1u << d;
      s.push_back(x.shape()[d]);
      st.push_back(x.strides()[d]);
      inverse[d] = i;
    }
    return make_view(x, s, st, x.offset());
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g.permute(inverse)}; }
};

struct Slice {
  static constexpr std::string_view name = "slice";
  Shape in_shape;
  int dim = 0;
  int64_t start = 0, step = 1;
  Tensor forward(const Tensor& x, int d, int64_t s, int64_t e, int64_t st) {
    in_shape = x.shape();
    dim = d;
    const int64_t n = x.shape()[d];
    check(st > 0, name, "step must be positive, got {}", st);
    if (s < 0) s += n;
    if (e < 0) e += n;
    s = std::clamp<int64_t>(s, 0, n);
    e = std::clamp<int64_t>(e, s, n);
    start = s;
    step = st;
    Shape shape = x.shape();
    Strides strides = x.strides();
    shape[d] = (e - s + st - 1) / st;
    strides[d] *= st;
    return make_view(x, shape, strides, x.offset() + s * x.strides()[d]);
  }
  std::vector<Tensor> backward(const Tensor& g);
};

struct Expand {
  static constexpr std::string_view name = "expand";
  Shape in_shape;
  Tensor forward(const Tensor& x, const Shape& shape) {
    in_shape = x.shape();
    check(shape.size() >= x.dim(), name, "cannot expand shape {} to {} (fewer dims)", x.shape(),
          shape);
    const int lead = shape.size() - x.dim();
    Shape s = shape, st = Shape::filled(shape.size(), 0);
    for (int i = 0; i < shape.size(); ++i) {
      if (i < lead) {
        check(shape[i] >= 0, name, "cannot use -1 for a new leading dim in {}", shape);
        continue;
      }
      const int64_t xd = x.shape()[i - lead];
      if (shape[i] == -1) s[i] = xd;
      check(s[i] == xd || xd == 1, name, "cannot expand shape {} to {} (dim {}: {} vs {})",
            x.shape(), shape, i, xd, s[i]);
      st[i] = (xd == 1 && s[i] != 1) ? 0 : x.strides()[i - lead];
    }
    checked_numel(s, x.element_size(), name);
    return make_view(x, s, st, x.offset());
  }
  // The engine sums the broadcast gradient back to in_shape.
  std::vector<Tensor> backward(const Tensor& g) { return {g}; }
};

// Scatters a slice's gradient into zeros of the input's shape.
struct SliceBackward {
  static constexpr std::string_view name = "slice_backward";
  int dim = 0;
  int64_t start = 0, len = 0, step = 1;
  Tensor forward(const Tensor& g, const Shape& in_shape, int d, int64_t s, int64_t st) {
    dim = d;
    start = s;
    step = st;
    len = g.shape()[d];
    Tensor out = Tensor::empty(in_shape, {.dtype = g.dtype(), .device = g.device()});
    backend_for(out).fill(out, 0.0);
    Shape shape = in_shape;
    Strides strides = out.strides();
    shape[d] = len;
    const int64_t off = s * strides[d];
    strides[d] *= st;
    backend_for(out).copy(g, make_view(out, shape, strides, off));
    return out;
  }
  std::vector<Tensor> backward(const Tensor& gg) {
    return {gg.slice(dim, start, start + (len - 1) * step + 1, step)};
  }
};

std::vector<Tensor> Slice::backward(const Tensor& g) {
  return {autograd::apply<SliceBackward>(g, in_shape, dim, start, step)};
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  ops::check_defined(*this, "view");
  return autograd::apply<View>(*this, shape, false);
}

Tensor Tensor::reshape(const Shape& shape) const {
  ops::check_defined(*this, "reshape");
  if (shape == this->shape()) return *this;
  return autograd::apply<View>(*this, shape, true);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  check(s <= e, "flatten", "start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape out;
  for (int i = 0; i < s; ++i) out.push_back(shape()[i]);
  int64_t m = 1;
  for (int i = s; i <= e; ++i) m *= shape()[i];
  out.push_back(m);
  for (int i = e + 1; i < dim(); ++i) out.push_back(shape()[i]);
  return reshape(out);
}

Tensor Tensor::permute(const Shape& dims) const {
  ops::check_defined(*this, "permute");
  return autograd::apply<Permute>(*this, dims);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  ops::check_defined(*this, "transpose");
  if (dim() < 2 && (d0 == 0 || d0 == -1) && (d1 == 0 || d1 == -1)) return *this;
  const int a = wrap_dim(d0, dim(), "transpose"), b = wrap_dim(d1, dim(), "transpose");
  Shape perm;
  for (int i = 0; i < dim(); ++i) perm.push_back(i);
  std::swap(perm[a], perm[b]);
  return permute(perm);
}

Tensor Tensor::t() const {
  check(dim() <= 2, "t", "expects a tensor with at most 2 dims, got shape {}", shape());
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  ops::check_defined(*this, "slice");
  return autograd::apply<Slice>(*this, wrap_dim(d, dim(), "slice"), start, end, step);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  ops::check_defined(*this, "narrow");
  const int w = wrap_dim(d, dim(), "narrow");
  const int64_t n = shape()[w];
  if (start < 0) start += n;
  check(start >= 0 && length >= 0 && start + length <= n, "narrow",
        "range [{}, {}) is out of bounds for dim {} of size {}", start, start + length, d, n);
  return slice(w, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  ops::check_defined(*this, "select");
  const int w = wrap_dim(d, dim(), "select");
  const int64_t n = shape()[w];
  check(index >= -n && index < n, "select", "index {} is out of range for dim {} of size {}", index,
        d, n);
  if (index < 0) index += n;
  return narrow(w, index, 1).squeeze(w);
}

Tensor Tensor::expand(const Shape& shape) const {
  ops::check_defined(*this, "expand");
  if (shape == this->shape()) return *this;
  return autograd::apply<Expand>(*this, shape);
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (int64_t d : shape()) {
    if (d != 1) s.push_back(d);
  }
  return s == shape() ? *this : reshape(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return *this;
  const int w = wrap_dim(d, dim(), "squeeze");
  if (shape()[w] != 1) return *this;
  Shape s = shape();
  s.erase(w);
  return reshape(s);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  const int w = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape();
  s.insert(w, 1);
  return reshape(s);
}

}  // namespace descent
