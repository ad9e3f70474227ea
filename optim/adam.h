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
  using Rule = AdamRule;
  auto slots() { return std::tie(exp_avg, exp_avg_sq, max_exp_avg_sq); }
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
  using Base::Base;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("amsgrad", o.amsgrad, Range::Any);
  }
  void update(const ParamStep& step, AdamState& s, const Options& o) {
    detail::adam_step(step, s, o, Derived::kWeightDecay);
  }
};

class Adam : public AdamFamily<Adam, AdamOptions> {
 public:
  static constexpr std::string_view kName = "adam";
  static constexpr WeightDecay kWeightDecay = WeightDecay::Coupled;
  using AdamFamily::AdamFamily;
};

class AdamW : public AdamFamily<AdamW, AdamWOptions> {
 public:
  static constexpr std::string_view kName = "adamw";
  static constexpr WeightDecay kWeightDecay = WeightDecay::Decoupled;
  using AdamFamily::AdamFamily;
};

}  // namespace descent::optim
