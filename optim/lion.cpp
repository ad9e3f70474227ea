#include <descent/optim/lion.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void Lion::update(const ParamStep& step, LionState& s, const LionOptions& o) {
  init_slot(s.exp_avg, step.param);
  step.submit(LionRule{.lr = o.lr,
                       .beta1 = o.betas.beta1,
                       .beta2 = o.betas.beta2,
                       .weight_decay = o.weight_decay,
                       .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
