// cumsum / cumprod (ops/scan.h) through the backends' scan slot.
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/rearrange.h>
#include <descent/ops/reduce.h>
#include <descent/ops/scan.h>

namespace descent {

namespace {

// The scan of x along `dim` (already wrapped), in x's dtype.
Tensor run_scan(ScanOp op, const Tensor& x, int dim) {
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  ScanArgs a{.op = op, .x = xc, .out = out};
  if (x.dim() > 0) {
    for (int d = 0; d < dim; ++d) a.outer *= x.shape()[d];
    a.n = x.shape()[dim];
    for (int d = dim + 1; d < x.dim(); ++d) a.inner *= x.shape()[d];
  }
  backend_for(x).scan(a);
  return out;
}

// Σ_{j ≥ i} g_j along dim: the cumsum's adjoint.
Tensor reverse_cumsum(const Tensor& g, int dim) { return flip(cumsum(flip(g, {dim}), dim), {dim}); }

struct CumSum {
  static constexpr std::string_view name = "cumsum";
  int dim = 0;
  Tensor forward(const Tensor& x, int dim_) {
    dim = dim_;
    return run_scan(ScanOp::Sum, x, dim_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {g.dim() == 0 ? g : reverse_cumsum(g, dim)};
  }
};

struct CumProd {
  static constexpr std::string_view name = "cumprod";
  Tensor x;
  int dim = 0;
  Tensor forward(const Tensor& x_, int dim_) {
    x = x_;
    dim = dim_;
    return run_scan(ScanOp::Prod, x_, dim_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (x.dim() == 0) return {g};
    // d y_j / d x_i = Π_{k ≤ j, k ≠ i} x_k for j ≥ i. Without zeros that is y_j / x_i,
    // so grad_i = Σ_{j ≥ i} g_j y_j / x_i.
    const bool has_zero = [&] {
      NoGradGuard no_grad;
      return any(x == 0.0).item<bool>();
    }();
    if (!has_zero) return {reverse_cumsum(g * cumprod(x, dim), dim) / x};
    // With zeros, one term per position: the product with x_i replaced by 1.
    const int64_t n = x.shape()[dim];
    const Tensor pos = arange(double(n), {.dtype = DType::I64, .device = x.device()});
    Shape view = Shape::filled(x.dim(), 1);
    view[dim] = n;
    const Tensor where_pos = pos.reshape(view);
    std::vector<Tensor> parts;
    for (int64_t i = 0; i < n; ++i) {
      const Tensor is_i = where_pos == i;
      const Tensor p = cumprod(where(is_i, ones_like(x), x), dim);
      parts.push_back((g * p).narrow(dim, i, n - i).sum(Shape{dim}, true));
    }
    return {cat(parts, dim)};
  }
};

Tensor scan_input(const Tensor& x, std::string_view op) {
  ops::check_defined(x, op);
  return is_floating(x.dtype()) || x.dtype() == DType::I64 ? x : x.to(DType::I64);
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  const Tensor in = scan_input(x, "cumsum");
  return autograd::apply<CumSum>(in, wrap_dim(dim, in.dim(), "cumsum"));
}

Tensor cumprod(const Tensor& x, int64_t dim) {
  const Tensor in = scan_input(x, "cumprod");
  return autograd::apply<CumProd>(in, wrap_dim(dim, in.dim(), "cumprod"));
}

}  // namespace descent
