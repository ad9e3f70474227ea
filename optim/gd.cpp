#include <descent/optim/gd.h>
#include <descent/optim/update_batch.h>

namespace descent::optim {

void GD::validate(const GDOptions& o) {
  const OptionCheck c{kName};
  c.non_negative("lr", o.lr);
  c.non_negative("weight_decay", o.weight_decay);
}

void GD::update(const ParamStep& step, GDState& s, const GDOptions& o) {
  ++s.step;
  step.submit(SgdRule{.lr = o.lr, .weight_decay = o.weight_decay, .maximize = o.maximize},
              {Tensor()});
}

}  // namespace descent::optim
