#include "optim/adam.h"

#include <cmath>

#include "optim/update_batch.h"

namespace descent::optim::detail {

void adam_step(const Tensor& param, const Tensor& grad, AdamState& s, double lr, Betas betas,
               double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
  init_slot(s.exp_avg, param);
  init_slot(s.exp_avg_sq, param);
  if (amsgrad) init_slot(s.max_exp_avg_sq, param);
  ++s.step;
  // Host-side scalars in double, with torch.optim's formulas.
  const double t = double(s.step);
  const double bias_correction1 = 1 - std::pow(betas.beta1, t);
  const double bias_correction2 = 1 - std::pow(betas.beta2, t);
  detail::submit(AdamUpdateArgs{.param = param,
                                .grad = grad,
                                .exp_avg = s.exp_avg,
                                .exp_avg_sq = s.exp_avg_sq,
                                .max_exp_avg_sq = s.max_exp_avg_sq,
                                .lr = lr,
                                .beta1 = betas.beta1,
                                .beta2 = betas.beta2,
                                .eps = eps,
                                .weight_decay = weight_decay,
                                .step_size = lr / bias_correction1,
                                .bias_correction2_sqrt = std::sqrt(bias_correction2),
                                .amsgrad = amsgrad,
                                .decoupled_weight_decay = decoupled,
                                .maximize = maximize});
}

}  // namespace descent::optim::detail
