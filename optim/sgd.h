#pragma once
// SGD with momentum, dampening, Nesterov, weight decay and maximize — torch.optim.SGD's
// rule and defaults (lr, which PyTorch requires, defaults to 1e-3 here).
//
//   optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//   opt.add_param_group(head, [](optim::SGDOptions& o) { o.lr = 0.01; });  // the rest: defaults
//
// Throws descent::Error at construction (or set_options / add_param_group) for lr < 0,
// momentum < 0, weight_decay < 0, or nesterov without momentum or with dampening != 0.
// State per parameter: momentum_buffer (when momentum != 0), step.
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

struct SGDState {
  int64_t step = 0;
  Tensor momentum_buffer;  // undefined until the first step with momentum != 0
  using Rule = SgdRule;
  auto slots() { return std::tie(momentum_buffer); }
};

class SGD : public GroupedOptimizer<SGD, SGDOptions, SGDState> {
 public:
  static constexpr std::string_view kName = "sgd";
  using GroupedOptimizer::GroupedOptimizer;

  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
    f("momentum", o.momentum, Range::NonNegative);
    f("dampening", o.dampening, Range::Any);
    f("nesterov", o.nesterov, Range::Any);
  }
  static void check_options(const SGDOptions& o);
  void update(const ParamStep& step, SGDState& s, const SGDOptions& o);
};

}  // namespace descent::optim
