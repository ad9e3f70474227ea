// The arithmetic follows torch's get_lr / _get_closed_form_lr term by term so the
// schedules agree to the last bit, not just to rounding.
#include <descent/optim/schedulers/step_lr.h>

#include <algorithm>
#include <cmath>

namespace descent::optim {
StepLR::StepLR(Optimizer& opt, StepLROptions options) : LRScheduler(opt), options_(options) {
  check(options_.step_size > 0, "StepLR", "step_size must be positive, got {}", options_.step_size);
  initial_step();
}

std::vector<double> StepLR::compute_lr() {
  if (last_epoch_ == 0 || last_epoch_ % options_.step_size != 0) return current_lrs();
  return scaled(current_lrs(), options_.gamma);
}

std::optional<std::vector<double>> StepLR::closed_form_lr() const {
  const int64_t decays = last_epoch_ >= 0 ? last_epoch_ / options_.step_size : 0;
  return scaled(base_lrs_, std::pow(options_.gamma, double(decays)));
}

MultiStepLR::MultiStepLR(Optimizer& opt, MultiStepLROptions options)
    : LRScheduler(opt), options_(std::move(options)) {
  for (int64_t m : options_.milestones) {
    check(m >= 0, "MultiStepLR", "milestones must be non-negative, got {}", m);
  }
  std::sort(options_.milestones.begin(), options_.milestones.end());
  initial_step();
}

std::vector<double> MultiStepLR::compute_lr() {
  const auto& m = options_.milestones;
  const auto hits = std::count(m.begin(), m.end(), last_epoch_);
  if (hits == 0) return current_lrs();
  return scaled(current_lrs(), std::pow(options_.gamma, double(hits)));
}

std::optional<std::vector<double>> MultiStepLR::closed_form_lr() const {
  const auto& m = options_.milestones;
  const auto passed = std::upper_bound(m.begin(), m.end(), last_epoch_) - m.begin();
  return scaled(base_lrs_, std::pow(options_.gamma, double(passed)));
}

ExponentialLR::ExponentialLR(Optimizer& opt, ExponentialLROptions options)
    : LRScheduler(opt), options_(options) {
  initial_step();
}

std::vector<double> ExponentialLR::compute_lr() {
  if (last_epoch_ == 0) return current_lrs();
  return scaled(current_lrs(), options_.gamma);
}

std::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
  return scaled(base_lrs_, std::pow(options_.gamma, double(last_epoch_)));
}

}  // namespace descent::optim
