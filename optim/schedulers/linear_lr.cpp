// Expressions are written in torch's order of operations so results match bit for bit.
#include <descent/optim/schedulers/linear_lr.h>

#include <algorithm>
#include <cmath>

namespace descent::optim {
namespace {

void check_factor(double f, std::string_view who, std::string_view what) {
  check(f >= 0.0 && f <= 1.0, who, "{} must be in [0, 1], got {}", what, f);
}

void check_total(int64_t n, std::string_view who) {
  check(n > 0, who, "total_iters must be positive, got {}", n);
}

}  // namespace

ConstantLR::ConstantLR(Optimizer& opt, ConstantLROptions options)
    : LRScheduler(opt), options_(options) {
  check_factor(options_.factor, "ConstantLR", "factor");
  check_total(options_.total_iters, "ConstantLR");
  initial_step();
}

std::vector<double> ConstantLR::compute_lr() {
  if (last_epoch_ == 0) return scaled(current_lrs(), options_.factor);
  if (last_epoch_ != options_.total_iters) return current_lrs();
  return scaled(current_lrs(), 1.0 / options_.factor);
}

std::optional<std::vector<double>> ConstantLR::closed_form_lr() const {
  const double done = last_epoch_ >= options_.total_iters ? 1.0 : 0.0;
  return scaled(base_lrs_, options_.factor + done * (1 - options_.factor));
}

LinearLR::LinearLR(Optimizer& opt, LinearLROptions options) : LRScheduler(opt), options_(options) {
  check_factor(options_.start_factor, "LinearLR", "start_factor");
  check_factor(options_.end_factor, "LinearLR", "end_factor");
  check_total(options_.total_iters, "LinearLR");
  initial_step();
}

std::vector<double> LinearLR::compute_lr() {
  const double s = options_.start_factor, e = options_.end_factor;
  const double n = double(options_.total_iters);
  if (last_epoch_ == 0) return scaled(current_lrs(), s);
  if (last_epoch_ > options_.total_iters) return current_lrs();
  // The ratio of consecutive closed-form factors, as torch computes it.
  return scaled(current_lrs(), 1. + (e - s) / (n * s + double(last_epoch_ - 1) * (e - s)));
}

std::optional<std::vector<double>> LinearLR::closed_form_lr() const {
  const double s = options_.start_factor, e = options_.end_factor;
  const int64_t n = options_.total_iters;
  const double factor = s + (e - s) * double(std::min(n, last_epoch_)) / double(n);
  return scaled(base_lrs_, factor);
}

PolynomialLR::PolynomialLR(Optimizer& opt, PolynomialLROptions options)
    : LRScheduler(opt), options_(options) {
  check_total(options_.total_iters, "PolynomialLR");
  initial_step();
}

std::vector<double> PolynomialLR::compute_lr() {
  if (last_epoch_ == 0 || last_epoch_ > options_.total_iters) return current_lrs();
  const double n = double(options_.total_iters), t = double(last_epoch_);
  const double decay = std::pow((1.0 - t / n) / (1.0 - (t - 1) / n), options_.power);
  return scaled(current_lrs(), decay);
}

std::optional<std::vector<double>> PolynomialLR::closed_form_lr() const {
  const int64_t n = options_.total_iters;
  const double left = 1.0 - double(std::min(n, last_epoch_)) / double(n);
  return scaled(base_lrs_, std::pow(left, options_.power));
}

}  // namespace descent::optim
