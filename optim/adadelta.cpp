#include <descent/optim/adadelta.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void Adadelta::update(const ParamStep& step, AdadeltaState& s, const AdadeltaOptions& o) {
  init_slot(s.square_avg, step.param);
  init_slot(s.acc_delta, step.param);
  step.submit(AdadeltaRule{.lr = o.lr,
                           .rho = o.rho,
                           .eps = o.eps,
                           .weight_decay = o.weight_decay,
                           .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
