#pragma once
// nn::Dropout — F::dropout while training (zero with probability p, scale the rest by
// 1/(1-p)), the identity in eval mode. nn::Dropout2d — F::dropout2d: whole channels of
// an (N, C, H, W) or (C, H, W) input are zeroed. p outside [0, 1] throws at
// construction. Masks are drawn from `generator` (the default generator when null); the
// generator must outlive the module.
#include <descent/core/random.h>
#include <descent/nn/module.h>

#include <string_view>

namespace descent::nn {

// What the dropout modules share: p, the generator, the printout.
class DropoutBase : public Module {
 public:
  std::string extra_repr() const override;
  double p() const { return p_; }

 protected:
  DropoutBase(double p, Generator* generator, std::string_view name);
  double p_;
  Generator* generator_;
};

class Dropout : public DropoutBase {
 public:
  explicit Dropout(double p = 0.5, Generator* generator = nullptr)
      : DropoutBase(p, generator, "Dropout") {}
  Tensor forward(const Tensor& input) override;
};

class Dropout2d : public DropoutBase {
 public:
  explicit Dropout2d(double p = 0.5, Generator* generator = nullptr)
      : DropoutBase(p, generator, "Dropout2d") {}
  Tensor forward(const Tensor& input) override;
};

}  // namespace descent::nn
