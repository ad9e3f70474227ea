#pragma once
// A minimal SGD (with optional heavy-ball momentum) implementing optim::Optimizer, for
// testing schedulers, the LR range test and clipping without the concrete optimizers:
//   v = momentum·v + g;  p -= lr·v      (v = g when momentum is 0)
// Groups are given as {params, lr, momentum}; has_momentum = false makes momentum()
// return nullopt, like an optimizer without one.
#include <descent/descent.h>
#include <descent/optim/optimizer.h>

#include <string>

namespace descent::testing {

struct ToyGroup {
  std::vector<Tensor> params;
  double lr = 0.1;
  double momentum = 0.0;
};

class ToySgd : public optim::Optimizer {
 public:
  explicit ToySgd(std::vector<ToyGroup> groups, bool has_momentum = true)
      : groups_(std::move(groups)), has_momentum_(has_momentum) {}

  std::string_view name() const override { return "toy_sgd"; }
  size_t num_groups() const override { return groups_.size(); }
  const std::vector<Tensor>& params(size_t g) const override { return groups_.at(g).params; }
  double lr(size_t g = 0) const override { return groups_.at(g).lr; }
  void set_lr(double lr, size_t g) override { groups_.at(g).lr = lr; }
  using Optimizer::set_lr;
  std::optional<double> momentum(size_t g) const override {
    if (!has_momentum_) return std::nullopt;
    return groups_.at(g).momentum;
  }
  void set_momentum(double m, size_t g) override { groups_.at(g).momentum = m; }

  using Optimizer::step;
  void step() override {
    NoGradGuard no_grad;
    ++steps_;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const ToyGroup& g = groups_[gi];
      for (size_t i = 0; i < g.params.size(); ++i) {
        Tensor p = g.params[i];
        const Tensor grad = p.grad();
        if (!grad.defined()) continue;
        Tensor& v = buffers_[key(gi, i)];
        if (!v.defined()) {
          v = grad.detach().clone();
        } else {
          mul_(v, g.momentum);
          add_(v, grad);
        }
        add_(p, v, -g.lr);
      }
    }
  }

  StateDict state_dict() const override {
    StateDict s;
    s.numbers["steps"] = double(steps_);
    for (size_t g = 0; g < groups_.size(); ++g) {
      s.numbers["group." + std::to_string(g) + ".lr"] = groups_[g].lr;
      s.numbers["group." + std::to_string(g) + ".momentum"] = groups_[g].momentum;
    }
    for (const auto& [k, v] : buffers_) s.tensors["state." + k + ".momentum_buffer"] = v.clone();
    return s;
  }
  void load_state_dict(const StateDict& s) override {
    steps_ = int64_t(s.number("steps", "toy_sgd"));
    for (size_t g = 0; g < groups_.size(); ++g) {
      groups_[g].lr = s.number("group." + std::to_string(g) + ".lr", "toy_sgd");
      groups_[g].momentum = s.number("group." + std::to_string(g) + ".momentum", "toy_sgd");
    }
    buffers_.clear();
    for (const auto& [k, v] : s.tensors) {
      const std::string prefix = "state.", suffix = ".momentum_buffer";
      buffers_[k.substr(prefix.size(), k.size() - prefix.size() - suffix.size())] = v.clone();
    }
  }

  int64_t steps() const { return steps_; }

 private:
  static std::string key(size_t g, size_t i) { return std::to_string(g) + "_" + std::to_string(i); }

  std::vector<ToyGroup> groups_;
  bool has_momentum_;
  std::map<std::string, Tensor> buffers_;
  int64_t steps_ = 0;
};

// An optimizer with `lrs.size()` groups of one scalar parameter each, for schedules.
inline ToySgd toy_optimizer(const std::vector<double>& lrs, double momentum = 0.9,
                            bool has_momentum = true) {
  std::vector<ToyGroup> groups;
  for (double lr : lrs) {
    groups.push_back(
        {.params = {zeros({1}, {.requires_grad = true})}, .lr = lr, .momentum = momentum});
  }
  return ToySgd(std::move(groups), has_momentum);
}

}  // namespace descent::testing
