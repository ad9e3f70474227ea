#include <descent/optim/lion.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void Lion::validate(const LionOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.unit_open("betas.beta1", o.betas.beta1);
  c.unit_open("betas.beta2", o.betas.beta2);
  c.non_negative("weight_decay", o.weight_decay);
}

void Lion::update(const ParamStep& step, LionState& s, const LionOptions& o) {
  init_slot(s.exp_avg, step.param);
  ++s.step;
  step.submit(LionRule{.lr = o.lr,
                       .beta1 = o.betas.beta1,
                       .beta2 = o.betas.beta2,
                       .weight_decay = o.weight_decay,
                       .maximize = o.maximize},
              {s.exp_avg});
}

}  // namespace descent::optim
