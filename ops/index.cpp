// Joining, splitting and indexing ops and their gradients. Gradients are built from
// differentiable ops: index_select and gather scatter their gradient back with small
// Functions whose own backward is the matching gather, so higher orders work.
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>

namespace descent {

namespace {

// i64 view of an integer index tensor; anything else throws naming `op`.
Tensor as_index(const Tensor& index, std::string_view op, std::string_view what = "index") {
  ops::check_defined(index, op, what);
  check(is_integral(index.dtype()), op, "{} must be an integer tensor (i32 or i64), got {}", what,
        index.dtype());
  return index.dtype() == DType::I64 ? index : index.to(DType::I64);
}

// zeros(shape).index_add_(dim, index, g). Its own gradient is index_select.
struct IndexAddInto {
  static constexpr std::string_view name = "index_select_backward";
  int dim = 0;
  Tensor index;
  Tensor forward(const Tensor& g, const Shape& shape, int d, const Tensor& idx) {
    dim = d;
    index = idx;
    Tensor out = zeros(shape, options_of(g));
    backend_for(g).index_add({.out = out, .dim = d, .index = idx, .src = g});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& gg) {
    return {descent::index_select(gg, dim, index), Tensor()};
  }
};

// zeros(shape).scatter_add_(dim, index, g). Its own gradient is gather.
struct ScatterAddInto {
  static constexpr std::string_view name = "gather_backward";
  int dim = 0;
  Tensor index;
  Tensor forward(const Tensor& g, const Shape& shape, int d, const Tensor& idx) {
    dim = d;
    index = idx;
    Tensor out = zeros(shape, options_of(g));
    backend_for(g).scatter_add({.out = out, .dim = d, .index = idx, .src = g});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& gg) {
    return {descent::gather(gg, dim, index), Tensor()};
  }
};

struct Cat {
  static constexpr std::string_view name = "cat";
  int dim = 0;
  std::vector<int64_t> starts;  // -1: skipped legacy empty (0,) input
  std::vector<int64_t> lengths;
  Tensor forward(const std::vector<Tensor>& ts, int d, const Shape& out_shape, DType dt) {
    dim = d;
    Tensor out = Tensor::empty(out_shape, {.dtype = dt, .device = ts[0].device()});
    Backend& be = backend_for(out);
    int64_t at = 0;
    for (const Tensor& t : ts) {
      if (t.dim() != out.dim()) {
        starts.push_back(-1);
        lengths.push_back(0);
        continue;
      }
      const int64_t len = t.shape()[d];
      starts.push_back(at);
      lengths.push_back(len);
      if (t.numel() > 0) {
        be.copy(t, make_view(out, t.shape(), out.strides(), out.offset() + at * out.strides()[d]));
      }
      at += len;
    }
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    std::vector<Tensor> out;
    for (size_t i = 0; i < starts.size(); ++i) {
      out.push_back(starts[i] < 0 ? Tensor() : g.narrow(dim, starts[i], lengths[i]));
    }
    return out;
  }
};

struct IndexSelect {
  static constexpr std::string_view name = "index_select";
  Shape in_shape;
  int dim = 0;
  Tensor index;
  Tensor forward(const Tensor& x, int d, const Tensor& idx) {
    in_shape = x.shape();
    dim = d;
    index = idx;
    Shape s = x.shape();
    s[d] = idx.numel();
    Tensor out = Tensor::empty(s, options_of(x));
    backend_for(x).index_select({.x = x, .dim = d, .index = idx, .out = out});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {autograd::apply<IndexAddInto>(g, in_shape, dim, index), Tensor()};
  }
};

struct Gather {
  static constexpr std::string_view name = "gather";
  Shape in_shape;
  int dim = 0;
  Tensor index;
  Tensor forward(const Tensor& x, int d, const Tensor& idx) {
    in_shape = x.shape();
    dim = d;
    index = idx;
    Tensor out = Tensor::empty(idx.shape(), options_of(x));
    backend_for(x).gather({.x = x, .dim = d, .index = idx, .out = out});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {autograd::apply<ScatterAddInto>(g, in_shape, dim, index), Tensor()};
  }
};

// Pads `t` with trailing zeros up to `shape` (each dim >= t's): differentiable.
Tensor pad_to(Tensor t, const Shape& shape) {
  for (int d = 0; d < shape.size(); ++d) {
    if (t.shape()[d] == shape[d]) continue;
    Shape zs = t.shape();
    zs[d] = shape[d] - t.shape()[d];
    t = cat({t, zeros(zs, options_of(t))}, d);
  }
  return t;
}

struct ScatterAdd {
  static constexpr std::string_view name = "scatter_add";
  int dim = 0;
  Tensor index;
  Shape src_shape;
  bool src_grad = false;
  Tensor forward(const Tensor& x, int d, const Tensor& idx, const Tensor& src) {
    dim = d;
    index = idx;
    src_shape = src.shape();
    src_grad = src.requires_grad();
    Tensor out = x.clone();
    backend_for(x).scatter_add({.out = out, .dim = d, .index = idx, .src = src});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {g, Tensor(), src_grad ? pad_to(descent::gather(g, dim, index), src_shape) : Tensor()};
  }
};

// Rows of `weight` picked by the flattened indices, shaped (..., embedding_dim).
struct Embedding {
  static constexpr std::string_view name = "embedding";
  Shape weight_shape;
  Tensor flat;
  int64_t padding_idx = -1;
  Tensor forward(const Tensor& weight, const Tensor& flat_, const Shape& out_shape, int64_t pad) {
    weight_shape = weight.shape();
    flat = flat_;
    padding_idx = pad;
    Tensor out = Tensor::empty({flat_.numel(), weight.shape()[1]}, options_of(weight));
    try {
      backend_for(weight).index_select({.x = weight, .dim = 0, .index = flat_, .out = out});
    } catch (const Error& e) {
      throw Error(fmt::format("embedding: {}", e.what()));
    }
    return make_view(out, out_shape, contiguous_strides(out_shape), 0);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor g2 = g.reshape({flat.numel(), weight_shape[1]});
    if (padding_idx >= 0) g2 = where((flat != padding_idx).unsqueeze(1), g2, 0.0);
    return {autograd::apply<IndexAddInto>(g2, weight_shape, 0, flat), Tensor()};
  }
};

// One value of a full reduction of x (host sync).
int64_t reduce_all(ReduceOp op, const Tensor& x) {
  Tensor out = Tensor::empty(Shape::filled(x.dim(), 1), options_of(x));
  backend_for(x).reduce(
      {.op = op, .x = x, .dims = ops::dim_mask({}, x.dim(), "one_hot"), .out = out});
  return out.item<int64_t>();
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "cat", "expected a non-empty list of tensors");
  // Like torch.cat, 1-D empty tensors are skipped when the others have more dims.
  auto skipped = [](const Tensor& t) { return t.dim() == 1 && t.numel() == 0; };
  int ref = -1;
  for (size_t i = 0; i < tensors.size(); ++i) {
    ops::check_defined(tensors[i], "cat", fmt::format("tensor {}", i));
    ops::check_same_device(tensors[0], tensors[i], "cat");
    check(tensors[i].dim() > 0, "cat", "tensor {} is zero-dimensional and cannot be concatenated",
          i);
    if (ref < 0 && !skipped(tensors[i])) ref = int(i);
  }
  if (ref < 0) ref = 0;
  const Tensor& r = tensors[ref];
  const int d = wrap_dim(dim, r.dim(), "cat");
  Shape out_shape = r.shape();
  out_shape[d] = 0;
  DType dt = tensors[0].dtype();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    dt = promote_types(dt, t.dtype());
    if (skipped(t) && r.dim() != 1) continue;
    check(t.dim() == r.dim(), "cat",
          "tensors must have the same number of dims, got {} ({}) and {} ({})", r.shape(), ref,
          t.shape(), i);
    for (int k = 0; k < r.dim(); ++k) {
      check(k == d || t.shape()[k] == r.shape()[k], "cat",
            "sizes must match except in dim {}: tensor {} has shape {}, tensor {} has shape {}", d,
            ref, r.shape(), i, t.shape());
    }
    out_shape[d] += t.shape()[d];
  }
  return autograd::apply<Cat>(tensors, d, out_shape, dt);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "stack", "expected a non-empty list of tensors");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    ops::check_defined(tensors[i], "stack", fmt::format("tensor {}", i));
    check(tensors[i].shape() == tensors[0].shape(), "stack",
          "expects tensors of equal shape, got {} (tensor 0) and {} (tensor {})",
          tensors[0].shape(), tensors[i].shape(), i);
  }
  const int d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(d));
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  ops::check_defined(x, "split");
  check(x.dim() > 0, "split", "cannot split a zero-dimensional tensor");
  const int d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[d];
  check(split_size > 0 || (split_size == 0 && n == 0), "split",
        "split_size must be positive (0 only for an empty dim), got {} for dim {} of size {}",
        split_size, dim, n);
  if (n == 0) return {x.narrow(d, 0, 0)};
  std::vector<Tensor> out;
  for (int64_t s = 0; s < n; s += split_size)
    out.push_back(x.narrow(d, s, std::min(split_size, n - s)));
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  ops::check_defined(x, "split");
  check(x.dim() > 0, "split", "cannot split a zero-dimensional tensor");
  const int d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.shape()[d];
  int64_t total = 0;
  for (int64_t s : sizes) {
    check(s >= 0, "split", "split sizes must be non-negative, got {}", fmt::join(sizes, ", "));
    total += s;
  }
  check(total == n, "split", "split sizes [{}] sum to {} but dim {} has size {}",
        fmt::join(sizes, ", "), total, dim, n);
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(d, at, s));
    at += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  ops::check_defined(x, "chunk");
  check(chunks > 0, "chunk", "expected chunks > 0, got {}", chunks);
  check(x.dim() > 0, "chunk", "cannot chunk a zero-dimensional tensor");
  const int d = wrap_dim(dim, x.dim(), "chunk");
  const int64_t n = x.shape()[d];
  // Like torch.chunk: pieces of ceil(n / chunks), so there may be fewer than `chunks`.
  if (n == 0) return std::vector<Tensor>(size_t(chunks), x.narrow(d, 0, 0));
  return split(x, (n + chunks - 1) / chunks, d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  ops::check_defined(x, "index_select");
  const Tensor idx = as_index(index, "index_select");
  ops::check_same_device(x, idx, "index_select");
  check(idx.dim() <= 1, "index_select", "index must be 0-D or 1-D, got shape {}", idx.shape());
  if (x.dim() == 0) {
    wrap_dim(dim, 0, "index_select");
    check(idx.numel() == 1, "index_select",
          "a zero-dimensional input takes exactly one index, got {}", idx.numel());
    return index_select(x.reshape({1}), 0, idx).reshape({});
  }
  return autograd::apply<IndexSelect>(x, wrap_dim(dim, x.dim(), "index_select"), idx);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  ops::check_defined(x, "gather");
  const Tensor idx = as_index(index, "gather");
  ops::check_same_device(x, idx, "gather");
  check(idx.dim() == x.dim(), "gather",
        "index must have as many dims as x, got index shape {} and x shape {}", idx.shape(),
        x.shape());
  const int d = wrap_dim(dim, x.dim(), "gather");
  for (int k = 0; k < x.dim(); ++k) {
    check(k == d || idx.shape()[k] <= x.shape()[k], "gather",
          "index shape {} is larger than x shape {} in dim {} (only dim {} may be larger)",
          idx.shape(), x.shape(), k, d);
  }
  return autograd::apply<Gather>(x, d, idx);
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  ops::check_defined(x, "scatter_add");
  ops::check_defined(src, "scatter_add", "src");
  const Tensor idx = as_index(index, "scatter_add");
  ops::check_same_device(x, idx, "scatter_add");
  ops::check_same_device(x, src, "scatter_add");
  check(x.dtype() == src.dtype(), "scatter_add", "x and src must have one dtype, got {} and {}",
        x.dtype(), src.dtype());
  check(idx.dim() == x.dim() && src.dim() == x.dim(), "scatter_add",
        "x, index and src must have the same number of dims, got shapes {}, {} and {}", x.shape(),
        idx.shape(), src.shape());
  const int d = wrap_dim(dim, x.dim(), "scatter_add");
  for (int k = 0; k < x.dim(); ++k) {
    check(idx.shape()[k] <= src.shape()[k] && (k == d || idx.shape()[k] <= x.shape()[k]),
          "scatter_add",
          "index shape {} must not exceed src shape {} in any dim, nor x shape {} outside dim "
          "{} (dim {})",
          idx.shape(), src.shape(), x.shape(), d, k);
  }
  return autograd::apply<ScatterAdd>(x, d, idx, src);
}

namespace F {

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding) {
  ops::check_defined(weight, "embedding", "weight");
  const Tensor idx = as_index(indices, "embedding", "indices");
  ops::check_same_device(weight, idx, "embedding");
  check(weight.dim() == 2, "embedding",
        "weight must be 2-D (num_embeddings, embedding_dim), got shape {}", weight.shape());
  const int64_t num = weight.shape()[0];
  // -1 inside the op means "no padding row"; negative user values count from the end.
  int64_t padding_idx = -1;
  if (padding) {
    padding_idx = *padding;
    check(padding_idx >= -num && padding_idx < num, "embedding",
          "padding_idx {} is out of range for {} embeddings", padding_idx, num);
    if (padding_idx < 0) padding_idx += num;
  }
  Shape out_shape = idx.shape();
  out_shape.push_back(weight.shape()[1]);
  return autograd::apply<Embedding>(weight, idx.reshape({idx.numel()}), out_shape, padding_idx);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  const Tensor idx = as_index(indices, "one_hot", "indices");
  check(num_classes >= -1, "one_hot", "num_classes must be -1 (infer) or >= 0, got {}",
        num_classes);
  const int64_t n = idx.numel();
  if (n > 0) {
    const int64_t lo = reduce_all(ReduceOp::Min, idx);
    check(lo >= 0, "one_hot", "class values must be non-negative, got {}", lo);
    const int64_t hi = reduce_all(ReduceOp::Max, idx);
    if (num_classes == -1) num_classes = hi + 1;
    check(hi < num_classes, "one_hot", "class value {} is out of range for num_classes {}", hi,
          num_classes);
  }
  check(num_classes >= 0, "one_hot", "cannot infer num_classes from an empty tensor");
  Tensor out = zeros({n, num_classes}, {.dtype = DType::I64, .device = idx.device()});
  if (n > 0 && num_classes > 0) {
    const Tensor one = ones({1, 1}, {.dtype = DType::I64, .device = idx.device()});
    backend_for(out).scatter_add({.out = out,
                                  .dim = 1,
                                  .index = idx.reshape({n, 1}),
                                  .src = make_view(one, {n, 1}, {0, 0}, 0)});
  }
  Shape s = idx.shape();
  s.push_back(num_classes);
  return out.reshape(s);
}

}  // namespace F

}  // namespace descent
