// A custom optimizer written outside the library, with ordinary tensor ops: Signum
// (signSGD with momentum, Bernstein et al. 2018), m = beta·m + (1-beta)·g, p -= lr·sign(m).
// Deriving from optim::Optimizer is all it takes for the schedulers, the LR range test,
// the loss scaler, clipping and checkpoints to work with it. (A built-in optimizer with
// a fused kernel is added as the README's "Adding an optimizer" says.)
//
// Trains a linear regression y = x·w* + noise, then checks that a resumed run (state
// dict saved at step 50) finishes exactly where the uninterrupted one does.
#include <descent/descent.h>

#include <cstdio>
#include <map>
#include <string>

using namespace descent;

class Signum : public optim::Optimizer {
 public:
  struct Options {
    double lr = 1e-2;
    double beta = 0.9;
  };
  Signum(std::vector<Tensor> params, Options o) : params_(std::move(params)), o_(o) {
    check(o.lr >= 0 && o.beta >= 0 && o.beta < 1, "signum", "got lr {} and beta {}", o.lr, o.beta);
  }

  std::string_view name() const override { return "signum"; }
  size_t num_groups() const override { return 1; }
  const std::vector<Tensor>& params(size_t) const override { return params_; }
  double lr(size_t = 0) const override { return o_.lr; }
  void set_lr(double lr, size_t) override { o_.lr = lr; }
  using Optimizer::set_lr;
  std::optional<double> momentum(size_t) const override { return o_.beta; }
  void set_momentum(double beta, size_t) override { o_.beta = beta; }

  using Optimizer::step;
  void step() override {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
      Tensor p = params_[i];
      const Tensor g = p.grad();  // the true gradient (unscaled and clipped)
      if (!g.defined()) continue;
      Tensor& m = momentum_[i];
      if (!m.defined()) m = zeros_like(p);
      mul_(m, o_.beta);
      add_(m, g, 1 - o_.beta);
      add_(p, sign(m), -o_.lr);
    }
  }

  StateDict state_dict() const override {
    StateDict s;
    s.strings["optimizer"] = "signum";
    s.numbers["lr"] = o_.lr;
    s.numbers["beta"] = o_.beta;
    for (const auto& [i, m] : momentum_) s.tensors["state." + std::to_string(i)] = m.clone();
    return s;
  }
  void load_state_dict(const StateDict& s) override {
    check(s.string("optimizer", "signum") == "signum", "signum", "not a signum state dict");
    o_.lr = s.number("lr", "signum");
    o_.beta = s.number("beta", "signum");
    momentum_.clear();
    for (size_t i = 0; i < params_.size(); ++i) {
      auto it = s.tensors.find("state." + std::to_string(i));
      if (it != s.tensors.end()) momentum_[i] = it->second.clone();
    }
  }

 private:
  std::vector<Tensor> params_;
  Options o_;
  std::map<size_t, Tensor> momentum_;
};

namespace {

struct Problem {
  Tensor x, y;
};

Problem make_problem() {
  manual_seed(0);
  Tensor x = randn({256, 8});
  Tensor w = randn({8, 1});
  return {x, matmul(x, w) + 0.01 * randn({256, 1})};
}

double loss_of(const Problem& d, const Tensor& w) {
  return F::mse_loss(matmul(d.x, w), d.y).item();
}

// Trains w from zeros for `steps` steps, starting from `state` when given.
Tensor fit(const Problem& d, int steps, const StateDict* state, StateDict* state_at_50,
           Tensor* w_at_50) {
  Tensor w = zeros({8, 1}, {.requires_grad = true});
  if (state) {
    NoGradGuard no_grad;
    w.copy_(*w_at_50);
  }
  Signum opt({w}, {.lr = 0.05, .beta = 0.9});
  optim::StepLR sched(opt, {.step_size = 100, .gamma = 0.5});
  if (state) opt.load_state_dict(*state);
  for (int s = state ? 50 : 0; s < steps; ++s) {
    if (s == 50 && state_at_50) {
      *state_at_50 = opt.state_dict();
      *w_at_50 = w.detach().clone();
    }
    opt.zero_grad();
    F::mse_loss(matmul(d.x, w), d.y).backward();
    opt.step();
    sched.step();
  }
  return w.detach();
}

}  // namespace

int main() {
  const Problem d = make_problem();
  const double first = loss_of(d, zeros({8, 1}));
  StateDict at50;
  Tensor w50;
  const Tensor full = fit(d, 100, nullptr, &at50, &w50);
  const Tensor resumed = fit(d, 100, &at50, nullptr, &w50);
  const bool equal = full.to_vector<float>() == resumed.to_vector<float>();
  std::printf("result: first_loss=%.6g final_loss=%.6g resumed_equal=%d\n", first, loss_of(d, full),
              int(equal));
  return equal ? 0 : 1;
}
