#pragma once
// Adam and AdamW — torch.optim.Adam / AdamW's rules and defaults: lr 1e-3,
// betas (0.9, 0.999), eps 1e-8, weight_decay 0 for Adam (added to the gradient) and
// 1e-2 for AdamW (decoupled: p *= 1 - lr·weight_decay), amsgrad, maximize.
//
//   optim::AdamW opt(model.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
//   optim::Adam ams(params, {.betas = {0.9, 0.99}, .amsgrad = true});
//
// Throws descent::Error for lr < 0, a beta outside [0, 1), eps <= 0 or weight_decay < 0.
// State per parameter: exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad), step.
#include "optim/param_groups.h"

namespace descent::optim {

struct AdamOptions {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
};

struct AdamWOptions {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
};

struct AdamGroupOptions {
  std::optional<double> lr{};
  std::optional<Betas> betas{};
  std::optional<double> eps{}, weight_decay{};
  std::optional<bool> amsgrad{}, maximize{};
};

struct AdamState {
  int64_t step = 0;
  Tensor exp_avg, exp_avg_sq;
  Tensor max_exp_avg_sq;  // amsgrad
};

namespace detail {
void adam_step(const Tensor& param, const Tensor& grad, AdamState& s, double lr, Betas betas,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled);
}

// What Adam and AdamW share; only the options' defaults and the decay differ.
template <class Derived, class Options>
class AdamFamily : public GroupedOptimizer<Derived, Options, AdamGroupOptions, AdamState> {
  using Base = GroupedOptimizer<Derived, Options, AdamGroupOptions, AdamState>;

 public:
  explicit AdamFamily(std::vector<Tensor> params, const Options& options)
      : Base(std::move(params), options) {}

  static void validate(const Options& o) {
    const OptionCheck c{Derived::kName};
    c.non_negative("lr", o.lr);
    c.positive("eps", o.eps);
    c.unit_open("betas.beta1", o.betas.beta1);
    c.unit_open("betas.beta2", o.betas.beta2);
    c.non_negative("weight_decay", o.weight_decay);
  }
  static Options merge(Options d, const AdamGroupOptions& g) {
    override_with(d.lr, g.lr);
    override_with(d.betas, g.betas);
    override_with(d.eps, g.eps);
    override_with(d.weight_decay, g.weight_decay);
    override_with(d.amsgrad, g.amsgrad);
    override_with(d.maximize, g.maximize);
    return d;
  }
  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    f("lr", o.lr);
    f("beta1", o.betas.beta1);
    f("beta2", o.betas.beta2);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("amsgrad", o.amsgrad);
    f("maximize", o.maximize);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("step", s.step);
    f("exp_avg", s.exp_avg, Slot::Required);
    f("exp_avg_sq", s.exp_avg_sq, Slot::Required);
    f("max_exp_avg_sq", s.max_exp_avg_sq, Slot::Optional);
  }
  void update(const Tensor& param, const Tensor& grad, AdamState& s, const Options& o) {
    detail::adam_step(param, grad, s, o.lr, o.betas, o.eps, o.weight_decay, o.amsgrad, o.maximize,
                      Derived::kDecoupledWeightDecay);
  }
};

class Adam : public AdamFamily<Adam, AdamOptions> {
 public:
  static constexpr std::string_view kName = "adam";
  static constexpr bool kDecoupledWeightDecay = false;
  explicit Adam(std::vector<Tensor> params, const AdamOptions& options = {})
      : AdamFamily(std::move(params), options) {}
};

class AdamW : public AdamFamily<AdamW, AdamWOptions> {
 public:
  static constexpr std::string_view kName = "adamw";
  static constexpr bool kDecoupledWeightDecay = true;
  explicit AdamW(std::vector<Tensor> params, const AdamWOptions& options = {})
      : AdamFamily(std::move(params), options) {}
};

}  // namespace descent::optim
