#include <descent/optim/sgd.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void SGD::check_options(const SGDOptions& o) {
  check(!o.nesterov || (o.momentum > 0 && o.dampening == 0), kName,
        "nesterov momentum requires a momentum > 0 and zero dampening, got momentum {} and "
        "dampening {}",
        o.momentum, o.dampening);
}

void SGD::update(const ParamStep& step, SGDState& s, const SGDOptions& o) {
  // PyTorch clones the first step's gradient into the buffer (no dampening), also when
  // momentum becomes non-zero after some plain steps.
  const bool init = o.momentum != 0 && !s.momentum_buffer.defined();
  if (init) s.momentum_buffer = empty_like(step.param);
  step.submit(SgdRule{.lr = o.lr,
                      .momentum = o.momentum,
                      .dampening = o.dampening,
                      .weight_decay = o.weight_decay,
                      .nesterov = o.nesterov,
                      .maximize = o.maximize,
                      .init_buffer = init},
              s.slots());
}

}  // namespace descent::optim
