#pragma once
// Adam and AdamW — torch.optim.Adam / AdamW's rules and defaults: lr 1e-3,
// betas (0.9, 0.999), eps 1e-8, weight_decay 0 for Adam (added to the gradient) and
// 1e-2 for AdamW (decoupled: p *= 1 - lr·weight_decay), amsgrad, maximize.
//
//   optim::AdamW opt(model.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
//   optim::Adam ams(params, {.betas = {0.9, 0.99}, .amsgrad = true});
//   ams.add_param_group(head, [](optim::AdamOptions& o) { o.lr = 1e-2; });
//
// Throws descent::Error for lr < 0, a beta outside [0, 1), eps <= 0 or weight_decay < 0.
// State per parameter: exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad), step.
#include <descent/optim/param_groups.h>

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

struct AdamState {
  int64_t step = 0;
  Tensor exp_avg, exp_avg_sq;
  Tensor max_exp_avg_sq;  // amsgrad
};

// Adam adds weight_decay·param to the gradient; AdamW decays the parameter itself.
enum class WeightDecay { Coupled, Decoupled };

namespace detail {
// One step of one parameter (Options: AdamOptions or AdamWOptions).
template <class Options>
void adam_step(const ParamStep& step, AdamState& s, const Options& o, WeightDecay decay);
}  // namespace detail

// What Adam and AdamW share; only the options' defaults and the decay differ.
template <class Derived, class Options>
class AdamFamily : public GroupedOptimizer<Derived, Options, AdamState> {
  using Base = GroupedOptimizer<Derived, Options, AdamState>;

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
  void update(const ParamStep& step, AdamState& s, const Options& o) {
    detail::adam_step(step, s, o, Derived::kWeightDecay);
  }
};

class Adam : public AdamFamily<Adam, AdamOptions> {
 public:
  static constexpr std::string_view kName = "adam";
  static constexpr WeightDecay kWeightDecay = WeightDecay::Coupled;
  explicit Adam(std::vector<Tensor> params, const AdamOptions& options = {})
      : AdamFamily(std::move(params), options) {}
};

class AdamW : public AdamFamily<AdamW, AdamWOptions> {
 public:
  static constexpr std::string_view kName = "adamw";
  static constexpr WeightDecay kWeightDecay = WeightDecay::Decoupled;
  explicit AdamW(std::vector<Tensor> params, const AdamWOptions& options = {})
      : AdamFamily(std::move(params), options) {}
};

}  // namespace descent::optim
