#include <descent/optim/gd.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void GD::update(const ParamStep& step, GDState& /*s*/, const GDOptions& o) {
  step.submit(SgdRule{.lr = o.lr, .weight_decay = o.weight_decay, .maximize = o.maximize},
              {Tensor()});
}

}  // namespace descent::optim
