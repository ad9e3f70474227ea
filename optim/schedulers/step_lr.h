#pragma once
// Step-wise decays, as torch.optim.lr_scheduler (chainable forms):
//   StepLR:        lr = base_lr · gamma^(epoch / step_size)
//   MultiStepLR:   lr = base_lr · gamma^(number of milestones ≤ epoch)
//   ExponentialLR: lr = base_lr · gamma^epoch
// Throws descent::Error for step_size ≤ 0 or a negative milestone.
#include <descent/optim/schedulers/scheduler.h>

#include <vector>

namespace descent::optim {

struct StepLROptions {
  int64_t step_size = 1;  // epochs between decays
  double gamma = 0.1;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, StepLROptions options);
  std::string_view name() const override { return "step_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  StepLROptions options_;
};

struct MultiStepLROptions {
  std::vector<int64_t> milestones{};  // epochs at which lr is multiplied by gamma
  double gamma = 0.1;
};

class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, MultiStepLROptions options);
  std::string_view name() const override { return "multi_step_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  MultiStepLROptions options_;  // milestones sorted; a repeated one decays twice
};

struct ExponentialLROptions {
  double gamma = 0.1;  // no default in torch; set it
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, ExponentialLROptions options);
  std::string_view name() const override { return "exponential_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  ExponentialLROptions options_;
};

}  // namespace descent::optim
