#pragma once
// Warm-up and decay over a fixed number of steps, as torch.optim.lr_scheduler:
//   ConstantLR:   lr = base_lr · factor for epoch < total_iters, then base_lr
//   LinearLR:     factor goes linearly from start_factor to end_factor over total_iters
//   PolynomialLR: lr = base_lr · (1 - min(epoch, total_iters) / total_iters)^power
// Throws descent::Error for factors outside [0, 1] or total_iters ≤ 0.
#include <descent/optim/schedulers/scheduler.h>

namespace descent::optim {

struct ConstantLROptions {
  double factor = 1.0 / 3;
  int64_t total_iters = 5;
};

class ConstantLR : public LRScheduler {
 public:
  ConstantLR(Optimizer& opt, ConstantLROptions options = {});
  std::string_view name() const override { return "constant_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  ConstantLROptions options_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};

class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, LinearLROptions options = {});
  std::string_view name() const override { return "linear_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  LinearLROptions options_;
};

struct PolynomialLROptions {
  int64_t total_iters = 5;
  double power = 1.0;
};

class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& opt, PolynomialLROptions options = {});
  std::string_view name() const override { return "polynomial_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  PolynomialLROptions options_;
};

}  // namespace descent::optim
