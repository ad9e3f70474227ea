#include "optim/nadam.h"

#include <cmath>

#include "optim/update_batch.h"

namespace descent::optim {

void NAdam::validate(const NAdamOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.positive("eps", o.eps);
  c.unit_open("betas.beta1", o.betas.beta1);
  c.unit_open("betas.beta2", o.betas.beta2);
  c.non_negative("weight_decay", o.weight_decay);
  c.non_negative("momentum_decay", o.momentum_decay);
}

void NAdam::update(const Tensor& param, const Tensor& grad, NAdamState& s, const NAdamOptions& o) {
  init_slot(s.exp_avg, param);
  init_slot(s.exp_avg_sq, param);
  ++s.step;
  const double t = double(s.step), beta1 = o.betas.beta1;
  const double bias_correction2 = 1 - std::pow(o.betas.beta2, t);
  const double mu = beta1 * (1. - 0.5 * std::pow(0.96, t * o.momentum_decay));
  const double mu_next = beta1 * (1. - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
  s.mu_product *= mu;
  detail::submit(
      NadamUpdateArgs{.param = param,
                      .grad = grad,
                      .exp_avg = s.exp_avg,
                      .exp_avg_sq = s.exp_avg_sq,
                      .beta1 = beta1,
                      .beta2 = o.betas.beta2,
                      .eps = o.eps,
                      .weight_decay = o.weight_decay,
                      .bias_correction2_sqrt = std::sqrt(bias_correction2),
                      .grad_coef = (o.lr * (1. - mu) / (1. - s.mu_product)) * -1,
                      .exp_avg_coef = (o.lr * mu_next / (1. - s.mu_product * mu_next)) * -1,
                      .maximize = o.maximize});
}

}  // namespace descent::optim
