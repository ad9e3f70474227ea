#include "optim/adadelta.h"

#include "optim/update_batch.h"

namespace descent::optim {

void Adadelta::validate(const AdadeltaOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.unit_closed("rho", o.rho);
  c.positive("eps", o.eps);
  c.non_negative("weight_decay", o.weight_decay);
}

void Adadelta::update(const Tensor& param, const Tensor& grad, AdadeltaState& s,
                      const AdadeltaOptions& o) {
  init_slot(s.square_avg, param);
  init_slot(s.acc_delta, param);
  ++s.step;
  detail::submit(AdadeltaUpdateArgs{.param = param,
                                    .grad = grad,
                                    .square_avg = s.square_avg,
                                    .acc_delta = s.acc_delta,
                                    .lr = o.lr,
                                    .rho = o.rho,
                                    .eps = o.eps,
                                    .weight_decay = o.weight_decay,
                                    .maximize = o.maximize});
}

}  // namespace descent::optim
