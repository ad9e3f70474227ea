#include <descent/optim/schedulers/plateau.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace descent::optim {
namespace {

constexpr std::string_view kWho = "ReduceLROnPlateau";
constexpr std::string_view kName = "reduce_lr_on_plateau";

}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, ReduceLROnPlateauOptions options)
    : opt_(&opt), options_(std::move(options)) {
  check(options_.factor > 0 && options_.factor < 1.0, kWho, "factor must be in (0, 1), got {}",
        options_.factor);
  check(options_.patience >= 0, kWho, "patience must be non-negative, got {}", options_.patience);
  check(options_.cooldown >= 0, kWho, "cooldown must be non-negative, got {}", options_.cooldown);
  check(options_.threshold >= 0, kWho, "threshold must be non-negative, got {}",
        options_.threshold);
  min_lrs_ = options_.min_lr.expand(opt.num_groups(), kWho, "min_lr");
  best_ = options_.mode == PlateauMode::Min ? std::numeric_limits<double>::infinity()
                                            : -std::numeric_limits<double>::infinity();
  for (size_t g = 0; g < opt.num_groups(); ++g) last_lr_.push_back(opt.lr(g));
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  const double t = options_.threshold;
  switch (options_.mode) {
    case PlateauMode::Min:
      return options_.threshold_mode == ThresholdMode::Rel ? a < best * (1. - t) : a < best - t;
    case PlateauMode::Max:
      return options_.threshold_mode == ThresholdMode::Rel ? a > best * (t + 1.) : a > best + t;
  }
  return false;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (in_cooldown()) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    reduce_lr();
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (size_t g = 0; g < opt_->num_groups(); ++g) last_lr_.push_back(opt_->lr(g));
}

void ReduceLROnPlateau::reduce_lr() {
  for (size_t g = 0; g < opt_->num_groups(); ++g) {
    const double old_lr = opt_->lr(g);
    const double new_lr = std::max(old_lr * options_.factor, min_lrs_[g]);
    if (old_lr - new_lr > options_.eps) opt_->set_lr(new_lr, g);
  }
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict s;
  s.strings["type"] = std::string(kName);
  // ±inf (no metric seen yet) is left out: JSON metadata has no infinities.
  if (std::isfinite(best_)) s.numbers["best"] = best_;
  s.numbers["num_bad_epochs"] = double(num_bad_epochs_);
  s.numbers["cooldown_counter"] = double(cooldown_counter_);
  s.numbers["last_epoch"] = double(last_epoch_);
  for (size_t g = 0; g < last_lr_.size(); ++g) {
    s.numbers["last_lr." + std::to_string(g)] = last_lr_[g];
  }
  return s;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& state) {
  const std::string who = std::string(kName) + ".load_state_dict";
  const std::string& type = state.string("type", who);
  check(type == kName, who, "state dict is for a {}, expected a {}", type, kName);
  std::vector<double> last(last_lr_.size());
  for (size_t g = 0; g < last.size(); ++g) {
    last[g] = state.finite("last_lr." + std::to_string(g), who, 0);
  }
  const double worst = options_.mode == PlateauMode::Min ? std::numeric_limits<double>::infinity()
                                                         : -std::numeric_limits<double>::infinity();
  const double best = state.numbers.contains("best") ? state.number("best", who) : worst;
  const int64_t epoch = state.integer("last_epoch", who);
  const int64_t bad = state.integer("num_bad_epochs", who, 0, epoch);
  const int64_t cooldown = state.integer("cooldown_counter", who);
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown;
  last_epoch_ = epoch;
  last_lr_ = std::move(last);
}

}  // namespace descent::optim
