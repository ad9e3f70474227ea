// Matrix products and linear layers with their gradients. Backwards are matmuls (and a
// sum for the bias), so higher-order gradients work.
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/linalg.h>
#include <descent/ops/reduce.h>

#include <algorithm>

namespace descent {

namespace {

Shape batch_of(const Tensor& t) {
  Shape s = t.shape();
  s.resize(t.dim() - 2);
  return s;
}

// Out shape of a (..., M, K) · b (..., K, N) with broadcast batch dims; throws naming
// the original shapes.
Shape matmul_shape(const Tensor& a, const Tensor& b, const Shape& a_orig, const Shape& b_orig) {
  const Shape ba = batch_of(a), bb = batch_of(b);
  Shape out;
  const int n = std::max(ba.size(), bb.size());
  out.resize(n);
  for (int i = 0; i < n; ++i) {
    const int ia = i - (n - ba.size()), ib = i - (n - bb.size());
    const int64_t da = ia >= 0 ? ba[ia] : 1, db = ib >= 0 ? bb[ib] : 1;
    check(da == db || da == 1 || db == 1, "matmul",
          "shapes {} and {} cannot be multiplied: batch dims {} and {} do not broadcast", a_orig,
          b_orig, ba, bb);
    out[i] = da == 1 ? db : da;
  }
  out.push_back(a.size(-2));
  out.push_back(b.size(-1));
  return out;
}

// a (..., M, K) · b (..., K, N), both at least 2-D, one dtype.
struct Matmul {
  static constexpr std::string_view name = "matmul";
  Tensor a, b;
  Tensor forward(const Tensor& a_, const Tensor& b_, const Shape& out_shape) {
    a = a_;
    b = b_;
    Tensor out = Tensor::empty(out_shape, {.dtype = a_.dtype(), .device = a_.device()});
    backend_for(a_).matmul({.a = a_, .b = b_, .bias = {}, .out = out});
    return out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // g: (batch..., M, N). The engine sums batch-broadcast gradients to each input's shape.
    Tensor ga, gb;
    if (a.requires_grad()) ga = matmul(g, b.transpose(-1, -2));
    if (b.requires_grad()) {
      const int64_t K = a.size(-1), N = b.size(-1), rows = a.numel() / std::max<int64_t>(K, 1);
      if (b.numel() == K * N && a.dim() > 2 && K > 0) {
        // b is one matrix shared by the whole batch: one GEMM over the flattened batch
        // instead of a batched product and a sum.
        gb = matmul(a.reshape({rows, K}).t(), g.reshape({rows, N})).reshape(b.shape());
      } else {
        gb = matmul(a.transpose(-1, -2), g);
      }
    }
    return {ga, gb};
  }
};

// y = x·Wᵀ + bias for x (..., in), W (out, in), bias (out) or undefined.
struct Linear {
  static constexpr std::string_view name = "linear";
  Tensor x, w;
  bool bias_grad = false;
  Tensor forward(const Tensor& x_, const Tensor& w_, const Tensor& bias) {
    x = x_;
    w = w_;
    bias_grad = bias.defined() && bias.requires_grad();
    const int64_t in = w_.size(1), out_features = w_.size(0);
    // The backend folds x's leading dims into M when they are contiguous, so a 3-D
    // input is still one GEMM; W enters as its transposed view, the bias is fused.
    const Tensor a = x_.dim() == 1 ? x_.reshape({1, in}) : x_;
    Shape out_shape = a.shape();
    out_shape[out_shape.size() - 1] = out_features;
    Tensor out = Tensor::empty(out_shape, {.dtype = x_.dtype(), .device = x_.device()});
    backend_for(x_).matmul({.a = a, .b = w_.t(), .bias = bias, .out = out});
    return x_.dim() == 1 ? out.reshape({out_features}) : out;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    const int64_t in = w.size(1), out_features = w.size(0);
    Tensor gx, gw, gb;
    if (x.requires_grad()) gx = matmul(g, w);
    if (w.requires_grad() || bias_grad) {
      int64_t rows = 1;
      for (int d = 0; d + 1 < x.dim(); ++d) rows *= x.shape()[d];
      const Tensor g2 = g.reshape({rows, out_features});
      if (w.requires_grad()) gw = matmul(g2.t(), x.reshape({rows, in}));
      if (bias_grad) gb = g2.sum({0});
    }
    return {gx, gw, gb};
  }
};

void check_numeric(const Tensor& t, std::string_view op, std::string_view what) {
  check(t.dtype() != DType::Bool, op, "{} has dtype bool (shape {}); expected a numeric dtype",
        what, t.shape());
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  ops::check_defined(a_in, "matmul", "first operand");
  ops::check_defined(b_in, "matmul", "second operand");
  ops::check_same_device(a_in, b_in, "matmul");
  check(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul",
        "both arguments need at least 1 dimension, got shapes {} and {}", a_in.shape(),
        b_in.shape());
  check_numeric(a_in, "matmul", "first operand");
  check_numeric(b_in, "matmul", "second operand");
  const int64_t ka = a_in.size(-1), kb = b_in.dim() == 1 ? b_in.size(0) : b_in.size(-2);
  check(ka == kb, "matmul", "shapes {} and {} cannot be multiplied ({} != {} in the inner dim)",
        a_in.shape(), b_in.shape(), ka, kb);
  // Under amp::Autocast, f32 products run in the autocast dtype.
  const DType dt = amp::lower_precision(result_type(a_in, b_in));
  const Tensor a = a_in.to(dt), b = b_in.to(dt);
  // 1-D operands get a dim (a row for a, a column for b) that is dropped afterwards.
  const Tensor a2 = a.dim() == 1 ? a.reshape({1, ka}) : a;
  const Tensor b2 = b.dim() == 1 ? b.reshape({kb, 1}) : b;
  Shape out_shape = matmul_shape(a2, b2, a_in.shape(), b_in.shape());
  Tensor out = autograd::apply<Matmul>(a2, b2, out_shape);
  if (a.dim() > 1 && b.dim() > 1) return out;
  Shape final_shape = batch_of(out);
  if (a.dim() > 1) final_shape.push_back(out.size(-2));
  if (b.dim() > 1) final_shape.push_back(out.size(-1));
  return out.reshape(final_shape);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  ops::check_defined(a, "bmm", "first operand");
  ops::check_defined(b, "bmm", "second operand");
  check(a.dim() == 3 && b.dim() == 3, "bmm",
        "operands of shapes {} and {}, expected 3-D (B, M, K) and (B, K, N)", a.shape(), b.shape());
  check(a.shape()[0] == b.shape()[0], "bmm", "batch sizes {} and {} differ", a.shape()[0],
        b.shape()[0]);
  return matmul(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  ops::check_defined(a, "outer", "first operand");
  ops::check_defined(b, "outer", "second operand");
  check(a.dim() == 1 && b.dim() == 1, "outer", "operands of shapes {} and {}, expected 1-D",
        a.shape(), b.shape());
  return a.unsqueeze(1) * b.unsqueeze(0);
}

Tensor Tensor::matmul(const Tensor& other) const { return descent::matmul(*this, other); }

namespace F {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_defined(x, "linear", "input");
  ops::check_defined(weight, "linear", "weight");
  ops::check_same_device(x, weight, "linear");
  check(weight.dim() == 2, "linear", "weight must be 2-D (out_features, in_features), got shape {}",
        weight.shape());
  check(x.dim() >= 1, "linear", "input must have at least 1 dimension (..., {}), got shape {}",
        weight.size(1), x.shape());
  check(x.size(-1) == weight.size(1), "linear",
        "input shape {} has {} features but weight shape {} expects {}", x.shape(), x.size(-1),
        weight.shape(), weight.size(1));
  check_numeric(x, "linear", "input");
  check_numeric(weight, "linear", "weight");
  DType dt = result_type(x, weight);
  if (bias.defined()) {
    ops::check_same_device(x, bias, "linear");
    check(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear",
          "bias must have shape [{}] to match weight shape {}, got {}", weight.size(0),
          weight.shape(), bias.shape());
    check_numeric(bias, "linear", "bias");
    dt = promote_types(dt, bias.dtype());
  }
  dt = amp::lower_precision(dt);
  return autograd::apply<Linear>(x.to(dt), weight.to(dt), bias.defined() ? bias.to(dt) : bias);
}

}  // namespace F

}  // namespace descent
