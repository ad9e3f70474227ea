#pragma once
// ReduceLROnPlateau, as torch.optim.lr_scheduler: multiplies every group's lr by
// `factor` (not below min_lr) when the metric passed to step(metric) has not improved
// for more than `patience` steps, then waits `cooldown` steps before counting again.
// "Improved" means below best·(1 - threshold) (mode Min, rel), below best - threshold
// (Min, abs), above best·(1 + threshold) (Max, rel) or above best + threshold (Max,
// abs). Reductions smaller than eps are skipped. Throws descent::Error for factor ≥ 1
// or ≤ 0, negative patience/cooldown/threshold, or min_lr of the wrong length.
#include <descent/core/state_dict.h>
#include <descent/optim/optimizer.h>
#include <descent/optim/schedulers/scheduler.h>

#include <cstdint>
#include <vector>

namespace descent::optim {

enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };

struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;
  PerGroup min_lr = 0.0;
  double eps = 1e-8;
};

class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions options = {});

  // Records one epoch's metric and reduces the lrs when it has plateaued.
  void step(double metric);

  const std::vector<double>& get_last_lr() const { return last_lr_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  int64_t cooldown_counter() const { return cooldown_counter_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }
  int64_t last_epoch() const { return last_epoch_; }
  // Whether `a` counts as an improvement over `best` under the options.
  bool is_better(double a, double best) const;

  StateDict state_dict() const;
  // Throws descent::Error for a dict of another scheduler or with missing entries.
  void load_state_dict(const StateDict& state);

 private:
  void reduce_lr();

  Optimizer* opt_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_, last_lr_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace descent::optim
