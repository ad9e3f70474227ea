// Inverted dropout: y = x · mask with mask ∈ {0, 1/(1-p)}. The mask is a constant
// operand of mul, so the gradient is g · mask and higher orders come for free.
#include <descent/ops/dispatch.h>
#include <descent/ops/dropout.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>

#include <cmath>

namespace descent::F {

namespace {

// Zeroes x where a mask of `mask_shape` (broadcast to x) drew below p, scaling the rest.
Tensor masked_dropout(const Tensor& x, double p, bool training, Generator* gen,
                      const Shape& mask_shape, std::string_view op) {
  ops::check_defined(x, op);
  check(p >= 0.0 && p <= 1.0, op, "probability p must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x;
  check(is_floating(x.dtype()), op, "expected a floating input, got {} of shape {}", x.dtype(),
        x.shape());
  // As torch: x · 0 keeps x in the graph (zero gradient) and propagates NaN.
  if (p == 1.0) return x * zeros({}, {.dtype = x.dtype(), .device = x.device()});
  // Draw in at least f32: a bf16 uniform has 8 bits and can round up to 1.
  const DType draw = x.dtype() == DType::F64 ? DType::F64 : DType::F32;
  Tensor u = rand(mask_shape, {.dtype = draw, .device = x.device()}, gen);
  // A compare, a conversion and an in-place scale: cheaper than where() with broadcast
  // scalars. The mask never requires grad, so scaling it in place is safe.
  Tensor mask = (u >= p).to(x.dtype());
  mul_(mask, 1.0 / (1.0 - p));
  return x * mask;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  return masked_dropout(x, p, training, gen, x.defined() ? x.shape() : Shape{}, "dropout");
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator* gen) {
  constexpr std::string_view op = "dropout2d";
  ops::check_defined(x, op);
  check(x.dim() == 3 || x.dim() == 4, op,
        "expected input of shape (N, C, H, W) or (C, H, W), got {}", x.shape());
  // One draw per channel (per sample): the mask is x's shape with the spatial dims 1.
  Shape mask = x.shape();
  mask[mask.size() - 1] = 1;
  mask[mask.size() - 2] = 1;
  return masked_dropout(x, p, training, gen, mask, op);
}

}  // namespace descent::F
