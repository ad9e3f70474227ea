// Reductions and their gradients (built from differentiable ops).
#include "ops/reduce.h"

#include "core/function.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/factory.h"

namespace descent {

namespace {

// Runs a backend reduction; the result has the keepdim shape.
Tensor reduce_kernel(ReduceOp op, const Tensor& x, uint32_t mask, DType out_dtype) {
  Tensor out = Tensor::empty(ops::reduced_shape(x.shape(), mask, true),
                             {.dtype = out_dtype, .device = x.device()});
  backend_for(x).reduce({.op = op, .x = x, .dims = mask, .out = out});
  return out;
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
    Tensor out = reduce_kernel(ReduceOp::Sum, xs, mask, dt);
    return keepdim ? out : out.reshape(ops::reduced_shape(in_shape, mask, false));
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // Put the reduced dims back as size 1; the engine's broadcasting does the rest...
    // but the input shape must be produced here, so expand explicitly.
    Tensor gk = keepdim ? g : g.reshape(ops::reduced_shape(in_shape, mask, true));
    return {gk.expand(in_shape)};
  }
};

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "sum");
  return autograd::apply<Sum>(x, ops::dim_mask(dims, x.dim(), "sum"), keepdim);
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "mean");
  check(is_floating(x.dtype()), "mean", "expected a floating tensor, got {}; convert it first",
        x.dtype());
  const uint32_t mask = ops::dim_mask(dims, x.dim(), "mean");
  int64_t count = 1;
  for (int d = 0; d < x.dim(); ++d) {
    if (mask >> d & 1u) count *= x.shape()[d];
  }
  return sum(x, dims, keepdim) / double(count);
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor Tensor::sum() const { return descent::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return descent::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const { return descent::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return descent::mean(*this, dims, keepdim);
}

}  // namespace descent
