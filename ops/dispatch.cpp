#include <descent/backends/slot_helpers.h>
#include <descent/ops/dispatch.h>

namespace descent::ops {

void check_same_device(const Tensor& a, const Tensor& b, std::string_view op) {
  check(a.device() == b.device(), op, "expected tensors on one device, got {} and {}", a.device(),
        b.device());
}

void check_defined(const Tensor& t, std::string_view op, std::string_view what) {
  check(t.defined(), op, "{} is an undefined tensor", what);
}

void check_operands(const Tensor& a, const Tensor& b, std::string_view op) {
  check_defined(a, op, "first operand");
  check_defined(b, op, "second operand");
}

Tensor unary(UnaryOp op, const Tensor& x, UnaryParams p) {
  check_supported(op, x.dtype());
  const bool to_bool = is_bool_result(op);
  Tensor out =
      Tensor::empty(x.shape(), {.dtype = to_bool ? DType::Bool : x.dtype(), .device = x.device()});
  backend_for(x).unary(op, x, out, p);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, DType compute, std::string_view name) {
  check_operands(a, b, name);
  check_same_device(a, b, name);
  check_supported(op, compute);  // before the operands are converted
  const Shape shape =
      a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), name);
  const Tensor ac = a.dtype() == compute ? a : a.to(compute);
  const Tensor bc = b.dtype() == compute ? b : b.to(compute);
  Tensor out = Tensor::empty(
      shape, {.dtype = is_bool_result(op) ? DType::Bool : compute, .device = a.device()});
  backend_for(a).binary(op, ac, bc, out);
  return out;
}

uint32_t dim_mask(const Shape& dims, int ndim, std::string_view op) {
  if (dims.empty()) return ndim == 0 ? 0u : (ndim >= 32 ? ~0u : (1u << ndim) - 1u);
  uint32_t m = 0;
  for (int64_t d : dims) {
    const int w = wrap_dim(d, ndim, op);
    check(!(m >> w & 1u), op, "dim {} appears more than once in {}", d, dims);
    m |= 1u << w;
  }
  if (ndim == 0) return 0u;  // dim 0 / -1 of a scalar: nothing to reduce
  return m;
}

Shape reduced_shape(const Shape& shape, uint32_t mask, bool keepdim) {
  Shape out;
  for (int d = 0; d < shape.size(); ++d) {
    if (mask >> d & 1u) {
      if (keepdim) out.push_back(1);
    } else {
      out.push_back(shape[d]);
    }
  }
  return out;
}

}  // namespace descent::ops
