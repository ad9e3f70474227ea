#pragma once
// NAdam (Dozat 2016) — torch.optim.NAdam's defaults: lr 2e-3, betas (0.9, 0.999),
// eps 1e-8, weight_decay 0, momentum_decay 4e-3; plus maximize (as newer PyTorch).
// The rule is PyTorch's multi-tensor one: mu_{t+1}'s coefficient divides by
// 1 - mu_product·mu_{t+1} (1.13's single-tensor loop multiplies by mu_t once too often).
//
//   optim::NAdam opt(params, {.lr = 2e-3, .momentum_decay = 4e-3});
//
// Throws descent::Error for lr < 0, a beta outside [0, 1), eps <= 0, weight_decay < 0
// or momentum_decay < 0. State per parameter: exp_avg, exp_avg_sq, mu_product, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct NAdamOptions {
  double lr = 2e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;
  bool maximize = false;
};

struct NAdamState {
  int64_t step = 0;
  double mu_product = 1;  // prod of mu_1..mu_t
  Tensor exp_avg, exp_avg_sq;
  using Rule = NadamRule;
  auto slots() { return std::tie(exp_avg, exp_avg_sq); }
};

class NAdam : public GroupedOptimizer<NAdam, NAdamOptions, NAdamState> {
 public:
  static constexpr std::string_view kName = "nadam";
  using GroupedOptimizer::GroupedOptimizer;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("momentum_decay", o.momentum_decay, Range::NonNegative);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("mu_product", s.mu_product);
  }
  void update(const ParamStep& step, NAdamState& s, const NAdamOptions& o);
};

}  // namespace descent::optim
