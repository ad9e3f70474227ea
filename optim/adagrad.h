#pragma once
// Adagrad — torch.optim.Adagrad's rule and defaults: lr 1e-2, lr_decay 0,
// weight_decay 0, initial_accumulator_value 0, eps 1e-10, maximize. Dense gradients.
//
//   optim::Adagrad opt(params, {.lr = 0.1, .initial_accumulator_value = 0.1});
//
// Throws descent::Error for lr < 0, lr_decay < 0, weight_decay < 0,
// initial_accumulator_value < 0 or eps <= 0. State per parameter: sum, step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
};

struct AdagradState {
  int64_t step = 0;
  Tensor sum;  // starts at initial_accumulator_value
  using Rule = AdagradRule;
  auto slots() { return std::tie(sum); }
};

class Adagrad : public GroupedOptimizer<Adagrad, AdagradOptions, AdagradState> {
 public:
  static constexpr std::string_view kName = "adagrad";
  using GroupedOptimizer::GroupedOptimizer;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("lr_decay", o.lr_decay, Range::NonNegative);
    f("initial_accumulator_value", o.initial_accumulator_value, Range::NonNegative);
  }
  void update(const ParamStep& step, AdagradState& s, const AdagradOptions& o);
};

}  // namespace descent::optim
