// A new op written outside the library: Swish with a learnable β per feature,
// y = x·σ(βx), as an autograd::Function with a hand-written backward. The example
// checks that backward against central finite differences in f64, then trains a small
// classifier that uses it on two interleaved spirals. Exits 1 if the check fails.
//   custom_op [--steps 400] [--seed 0]
#include <descent/descent.h>

#include <cmath>
#include <iostream>
#include <random>

#include "common/cli.h"

using namespace descent;

namespace {

// x: (N, F), beta: (F) → (N, F). Works in any floating dtype.
struct SwishFn : autograd::Function<SwishFn> {
  static constexpr std::string_view name = "swish";
  Tensor x, beta, s;  // saved for backward: the inputs and σ(βx)
  Tensor forward(const Tensor& x_, const Tensor& beta_) {
    x = x_;
    beta = beta_;
    s = sigmoid(beta_ * x_);
    return x_ * s;
  }
  std::vector<Tensor> backward(const Tensor& g) {
    // dy/dx = s + βx·s(1-s);  dy/dβ = x²·s(1-s), summed over N by the engine's broadcast rule.
    Tensor ds = s * (1.0 - s);
    return {g * (s + beta * x * ds), g * x * x * ds};
  }
};

// The op as a module with parameter "beta" (F), initialised to 1 (= SiLU).
struct Swish : nn::Module {
  explicit Swish(int64_t features) { beta_ = register_parameter("beta", ones({features})); }
  Tensor forward(const Tensor& x) override { return SwishFn::apply(x, beta_); }
  Tensor beta_;
};

// Largest |analytic - numeric| / max(1, |numeric|) over every input element of
// L = Σ swish(x, β)·w, with numeric gradients (L(v+h) - L(v-h)) / 2h in f64.
double gradcheck_swish(uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn({5, 3}, {.dtype = DType::F64}, &gen).requires_grad_();
  Tensor beta = (rand({3}, {.dtype = DType::F64}, &gen) + 0.5).detach().requires_grad_();
  Tensor w = randn({5, 3}, {.dtype = DType::F64}, &gen);
  auto loss = [&] { return (SwishFn::apply(x, beta) * w).sum(); };
  loss().backward();
  double worst = 0;
  const double h = 1e-6;
  NoGradGuard no_grad;
  for (const Tensor& t : {x, beta}) {
    std::vector<double> analytic = t.grad().to_vector<double>();
    double* v = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double keep = v[i];
      v[i] = keep + h;
      const double up = loss().item();
      v[i] = keep - h;
      const double down = loss().item();
      v[i] = keep;
      const double numeric = (up - down) / (2 * h);
      worst = std::max(worst, std::abs(analytic[i] - numeric) / std::max(1.0, std::abs(numeric)));
    }
  }
  return worst;
}

// Two interleaved spirals: x (n, 2) f32, y (n) i64 in {0, 1}.
data::Dataset spirals(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<float> xs;
  std::vector<int64_t> ys;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 2;
    const double r = u(rng), angle = 3.0 * M_PI * r + label * M_PI;
    xs.push_back(float(r * std::cos(angle) + noise(rng)));
    xs.push_back(float(r * std::sin(angle) + noise(rng)));
    ys.push_back(label);
  }
  return {from_vector(xs, {n, 2}), from_vector(ys, {n})};
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 400, seed = 0;
  examples::Cli cli("custom_op", "Swish with a learnable beta as a user-defined autograd op.");
  cli.add("--steps", steps, "full-batch Adam steps on the spirals")->check(examples::positive());
  cli.add("--seed", seed, "seed for the data, the init and the gradient check")
      ->check(examples::non_negative());
  cli.parse(argc, argv);
  try {
    const double err = gradcheck_swish(uint64_t(seed));
    const bool grad_ok = err < 1e-6;
    std::cout << "gradcheck: max relative error " << err << (grad_ok ? " passed" : " FAILED")
              << "\n";

    manual_seed(uint64_t(seed));
    data::Dataset train = spirals(2000, uint64_t(seed)), test = spirals(500, uint64_t(seed) + 1);
    auto act1 = std::make_shared<Swish>(64), act2 = std::make_shared<Swish>(64);
    nn::Sequential model(nn::Linear(2, 64), act1, nn::Linear(64, 64), act2, nn::Linear(64, 2));
    optim::Adam opt(model.parameters(), {.lr = 1e-2});
    double loss0 = 0, loss = 0;
    for (int step = 0; step < steps; ++step) {
      opt.zero_grad();
      Tensor l = F::cross_entropy(model(train.inputs()), train.targets());
      l.backward();
      opt.step();
      loss = l.item();
      if (step == 0) loss0 = loss;
    }
    NoGradGuard no_grad;
    const double acc =
        eq(argmax(model(test.inputs()), 1), test.targets()).to(DType::F64).mean().item();
    std::cout << train::format_result({{"grad_err", err},
                                       {"first_loss", loss0},
                                       {"train_loss", loss},
                                       {"test_acc", acc},
                                       {"beta_mean", act2->beta_.mean().item()}})
              << "\n";
    return grad_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "custom_op: " << e.what() << "\n";
    return 1;
  }
}
