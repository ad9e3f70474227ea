#pragma once
// OneCycleLR (Smith & Topin, "Super-Convergence"), as torch.optim.lr_scheduler:
// the lr warms from max_lr/div_factor to max_lr over pct_start of the steps, then
// anneals to initial_lr/final_div_factor (three_phase: back to initial_lr first, then
// down). Call step() after every batch, total_steps times at most (then an Error).
// With cycle_momentum the momentum (beta1 for Adam) moves inversely between
// max_momentum and base_momentum. Give total_steps, or epochs and steps_per_epoch.
// Throws descent::Error for missing/non-positive step counts, pct_start outside
// [0, 1], an empty phase, or an optimizer without momentum when cycling it.
#include <descent/optim/schedulers/scheduler.h>

namespace descent::optim {

enum class AnnealStrategy { Cos, Linear };

struct OneCycleLROptions {
  PerGroup max_lr{};        // required
  int64_t total_steps = 0;  // 0: epochs × steps_per_epoch
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  bool cycle_momentum = true;
  PerGroup base_momentum = 0.85;
  PerGroup max_momentum = 0.95;
  double div_factor = 25.;
  double final_div_factor = 1e4;
  bool three_phase = false;
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, OneCycleLROptions options);
  std::string_view name() const override { return "one_cycle_lr"; }
  int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> compute_lr() override;
  bool owns_base_lrs() const override { return true; }

 private:
  // Where a value of a phase comes from, per group.
  enum class Level { Initial, Max, Min };
  enum class Momentum { Base, Max };
  struct Phase {
    double end_step;
    Level start_lr, end_lr;
    Momentum start_momentum, end_momentum;
  };
  double anneal(double start, double end, double pct) const;

  OneCycleLROptions options_;
  int64_t total_steps_;
  std::vector<Phase> phases_;
  std::vector<double> max_lrs_, min_lrs_, base_momentums_, max_momentums_;
};

}  // namespace descent::optim
