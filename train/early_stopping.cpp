#include <descent/core/error.h>
#include <descent/core/grad_mode.h>
#include <descent/train/early_stopping.h>

#include <cmath>
#include <limits>
#include <string>

namespace descent::train {
namespace {

constexpr std::string_view kWho = "EarlyStopping";
constexpr std::string_view kType = "early_stopping";

double worst(EarlyStoppingMode mode) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  return mode == EarlyStoppingMode::Min ? inf : -inf;
}

}  // namespace

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(options), best_(worst(options.mode)) {
  check(options_.patience >= 0, kWho, "patience must be non-negative, got {}", options_.patience);
  check(options_.min_delta >= 0, kWho, "min_delta must be non-negative, got {}",
        options_.min_delta);
}

bool EarlyStopping::is_better(double metric) const {
  switch (options_.mode) {
    case EarlyStoppingMode::Min: return metric < best_ - options_.min_delta;
    case EarlyStoppingMode::Max: return metric > best_ + options_.min_delta;
  }
  return false;
}

bool EarlyStopping::step(double metric, const std::vector<Tensor>& params) {
  ++epoch_;
  if (is_better(metric)) {
    best_ = metric;
    best_epoch_ = epoch_ - 1;
    wait_ = 0;
    if (options_.restore_best && !params.empty()) {
      NoGradGuard no_grad;
      snapshot_.clear();
      for (const Tensor& p : params) snapshot_.push_back(p.detach().clone());
    }
  } else {
    ++wait_;
    if (!stopped_ && wait_ >= options_.patience) {
      if (options_.restore_best && has_snapshot() && !params.empty()) restore_best(params);
      stopped_ = true;  // after the restore, which may throw for mismatched parameters
    }
  }
  return stopped_;
}

namespace {
// The module's parameters and buffers, in state-dict order, as handles sharing their
// storage: copying into them writes the module's tensors.
std::vector<Tensor> state_tensors(const nn::Module& model) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : model.state_dict().tensors) out.push_back(t);
  return out;
}
}  // namespace

bool EarlyStopping::step(double metric, const nn::Module& model) {
  return step(metric, state_tensors(model));
}

void EarlyStopping::restore_best(const nn::Module& model) const {
  restore_best(state_tensors(model));
}

void EarlyStopping::restore_best(const std::vector<Tensor>& params) const {
  check(has_snapshot(), "EarlyStopping.restore_best", "no snapshot taken yet");
  check(params.size() == snapshot_.size(), "EarlyStopping.restore_best",
        "got {} parameters, expected {} (as in the snapshot)", params.size(), snapshot_.size());
  for (size_t i = 0; i < params.size(); ++i) {
    check(params[i].shape() == snapshot_[i].shape(), "EarlyStopping.restore_best",
          "parameter {} has shape {}, expected {} (as in the snapshot)", i, params[i].shape(),
          snapshot_[i].shape());
  }
  NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.copy_(snapshot_[i]);
  }
}

StateDict EarlyStopping::state_dict() const {
  StateDict s;
  s.strings["type"] = std::string(kType);
  if (std::isfinite(best_)) s.numbers["best"] = best_;  // JSON metadata has no infinities
  s.numbers["best_epoch"] = double(best_epoch_);
  s.numbers["wait"] = double(wait_);
  s.numbers["epoch"] = double(epoch_);
  s.numbers["stopped"] = stopped_ ? 1.0 : 0.0;
  s.numbers["num_best_params"] = double(snapshot_.size());
  for (size_t i = 0; i < snapshot_.size(); ++i) {
    s.tensors["best_params." + std::to_string(i)] = snapshot_[i].clone();
  }
  return s;
}

void EarlyStopping::load_state_dict(const StateDict& state) {
  const std::string who = std::string(kType) + ".load_state_dict";
  const std::string& type = state.string("type", who);
  check(type == kType, who, "state dict is for a {}, expected a {}", type, kType);
  const double best =
      state.numbers.contains("best") ? state.number("best", who) : worst(options_.mode);
  const int64_t epoch = state.integer("epoch", who);
  const int64_t best_epoch = state.integer("best_epoch", who, -1, epoch);
  const int64_t wait = state.integer("wait", who, 0, epoch);
  const bool stopped = state.flag("stopped", who);
  const auto n = size_t(state.integer("num_best_params", who));
  std::vector<Tensor> snapshot;
  for (size_t i = 0; i < n; ++i) {
    snapshot.push_back(state.tensor("best_params." + std::to_string(i), who).clone());
  }
  best_ = best;
  best_epoch_ = best_epoch;
  wait_ = wait;
  epoch_ = epoch;
  stopped_ = stopped;
  snapshot_ = std::move(snapshot);
}

}  // namespace descent::train
