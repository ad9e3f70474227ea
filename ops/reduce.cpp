// Reductions and their gradients (built from differentiable ops, so higher-order
// gradients work). Each struct computes its result in the keepdim shape and reshapes
// at the end; backwards put the reduced dims back as size 1 and let broadcasting
// spread the gradient.
#include <descent/backends/slot_helpers.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/reduce.h>

namespace descent {

namespace {

// Runs a backend reduction; the result has the keepdim shape.
Tensor reduce_kernel(ReduceOp op, const Tensor& x, uint32_t mask, DType out_dtype) {
  check_supported(op, x.dtype());
  Tensor out = Tensor::empty(ops::reduced_shape(x.shape(), mask, true),
                             {.dtype = out_dtype, .device = x.device()});
  backend_for(x).reduce({.op = op, .x = x, .dims = mask, .out = out});
  return out;
}

// The dims of a mask as a list (what the public functions take).
Shape dims_of(uint32_t mask, int ndim) {
  Shape dims;
  for (int d = 0; d < ndim; ++d) {
    if (mask >> d & 1u) dims.push_back(d);
  }
  return dims;
}

// How many elements each output element reduces over.
int64_t reduced_count(const Shape& shape, uint32_t mask) {
  int64_t n = 1;
  for (int d = 0; d < shape.size(); ++d) {
    if (mask >> d & 1u) n *= shape[d];
  }
  return n;
}

Tensor drop_dims(const Tensor& y, const Shape& in_shape, uint32_t mask, bool keepdim) {
  return keepdim ? y : y.reshape(ops::reduced_shape(in_shape, mask, false));
}

void check_floating(const Tensor& x, std::string_view op) {
  check(is_floating(x.dtype()), op,
        "expected a floating tensor (f32, f64, f16, bf16), got {}; convert it first, e.g. "
        "x.to(DType::F32)",
        x.dtype());
}

// max/min/argmax/argmin have no value over zero elements.
void check_nonempty(const Tensor& x, uint32_t mask, bool all_dims, std::string_view op) {
  if (all_dims) {
    check(x.numel() > 0, op,
          "cannot reduce a tensor with no elements (shape {}); give a dim to reduce over",
          x.shape());
    return;
  }
  for (int d = 0; d < x.dim(); ++d) {
    check(!(mask >> d & 1u) || x.shape()[d] > 0, op,
          "cannot reduce over dim {} of size 0 (input shape {})", d, x.shape());
  }
}

// Integer and bool sums are i64, as in PyTorch.
DType sum_dtype(DType t) { return is_floating(t) ? t : DType::I64; }

struct Sum {
  static constexpr std::string_view name = "sum";
  Shape in_shape;
  uint32_t mask = 0;
  bool keepdim = false;
  Tensor forward(const Tensor& x, uint32_t mask_, bool keepdim_) {
    in_shape = x.shape();
    mask = mask_;
    keepdim = keepdim_;
    const DType dt = sum_dtype(x.dtype());
    Tensor xs = x.dtype() == dt ? x : x.to(dt);
    return drop_dims(reduce_kernel(ReduceOp::Sum, xs, mask, dt), in_shape, mask, keepdim);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gk = keepdim ? g : g.reshape(ops::reduced_shape(in_shape, mask, true));
    return {gk.expand(in_shape)};
  }
};

// Where the gradient of a NaN result goes, as in PyTorch: max and min hand it to the NaN
// elements (the ones they selected); amax and amin share it among the elements equal to
// the result, which no NaN is, so it is NaN.
enum class NanResultGrad { ToNanElements, NotANumber };

// max, min, amax, amin: the gradient is shared evenly among the elements equal to the
// result.
template <bool Max>
struct Extreme {
  static constexpr std::string_view name = Max ? "amax" : "amin";
  Tensor x, y;  // y in the keepdim shape
  uint32_t mask = 0;
  bool keepdim = false;
  NanResultGrad nan_grad = NanResultGrad::NotANumber;
  Tensor forward(const Tensor& x_, uint32_t mask_, bool keepdim_, NanResultGrad nan_grad_) {
    x = x_;
    mask = mask_;
    keepdim = keepdim_;
    nan_grad = nan_grad_;
    y = reduce_kernel(Max ? ReduceOp::Max : ReduceOp::Min, x_, mask, x_.dtype());
    return drop_dims(y, x_.shape(), mask, keepdim);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gk = keepdim ? g : g.reshape(y.shape());
    Tensor hit = eq(x, y);
    if (nan_grad == NanResultGrad::ToNanElements) {
      hit = logical_or(hit, logical_and(ne(x, x), ne(y, y)));  // both NaN
    }
    hit = hit.to(g.dtype());
    Tensor count = sum(hit, dims_of(mask, x.dim()), true);
    return {hit * (gk / count)};
  }
};

// var = Σ (x - mean)² / max(N - correction, 0), computed in two passes for accuracy.
struct Var {
  static constexpr std::string_view name = "var";
  Tensor x;
  Shape dims;
  uint32_t mask = 0;
  double denom = 0;
  bool keepdim = false;
  Tensor forward(const Tensor& x_, uint32_t mask_, int64_t correction, bool keepdim_) {
    x = x_;
    mask = mask_;
    dims = dims_of(mask, x_.dim());
    keepdim = keepdim_;
    denom = double(std::max<int64_t>(reduced_count(x_.shape(), mask) - correction, 0));
    return sum(square(x_ - mean(x_, dims, true)), dims, keepdim) / denom;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gk = keepdim ? g : g.reshape(ops::reduced_shape(x.shape(), mask, true));
    return {(gk * (2.0 / denom)) * (x - mean(x, dims, true))};
  }
};

// std = sqrt(var); where std is 0 its gradient is 0 (PyTorch), not 0·∞.
struct Std {
  static constexpr std::string_view name = "std";
  Tensor x, y;  // y in the keepdim shape
  Shape dims;
  uint32_t mask = 0;
  int64_t correction = 1;
  double denom = 0;
  bool keepdim = false;
  Tensor forward(const Tensor& x_, uint32_t mask_, int64_t correction_, bool keepdim_) {
    x = x_;
    mask = mask_;
    dims = dims_of(mask, x_.dim());
    correction = correction_;
    keepdim = keepdim_;
    denom = double(std::max<int64_t>(reduced_count(x_.shape(), mask) - correction, 0));
    y = sqrt(var(x_, dims, correction, true));
    return drop_dims(y, x_.shape(), mask, keepdim);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gk = keepdim ? g : g.reshape(y.shape());
    // Under create_graph the output must be a function of x, not a constant.
    Tensor s = GradMode::is_enabled() ? std(x, dims, correction, true) : y;
    Tensor gvar = where(s != 0.0, gk / (2.0 * s), 0.0);
    return {(gvar * (2.0 / denom)) * (x - mean(x, dims, true))};
  }
};

// m + log Σ exp(x - m) with m the max, taken as 0 where it is ±inf or NaN so that
// all -inf gives -inf and +inf gives +inf (PyTorch). d/dx = exp(x - result).
struct LogSumExp {
  static constexpr std::string_view name = "logsumexp";
  Tensor x, y;  // y in the keepdim shape
  Shape dims;
  uint32_t mask = 0;
  bool keepdim = false;
  Tensor forward(const Tensor& x_, uint32_t mask_, bool keepdim_) {
    x = x_;
    mask = mask_;
    dims = dims_of(mask, x_.dim());
    keepdim = keepdim_;
    Tensor m;
    if (reduced_count(x_.shape(), mask) == 0) {  // Σ over nothing is 0: log gives -inf
      m = zeros(ops::reduced_shape(x_.shape(), mask, true), options_of(x_));
    } else {
      m = reduce_kernel(ReduceOp::Max, x_, mask, x_.dtype());
      m = where(isfinite(m), m, 0.0);
    }
    y = log(sum(exp(x_ - m), dims, true)) + m;
    return drop_dims(y, x_.shape(), mask, keepdim);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gk = keepdim ? g : g.reshape(y.shape());
    Tensor lse = GradMode::is_enabled() ? logsumexp(x, dims, true) : y;
    return {gk * exp(x - lse)};
  }
};

Tensor extreme(const Tensor& x, const Shape& dims, bool keepdim, bool is_max, bool all_dims,
               NanResultGrad nan_grad, std::string_view op) {
  ops::check_defined(x, op);
  const uint32_t mask = ops::dim_mask(dims, x.dim(), op);
  check_nonempty(x, mask, all_dims, op);
  return is_max ? autograd::apply<Extreme<true>>(x, mask, keepdim, nan_grad)
                : autograd::apply<Extreme<false>>(x, mask, keepdim, nan_grad);
}

Tensor arg_extreme(const Tensor& x, ReduceOp op, const Shape& dims, bool keepdim, bool all_dims,
                   std::string_view name) {
  ops::check_defined(x, name);
  const uint32_t mask = ops::dim_mask(dims, x.dim(), name);
  check_nonempty(x, mask, all_dims, name);
  Tensor idx = reduce_kernel(op, x, mask, DType::I64);
  return drop_dims(idx, x.shape(), mask, keepdim);
}

Tensor logical_reduce(const Tensor& x, ReduceOp op, std::string_view name) {
  ops::check_defined(x, name);
  return reduce_kernel(op, x, ops::dim_mask({}, x.dim(), name), DType::Bool).reshape({});
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "sum");
  return autograd::apply<Sum>(x, ops::dim_mask(dims, x.dim(), "sum"), keepdim);
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "mean");
  check_floating(x, "mean");
  const uint32_t mask = ops::dim_mask(dims, x.dim(), "mean");
  return sum(x, dims, keepdim) / double(reduced_count(x.shape(), mask));
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor var(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  ops::check_defined(x, "var");
  check_floating(x, "var");
  return autograd::apply<Var>(x, ops::dim_mask(dims, x.dim(), "var"), correction, keepdim);
}

Tensor std(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  ops::check_defined(x, "std");
  check_floating(x, "std");
  return autograd::apply<Std>(x, ops::dim_mask(dims, x.dim(), "std"), correction, keepdim);
}

Tensor max(const Tensor& x) {
  return extreme(x, {}, false, true, true, NanResultGrad::ToNanElements, "max");
}
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme(x, {dim}, keepdim, true, false, NanResultGrad::ToNanElements, "max");
}
Tensor min(const Tensor& x) {
  return extreme(x, {}, false, false, true, NanResultGrad::ToNanElements, "min");
}
Tensor min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme(x, {dim}, keepdim, false, false, NanResultGrad::ToNanElements, "min");
}
Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) {
  return extreme(x, dims, keepdim, true, dims.empty(), NanResultGrad::NotANumber, "amax");
}
Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) {
  return extreme(x, dims, keepdim, false, dims.empty(), NanResultGrad::NotANumber, "amin");
}

Tensor argmax(const Tensor& x) {
  return arg_extreme(x, ReduceOp::ArgMax, {}, false, true, "argmax");
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme(x, ReduceOp::ArgMax, {dim}, keepdim, false, "argmax");
}
Tensor argmin(const Tensor& x) {
  return arg_extreme(x, ReduceOp::ArgMin, {}, false, true, "argmin");
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme(x, ReduceOp::ArgMin, {dim}, keepdim, false, "argmin");
}

Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "logsumexp");
  check_floating(x, "logsumexp");
  return autograd::apply<LogSumExp>(x, ops::dim_mask(dims, x.dim(), "logsumexp"), keepdim);
}

Tensor all(const Tensor& x) { return logical_reduce(x, ReduceOp::All, "all"); }
Tensor any(const Tensor& x) { return logical_reduce(x, ReduceOp::Any, "any"); }

Tensor Tensor::sum() const { return descent::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return descent::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const { return descent::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return descent::mean(*this, dims, keepdim);
}

std::vector<double> power_sums(const std::vector<Tensor>& xs, double p) {
  std::vector<double> sums(xs.size(), 0.0);
  std::vector<size_t> order(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) order[i] = i;
  for (const auto& [dev, here] :
       split_by_device(std::move(order), [&](size_t i) { return xs[i].device(); })) {
    std::vector<Tensor> group;
    for (size_t i : here) group.push_back(xs[i]);
    const Tensor out = Tensor::empty({int64_t(group.size())}, {.dtype = DType::F64, .device = dev});
    backend_for(dev).power_sums({.xs = group, .p = p, .out = out});
    const std::vector<double> host = out.to_vector<double>();
    for (size_t k = 0; k < here.size(); ++k) sums[here[k]] = host[k];
  }
  return sums;
}

}  // namespace descent
