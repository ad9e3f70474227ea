#pragma once
// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of
// an interpolated momentum, decoupled weight decay. Defaults lr 1e-4, betas (0.9, 0.99),
// weight_decay 0; maximize as the rest of the family. Not in torch 1.13: the golden
// trajectories come from a reference implementation of the paper's rule in
// tests/oracle/gen_optim_golden.py.
//
//   optim::Lion opt(params, {.lr = 3e-4, .weight_decay = 1.0});
//
// Throws descent::Error for lr < 0, a beta outside [0, 1) or weight_decay < 0.
// State per parameter: exp_avg, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct LionOptions {
  double lr = 1e-4;
  Betas betas = {0.9, 0.99};
  double weight_decay = 0;
  bool maximize = false;
};

struct LionState {
  int64_t step = 0;
  Tensor exp_avg;
  using Rule = LionRule;
  auto slots() { return std::tie(exp_avg); }
};

class Lion : public GroupedOptimizer<Lion, LionOptions, LionState> {
 public:
  static constexpr std::string_view kName = "lion";
  using GroupedOptimizer::GroupedOptimizer;

  void update(const ParamStep& step, LionState& s, const LionOptions& o);
};

}  // namespace descent::optim
