#pragma once
// RAdam (Liu et al. 2020) — torch.optim.RAdam's rule and defaults: lr 1e-3,
// betas (0.9, 0.999), eps 1e-8, weight_decay 0; plus maximize (as newer PyTorch). The
// adaptive step is used once the variance rectification term exists (rho_t > 5).
//
//   optim::RAdam opt(params, {.lr = 1e-3});
//
// Throws descent::Error for lr < 0, a beta outside [0, 1), eps <= 0 or weight_decay < 0.
// State per parameter: exp_avg, exp_avg_sq, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct RAdamOptions {
  double lr = 1e-3;
  Betas betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;
};

struct RAdamState {
  int64_t step = 0;
  Tensor exp_avg, exp_avg_sq;
  using Rule = RadamRule;
  auto slots() { return std::tie(exp_avg, exp_avg_sq); }
};

class RAdam : public GroupedOptimizer<RAdam, RAdamOptions, RAdamState> {
 public:
  static constexpr std::string_view kName = "radam";
  using GroupedOptimizer::GroupedOptimizer;

  void update(const ParamStep& step, RAdamState& s, const RAdamOptions& o);
};

}  // namespace descent::optim
