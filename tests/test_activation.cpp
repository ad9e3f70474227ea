// Activations and softmax: values against PyTorch, gradients (first and second order)
// against finite differences, numerical stability, 16-bit inputs and bad arguments. Every
// TEST_P runs once per device (cpu, cuda); the argument checks at the end are CPU-only.
#include <cmath>
#include <limits>

#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::Fn;
using descent::testing::rand_input;

namespace {

// d/dx of sum(f(x)) at `x`.
Tensor grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0) {
  Tensor x = x0.detach().requires_grad_();
  f(x).sum().backward();
  return x.grad();
}

// Gradient of <f(x), v> computed twice: once by a plain backward (fused kernels) and
// once with create_graph (the composed formula). Both must agree.
void expect_fused_matches_composed(const std::function<Tensor(const Tensor&)>& f,
                                   const Tensor& x0) {
  Tensor v = randn(x0.shape(), {.dtype = DType::F64}).to(x0.device());
  Tensor x = x0.detach().requires_grad_();
  Tensor first = autograd::grad({(f(x) * v).sum()}, {x})[0];
  Tensor composed = autograd::grad({(f(x) * v).sum()}, {x}, {}, false, true)[0];
  EXPECT_TRUE(all_close(first, composed.detach(), 1e-12, 1e-10));
}

// The fixture of every suite below: f64() and probe() make their tensors on dev(), so the
// values and the expected numbers live there (all_close compares on the CPU).
class ActivationTest : public descent::testing::PerDeviceTest {
 protected:
  Tensor f64(const std::vector<double>& v) const { return on_dev(from_vector<double>(v)); }
  Tensor f64(const std::vector<double>& v, const Shape& s) const {
    return on_dev(from_vector<double>(v, s));
  }
  // The inputs every value test below uses.
  Tensor probe() const { return f64({-3, -1, -0.5, 0, 0.5, 1, 3}); }
};
class ActivationValues : public ActivationTest {};
class ActivationGrad : public ActivationTest {};
class Softmax : public ActivationTest {};

}  // namespace

// ---- values: the expected numbers are torch.nn.functional's in f64 (torch 1.13) ------

TEST_P(ActivationValues, Relu) {
  EXPECT_TRUE(all_close(F::relu(probe()), f64({0, 0, 0, 0, 0.5, 1, 3}), 1e-12));
  // Relu keeps integer tensors integer, like torch.relu.
  Tensor i = on_dev(from_vector<int64_t>({-2, 0, 5}));
  Tensor r = F::relu(i);
  EXPECT_EQ(r.dtype(), DType::I64);
  EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 5}));
}

TEST_P(ActivationValues, LeakyRelu) {
  EXPECT_TRUE(all_close(F::leaky_relu(probe(), 0.2), f64({-0.6, -0.2, -0.1, 0, 0.5, 1, 3}), 1e-12));
  EXPECT_TRUE(all_close(F::leaky_relu(f64({-100})), f64({-1}), 1e-12));  // default 0.01
}

TEST_P(ActivationValues, Elu) {
  EXPECT_TRUE(all_close(F::elu(probe(), 1.5),
                        f64({-1.4253193974, -0.9481808382, -0.5902040104, 0, 0.5, 1, 3}), 1e-9));
}

TEST_P(ActivationValues, GeluExactAndTanh) {
  EXPECT_TRUE(all_close(F::gelu(probe()),
                        f64({-0.0040496941, -0.1586552539, -0.1542687694, 0, 0.3457312306,
                             0.8413447461, 2.9959503059}),
                        1e-9));
  EXPECT_TRUE(all_close(F::gelu(probe(), F::GeluApprox::Tanh),
                        f64({-0.0036373921, -0.1588080094, -0.1542859902, 0, 0.3457140098,
                             0.8411919906, 2.9963626079}),
                        1e-9));
}

TEST_P(ActivationValues, SiluSigmoidTanh) {
  EXPECT_TRUE(all_close(F::silu(probe()),
                        f64({-0.1422776195, -0.2689414214, -0.1887703344, 0, 0.3112296656,
                             0.7310585786, 2.8577223805}),
                        1e-9));
  EXPECT_TRUE(all_close(F::sigmoid(probe()),
                        f64({0.0474258732, 0.2689414214, 0.3775406688, 0.5, 0.6224593312,
                             0.7310585786, 0.9525741268}),
                        1e-9));
  EXPECT_TRUE(all_close(F::tanh(probe()),
                        f64({-0.9950547537, -0.7615941560, -0.4621171573, 0, 0.4621171573,
                             0.7615941560, 0.9950547537}),
                        1e-9));
}

TEST_P(ActivationValues, SigmoidAndTanhOfIntegersGiveF32) {
  Tensor i = on_dev(from_vector<int32_t>({0, 1}));
  Tensor s = F::sigmoid(i), t = F::tanh(i);
  EXPECT_EQ(s.dtype(), DType::F32);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_TRUE(all_close(s, from_vector<float>({0.5f, 0.7310585786f}), 1e-6));
  EXPECT_TRUE(all_close(t, from_vector<float>({0.f, 0.7615941560f}), 1e-6));
}

TEST_P(ActivationValues, SoftplusDefaultsAndBeta) {
  EXPECT_TRUE(all_close(F::softplus(probe()),
                        f64({0.0485873516, 0.3132616875, 0.4740769842, 0.6931471806, 0.9740769842,
                             1.3132616875, 3.0485873516}),
                        1e-9));
  // beta = 2, threshold = 3: x = 3 gives βx = 6 > 3, the linear region.
  EXPECT_TRUE(all_close(F::softplus(probe(), 2.0, 3.0),
                        f64({1.2378425689e-03, 6.3464005521e-02, 1.5663084376e-01, 3.4657359028e-01,
                             6.5663084376e-01, 1.0634640055e+00, 3.0}),
                        1e-9));
  // Default threshold 20: large inputs pass through exactly, no overflow.
  EXPECT_EQ(F::softplus(f64({1000})).item<double>(), 1000.0);
}

// Gradients at the probe points, torch's values; the kinks (x = 0) follow PyTorch's
// conventions: relu' = 0, leaky' = slope, elu' = α.
TEST_P(ActivationValues, GradientsMatchTorch) {
  EXPECT_TRUE(all_close(grad_of([](const Tensor& x) { return F::relu(x); }, probe()),
                        f64({0, 0, 0, 0, 1, 1, 1}), 1e-12));
  EXPECT_TRUE(all_close(grad_of([](const Tensor& x) { return F::leaky_relu(x, 0.2); }, probe()),
                        f64({0.2, 0.2, 0.2, 0.2, 1, 1, 1}), 1e-12));
  EXPECT_TRUE(all_close(grad_of([](const Tensor& x) { return F::elu(x, 1.5); }, probe()),
                        f64({0.0746806026, 0.5518191618, 0.9097959896, 1.5, 1, 1, 1}), 1e-9));
  EXPECT_TRUE(all_close(grad_of([](const Tensor& x) { return F::gelu(x); }, probe()),
                        f64({-0.0119456472, -0.0833154706, 0.1325048753, 0.5, 0.8674951247,
                             1.0833154706, 1.0119456472}),
                        1e-9));
  EXPECT_TRUE(
      all_close(grad_of([](const Tensor& x) { return F::gelu(x, F::GeluApprox::Tanh); }, probe()),
                f64({-0.0115841666, -0.0829640838, 0.1326300965, 0.5, 0.8673699035, 1.0829640838,
                     1.0115841666}),
                1e-9));
  EXPECT_TRUE(all_close(grad_of([](const Tensor& x) { return F::silu(x); }, probe()),
                        f64({-0.0881041060, 0.0723294881, 0.2600388127, 0.5, 0.7399611873,
                             0.9276705119, 1.0881041060}),
                        1e-9));
  EXPECT_TRUE(all_close(
      grad_of([](const Tensor& x) { return F::softplus(x, 2.0, 3.0); }, probe()),
      f64({0.0024726232, 0.1192029220, 0.2689414214, 0.5, 0.7310585786, 0.8807970780, 1.0}), 1e-9));
}

TEST_P(ActivationValues, GeluGradientIsFiniteNearZeroAndInTheTails) {
  Tensor x = f64({0.0, 1e-300, -1e-300, 1e-20, -40, 40});
  Tensor g = grad_of([](const Tensor& t) { return F::gelu(t); }, x);
  EXPECT_TRUE(
      all_close(g, f64({0.5, 0.5, 0.5, 0.5 + 1e-20 * 2 * 0.3989422804014327, 0, 1}), 1e-15, 1e-12));
  // f32 too (Φ is computed in f32 there).
  Tensor gf = grad_of([](const Tensor& t) { return F::gelu(t); }, x.to(DType::F32));
  EXPECT_TRUE(all_close(gf, f64({0.5, 0.5, 0.5, 0.5, 0, 1}).to(DType::F32), 1e-7));
}

// ---- first-order gradients ----------------------------------------------------------

TEST_P(ActivationGrad, Gradcheck) {
  // Inputs stay away from the kinks at 0 where finite differences straddle two branches.
  Tensor x = rand_input({3, 5}, 0.05, 2.0);
  Tensor sign = from_vector<double>({1, -1, 1, -1, 1}, {1, 5});
  Tensor xm;
  {
    NoGradGuard ng;
    xm = (x * sign).detach().requires_grad_();
  }
  auto check = [&](const char* what, std::function<Tensor(const Tensor&)> f) {
    SCOPED_TRACE(what);
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return f(in[0]); }, {xm});
    // A transposed (non-contiguous) view of the input.
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return f(in[0].t()); }, {xm});
  };
  check("relu", [](const Tensor& t) { return F::relu(t); });
  check("leaky_relu", [](const Tensor& t) { return F::leaky_relu(t, 0.3); });
  check("elu", [](const Tensor& t) { return F::elu(t, 1.7); });
  check("gelu", [](const Tensor& t) { return F::gelu(t); });
  check("gelu_tanh", [](const Tensor& t) { return F::gelu(t, F::GeluApprox::Tanh); });
  check("silu", [](const Tensor& t) { return F::silu(t); });
  check("sigmoid", [](const Tensor& t) { return F::sigmoid(t); });
  check("tanh", [](const Tensor& t) { return F::tanh(t); });
  check("softplus", [](const Tensor& t) { return F::softplus(t); });
  check("softplus_beta", [](const Tensor& t) { return F::softplus(t, 2.5, 20.0); });
}

TEST_P(ActivationGrad, SoftplusThresholdRegion) {
  // beta = 2, threshold = 1: inputs on both sides of βx = 1 (x = 0.5), none at it.
  // On the CPU: gradcheck perturbs its inputs there.
  Tensor x = from_vector<double>({-2, -0.3, 0.2, 0.45, 0.55, 0.9, 3}).requires_grad_();
  EXPECT_GRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& in) { return F::softplus(in[0], 2.0, 1.0); }, {x});
  // Above the threshold the gradient is exactly 1.
  Tensor g = grad_of([](const Tensor& t) { return F::softplus(t, 2.0, 1.0); }, on_dev(x));
  EXPECT_EQ(g.to_vector<double>()[4], 1.0);
  EXPECT_EQ(g.to_vector<double>()[6], 1.0);
  EXPECT_LT(g.to_vector<double>()[3], 1.0);
}

TEST_P(ActivationGrad, FusedBackwardMatchesComposed) {
  Tensor x = on_dev(rand_input({4, 6}, -3, 3));
  expect_fused_matches_composed([](const Tensor& t) { return F::relu(t); }, x);
  expect_fused_matches_composed([](const Tensor& t) { return F::sigmoid(t); }, x);
  expect_fused_matches_composed([](const Tensor& t) { return F::tanh(t); }, x);
  Tensor x3 = on_dev(rand_input({2, 3, 4}, -3, 3));
  for (int64_t d : {0, 1, -1}) {
    expect_fused_matches_composed([d](const Tensor& t) { return F::softmax(t, d); }, x3);
    expect_fused_matches_composed([d](const Tensor& t) { return F::log_softmax(t, d); }, x3);
  }
}

// ---- second-order gradients -----------------------------------------------------------

TEST_P(ActivationGrad, Gradgradcheck) {
  Tensor x = rand_input({2, 4}, -2, 2);
  auto check = [&](const char* what, std::function<Tensor(const Tensor&)> f) {
    SCOPED_TRACE(what);
    EXPECT_GRADGRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
  };
  check("sigmoid", [](const Tensor& t) { return F::sigmoid(t); });
  check("tanh", [](const Tensor& t) { return F::tanh(t); });
  check("gelu", [](const Tensor& t) { return F::gelu(t); });
  check("gelu_tanh", [](const Tensor& t) { return F::gelu(t, F::GeluApprox::Tanh); });
  check("silu", [](const Tensor& t) { return F::silu(t); });
  check("elu", [](const Tensor& t) { return F::elu(t, 0.7); });
  check("softplus", [](const Tensor& t) { return F::softplus(t, 1.5, 2.0); });
  // Piecewise-linear: the second derivative is 0, the gradient is linear in the cotangent.
  check("relu", [](const Tensor& t) { return F::relu(t); });
  check("leaky_relu", [](const Tensor& t) { return F::leaky_relu(t, 0.1); });
  check("softmax", [](const Tensor& t) { return F::softmax(t, -1); });
  check("softmax_dim0", [](const Tensor& t) { return F::softmax(t, 0); });
  check("log_softmax", [](const Tensor& t) { return F::log_softmax(t, -1); });
  check("log_softmax_dim0", [](const Tensor& t) { return F::log_softmax(t, 0); });
}

TEST_P(ActivationGrad, EluDoubleBackwardStaysFiniteForLargeInputs) {
  // The unused exp branch of a large positive x must not leak NaN into double backward.
  Tensor x = f64({800, -1}).requires_grad_();
  Tensor g = autograd::grad({F::elu(x).sum()}, {x}, {}, true, true)[0];
  Tensor gg = autograd::grad({g.sum()}, {x})[0];
  EXPECT_TRUE(all_close(gg, f64({0, std::exp(-1.0)}), 1e-12));
}

// ---- softmax -----------------------------------------------------------------------------

TEST_P(Softmax, ValuesMatchTorch) {
  Tensor m = f64({1, 2, 3, 4, 6, 8}, {2, 3});
  EXPECT_TRUE(all_close(
      F::softmax(m, 0),
      f64({0.0474258732, 0.0179862100, 0.0066928509, 0.9525741268, 0.9820137900, 0.9933071491},
          {2, 3}),
      1e-9));
  EXPECT_TRUE(all_close(
      F::softmax(m),
      f64({0.0900305732, 0.2447284711, 0.6652409558, 0.0158762400, 0.1173104278, 0.8668133322},
          {2, 3}),
      1e-9));
  EXPECT_TRUE(all_close(F::log_softmax(m, 1),
                        f64({-2.4076059644, -1.4076059644, -0.4076059644, -4.1429316285,
                             -2.1429316285, -0.1429316285},
                            {2, 3}),
                        1e-9));
  // Along a dim of size 1 every value is 1 (log: 0).
  EXPECT_TRUE(all_close(F::softmax(m.slice(1, 0, 1), 1), ones({2, 1}, {.dtype = DType::F64}), 0));
  EXPECT_TRUE(
      all_close(F::log_softmax(m.slice(1, 0, 1), 1), zeros({2, 1}, {.dtype = DType::F64}), 0));
  // A 0-dim tensor: softmax is 1, log_softmax 0 (dim 0 and -1 are both accepted).
  EXPECT_EQ(F::softmax(on_dev(scalar_tensor(3.0)), 0).item<double>(), 1.0);
  EXPECT_EQ(F::log_softmax(on_dev(scalar_tensor(3.0)), -1).item<double>(), 0.0);
}

TEST_P(Softmax, Gradcheck3dAllDims) {
  Tensor x = rand_input({2, 3, 4}, -2, 2);
  for (int64_t d : {0, 1, 2, -1}) {
    SCOPED_TRACE(d);
    EXPECT_GRADCHECK_ON(dev(), [d](const std::vector<Tensor>& in) { return F::softmax(in[0], d); },
                        {x});
    EXPECT_GRADCHECK_ON(
        dev(), [d](const std::vector<Tensor>& in) { return F::log_softmax(in[0], d); }, {x});
  }
}

TEST_P(Softmax, GradcheckNonContiguous) {
  Tensor x = rand_input({4, 3, 5}, -2, 2);
  for (int64_t d : {0, 1, -1}) {
    SCOPED_TRACE(d);
    EXPECT_GRADCHECK_ON(
        dev(), [d](const std::vector<Tensor>& in) { return F::softmax(in[0].transpose(0, 2), d); },
        {x});
    EXPECT_GRADCHECK_ON(
        dev(),
        [d](const std::vector<Tensor>& in) { return F::log_softmax(in[0].transpose(0, 2), d); },
        {x});
    // A strided slice.
    EXPECT_GRADCHECK_ON(
        dev(),
        [d](const std::vector<Tensor>& in) { return F::softmax(in[0].slice(2, 0, 5, 2), d); }, {x});
  }
}

TEST_P(Softmax, GradgradcheckNonContiguous) {
  Tensor x = rand_input({3, 4}, -2, 2);
  EXPECT_GRADGRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& in) { return F::softmax(in[0].t(), -1); }, {x});
  EXPECT_GRADGRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& in) { return F::log_softmax(in[0].t(), 0); }, {x});
}

TEST_P(Softmax, NumericallyStable) {
  // torch: softmax([1000, 1001]) = [0.2689414322, 0.7310585976].
  Tensor y = F::softmax(on_dev(from_vector<float>({1000.f, 1001.f})));
  EXPECT_TRUE(all_close(y, from_vector<float>({0.2689414322f, 0.7310585976f}), 1e-6));
  // torch: log_softmax([-1e4, -1e4 + 1, -1e4 + 2]) = [-2.40760596, -1.40760596, -0.40760596].
  Tensor l = F::log_softmax(f64({-1e4, -1e4 + 1, -1e4 + 2}));
  EXPECT_TRUE(all_close(l, f64({-2.4076059644, -1.4076059644, -0.4076059644}), 1e-9));
  Tensor lf = F::log_softmax(on_dev(from_vector<float>({-1e4f, -1e4f + 1, -1e4f + 2})));
  EXPECT_TRUE(
      all_close(lf, from_vector<float>({-2.4076059644f, -1.4076059644f, -0.4076059644f}), 1e-5));
  // Far-apart values: no -inf, no NaN; the tiny probability underflows to 0.
  Tensor far = F::log_softmax(on_dev(from_vector<float>({0.f, -1000.f})));
  EXPECT_EQ(far.to_vector<float>(), (std::vector<float>{0.f, -1000.f}));
  EXPECT_TRUE(all_close(F::softmax(on_dev(from_vector<float>({0.f, -1000.f}))),
                        from_vector<float>({1.f, 0.f}), 0));
  // A masked entry (-inf) gets probability 0, as attention masks need.
  const float inf = std::numeric_limits<float>::infinity();
  Tensor masked = F::softmax(on_dev(from_vector<float>({0.f, -inf, 0.f})));
  EXPECT_EQ(masked.to_vector<float>(), (std::vector<float>{0.5f, 0.f, 0.5f}));
}

TEST_P(Softmax, RowsSumToOneOnEveryDim) {
  Tensor x = (randn({5, 7, 9}) * 4.0).to(dev());
  for (int64_t d : {0, 1, 2}) {
    Tensor s = F::softmax(x, d).sum({d});
    EXPECT_TRUE(all_close(s, ones(s.shape()), 1e-6)) << "dim " << d;
    Tensor ls = F::log_softmax(x, d).exp().sum({d});
    EXPECT_TRUE(all_close(ls, ones(ls.shape()), 1e-5)) << "dim " << d;
  }
}

// Every kernel path, f32 (vectorized exp) against f64 on the same (f32-rounded) inputs:
// short rows (< 64) in blocks, long rows (aligned and ragged lengths), and columns
// (more than one block of 256). Large enough for the OpenMP paths.
TEST_P(Softmax, F32MatchesF64OnEveryPath) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const std::vector<Case> cases = {{{48, 300, 3}, 0}, {{48, 300, 3}, 1}, {{48, 300, 3}, 2},
                                   {{37, 100}, 1},    {{5, 1000}, 1},    {{3, 64}, -1},
                                   {{130, 7}, 1},     {{2, 5, 300}, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("shape {} dim {}", c.shape, c.dim));
    const int64_t d = c.dim;
    Tensor x = (randn(c.shape) * 10.0).to(DType::F64).to(dev());
    EXPECT_TRUE(all_close(F::softmax(x.to(DType::F32), d), F::softmax(x, d), 1e-9, 2e-6));
    EXPECT_TRUE(all_close(F::log_softmax(x.to(DType::F32), d), F::log_softmax(x, d), 2e-5, 1e-6));
    // Backward kernels, same comparison.
    Tensor g = randn(x.shape(), {.dtype = DType::F64}).to(dev());
    for (bool log : {false, true}) {
      auto f = [&](const Tensor& t) { return log ? F::log_softmax(t, d) : F::softmax(t, d); };
      Tensor g64 = grad_of([&](const Tensor& t) { return f(t) * g; }, x);
      Tensor g32 =
          grad_of([&](const Tensor& t) { return f(t) * g.to(DType::F32); }, x.to(DType::F32));
      EXPECT_TRUE(all_close(g32, g64, 1e-5, 1e-4)) << "log " << log;
    }
  }
}

// Long rows in f64 (the row path with std::exp), checked by finite differences.
TEST_P(Softmax, GradcheckLongRows) {
  Tensor x = rand_input({2, 70}, -3, 3);
  EXPECT_GRADCHECK_ON(dev(), [](const std::vector<Tensor>& in) { return F::softmax(in[0], 1); },
                      {x});
  EXPECT_GRADCHECK_ON(dev(), [](const std::vector<Tensor>& in) { return F::log_softmax(in[0], 1); },
                      {x});
}

// sum() hands the backward a broadcast (stride-0) gradient.
TEST_P(Softmax, BackwardOfSum) {
  Tensor x = on_dev(rand_input({3, 5}, -2, 2));
  F::softmax(x).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), zeros({3, 5}, {.dtype = DType::F64}), 1e-12));
  Tensor x2 = x.detach().requires_grad_();
  F::log_softmax(x2, 0).sum().backward();
  // d/dx Σ log_softmax = 1 − D·softmax along the dim (D = 3 here).
  EXPECT_TRUE(all_close(x2.grad(), 1.0 - 3.0 * F::softmax(x2.detach(), 0), 1e-12));
}

TEST_P(Softmax, SixteenBitInputsComputeInF32) {
  // (4, 33): short rows (dim 1) and columns (dim 0); (3, 130): long rows.
  for (DType dt : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor xl = (randn({3, 130}) * 3.0).to(dt).to(dev());
    EXPECT_TRUE(all_close(F::softmax(xl), F::softmax(xl.to(DType::F32)), 1e-3, 1e-2));
    EXPECT_TRUE(all_close(F::log_softmax(xl), F::log_softmax(xl.to(DType::F32)), 1e-2, 1e-2));
    Tensor x = (randn({4, 33}) * 3.0).to(dev());
    Tensor xh = x.to(dt);
    for (int64_t d : {0, 1}) {
      Tensor y = F::softmax(xh, d);
      EXPECT_EQ(y.dtype(), dt);
      // Reference: the same 16-bit inputs in f32; the result is off by 16-bit rounding only.
      EXPECT_TRUE(all_close(y, F::softmax(xh.to(DType::F32), d), 1e-3, 1e-2));
      Tensor l = F::log_softmax(xh, d);
      EXPECT_EQ(l.dtype(), dt);
      EXPECT_TRUE(all_close(l, F::log_softmax(xh.to(DType::F32), d), 1e-2, 1e-2));
    }
    Tensor leaf = xh.detach().requires_grad_();
    Tensor w = randn({4, 33}).to(dev());
    (F::softmax(leaf, 1) * w).sum().backward();
    EXPECT_EQ(leaf.grad().dtype(), dt);
    Tensor ref = grad_of([&](const Tensor& t) { return F::softmax(t, 1) * w; }, xh.to(DType::F32));
    EXPECT_TRUE(all_close(leaf.grad(), ref, 1e-2, 2e-2));
  }
}

TEST_P(ActivationValues, SixteenBitInputs) {
  Tensor x = (randn({5, 8}) * 2.0).to(dev());
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> fns = {
      {"relu", [](const Tensor& t) { return F::relu(t); }},
      {"leaky_relu", [](const Tensor& t) { return F::leaky_relu(t, 0.1); }},
      {"elu", [](const Tensor& t) { return F::elu(t); }},
      {"gelu", [](const Tensor& t) { return F::gelu(t); }},
      {"gelu_tanh", [](const Tensor& t) { return F::gelu(t, F::GeluApprox::Tanh); }},
      {"silu", [](const Tensor& t) { return F::silu(t); }},
      {"sigmoid", [](const Tensor& t) { return F::sigmoid(t); }},
      {"tanh", [](const Tensor& t) { return F::tanh(t); }},
      {"softplus", [](const Tensor& t) { return F::softplus(t, 2.0, 3.0); }}};
  for (DType dt : {DType::BF16, DType::F16}) {
    Tensor xh = x.to(dt);
    for (const auto& [name, f] : fns) {
      SCOPED_TRACE(fmt::format("{} {}", name, dt));
      Tensor y = f(xh);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_TRUE(all_close(y, f(xh.to(DType::F32)), 2e-2, 2e-2));
      Tensor leaf = xh.detach().requires_grad_();
      f(leaf).sum().backward();
      EXPECT_EQ(leaf.grad().dtype(), dt);
      EXPECT_TRUE(all_close(leaf.grad(), grad_of(f, xh.to(DType::F32)), 2e-2, 2e-2));
    }
  }
}

TEST_P(Softmax, EmptyTensor) {
  Tensor y = F::softmax(zeros({0, 3}, {.device = dev()}), 1);
  EXPECT_EQ(y.shape(), Shape({0, 3}));
  EXPECT_EQ(F::log_softmax(zeros({2, 0}, {.device = dev()}), 1).shape(), Shape({2, 0}));
}

// ---- errors -------------------------------------------------------------------------------

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(ActivationErrors, BadArguments) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_THROW_MSG(F::softmax(x, 3), "softmax: dim 3 is out of range for a tensor with 3 dims");
  EXPECT_THROW_MSG(F::log_softmax(x, -4),
                   "log_softmax: dim -4 is out of range for a tensor with 3 dims");
  Tensor i = zeros({2, 3}, {.dtype = DType::I64});
  EXPECT_THROW_MSG(F::softmax(i),
                   "softmax: expected a floating tensor (f32, f64, f16, bf16), got i64");
  EXPECT_THROW_MSG(F::log_softmax(i), "log_softmax: expected a floating tensor");
  EXPECT_THROW_MSG(F::gelu(i), "gelu: expected a floating tensor");
  EXPECT_THROW_MSG(F::silu(i), "silu: expected a floating tensor");
  EXPECT_THROW_MSG(F::softplus(i), "softplus: expected a floating tensor");
  EXPECT_THROW_MSG(F::relu(zeros({2}, {.dtype = DType::Bool})), "relu: expected a numeric tensor");
  EXPECT_THROW_MSG(F::relu(Tensor()), "relu: input is an undefined tensor");
  EXPECT_THROW_MSG(F::softmax(Tensor()), "softmax: input is an undefined tensor");
}

INSTANTIATE_PER_DEVICE(ActivationValues);
INSTANTIATE_PER_DEVICE(ActivationGrad);
INSTANTIATE_PER_DEVICE(Softmax);
