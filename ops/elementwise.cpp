// Elementwise ops and their gradients. Backwards are written with differentiable ops,
// so higher-order gradients work. Gradients may keep the broadcast shape: the engine
// sums them back to each input's shape.
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>

namespace descent {

namespace {
int category(DType t) { return t == DType::Bool ? 0 : is_integral(t) ? 1 : 2; }
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  // A 0-dim operand only decides the type when it is of a higher category.
  if (a.dim() == 0 && b.dim() > 0 && category(a.dtype()) <= category(b.dtype())) return b.dtype();
  if (b.dim() == 0 && a.dim() > 0 && category(b.dtype()) <= category(a.dtype())) return a.dtype();
  return promote_types(a.dtype(), b.dtype());
}

DType result_type(const Tensor& a, Scalar s) {
  if (is_floating(a.dtype())) return a.dtype();
  if (!s.integral) return DType::F32;
  return a.dtype() == DType::Bool ? DType::I64 : a.dtype();
}

Tensor scalar_like(Scalar s, const Tensor& like) {
  ops::check_defined(like, "scalar op", "tensor operand");
  return full({}, s.value, {.dtype = result_type(like, s), .device = like.device()});
}

namespace {

// Recomputes f(x) when a graph of the backward is being recorded (so a saved output
// is not treated as a constant), else returns the saved output.
template <class F>
Tensor output_or_recompute(const Tensor& saved, const Tensor& x, F f) {
  return GradMode::is_enabled() ? f(x) : saved;
}

struct Add {
  static constexpr std::string_view name = "add";
  Tensor forward(const Tensor& a, const Tensor& b) {
    return ops::binary(BinaryOp::Add, a, b, result_type(a, b), name);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g, g}; }
};

struct Sub {
  static constexpr std::string_view name = "sub";
  Tensor forward(const Tensor& a, const Tensor& b) {
    return ops::binary(BinaryOp::Sub, a, b, result_type(a, b), name);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g, neg(g)}; }
};

struct Mul {
  static constexpr std::string_view name = "mul";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(BinaryOp::Mul, a_, b_, result_type(a_, b_), name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {a.requires_grad() ? g * b : Tensor(), b.requires_grad() ? g * a : Tensor()};
  }
};

struct Div {
  static constexpr std::string_view name = "div";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    // `/` is true division: integer operands give f32, as torch.
    DType dt = result_type(a_, b_);
    if (!is_floating(dt)) dt = DType::F32;
    return ops::binary(BinaryOp::Div, a_, b_, dt, name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor ga = g / b;
    Tensor gb = b.requires_grad() ? neg(ga * a / b) : Tensor();
    return {ga, gb};
  }
};

struct PowTensor {
  static constexpr std::string_view name = "pow";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(BinaryOp::Pow, a_, b_, result_type(a_, b_), name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor ga = a.requires_grad() ? g * b * pow(a, b - 1.0) : Tensor();
    // d/db a^b = a^b·log(a); PyTorch defines it as 0 where a == 0 and b >= 0.
    Tensor gb;
    if (b.requires_grad()) {
      Tensor safe_log = log(where(a == 0.0, ones_like(a), a));
      gb = g * pow(a, b) * safe_log;
    }
    return {ga, gb};
  }
};

struct PowScalar {
  static constexpr std::string_view name = "pow";
  Tensor x;
  double e = 1;
  Tensor forward(const Tensor& x_, double e_) {
    x = x_;
    e = e_;
    return ops::unary(UnaryOp::PowScalar, x_, {.alpha = e_});
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (e == 0.0) return {Tensor()};
    return {g * (e * pow(x, e - 1.0))};
  }
};

// minimum (kMax false) and maximum (true): one struct, each with its own name.
template <bool kMax>
struct Minmax {
  static constexpr std::string_view name = kMax ? "maximum" : "minimum";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_) {
    a = a_;
    b = b_;
    return ops::binary(kMax ? BinaryOp::Maximum : BinaryOp::Minimum, a_, b_, result_type(a_, b_),
                       name);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // The loser gets nothing, ties split the gradient evenly, and where the comparison
    // has no answer (a NaN) both get all of it, as PyTorch.
    const DType dt = g.dtype();
    Tensor half_ties = eq(a, b).to(dt) * 0.5;
    Tensor a_loses = (kMax ? lt(a, b) : gt(a, b)).to(dt);
    Tensor b_loses = (kMax ? gt(a, b) : lt(a, b)).to(dt);
    return {g * (1.0 - a_loses - half_ties), g * (1.0 - b_loses - half_ties)};
  }
};

struct Where {
  static constexpr std::string_view name = "where";
  Tensor cond;
  Tensor forward(const Tensor& c, const Tensor& a, const Tensor& b) {
    check(c.dtype() == DType::Bool, name, "condition must be bool, got {}", c.dtype());
    ops::check_same_device(c, a, name);
    ops::check_same_device(a, b, name);
    cond = c;
    const DType dt = result_type(a, b);
    const Shape shape =
        broadcast_shapes(c.shape(), broadcast_shapes(a.shape(), b.shape(), name), name);
    Tensor out = Tensor::empty(shape, {.dtype = dt, .device = a.device()});
    backend_for(a).where(c, a.to(dt), b.to(dt), out);
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor z = zeros({}, {.dtype = g.dtype(), .device = g.device()});
    return {Tensor(), where(cond, g, z), where(cond, z, g)};
  }
};

struct Neg {
  static constexpr std::string_view name = "neg";
  Tensor forward(const Tensor& x) { return ops::unary(UnaryOp::Neg, x); }
  std::vector<Tensor> backward(const Tensor& g) { return {neg(g)}; }
};

struct Exp {
  static constexpr std::string_view name = "exp";
  Tensor x, y;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return y = ops::unary(UnaryOp::Exp, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {g * output_or_recompute(y, x, [](const Tensor& t) { return exp(t); })};
  }
};

struct Log {
  static constexpr std::string_view name = "log";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Log, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g / x}; }
};

struct Log1p {
  static constexpr std::string_view name = "log1p";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Log1p, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g / (x + 1.0)}; }
};

struct Sqrt {
  static constexpr std::string_view name = "sqrt";
  Tensor x, y;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return y = ops::unary(UnaryOp::Sqrt, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {g / (2.0 * output_or_recompute(y, x, [](const Tensor& t) { return sqrt(t); }))};
  }
};

struct Rsqrt {
  static constexpr std::string_view name = "rsqrt";
  Tensor x, y;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return y = ops::unary(UnaryOp::Rsqrt, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor r = output_or_recompute(y, x, [](const Tensor& t) { return rsqrt(t); });
    return {g * (-0.5 * r * r * r)};
  }
};

struct Abs {
  static constexpr std::string_view name = "abs";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Abs, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g * sign(x)}; }
};

struct Clamp {
  static constexpr std::string_view name = "clamp";
  Tensor x;
  double lo = 0, hi = 0;
  Tensor forward(const Tensor& x_, double lo_, double hi_) {
    check(!(lo_ > hi_), name, "min {} is greater than max {}", lo_, hi_);
    x = x_;
    lo = lo_;
    hi = hi_;
    return ops::unary(UnaryOp::Clamp, x_, {.alpha = lo_, .beta = hi_});
  }
  std::vector<Tensor> backward(const Tensor& g) {
    Tensor inside = logical_and(x >= lo, x <= hi);
    return {g * inside.to(g.dtype())};
  }
};

Tensor unary_nograd(UnaryOp op, const Tensor& x, std::string_view name) {
  ops::check_defined(x, name);
  return ops::unary(op, x);
}

Tensor compare(BinaryOp op, const Tensor& a, const Tensor& b, std::string_view name) {
  ops::check_operands(a, b, name);
  return ops::binary(op, a, b, result_type(a, b), name);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "add");
  return autograd::apply<Add>(a, b);
}
Tensor sub(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "sub");
  return autograd::apply<Sub>(a, b);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "mul");
  return autograd::apply<Mul>(a, b);
}
Tensor div(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "div");
  return autograd::apply<Div>(a, b);
}
Tensor pow(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "pow");
  return autograd::apply<PowTensor>(a, b);
}
Tensor pow(const Tensor& a, Scalar e) {
  ops::check_defined(a, "pow");
  if (!is_floating(a.dtype())) return pow(a, scalar_like(e, a));
  return autograd::apply<PowScalar>(a, e.value);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "minimum");
  return autograd::apply<Minmax<false>>(a, b);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  ops::check_operands(a, b, "maximum");
  return autograd::apply<Minmax<true>>(a, b);
}
Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) {
  ops::check_defined(c, "where", "condition");
  ops::check_defined(a, "where", "first value");
  ops::check_defined(b, "where", "second value");
  return autograd::apply<Where>(c, a, b);
}
Tensor where(const Tensor& c, const Tensor& a, Scalar b) { return where(c, a, scalar_like(b, a)); }

Tensor neg(const Tensor& x) {
  ops::check_defined(x, "neg");
  return autograd::apply<Neg>(x);
}
Tensor exp(const Tensor& x) {
  ops::check_defined(x, "exp");
  return autograd::apply<Exp>(x);
}
Tensor log(const Tensor& x) {
  ops::check_defined(x, "log");
  return autograd::apply<Log>(x);
}
Tensor log1p(const Tensor& x) {
  ops::check_defined(x, "log1p");
  return autograd::apply<Log1p>(x);
}
Tensor sqrt(const Tensor& x) {
  ops::check_defined(x, "sqrt");
  return autograd::apply<Sqrt>(x);
}
Tensor rsqrt(const Tensor& x) {
  ops::check_defined(x, "rsqrt");
  return autograd::apply<Rsqrt>(x);
}
Tensor abs(const Tensor& x) {
  ops::check_defined(x, "abs");
  return autograd::apply<Abs>(x);
}
Tensor sign(const Tensor& x) { return unary_nograd(UnaryOp::Sign, x, "sign"); }
Tensor square(const Tensor& x) { return pow(x, 2); }  // integral 2 keeps integer dtypes
Tensor reciprocal(const Tensor& x) { return pow(x, -1.0); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  ops::check_defined(x, "clamp");
  return autograd::apply<Clamp>(x, lo, hi);
}
Tensor clamp_min(const Tensor& x, double lo) {
  return clamp(x, lo, std::numeric_limits<double>::infinity());
}
Tensor clamp_max(const Tensor& x, double hi) {
  return clamp(x, -std::numeric_limits<double>::infinity(), hi);
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ge, a, b, "ge"); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return compare(BinaryOp::LogicalAnd, a, b, "logical_and");
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return compare(BinaryOp::LogicalOr, a, b, "logical_or");
}
Tensor logical_not(const Tensor& x) { return unary_nograd(UnaryOp::LogicalNot, x, "logical_not"); }
Tensor isfinite(const Tensor& x) { return unary_nograd(UnaryOp::IsFinite, x, "isfinite"); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, scalar_like(b, a)); }
Tensor operator+(Scalar a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(Scalar a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(Scalar a, const Tensor& b) { return div(scalar_like(a, b), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return eq(a, scalar_like(b, a)); }
Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, scalar_like(b, a)); }
Tensor operator<(const Tensor& a, Scalar b) { return lt(a, scalar_like(b, a)); }
Tensor operator<=(const Tensor& a, Scalar b) { return le(a, scalar_like(b, a)); }
Tensor operator>(const Tensor& a, Scalar b) { return gt(a, scalar_like(b, a)); }
Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, scalar_like(b, a)); }

Tensor& add_(Tensor& a, const Tensor& b, double alpha) {
  ops::check_defined(a, "add_", "destination");
  ops::check_defined(b, "add_", "source");
  check(!(GradMode::is_enabled() && a.requires_grad()), "add_",
        "in-place update of a tensor that requires grad; use NoGradGuard");
  ops::check_same_device(a, b, "add_");
  check(broadcast_shapes(a.shape(), b.shape(), "add_") == a.shape(), "add_",
        "source shape {} does not broadcast to destination shape {}", b.shape(), a.shape());
  Tensor rhs = alpha == 1.0 ? b : b * alpha;
  backend_for(a).binary(BinaryOp::Add, a, rhs.to(a.dtype()), a);
  a.storage()->bump_version();
  return a;
}

Tensor& mul_(Tensor& a, Scalar b) {
  check(!(GradMode::is_enabled() && a.requires_grad()), "mul_",
        "in-place update of a tensor that requires grad; use NoGradGuard");
  backend_for(a).binary(BinaryOp::Mul, a, scalar_like(b, a).to(a.dtype()), a);
  a.storage()->bump_version();
  return a;
}

Tensor Tensor::pow(double e) const { return descent::pow(*this, e); }
Tensor Tensor::exp() const { return descent::exp(*this); }
Tensor Tensor::log() const { return descent::log(*this); }
Tensor Tensor::sqrt() const { return descent::sqrt(*this); }
Tensor Tensor::abs() const { return descent::abs(*this); }

}  // namespace descent
