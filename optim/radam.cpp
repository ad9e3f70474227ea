#include <descent/optim/radam.h>
#include <descent/optim/update_batch.h>

#include <cmath>

namespace descent::optim {

void RAdam::update(const ParamStep& step, RAdamState& s, const RAdamOptions& o) {
  init_slot(s.exp_avg, step.param);
  init_slot(s.exp_avg_sq, step.param);
  const double t = double(s.step), beta2 = o.betas.beta2;
  const double bias_correction1 = 1 - std::pow(o.betas.beta1, t);
  const double bias_correction2 = 1 - std::pow(beta2, t);
  // Length of the approximated simple moving average, and its limit.
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  const bool rectified = rho_t > 5.;
  const double rect =
      rectified
          ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
          : 0.0;
  step.submit(RadamRule{.lr = o.lr,
                        .beta1 = o.betas.beta1,
                        .beta2 = beta2,
                        .eps = o.eps,
                        .weight_decay = o.weight_decay,
                        .bias_correction1 = bias_correction1,
                        .bias_correction2_sqrt = std::sqrt(bias_correction2),
                        .rect = rect,
                        .rectified = rectified,
                        .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
