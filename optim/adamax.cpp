#include <descent/optim/adamax.h>
#include <descent/optim/update_batch.h>

#include <cmath>

namespace descent::optim {

void Adamax::update(const ParamStep& step, AdamaxState& s, const AdamaxOptions& o) {
  init_slot(s.exp_avg, step.param);
  init_slot(s.exp_inf, step.param);
  const double bias_correction = 1 - std::pow(o.betas.beta1, double(s.step));
  step.submit(AdamaxRule{.beta1 = o.betas.beta1,
                         .beta2 = o.betas.beta2,
                         .eps = o.eps,
                         .weight_decay = o.weight_decay,
                         .clr = o.lr / bias_correction,
                         .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
