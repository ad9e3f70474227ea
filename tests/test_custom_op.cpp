// A user-defined op written outside the library with autograd::Function: Swish with a
// learnable β, y = x·σ(βx). Its gradient is checked and a model is trained with it.
#include "testing/gradcheck.h"

using namespace descent;

namespace {

struct Swish : autograd::Function<Swish> {
  static constexpr std::string_view name = "swish";
  Tensor x, beta, s;  // typed saved state: inputs and σ(βx)
  Tensor forward(const Tensor& x_, const Tensor& beta_) {
    x = x_;
    beta = beta_;
    s = 1.0 / (1.0 + exp(-(beta_ * x_)));
    return x_ * s;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // dy/dx = s + βx·s(1-s);  dy/dβ = x²·s(1-s)
    Tensor ds = s * (1.0 - s);
    return {g * (s + beta * x * ds), g * x * x * ds};
  }
};

}  // namespace

TEST(CustomOp, SwishGradcheck) {
  Tensor x = descent::testing::rand_input({3, 4}, -2, 2, 1);
  Tensor beta = descent::testing::rand_input({4}, 0.5, 1.5, 2);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return Swish::apply(in[0], in[1]); },
                   (std::vector<Tensor>{x, beta}));
}

TEST(CustomOp, SwishNodeIsNamedAndFreesItsState) {
  Tensor x = ones({2}, {.requires_grad = true});
  Tensor beta = ones({1}, {.requires_grad = true});
  Tensor y = Swish::apply(x, beta);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "swish");
  y.sum().backward();
  EXPECT_THROW_MSG(y.sum().backward(), "'swish'");
}

TEST(CustomOp, TrainsBetaToFitTarget) {
  // Targets come from β* = 2; start at β = 0.5 and fit by gradient descent.
  Tensor x = linspace(-3, 3, 64);
  Tensor target;
  {
    NoGradGuard ng;
    target = x / (1.0 + exp(-(x * 2.0)));
  }
  Tensor beta = full({1}, 0.5, {.requires_grad = true});
  double loss0 = 0, loss = 0;
  for (int step = 0; step < 1000; ++step) {
    beta.set_grad({});
    Tensor diff = Swish::apply(x, beta) - target;
    Tensor l = (diff * diff).mean();
    l.backward();
    loss = l.item<double>();
    if (step == 0) loss0 = loss;
    NoGradGuard ng;
    add_(beta, beta.grad(), -1.0);
  }
  EXPECT_LT(loss, loss0 * 1e-3);
  EXPECT_NEAR(beta.item<double>(), 2.0, 0.05);
}
