// The argument checks and shape helpers shared by the CPU and CUDA backends
// (slot_helpers.h). The messages are the slots' own: both devices report a bad call
// with the same words.
#include <descent/backends/slot_helpers.h>

#include <algorithm>

namespace descent {

// ---- op/dtype support --------------------------------------------------------------

DTypeKind dtype_kind(DType dt) {
  switch (dt) {
    case DType::F32:
    case DType::F64:
    case DType::F16:
    case DType::BF16: return DTypeKind::Floating;
    case DType::I32:
    case DType::I64: return DTypeKind::Integral;
    case DType::Bool: return DTypeKind::Bool;
  }
  fail("dtype_kind", fmt::format("invalid dtype code {}", int(dt)));
}

namespace {

template <class Op>
[[noreturn]] void fail_unsupported_in(std::string_view family, Op op, DType dt) {
  const std::string_view expected = domain_name(op_domain(op));
  if (dt == DType::Bool) {
    fail(family,
         fmt::format("{} is not defined for bool tensors, expected {}", op_name(op), expected));
  }
  fail(family,
       fmt::format("{} is not defined for dtype {}, expected {}", op_name(op), dt, expected));
}

}  // namespace

void fail_unsupported(UnaryOp op, DType dt) { fail_unsupported_in("unary", op, dt); }
void fail_unsupported(BinaryOp op, DType dt) { fail_unsupported_in("binary", op, dt); }
void fail_unsupported(ReduceOp op, DType dt) { fail_unsupported_in("reduce", op, dt); }

void fail_integer_op(BinaryOp op) {
  if (op == BinaryOp::Pow) fail("pow", "integers to negative integer powers are not allowed");
  fail(op_name(op), "integer division by zero");
}

void check_supported(UnaryOp op, DType dt) {
  if (!supports(op, dtype_kind(dt))) fail_unsupported(op, dt);
}
void check_supported(BinaryOp op, DType dt) {
  if (!supports(op, dtype_kind(dt))) fail_unsupported(op, dt);
}
void check_supported(ReduceOp op, DType dt) {
  if (!supports(op, dtype_kind(dt))) fail_unsupported(op, dt);
}

// ---- scans and sorting -------------------------------------------------------------

void check_scan(const ScanArgs& a) {
  check(a.x.defined() && a.out.defined(), "scan", "undefined input or output");
  check(a.x.dtype() != DType::Bool, "scan", "bool input, expected a numeric dtype");
  check(a.out.dtype() == a.x.dtype(), "scan", "output dtype {}, expected {}", a.out.dtype(),
        a.x.dtype());
  check(a.x.is_contiguous() && a.out.is_contiguous(), "scan", "expected contiguous tensors");
  check(a.outer >= 0 && a.n >= 0 && a.inner >= 0 && a.outer * a.n * a.inner == a.x.numel() &&
            a.out.numel() == a.x.numel(),
        "scan", "layout ({}, {}, {}) does not match {} input and {} output elements", a.outer, a.n,
        a.inner, a.x.numel(), a.out.numel());
}

void check_sort(const SortArgs& a) {
  check(a.x.defined() && a.values.defined() && a.indices.defined(), "sort",
        "undefined input or output");
  check(a.x.dim() == 2 && a.x.is_contiguous(), "sort", "input of shape {}, expected contiguous 2-D",
        a.x.shape());
  check(a.values.shape() == a.x.shape() && a.values.dtype() == a.x.dtype() &&
            a.values.is_contiguous(),
        "sort", "values {} {}, expected contiguous {} {}", a.values.shape(), a.values.dtype(),
        a.x.shape(), a.x.dtype());
  check(a.indices.shape() == a.x.shape() && a.indices.dtype() == DType::I64 &&
            a.indices.is_contiguous(),
        "sort", "indices {} {}, expected contiguous {} i64", a.indices.shape(), a.indices.dtype(),
        a.x.shape());
}

// ---- reductions --------------------------------------------------------------------

uint32_t check_reduce(const ReduceArgs& a) {
  const Tensor& x = a.x;
  const Tensor& out = a.out;
  const bool is_arg = a.op == ReduceOp::ArgMax || a.op == ReduceOp::ArgMin;
  Shape want = x.shape();
  for (int k = 0; k < x.dim(); ++k) {
    if (a.dims >> k & 1u) want[k] = 1;
  }
  const DType want_dtype = is_arg                                           ? DType::I64
                           : a.op == ReduceOp::All || a.op == ReduceOp::Any ? DType::Bool
                                                                            : x.dtype();
  check(out.shape() == want && out.dtype() == want_dtype && out.is_contiguous(), "reduce",
        "output must be a contiguous {} tensor of shape {}, got {} of shape {}", want_dtype, want,
        out.dtype(), out.shape());
  uint32_t dims = 0;
  for (int k = 0; k < x.dim(); ++k) {
    if ((a.dims >> k & 1u) && x.shape()[k] != 1) dims |= 1u << k;
  }
  return dims;
}

bool empty_reduce_writes_identity(const ReduceArgs& a, uint32_t dims) {
  const Tensor& x = a.x;
  bool empty_reduce = false;
  for (int k = 0; k < x.dim(); ++k) empty_reduce |= (dims >> k & 1u) && x.shape()[k] == 0;
  if (!empty_reduce) return false;
  check(a.op == ReduceOp::Sum || a.op == ReduceOp::All || a.op == ReduceOp::Any, "reduce",
        "cannot take max/min/argmax/argmin over an empty dimension (input shape {})", x.shape());
  return true;
}

// ---- matmul ------------------------------------------------------------------------

namespace {
constexpr std::string_view kMatmul = "matmul";
}  // namespace

void check_matmul_operands(const MatmulArgs& args) {
  const Tensor &a = args.a, &b = args.b, &bias = args.bias, &out = args.out;
  check(a.defined() && b.defined() && out.defined(), kMatmul, "a, b and out must be defined");
  check(a.dim() >= 2 && b.dim() >= 2 && out.dim() >= 2 && a.dim() <= out.dim() &&
            b.dim() <= out.dim(),
        kMatmul, "expected a (..., M, K), b (..., K, N), out (..., M, N); got {}, {}, {}",
        a.shape(), b.shape(), out.shape());
  check(a.dtype() == out.dtype() && b.dtype() == out.dtype() &&
            (!bias.defined() || bias.dtype() == out.dtype()),
        kMatmul, "operands must share out's dtype {}, got a {} and b {}", out.dtype(), a.dtype(),
        b.dtype());
}

MatmulDims check_matmul_shapes(const MatmulArgs& args) {
  const Tensor &a = args.a, &b = args.b, &bias = args.bias, &out = args.out;
  const MatmulDims d{.M = out.size(-2), .N = out.size(-1), .K = a.size(-1)};
  check(a.size(-2) == d.M && b.size(-2) == d.K && b.size(-1) == d.N, kMatmul,
        "shapes do not fit: a {} · b {} → out {}", a.shape(), b.shape(), out.shape());
  check(!bias.defined() || bias.numel() == d.N, kMatmul, "bias has {} elements, expected N = {}",
        bias.defined() ? bias.numel() : 0, d.N);
  return d;
}

int64_t matmul_batch_stride(const Tensor& x, int d, int nd, int64_t size, std::string_view which) {
  const int xd = d - (nd - x.dim());
  if (xd < 0 || x.shape()[xd] == 1) return 0;
  check(x.shape()[xd] == size, kMatmul, "{} has shape {}: batch dim {} is {}, expected {} or 1",
        which, x.shape(), xd, x.shape()[xd], size);
  return x.strides()[xd];
}

// ---- softmax -----------------------------------------------------------------------

SoftmaxLayout softmax_layout(const Shape& shape, int dim) {
  SoftmaxLayout l;
  for (int i = 0; i < shape.size(); ++i) {
    if (i < dim) {
      l.outer *= shape[i];
    } else if (i == dim) {
      l.d = shape[i];
    } else {
      l.inner *= shape[i];
    }
  }
  return l;
}

namespace {

void check_same(const Tensor& t, const Tensor& ref, std::string_view op, std::string_view what) {
  check(t.defined() && t.shape() == ref.shape() && t.dtype() == ref.dtype(), op,
        "{} must have shape {} and dtype {}, got {} {}", what, ref.shape(), ref.dtype(),
        t.defined() ? fmt::format("{}", t.shape()) : "undefined",
        t.defined() ? dtype_name(t.dtype()) : "");
}

}  // namespace

int check_softmax(const SoftmaxArgs& a) {
  const std::string_view op = a.log ? "log_softmax" : "softmax";
  check_same(a.out, a.x, op, "output");
  check(is_floating(a.x.dtype()), op, "expected a floating dtype (f32, f64, f16, bf16), got {}",
        a.x.dtype());
  return wrap_dim(a.dim, a.x.dim(), op);
}

int check_softmax_backward(const SoftmaxBackwardArgs& a) {
  const std::string_view op = a.log ? "log_softmax_backward" : "softmax_backward";
  check(a.y.defined(), op, "the forward output is an undefined tensor");
  check_same(a.grad, a.y, op, "grad");
  check_same(a.grad_in, a.y, op, "grad_in");
  check(is_floating(a.y.dtype()), op, "expected a floating dtype (f32, f64, f16, bf16), got {}",
        a.y.dtype());
  return wrap_dim(a.dim, a.y.dim(), op);
}

Tensor contiguous_copy(Backend& be, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), {.dtype = t.dtype(), .device = be.device()});
  be.copy(t, c);
  return c;
}

// ---- indexing ----------------------------------------------------------------------

namespace {

// index_select and index_add: `base` indexed along `dim` by a 0-D or 1-D index, `other`
// (named `what`) of base's shape with `dim` the index's length and base's dtype.
Shape check_along(std::string_view op, const Tensor& base, int dim, const Tensor& index,
                  const Tensor& other, std::string_view what) {
  check(dim >= 0 && dim < base.dim(), op, "dim {} is out of range for {} dims", dim, base.dim());
  check(index.dim() <= 1, op, "index must be 0-D or 1-D, got shape {}", index.shape());
  Shape want = base.shape();
  want[dim] = index.numel();
  check(other.shape() == want && other.dtype() == base.dtype(), op, "{} must be {} {}, got {} {}",
        what, base.dtype(), want, other.dtype(), other.shape());
  return want;
}

}  // namespace

Shape check_index_select(const IndexSelectArgs& a) {
  return check_along("index_select", a.x, a.dim, a.index, a.out, "out");
}

void check_gather(const GatherArgs& a) {
  check(a.index.dim() == a.x.dim() && a.out.shape() == a.index.shape(), "gather",
        "index must have x's rank and out's shape, got x {}, index {}, out {}", a.x.shape(),
        a.index.shape(), a.out.shape());
  check(a.dim >= 0 && a.dim < std::max(a.x.dim(), 1), "gather",
        "dim {} is out of range for {} dims", a.dim, a.x.dim());
  for (int d = 0; d < a.x.dim(); ++d) {
    check(d == a.dim || a.index.shape()[d] <= a.x.shape()[d], "gather",
          "index shape {} exceeds x shape {} at dim {}", a.index.shape(), a.x.shape(), d);
  }
}

Shape check_index_add(const IndexAddArgs& a) {
  return check_along("index_add", a.out, a.dim, a.index, a.src, "src");
}

void check_scatter_add(const ScatterAddArgs& a) {
  const int nd = a.out.dim();
  check(a.index.dim() == nd && a.src.dim() == nd && a.src.dtype() == a.out.dtype(), "scatter_add",
        "out, index and src must have one rank (and out, src one dtype), got out {} {}, "
        "index {}, src {} {}",
        a.out.dtype(), a.out.shape(), a.index.shape(), a.src.dtype(), a.src.shape());
  check(a.dim >= 0 && a.dim < std::max(nd, 1), "scatter_add", "dim {} is out of range for {} dims",
        a.dim, nd);
  for (int d = 0; d < nd; ++d) {
    check(a.index.shape()[d] <= a.src.shape()[d] &&
              (d == a.dim || a.index.shape()[d] <= a.out.shape()[d]),
          "scatter_add", "index shape {} exceeds src {} or out {} at dim {}", a.index.shape(),
          a.src.shape(), a.out.shape(), d);
  }
}

Tensor index_window(const Tensor& t, const Shape& shape, int dim, int64_t dim_stride) {
  Strides st = t.strides();
  st[dim] = dim_stride;
  return make_view(t, shape, st, t.offset());
}

Tensor broadcast_index(const Tensor& index, const Shape& shape, int dim) {
  Strides st = Shape::filled(shape.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.strides()[0];
  return make_view(index, shape, st, index.offset());
}

// ---- batch norm --------------------------------------------------------------------

ChannelDims channel_dims(const Tensor& x) {
  ChannelDims d{x.size(0), x.size(1), 1};
  for (int i = 2; i < x.dim(); ++i) d.s *= x.size(i);
  return d;
}

// ---- fused optimizer updates -------------------------------------------------------

void check_power_sums(const PowerSumsArgs& a) {
  check(
      a.out.dtype() == DType::F64 && a.out.is_contiguous() && a.out.numel() == int64_t(a.xs.size()),
      "power_sums", "out must be a contiguous f64 tensor of {} elements, got {} {}", a.xs.size(),
      a.out.dtype(), a.out.shape());
}

void check_optim_param(std::string_view op, const Tensor& param, Device device) {
  check(param.defined(), op, "param is undefined");
  check(param.dtype() == DType::F32 || param.dtype() == DType::F64, op,
        "got param dtype {}, expected f32 or f64", param.dtype());
  check(param.is_contiguous(), op, "param must be contiguous");
  check(param.device() == device, op, "got param on {}, expected {}", param.device(), device);
}

void check_optim_operand(std::string_view op, const Tensor& param, const Tensor& t,
                         std::string_view name) {
  check(t.defined(), op, "{} is undefined", name);
  check(t.shape() == param.shape(), op, "got {} of shape {}, expected the param's {}", name,
        t.shape(), param.shape());
  check(t.dtype() == param.dtype(), op, "got {} of dtype {}, expected the param's {}", name,
        t.dtype(), param.dtype());
  check(t.is_contiguous(), op, "{} must be contiguous", name);
  check(t.device() == param.device(), op, "got {} on {}, expected the param's {}", name, t.device(),
        param.device());
}

}  // namespace descent
