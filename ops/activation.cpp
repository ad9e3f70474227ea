// Activations and softmax with their gradients (torch.nn.functional formulas).
//
// Forwards run one backend kernel (UnaryOp::*, Backend::softmax). Backwards come in two
// forms chosen by GradMode inside backward:
// - off (a plain first-order backward): relu, sigmoid, tanh and softmax/log_softmax use
//   their fused backward kernels, one pass each;
// - on (create_graph): the same formula written with differentiable ops, recomputing
//   the output from the saved input so that the output is not a constant of the graph
//   and double backward is right.
// The other activations always compose their backward from differentiable ops.
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/activation.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/reduce.h>

#include <cmath>

namespace descent::F {

namespace {

constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/√(2π)
constexpr double kSqrt2OverPi = 0.7978845608028654;  // √(2/π)
constexpr double kGeluTanhC = 0.044715;

void check_floating(const Tensor& x, std::string_view op) {
  ops::check_defined(x, op);
  check(is_floating(x.dtype()), op, "expected a floating tensor (f32, f64, f16, bf16), got {}",
        x.dtype());
}

// torch.sigmoid / torch.tanh of an integer tensor give f32.
Tensor to_floating(const Tensor& x, std::string_view op) {
  ops::check_defined(x, op);
  check(x.dtype() != DType::Bool, op, "expected a numeric tensor, got bool");
  return is_floating(x.dtype()) ? x : x.to(DType::F32);
}

// Fused kernel (a, b) = (grad, saved) → grad_in, for the first-order case.
Tensor fused(BinaryOp op, const Tensor& g, const Tensor& saved, std::string_view name) {
  return ops::binary(op, g, saved, saved.dtype(), name);
}

struct Relu {
  static constexpr std::string_view name = "relu";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Relu, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (!GradMode::is_enabled()) return {fused(BinaryOp::ReluBackward, g, x, "relu_backward")};
    // x <= 0 takes nothing; everything else, NaN included, passes g (PyTorch's
    // threshold_backward).
    return {where(logical_not(x <= 0.0), g, 0.0)};
  }
};

struct Sigmoid {
  static constexpr std::string_view name = "sigmoid";
  Tensor x, y;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return y = ops::unary(UnaryOp::Sigmoid, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (!GradMode::is_enabled()) {
      return {fused(BinaryOp::SigmoidBackward, g, y, "sigmoid_backward")};
    }
    Tensor s = sigmoid(x);
    return {g * s * (1.0 - s)};
  }
};

struct Tanh {
  static constexpr std::string_view name = "tanh";
  Tensor x, y;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return y = ops::unary(UnaryOp::Tanh, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (!GradMode::is_enabled()) return {fused(BinaryOp::TanhBackward, g, y, "tanh_backward")};
    Tensor t = tanh(x);
    return {g * (1.0 - t * t)};
  }
};

// The slope below 0 is used at x == 0 too, as PyTorch does.
struct LeakyRelu {
  static constexpr std::string_view name = "leaky_relu";
  Tensor x;
  double slope = 0;
  Tensor forward(const Tensor& x_, double slope_) {
    x = x_;
    slope = slope_;
    return ops::unary(UnaryOp::LeakyRelu, x_, {.alpha = slope_});
  }
  std::vector<Tensor> backward(const Tensor& g) { return {where(x > 0.0, g, g * slope)}; }
};

// d/dx = α·eˣ for x <= 0 (α at 0, as PyTorch), 1 otherwise (NaN included, as PyTorch).
// eˣ is taken of min(x, 0): the branch where() drops must stay finite, or its zero
// gradient times ∞ gives NaN in a double backward.
struct Elu {
  static constexpr std::string_view name = "elu";
  Tensor x;
  double alpha = 0;
  Tensor forward(const Tensor& x_, double alpha_) {
    x = x_;
    alpha = alpha_;
    return ops::unary(UnaryOp::Elu, x_, {.alpha = alpha_});
  }
  std::vector<Tensor> backward(const Tensor& g) {
    return {where(x <= 0.0, g * (alpha * exp(clamp_max(x, 0.0))), g)};
  }
};

// Φ(x), the standard normal CDF, for gelu's derivative Φ(x) + x·φ(x). There is no erf
// kernel, so forward takes Φ(x) = gelu(x)/x from the Gelu kernel: within a few ulp
// while gelu(x) is a normal number. |x| < 1e-30, where Φ(x) = 0.5 to every digit of
// f64, takes 0.5 instead of 0/0 or an underflowed quotient. 16-bit inputs give an f32
// Φ, so gelu's derivative is rounded to 16 bits once, at the end. backward is φ(x)
// written with differentiable ops, so Φ has derivatives of every order.
struct NormalCdf {
  static constexpr std::string_view name = "normal_cdf";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    const Tensor xc = x_.dtype() == DType::F64 ? x_ : x_.to(DType::F32);
    const Tensor keep = logical_not(abs(xc) < 1e-30);  // NaN stays NaN
    const Tensor xs = where(keep, xc, 1.0);
    return where(keep, ops::unary(UnaryOp::Gelu, xs) / xs, 0.5);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {g * (exp(x * x * -0.5) * kInvSqrt2Pi)}; }
};

struct Gelu {
  static constexpr std::string_view name = "gelu";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Gelu, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    const Tensor cdf = autograd::apply<NormalCdf>(x);
    const Tensor pdf = exp(x * x * -0.5) * kInvSqrt2Pi;
    return {g * (cdf + x * pdf)};
  }
};

// y = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³);
// dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(u).
struct GeluTanh {
  static constexpr std::string_view name = "gelu_tanh";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::GeluTanh, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    const Tensor x2 = x * x;
    const Tensor t = tanh(kSqrt2OverPi * (x + kGeluTanhC * x2 * x));
    const Tensor du = kSqrt2OverPi * (1.0 + (3.0 * kGeluTanhC) * x2);
    return {g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)};
  }
};

// d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
struct Silu {
  static constexpr std::string_view name = "silu";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return ops::unary(UnaryOp::Silu, x_);
  }
  std::vector<Tensor> backward(const Tensor& g) {
    const Tensor s = sigmoid(x);
    return {g * (s * (1.0 + x * (1.0 - s)))};
  }
};

// d/dx = σ(βx) below the threshold, 1 above it (where forward is the identity).
struct Softplus {
  static constexpr std::string_view name = "softplus";
  Tensor x;
  double beta = 1, threshold = 20;
  Tensor forward(const Tensor& x_, double beta_, double threshold_) {
    x = x_;
    beta = beta_;
    threshold = threshold_;
    return ops::unary(UnaryOp::Softplus, x_, {.alpha = beta_, .beta = threshold_});
  }
  std::vector<Tensor> backward(const Tensor& g) {
    const Tensor bx = x * beta;
    return {where(bx > threshold, g, g * sigmoid(bx))};
  }
};

// softmax / log_softmax along `dim` (already wrapped). The kernel computes 16-bit
// inputs in f32 and writes the input's dtype.
template <bool Log>
struct Softmax {
  static constexpr std::string_view name = Log ? "log_softmax" : "softmax";
  Tensor x, y;
  int dim = 0;
  Tensor forward(const Tensor& x_, int dim_) {
    x = x_;
    dim = dim_;
    y = Tensor::empty(x_.shape(), {.dtype = x_.dtype(), .device = x_.device()});
    backend_for(x_).softmax({.x = x_, .dim = dim_, .log = Log, .out = y});
    return y;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    if (!GradMode::is_enabled()) {
      Tensor gi = Tensor::empty(y.shape(), {.dtype = y.dtype(), .device = y.device()});
      backend_for(y).softmax_backward(
          {.y = y, .grad = g.to(y.dtype()), .dim = dim, .log = Log, .grad_in = gi});
      return {gi};
    }
    // exp(log_softmax(x)) is softmax(x): one op, and exact.
    const Tensor p = softmax(x, dim);
    if constexpr (Log) {
      return {g - p * sum(g, {dim}, true)};
    } else {
      return {p * (g - sum(g * p, {dim}, true))};
    }
  }
};

template <bool Log>
Tensor softmax_impl(const Tensor& x, int64_t dim) {
  constexpr std::string_view op = Softmax<Log>::name;
  check_floating(x, op);
  // Under amp::Autocast, softmax runs in f32 whatever the input's precision.
  const Tensor x32 = amp::to_fp32(x);
  return autograd::apply<Softmax<Log>>(x32, wrap_dim(dim, x32.dim(), op));
}

}  // namespace

Tensor relu(const Tensor& x) {
  ops::check_defined(x, "relu");
  check(x.dtype() != DType::Bool, "relu", "expected a numeric tensor, got bool");
  return autograd::apply<Relu>(x);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  check_floating(x, "leaky_relu");
  return autograd::apply<LeakyRelu>(x, negative_slope);
}

Tensor elu(const Tensor& x, double alpha) {
  check_floating(x, "elu");
  return autograd::apply<Elu>(x, alpha);
}

Tensor gelu(const Tensor& x, GeluApprox approximate) {
  check_floating(x, "gelu");
  switch (approximate) {
    case GeluApprox::None: return autograd::apply<Gelu>(x);
    case GeluApprox::Tanh: return autograd::apply<GeluTanh>(x);
  }
  fail("gelu", fmt::format("unknown approximation {}", int(approximate)));
}

Tensor silu(const Tensor& x) {
  check_floating(x, "silu");
  return autograd::apply<Silu>(x);
}

Tensor sigmoid(const Tensor& x) { return autograd::apply<Sigmoid>(to_floating(x, "sigmoid")); }

Tensor tanh(const Tensor& x) { return autograd::apply<Tanh>(to_floating(x, "tanh")); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  check_floating(x, "softplus");
  return autograd::apply<Softplus>(x, beta, threshold);
}

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl<false>(x, dim); }

Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl<true>(x, dim); }

}  // namespace descent::F
