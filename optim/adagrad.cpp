#include <descent/optim/adagrad.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void Adagrad::validate(const AdagradOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.non_negative("lr_decay", o.lr_decay);
  c.non_negative("weight_decay", o.weight_decay);
  c.non_negative("initial_accumulator_value", o.initial_accumulator_value);
  c.positive("eps", o.eps);
}

void Adagrad::update(const ParamStep& step, AdagradState& s, const AdagradOptions& o) {
  init_slot(s.sum, step.param, o.initial_accumulator_value);
  ++s.step;
  step.submit(AdagradRule{.clr = o.lr / (1 + double(s.step - 1) * o.lr_decay),
                          .eps = o.eps,
                          .weight_decay = o.weight_decay,
                          .maximize = o.maximize},
              {s.sum});
}

}  // namespace descent::optim
