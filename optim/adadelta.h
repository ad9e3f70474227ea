#pragma once
// Adadelta (Zeiler 2012) — torch.optim.Adadelta's rule and defaults: lr 1.0, rho 0.9,
// eps 1e-6, weight_decay 0, maximize.
//
//   optim::Adadelta opt(params, {.rho = 0.95});
//
// Throws descent::Error for lr < 0, rho outside [0, 1], eps <= 0 or weight_decay < 0.
// State per parameter: square_avg, acc_delta, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  bool maximize = false;
};

struct AdadeltaState {
  int64_t step = 0;
  Tensor square_avg, acc_delta;
  using Rule = AdadeltaRule;
  auto slots() { return std::tie(square_avg, acc_delta); }
};

class Adadelta : public GroupedOptimizer<Adadelta, AdadeltaOptions, AdadeltaState> {
 public:
  static constexpr std::string_view kName = "adadelta";
  using GroupedOptimizer::GroupedOptimizer;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("rho", o.rho, Range::UnitClosed);
  }
  void update(const ParamStep& step, AdadeltaState& s, const AdadeltaOptions& o);
};

}  // namespace descent::optim
