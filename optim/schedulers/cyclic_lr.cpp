// Arithmetic in torch's order of operations, so lrs and momenta match bit for bit.
#include <descent/optim/schedulers/cyclic_lr.h>

#include <cmath>

namespace descent::optim {

CyclicLR::CyclicLR(Optimizer& opt, CyclicLROptions options)
    : LRScheduler(opt), options_(std::move(options)) {
  constexpr std::string_view kWho = "CyclicLR";
  const size_t n = num_groups();
  const std::vector<double> base_lrs = options_.base_lr.expand(n, kWho, "base_lr");
  max_lrs_ = options_.max_lr.expand(n, kWho, "max_lr");
  const double up = options_.step_size_up;
  const double down = options_.step_size_down.value_or(up);
  check(up > 0 && down > 0, kWho, "step_size_up and step_size_down must be positive, got {} and {}",
        up, down);
  total_size_ = up + down;
  step_ratio_ = up / total_size_;
  scale_mode_ = options_.scale_fn                       ? options_.scale_mode
                : options_.mode == CyclicMode::ExpRange ? CyclicScaleMode::Iterations
                                                        : CyclicScaleMode::Cycle;
  if (options_.cycle_momentum) {
    require_momentum(opt, kWho);
    base_momentums_ = options_.base_momentum.expand(n, kWho, "base_momentum");
    max_momentums_ = options_.max_momentum.expand(n, kWho, "max_momentum");
    for (size_t g = 0; g < n; ++g) opt.set_momentum(base_momentums_[g], g);
    base_momentums_ = require_momentum(opt, kWho);
  }
  for (size_t g = 0; g < n; ++g) opt.set_lr(base_lrs[g], g);
  base_lrs_ = base_lrs;
  initial_step();
}

double CyclicLR::scale(double x) const {
  if (options_.scale_fn) return options_.scale_fn(x);
  switch (options_.mode) {
    case CyclicMode::Triangular: return 1.;
    case CyclicMode::Triangular2: return 1 / std::pow(2., x - 1);
    case CyclicMode::ExpRange: return std::pow(options_.gamma, x);
  }
  return 1.;
}

std::vector<double> CyclicLR::compute_lr() {
  const double t = double(last_epoch_);
  const double cycle = std::floor(1 + t / total_size_);
  const double x = 1. + t / total_size_ - cycle;
  const double scale_factor = x <= step_ratio_ ? x / step_ratio_ : (x - 1) / (step_ratio_ - 1);
  const double s = scale(scale_mode_ == CyclicScaleMode::Cycle ? cycle : t);
  std::vector<double> lrs(num_groups());
  for (size_t g = 0; g < lrs.size(); ++g) {
    const double base_height = (max_lrs_[g] - base_lrs_[g]) * scale_factor;
    lrs[g] = base_lrs_[g] + base_height * s;
  }
  if (options_.cycle_momentum) {
    for (size_t g = 0; g < lrs.size(); ++g) {
      const double base_height = (max_momentums_[g] - base_momentums_[g]) * scale_factor;
      opt_->set_momentum(max_momentums_[g] - base_height * s, g);
    }
  }
  return lrs;
}

}  // namespace descent::optim
