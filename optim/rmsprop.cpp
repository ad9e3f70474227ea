#include <descent/optim/rmsprop.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void RMSprop::update(const ParamStep& step, RMSpropState& s, const RMSpropOptions& o) {
  init_slot(s.square_avg, step.param);
  if (o.centered) init_slot(s.grad_avg, step.param);
  if (o.momentum > 0) init_slot(s.momentum_buffer, step.param);
  step.submit(RmspropRule{.lr = o.lr,
                          .alpha = o.alpha,
                          .eps = o.eps,
                          .weight_decay = o.weight_decay,
                          .momentum = o.momentum,
                          .centered = o.centered,
                          .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
