#include "optim/rmsprop.h"

#include "optim/update_batch.h"

namespace descent::optim {

void RMSprop::validate(const RMSpropOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.unit_closed("alpha", o.alpha);
  c.positive("eps", o.eps);
  c.non_negative("momentum", o.momentum);
  c.non_negative("weight_decay", o.weight_decay);
}

void RMSprop::update(const Tensor& param, const Tensor& grad, RMSpropState& s,
                     const RMSpropOptions& o) {
  init_slot(s.square_avg, param);
  if (o.centered) init_slot(s.grad_avg, param);
  if (o.momentum > 0) init_slot(s.momentum_buffer, param);
  ++s.step;
  detail::submit(RmspropUpdateArgs{.param = param,
                                   .grad = grad,
                                   .square_avg = s.square_avg,
                                   .grad_avg = s.grad_avg,
                                   .momentum_buffer = s.momentum_buffer,
                                   .lr = o.lr,
                                   .alpha = o.alpha,
                                   .eps = o.eps,
                                   .weight_decay = o.weight_decay,
                                   .momentum = o.momentum,
                                   .centered = o.centered,
                                   .maximize = o.maximize});
}

}  // namespace descent::optim
