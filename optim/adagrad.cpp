#include <descent/optim/adagrad.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void Adagrad::update(const ParamStep& step, AdagradState& s, const AdagradOptions& o) {
  init_slot(s.sum, step.param, o.initial_accumulator_value);
  step.submit(AdagradRule{.clr = o.lr / (1 + double(s.step - 1) * o.lr_decay),
                          .eps = o.eps,
                          .weight_decay = o.weight_decay,
                          .maximize = o.maximize},
              s.slots());
}

}  // namespace descent::optim
