#pragma once
// CyclicLR (Smith, "Cyclical Learning Rates"), as torch.optim.lr_scheduler.CyclicLR:
// the lr goes from base_lr to max_lr over step_size_up steps and back over
// step_size_down (default: step_size_up), scaled per cycle (triangular: 1,
// triangular2: halved each cycle) or per iteration (exp_range: gamma^iteration), or by
// a custom scale_fn. Call step() after every batch. With cycle_momentum the momentum
// moves inversely between max_momentum and base_momentum (Error when the optimizer has
// no momentum). The constructor sets every group's lr to base_lr (and momentum to
// base_momentum). Throws descent::Error for non-positive step sizes or per-group lists
// of the wrong length.
#include <descent/optim/schedulers/scheduler.h>

#include <functional>
#include <optional>

namespace descent::optim {

enum class CyclicMode { Triangular, Triangular2, ExpRange };
// What the scale function is evaluated at: the cycle number or the iteration.
enum class CyclicScaleMode { Cycle, Iterations };

struct CyclicLROptions {
  PerGroup base_lr{};  // required
  PerGroup max_lr{};   // required
  double step_size_up = 2000;
  std::optional<double> step_size_down{};  // default: step_size_up
  CyclicMode mode = CyclicMode::Triangular;
  double gamma = 1.0;  // exp_range's base
  // Replaces `mode` when set; evaluated at the cycle or the iteration per scale_mode.
  std::function<double(double)> scale_fn{};
  CyclicScaleMode scale_mode = CyclicScaleMode::Cycle;
  bool cycle_momentum = true;
  PerGroup base_momentum = 0.8;
  PerGroup max_momentum = 0.9;
};

class CyclicLR : public LRScheduler {
 public:
  CyclicLR(Optimizer& opt, CyclicLROptions options);
  std::string_view name() const override { return "cyclic_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  bool owns_base_lrs() const override { return true; }

 private:
  double scale(double x) const;

  CyclicLROptions options_;
  CyclicScaleMode scale_mode_;
  std::vector<double> max_lrs_, base_momentums_, max_momentums_;
  double total_size_, step_ratio_;
};

}  // namespace descent::optim
