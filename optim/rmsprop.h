#pragma once
// RMSprop — torch.optim.RMSprop's rule and defaults: lr 1e-2, alpha 0.99, eps 1e-8,
// optional centering (divides by the estimated standard deviation instead of the RMS),
// momentum, weight decay and maximize.
//
//   optim::RMSprop opt(params, {.lr = 1e-3, .momentum = 0.9, .centered = true});
//
// Throws descent::Error for lr < 0, alpha outside [0, 1], eps <= 0, momentum < 0 or
// weight_decay < 0. State per parameter: square_avg, grad_avg (centered),
// momentum_buffer (momentum > 0), step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};

struct RMSpropState {
  int64_t step = 0;
  Tensor square_avg;
  Tensor grad_avg;         // centered
  Tensor momentum_buffer;  // momentum > 0
  using Rule = RmspropRule;
  auto slots() { return std::tie(square_avg, grad_avg, momentum_buffer); }
};

class RMSprop : public GroupedOptimizer<RMSprop, RMSpropOptions, RMSpropState> {
 public:
  static constexpr std::string_view kName = "rmsprop";
  using GroupedOptimizer::GroupedOptimizer;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("alpha", o.alpha, Range::UnitClosed);
    f("momentum", o.momentum, Range::NonNegative);
    f("centered", o.centered, Range::Any);
  }
  void update(const ParamStep& step, RMSpropState& s, const RMSpropOptions& o);
};

}  // namespace descent::optim
