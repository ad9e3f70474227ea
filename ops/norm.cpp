// norm and cdist (ops/norm.h). p = 1 and p = ∞ are sums and maxima of |x| (whose
// gradients are those ops'); other p go through PNorm, whose backward is written out so
// that a zero vector gets gradient 0 instead of 0/0.
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/norm.h>
#include <descent/ops/reduce.h>

#include <cmath>

namespace descent {

namespace {

struct PNorm {
  static constexpr std::string_view name = "norm";
  Tensor x, y;
  double p = 2;
  Shape dims;
  bool keepdim = false;
  Tensor forward(const Tensor& x_, double p_, const Shape& dims_, bool keepdim_) {
    x = x_;
    p = p_;
    dims = dims_;
    keepdim = keepdim_;
    NoGradGuard no_grad;
    const Tensor s =
        p_ == 2.0 ? sum(square(x_), dims_, keepdim_) : sum(pow(abs(x_), p_), dims_, keepdim_);
    return y = p_ == 2.0 ? sqrt(s) : pow(s, 1.0 / p_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // d‖x‖/dx = x·|x|^(p-2) / ‖x‖^(p-1); 0 where ‖x‖ = 0.
    Tensor norm_k = keepdim ? norm(x, p, dims, true) : unsqueeze_reduced(norm(x, p, dims, false));
    Tensor gk = keepdim ? g : unsqueeze_reduced(g);
    const Tensor zero = norm_k == 0.0;
    const Tensor safe = where(zero, ones_like(norm_k), norm_k);
    Tensor scale = p == 2.0 ? x / safe : x * pow(abs(x), p - 2.0) / pow(safe, p - 1.0);
    return {where(zero, zeros({}, options_of(x)), gk * scale)};
  }
  // A reduced tensor with the reduced dims back as size 1, to broadcast against x.
  Tensor unsqueeze_reduced(const Tensor& t) const {
    if (dims.empty()) return t.reshape(Shape::filled(x.dim(), 1));
    const uint32_t mask = ops::dim_mask(dims, x.dim(), "norm");
    return t.reshape(ops::reduced_shape(x.shape(), mask, true));
  }
};

}  // namespace

Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  ops::check_defined(x, "norm");
  check(is_floating(x.dtype()), "norm", "input of dtype {}, expected a floating dtype", x.dtype());
  check(p >= 0 && !std::isnan(p), "norm", "p = {}, expected p >= 0 or inf", p);
  if (std::isinf(p))
    return x.numel() == 0 ? sum(abs(x), dims, keepdim) : amax(abs(x), dims, keepdim);
  if (p == 1.0) return sum(abs(x), dims, keepdim);
  if (p == 0.0) {
    NoGradGuard no_grad;
    return sum((x != 0.0).to(x.dtype()), dims, keepdim);
  }
  return autograd::apply<PNorm>(x, p, dims, keepdim);
}

Tensor cdist(const Tensor& x1, const Tensor& x2, double p) {
  ops::check_defined(x1, "cdist", "x1");
  ops::check_defined(x2, "cdist", "x2");
  check(x1.dim() >= 2 && x2.dim() >= 2 && x1.shape()[x1.dim() - 1] == x2.shape()[x2.dim() - 1],
        "cdist", "x1 of shape {} and x2 of shape {}, expected (..., P, M) and (..., R, M)",
        x1.shape(), x2.shape());
  // (..., P, 1, M) - (..., 1, R, M) → (..., P, R, M), then the norm over M.
  return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, Shape{-1});
}

}  // namespace descent
