#pragma once
// nn::Dropout — F::dropout while training (zero with probability p, scale the rest by
// 1/(1-p)), the identity in eval mode. p outside [0, 1] throws at construction.
// Masks are drawn from `generator` (the default generator when null); the generator
// must outlive the module.
#include <descent/core/random.h>
#include <descent/nn/module.h>

namespace descent::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* generator = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* generator_;
};

}  // namespace descent::nn
