// The autograd engine: accumulation, retain_graph, hooks, higher order, freeing,
// anomaly mode.
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

TEST(Autograd, ScalarBackwardAccumulatesIntoLeaves) {
  Tensor x = from_vector<double>({1, 2, 3}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({2, 4, 6})));
  // A second graph accumulates.
  (x * 3.0).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({5, 7, 9})));
}

TEST(Autograd, ExplicitGradientForNonScalar) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor y = x * 2.0;
  EXPECT_THROW_MSG(y.backward(), "gradient can be implicitly created only for scalar outputs");
  y.backward(from_vector<double>({1, 10}));
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({2, 20})));
}

TEST(Autograd, SecondBackwardThroughFreedGraphThrows) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward();
  EXPECT_THROW_MSG(y.backward(), "backward through the graph a second time");
}

TEST(Autograd, RetainGraphAllowsSecondBackward) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({4, 8})));
}

TEST(Autograd, BroadcastGradientIsSummedToInputShape) {
  Tensor a = ones({2, 3}, {.dtype = DType::F64, .requires_grad = true});
  Tensor b = ones({3}, {.dtype = DType::F64, .requires_grad = true});
  (a * b).sum().backward();
  EXPECT_EQ(b.grad().shape(), Shape({3}));
  EXPECT_TRUE(all_close(b.grad(), full({3}, 2.0, {.dtype = DType::F64})));
}

TEST(Autograd, GradientIsCastToInputDtype) {
  Tensor a = ones({2}, {.requires_grad = true});                       // f32
  Tensor b = ones({2}, {.dtype = DType::F64, .requires_grad = true});  // f64
  Tensor y = (a * b).sum();
  EXPECT_EQ(y.dtype(), DType::F64);
  y.backward();
  EXPECT_EQ(a.grad().dtype(), DType::F32);
  EXPECT_EQ(b.grad().dtype(), DType::F64);
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = ones({2}, {.requires_grad = true});
  Tensor y;
  {
    NoGradGuard ng;
    y = x * 2.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW_MSG(y.sum().backward(), "does not require grad");
}

TEST(Autograd, DetachCutsTheGraph) {
  Tensor x = ones({2}, {.requires_grad = true});
  Tensor y = (x * 2.0).detach();
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
}

TEST(Autograd, HookCanReplaceGradient) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor h = x * 3.0;
  int calls = 0;
  h.register_hook([&](const Tensor& g) {
    ++calls;
    return g * 10.0;
  });
  h.sum().backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({30, 30})));
}

TEST(Autograd, LeafHookSeesGradient) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor seen;
  x.register_hook([&](const Tensor& g) {
    seen = g;
    return Tensor();
  });
  (x * x).sum().backward();
  EXPECT_TRUE(all_close(seen, from_vector<double>({2, 4})));
}

TEST(Autograd, RetainGradKeepsNonLeafGradient) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor h = x * 2.0;
  h.retain_grad();
  (h * h).sum().backward();
  EXPECT_TRUE(all_close(h.grad(), from_vector<double>({4, 8})));
}

TEST(Autograd, SecondDerivativeOfCube) {
  Tensor x = from_vector<double>({0.5, -2.0, 3.0}).requires_grad_();
  Tensor y = (x * x * x).sum();
  auto g = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  EXPECT_TRUE(all_close(g[0], from_vector<double>({0.75, 12.0, 27.0})));  // 3x²
  auto gg = autograd::grad({g[0].sum()}, {x});
  EXPECT_TRUE(all_close(gg[0], from_vector<double>({3.0, -12.0, 18.0})));  // 6x
}

TEST(Autograd, SecondDerivativeThroughPowAndBackwardCreateGraph) {
  Tensor x = from_vector<double>({1.5, -1.0}).requires_grad_();
  Tensor y = x.pow(3.0).sum();
  y.backward({}, false, /*create_graph=*/true);
  Tensor gx = x.grad();
  EXPECT_TRUE(gx.requires_grad());
  auto gg = autograd::grad({gx.sum()}, {x});
  EXPECT_TRUE(all_close(gg[0], from_vector<double>({9.0, -6.0})));
}

TEST(Autograd, HessianVectorProduct) {
  // f(x) = Σ x_i² x_{i+1} + exp(x_0); H·v by double backward vs the analytic Hessian.
  Tensor x = from_vector<double>({0.3, -0.7, 1.1}).requires_grad_();
  Tensor v = from_vector<double>({1.0, 2.0, -1.0});
  auto f = [](const Tensor& t) {
    Tensor a = t.slice(0, 0, 2), b = t.slice(0, 1, 3);
    return (a * a * b).sum() + exp(t.slice(0, 0, 1)).sum();
  };
  auto g = autograd::grad({f(x)}, {x}, {}, false, true);
  auto hv = autograd::grad({(g[0] * v).sum()}, {x});
  const double x0 = 0.3, x1 = -0.7, x2 = 1.1;
  // H = [[2x1 + e^x0, 2x0, 0], [2x0, 2x2, 2x1], [0, 2x1, 0]]
  const double h00 = 2 * x1 + std::exp(x0), h01 = 2 * x0, h11 = 2 * x2, h12 = 2 * x1;
  Tensor expected = from_vector<double>({h00 * 1 + h01 * 2, h01 * 1 + h11 * 2 + h12 * -1, h12 * 2});
  EXPECT_TRUE(all_close(hv[0], expected, 1e-12, 1e-10));
}

TEST(Autograd, GradDoesNotTouchLeafGrad) {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  auto g = autograd::grad({(x * x).sum()}, {x});
  EXPECT_FALSE(x.grad().defined());
  EXPECT_TRUE(all_close(g[0], from_vector<double>({2, 4})));
}

TEST(Autograd, UnusedInputIsAnError) {
  Tensor x = ones({2}, {.requires_grad = true});
  Tensor z = ones({2}, {.requires_grad = true});
  EXPECT_THROW_MSG(autograd::grad({(x * 2.0).sum()}, {z}), "not used");
  auto g = autograd::grad({(x * 2.0).sum()}, {z}, {}, false, false, /*allow_unused=*/true);
  EXPECT_FALSE(g[0].defined());
}

TEST(Autograd, AnomalyModeNamesTheOp) {
  autograd::DetectAnomalyGuard anomaly;
  Tensor x = from_vector<double>({-1.0, 2.0}).requires_grad_();
  EXPECT_THROW_MSG(log(x * 0.0), "log: anomaly detected: forward produced NaN or Inf");
  Tensor y = sqrt(x * x);  // finite forward; backward at 0 divides by zero
  Tensor z = from_vector<double>({0.0, 1.0}).requires_grad_();
  EXPECT_THROW_MSG(sqrt(z).sum().backward(), "sqrt: anomaly detected: backward");
}

TEST(Autograd, SavedTensorsAreFreedAfterBackward) {
  // The weight of a big intermediate is held only by the graph; after backward its
  // storage must be released even though the loss tensor still exists.
  Tensor x = ones({1000}, {.dtype = DType::F64, .requires_grad = true});
  std::weak_ptr<Storage> weak;
  Tensor loss;
  {
    Tensor h = exp(x);  // saves its output
    weak = h.storage();
    loss = (h * h).sum();
  }
  EXPECT_FALSE(weak.expired());
  loss.backward();
  EXPECT_TRUE(weak.expired());
}

TEST(Autograd, CustomFunctionThroughApply) {
  struct Cube : autograd::Function<Cube> {
    static std::string_view name() { return "cube"; }
    Tensor x;
    Tensor forward(const Tensor& x_) {
      x = x_;
      return x_ * x_ * x_;
    }
    std::vector<Tensor> backward(const Tensor& g) { return {g * 3.0 * x * x}; }
  };
  Tensor x = descent::testing::rand_input({4});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return Cube::apply(in[0]); },
                   std::vector<Tensor>{x});
  EXPECT_GRADGRADCHECK([](const std::vector<Tensor>& in) { return Cube::apply(in[0]); },
                       std::vector<Tensor>{x});
}

// The exported check (autograd/gradcheck.h) catches a wrong backward and names where.
TEST(Autograd, GradcheckReportsAWrongBackward) {
  struct HalfWrongCube : autograd::Function<HalfWrongCube> {
    static std::string_view name() { return "half_wrong_cube"; }
    Tensor x;
    Tensor forward(const Tensor& x_) {
      x = x_;
      return x_ * x_ * x_;
    }
    std::vector<Tensor> backward(const Tensor& g) { return {g * 1.5 * x * x}; }  // 3x² is right
  };
  Tensor x = descent::testing::rand_input({4});
  const std::string worst = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return HalfWrongCube::apply(in[0]); }, {x});
  EXPECT_NE(worst.find("input 0 element"), std::string::npos) << worst;
  EXPECT_NE(worst.find("numerical"), std::string::npos) << worst;
  EXPECT_THROW_MSG(autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2.0; },
                                       {ones({2}, {.requires_grad = true})}),
                   "gradcheck: input 0 should be f64, got f32");
}

TEST(Autograd, CustomFunctionWrongGradientCountIsAnError) {
  struct Bad {
    static std::string_view name() { return "bad_op"; }
    Tensor forward(const Tensor& a, const Tensor& b) { return a + b; }
    std::vector<Tensor> backward(const Tensor& g) { return {g}; }
  };
  Tensor a = ones({2}, {.requires_grad = true}), b = ones({2});
  EXPECT_THROW_MSG(autograd::apply<Bad>(a, b).sum().backward(),
                   "bad_op: backward returned 1 gradients for 2 inputs");
}
