#pragma once
// Adamax (Kingma & Ba 2015, the infinity-norm Adam) — torch.optim.Adamax's rule and
// defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, maximize.
//
//   optim::Adamax opt(params, {.lr = 2e-3});
//
// Throws descent::Error for lr < 0, a beta outside [0, 1), eps <= 0 or weight_decay < 0.
// State per parameter: exp_avg, exp_inf, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct AdamaxOptions {
  double lr = 2e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;
};

struct AdamaxState {
  int64_t step = 0;
  Tensor exp_avg, exp_inf;
  using Rule = AdamaxRule;
  auto slots() { return std::tie(exp_avg, exp_inf); }
};

class Adamax : public GroupedOptimizer<Adamax, AdamaxOptions, AdamaxState> {
 public:
  static constexpr std::string_view kName = "adamax";
  using GroupedOptimizer::GroupedOptimizer;

  void update(const ParamStep& step, AdamaxState& s, const AdamaxOptions& o);
};

}  // namespace descent::optim
