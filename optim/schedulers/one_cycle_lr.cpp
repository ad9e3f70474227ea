// Arithmetic in torch's order of operations, so lrs and momenta match bit for bit.
#include <descent/optim/schedulers/one_cycle_lr.h>

#include <cmath>
#include <numbers>

namespace descent::optim {
namespace {

constexpr std::string_view kWho = "OneCycleLR";

int64_t resolve_total_steps(const OneCycleLROptions& o) {
  if (o.total_steps != 0) {
    check(o.total_steps > 0, kWho, "total_steps must be positive, got {}", o.total_steps);
    return o.total_steps;
  }
  check(o.epochs != 0 || o.steps_per_epoch != 0, kWho,
        "give total_steps, or epochs and steps_per_epoch");
  check(o.epochs > 0, kWho, "epochs must be positive, got {}", o.epochs);
  check(o.steps_per_epoch > 0, kWho, "steps_per_epoch must be positive, got {}", o.steps_per_epoch);
  return o.epochs * o.steps_per_epoch;
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& opt, OneCycleLROptions options)
    : LRScheduler(opt), options_(std::move(options)), total_steps_(resolve_total_steps(options_)) {
  const double pct = options_.pct_start, n = double(total_steps_);
  check(pct >= 0 && pct <= 1, kWho, "pct_start must be in [0, 1], got {}", pct);
  if (options_.three_phase) {
    phases_ = {{pct * n - 1, Level::Initial, Level::Max, Momentum::Max, Momentum::Base},
               {2 * pct * n - 2, Level::Max, Level::Initial, Momentum::Base, Momentum::Max},
               {n - 1, Level::Initial, Level::Min, Momentum::Max, Momentum::Max}};
  } else {
    phases_ = {{pct * n - 1, Level::Initial, Level::Max, Momentum::Max, Momentum::Base},
               {n - 1, Level::Max, Level::Min, Momentum::Base, Momentum::Max}};
  }
  // An empty phase would divide by zero when reached.
  double start = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    check(phases_[i].end_step > start, kWho,
          "phase {} is empty (pct_start {}, total_steps {}): it would end at step {} but starts "
          "at {}",
          i, pct, total_steps_, phases_[i].end_step, start);
    start = phases_[i].end_step;
  }

  const size_t groups = num_groups();
  max_lrs_ = options_.max_lr.expand(groups, kWho, "max_lr");
  base_lrs_.resize(groups);
  min_lrs_.resize(groups);
  for (size_t g = 0; g < groups; ++g) {
    base_lrs_[g] = max_lrs_[g] / options_.div_factor;
    min_lrs_[g] = base_lrs_[g] / options_.final_div_factor;
  }
  if (options_.cycle_momentum) {
    require_momentum(opt, kWho);
    max_momentums_ = options_.max_momentum.expand(groups, kWho, "max_momentum");
    base_momentums_ = options_.base_momentum.expand(groups, kWho, "base_momentum");
    for (size_t g = 0; g < groups; ++g) opt.set_momentum(max_momentums_[g], g);
  }
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  switch (options_.anneal_strategy) {
    case AnnealStrategy::Cos: {
      const double cos_out = std::cos(std::numbers::pi * pct) + 1;
      return end + (start - end) / 2.0 * cos_out;
    }
    case AnnealStrategy::Linear: return (end - start) * pct + start;
  }
  return end;
}

std::vector<double> OneCycleLR::compute_lr() {
  const int64_t step_num = last_epoch_;
  check(step_num <= total_steps_, kWho, "tried to step {} times, but total_steps is {}",
        step_num + 1, total_steps_);
  std::vector<double> lrs(num_groups());
  for (size_t g = 0; g < lrs.size(); ++g) {
    const auto lr_at = [&](Level l) {
      switch (l) {
        case Level::Initial: return base_lrs_[g];
        case Level::Max: return max_lrs_[g];
        case Level::Min: return min_lrs_[g];
      }
      return base_lrs_[g];
    };
    const auto momentum_at = [&](Momentum m) {
      return m == Momentum::Base ? base_momentums_[g] : max_momentums_[g];
    };
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& p = phases_[i];
      if (double(step_num) <= p.end_step || i == phases_.size() - 1) {
        const double pct = (double(step_num) - start_step) / (p.end_step - start_step);
        lrs[g] = anneal(lr_at(p.start_lr), lr_at(p.end_lr), pct);
        if (options_.cycle_momentum) {
          opt_->set_momentum(
              anneal(momentum_at(p.start_momentum), momentum_at(p.end_momentum), pct), g);
        }
        break;
      }
      start_step = p.end_step;
    }
  }
  return lrs;
}

}  // namespace descent::optim
