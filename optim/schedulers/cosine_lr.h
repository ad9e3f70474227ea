#pragma once
// Cosine schedules (SGDR), as torch.optim.lr_scheduler:
//   CosineAnnealingLR: lr = eta_min + (base_lr - eta_min)(1 + cos(π·epoch/t_max))/2,
//     computed with torch's recursive (chainable) form, so it composes with other
//     schedules and matches torch's numbers; past t_max it keeps following the cosine.
//   CosineAnnealingWarmRestarts: the same within a cycle of t_i epochs, restarting at
//     base_lr; cycles grow as t_i = t_0 · t_mult^k.
// Throws descent::Error for t_max ≤ 0, t_0 ≤ 0, t_mult < 1 or a negative epoch.
#include <descent/optim/schedulers/scheduler.h>

namespace descent::optim {

struct CosineAnnealingLROptions {
  int64_t t_max = 1;  // half-period in epochs (torch's T_max, no default there)
  double eta_min = 0.0;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, CosineAnnealingLROptions options);
  std::string_view name() const override { return "cosine_annealing_lr"; }

 protected:
  std::vector<double> compute_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;

 private:
  CosineAnnealingLROptions options_;
};

struct CosineAnnealingWarmRestartsOptions {
  int64_t t_0 = 1;     // epochs of the first cycle (torch's T_0)
  int64_t t_mult = 1;  // growth of each next cycle
  double eta_min = 0.0;
};

class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(Optimizer& opt, CosineAnnealingWarmRestartsOptions options);
  std::string_view name() const override { return "cosine_annealing_warm_restarts"; }

  void step() override;
  // Jumps to a (possibly fractional) epoch, e.g. epoch + batch / batches_per_epoch.
  void step(double epoch);

  double t_cur() const { return t_cur_; }
  int64_t t_i() const { return t_i_; }

 protected:
  std::vector<double> compute_lr() override;
  void step_to(int64_t epoch) override { step(double(epoch)); }
  void save_extra(StateDict& out) const override;
  void load_extra(const StateDict& in) override;

 private:
  CosineAnnealingWarmRestartsOptions options_;
  int64_t t_i_;
  double t_cur_ = -1;
};

}  // namespace descent::optim
