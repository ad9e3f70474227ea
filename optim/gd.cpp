#include "optim/gd.h"

#include "optim/update_batch.h"

namespace descent::optim {

void GD::validate(const GDOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.non_negative("weight_decay", o.weight_decay);
}

void GD::update(const Tensor& param, const Tensor& grad, GDState& s, const GDOptions& o) {
  ++s.step;
  detail::submit(SgdUpdateArgs{.param = param,
                               .grad = grad,
                               .momentum_buffer = {},
                               .lr = o.lr,
                               .weight_decay = o.weight_decay,
                               .maximize = o.maximize});
}

}  // namespace descent::optim
