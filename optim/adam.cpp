#include <descent/optim/adam.h>
#include <descent/optim/update_batch.h>

#include <cmath>

namespace descent::optim::detail {

template <class Options>
void adam_step(const ParamStep& step, AdamState& s, const Options& o, WeightDecay decay) {
  init_slot(s.exp_avg, step.param);
  init_slot(s.exp_avg_sq, step.param);
  if (o.amsgrad) init_slot(s.max_exp_avg_sq, step.param);
  // Host-side scalars in double, with torch.optim's formulas.
  const double t = double(s.step);
  const double bias_correction1 = 1 - std::pow(o.betas.beta1, t);
  const double bias_correction2 = 1 - std::pow(o.betas.beta2, t);
  step.submit(AdamRule{.lr = o.lr,
                       .beta1 = o.betas.beta1,
                       .beta2 = o.betas.beta2,
                       .eps = o.eps,
                       .weight_decay = o.weight_decay,
                       .step_size = o.lr / bias_correction1,
                       .bias_correction2_sqrt = std::sqrt(bias_correction2),
                       .amsgrad = o.amsgrad,
                       .decoupled_weight_decay = decay == WeightDecay::Decoupled,
                       .maximize = o.maximize},
              s.slots());
}

template void adam_step(const ParamStep&, AdamState&, const AdamOptions&, WeightDecay);
template void adam_step(const ParamStep&, AdamState&, const AdamWOptions&, WeightDecay);

}  // namespace descent::optim::detail
