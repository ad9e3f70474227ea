#pragma once
// EarlyStopping: stops training when a validation metric has not improved for
// `patience` epochs, and (restore_best) puts back the parameter values of the best
// epoch, in place.
//
//   train::EarlyStopping stopper({.patience = 5, .min_delta = 1e-4});
//   for (int epoch = 0;; ++epoch) {
//     train_one_epoch();
//     if (stopper.step(validate(), model)) break;  // the best epoch's state restored
//   }
//
// Given a module, the snapshot is its whole state dict — parameters and buffers — so
// BatchNorm's running statistics come back with the weights they belong to. Given a
// list of tensors, exactly those are snapshotted.
//
// An improvement is metric < best - min_delta (Min) or metric > best + min_delta
// (Max); a NaN metric never improves. step() returns true once epochs without
// improvement reach patience, and keeps returning true after. Throws descent::Error
// for patience < 0, min_delta < 0 or NaN, or parameters that differ (count or shape)
// from the snapshot being restored.
#include <descent/core/state_dict.h>
#include <descent/core/tensor.h>
#include <descent/nn/module.h>

#include <cstdint>
#include <vector>

namespace descent::train {

enum class EarlyStoppingMode { Min, Max };

struct EarlyStoppingOptions {
  int64_t patience = 10;
  double min_delta = 0.0;
  EarlyStoppingMode mode = EarlyStoppingMode::Min;
  bool restore_best = true;
};

class EarlyStopping {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});

  // Records one epoch's metric; snapshots `params` (copies of their values) when it is
  // the best so far. Returns whether to stop; on the stopping step, with restore_best,
  // the best snapshot is copied back into `params`.
  bool step(double metric, const std::vector<Tensor>& params_to_snapshot = {});
  // The same with every tensor of model.state_dict() (parameters and buffers).
  bool step(double metric, const nn::Module& model);

  bool is_better(double metric) const;
  bool should_stop() const { return stopped_; }
  double best() const { return best_; }
  int64_t best_epoch() const { return best_epoch_; }  // -1 before any improvement
  int64_t epochs_without_improvement() const { return wait_; }
  int64_t epoch() const { return epoch_; }  // steps taken
  bool has_snapshot() const { return !snapshot_.empty(); }

  // Copies the best snapshot into `params` in place (what step() does on stop).
  void restore_best(const std::vector<Tensor>& params) const;
  void restore_best(const nn::Module& model) const;

  // Counters, best value and the snapshot (tensors "best_params.<i>").
  StateDict state_dict() const;
  // Throws descent::Error for a dict of another kind or with missing entries.
  void load_state_dict(const StateDict& state);

 private:
  EarlyStoppingOptions options_;
  double best_;
  int64_t best_epoch_ = -1, wait_ = 0, epoch_ = 0;
  bool stopped_ = false;
  std::vector<Tensor> snapshot_;
};

}  // namespace descent::train
