#pragma once
// SGD with momentum, dampening, Nesterov, weight decay and maximize — torch.optim.SGD's
// rule and defaults (lr, which PyTorch requires, defaults to 1e-3 here).
//
//   optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//   opt.add_param_group(head, {.lr = 0.01});      // the other options from the defaults
//
// Throws descent::Error at construction (or set_options / add_param_group) for lr < 0,
// momentum < 0, weight_decay < 0, or nesterov without momentum or with dampening != 0.
// State per parameter: momentum_buffer (when momentum != 0), step.
#include "optim/param_groups.h"

namespace descent::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

// Per-group overrides: unset fields take the optimizer's defaults.
struct SGDGroupOptions {
  std::optional<double> lr{}, momentum{}, dampening{}, weight_decay{};
  std::optional<bool> nesterov{}, maximize{};
};

struct SGDState {
  int64_t step = 0;
  Tensor momentum_buffer;  // undefined until the first step with momentum != 0
};

class SGD : public GroupedOptimizer<SGD, SGDOptions, SGDGroupOptions, SGDState> {
 public:
  static constexpr std::string_view kName = "sgd";
  explicit SGD(std::vector<Tensor> params, const SGDOptions& options = {})
      : GroupedOptimizer(std::move(params), options) {}

  static void validate(const SGDOptions& o);
  static SGDOptions merge(SGDOptions d, const SGDGroupOptions& g) {
    override_with(d.lr, g.lr);
    override_with(d.momentum, g.momentum);
    override_with(d.dampening, g.dampening);
    override_with(d.weight_decay, g.weight_decay);
    override_with(d.nesterov, g.nesterov);
    override_with(d.maximize, g.maximize);
    return d;
  }
  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    f("lr", o.lr);
    f("momentum", o.momentum);
    f("dampening", o.dampening);
    f("weight_decay", o.weight_decay);
    f("nesterov", o.nesterov);
    f("maximize", o.maximize);
  }
  template <class S, class F>
  static void visit_state(S& s, F&& f) {
    f("step", s.step);
    f("momentum_buffer", s.momentum_buffer, Slot::Optional);
  }
  void update(const Tensor& param, const Tensor& grad, SGDState& s, const SGDOptions& o);
};

}  // namespace descent::optim
