// Expressions follow torch's get_lr term by term so results match bit for bit.
#include <descent/optim/schedulers/cosine_lr.h>

#include <cmath>
#include <numbers>

namespace descent::optim {
namespace {

constexpr double kPi = std::numbers::pi;

}  // namespace

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions options)
    : LRScheduler(opt), options_(options) {
  check(options_.t_max > 0, "CosineAnnealingLR", "t_max must be positive, got {}", options_.t_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::compute_lr() {
  const double t = double(last_epoch_), n = double(options_.t_max), eta = options_.eta_min;
  std::vector<double> lrs = current_lrs();
  if (last_epoch_ == 0) return lrs;
  if (step_count_ == 1 && last_epoch_ > 0) {
    // Resumed at a later epoch: the closed form.
    for (size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] = eta + (base_lrs_[g] - eta) * (1 + std::cos(t * kPi / n)) / 2;
    }
  } else if ((last_epoch_ - 1 - options_.t_max) % (2 * options_.t_max) == 0) {
    // Just past a minimum, where the ratio below would divide by zero.
    for (size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] = lrs[g] + (base_lrs_[g] - eta) * (1 - std::cos(kPi / n)) / 2;
    }
  } else {
    for (size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] =
          (1 + std::cos(kPi * t / n)) / (1 + std::cos(kPi * (t - 1) / n)) * (lrs[g] - eta) + eta;
    }
  }
  return lrs;
}

std::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
  const double t = double(last_epoch_), n = double(options_.t_max), eta = options_.eta_min;
  std::vector<double> lrs(num_groups());
  for (size_t g = 0; g < lrs.size(); ++g) {
    lrs[g] = eta + (base_lrs_[g] - eta) * (1 + std::cos(kPi * t / n)) / 2;
  }
  return lrs;
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& opt,
                                                         CosineAnnealingWarmRestartsOptions options)
    : LRScheduler(opt), options_(options), t_i_(options.t_0) {
  check(options_.t_0 > 0, "CosineAnnealingWarmRestarts", "t_0 must be positive, got {}",
        options_.t_0);
  check(options_.t_mult >= 1, "CosineAnnealingWarmRestarts", "t_mult must be at least 1, got {}",
        options_.t_mult);
  initial_step();
}

void CosineAnnealingWarmRestarts::step() {
  if (last_epoch_ < 0) {
    step(0.0);
    return;
  }
  t_cur_ += 1;
  if (t_cur_ >= double(t_i_)) {
    t_cur_ -= double(t_i_);
    t_i_ *= options_.t_mult;
  }
  ++last_epoch_;
  ++step_count_;
  apply(compute_lr());
}

void CosineAnnealingWarmRestarts::step(double epoch) {
  check(epoch >= 0, "CosineAnnealingWarmRestarts.step", "epoch must be non-negative, got {}",
        epoch);
  const int64_t t0 = options_.t_0, m = options_.t_mult;
  if (epoch >= double(t0)) {
    if (m == 1) {
      t_cur_ = std::fmod(epoch, double(t0));
    } else {
      // Index of the cycle that contains `epoch`: t0 (m^n - 1) / (m - 1) ≤ epoch.
      const auto n =
          int64_t(std::log(epoch / double(t0) * double(m - 1) + 1) / std::log(double(m)));
      int64_t mn = 1;
      for (int64_t i = 0; i < n; ++i) mn *= m;
      t_cur_ = epoch - double(t0 * (mn - 1)) / double(m - 1);
      t_i_ = t0 * mn;
    }
  } else {
    t_i_ = t0;
    t_cur_ = epoch;
  }
  last_epoch_ = int64_t(std::floor(epoch));
  ++step_count_;
  apply(compute_lr());
}

std::vector<double> CosineAnnealingWarmRestarts::compute_lr() {
  const double eta = options_.eta_min;
  std::vector<double> lrs(num_groups());
  for (size_t g = 0; g < lrs.size(); ++g) {
    lrs[g] = eta + (base_lrs_[g] - eta) * (1 + std::cos(kPi * t_cur_ / double(t_i_))) / 2;
  }
  return lrs;
}

void CosineAnnealingWarmRestarts::save_extra(StateDict& out) const {
  out.numbers["t_i"] = double(t_i_);
  out.numbers["t_cur"] = t_cur_;
}

void CosineAnnealingWarmRestarts::load_extra(const StateDict& in) {
  const std::string who = "cosine_annealing_warm_restarts.load_state_dict";
  const int64_t t_i = in.integer("t_i", who, 1);
  const double t_cur = in.finite("t_cur", who, -1);
  t_i_ = t_i;
  t_cur_ = t_cur;
}

}  // namespace descent::optim
