#include <descent/optim/nadam.h>
#include <descent/optim/update_batch.h>

#include <cmath>

namespace descent::optim {

void NAdam::update(const ParamStep& step, NAdamState& s, const NAdamOptions& o) {
  init_slot(s.exp_avg, step.param);
  init_slot(s.exp_avg_sq, step.param);
  const double t = double(s.step), beta1 = o.betas.beta1;
  const double bias_correction2 = 1 - std::pow(o.betas.beta2, t);
  const double mu = beta1 * (1. - 0.5 * std::pow(0.96, t * o.momentum_decay));
  const double mu_next = beta1 * (1. - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
  s.mu_product *= mu;
  step.submit(NadamRule{.beta1 = beta1,
                        .beta2 = o.betas.beta2,
                        .eps = o.eps,
                        .weight_decay = o.weight_decay,
                        .bias_correction2_sqrt = std::sqrt(bias_correction2),
                        .grad_coef = (o.lr * (1. - mu) / (1. - s.mu_product)) * -1,
                        .exp_avg_coef = (o.lr * mu_next / (1. - s.mu_product * mu_next)) * -1,
                        .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
