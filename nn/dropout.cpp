#include <descent/nn/dropout.h>
#include <descent/ops/dropout.h>

namespace descent::nn {

DropoutBase::DropoutBase(double p, Generator* generator, std::string_view name)
    : p_(p), generator_(generator) {
  check(p >= 0.0 && p <= 1.0, name, "got p={}, expected a probability in [0, 1]", p);
}

std::string DropoutBase::extra_repr() const { return fmt::format("p={}", p_); }

Tensor Dropout::forward(const Tensor& input) {
  return F::dropout(input, p_, is_training(), generator_);
}

Tensor Dropout2d::forward(const Tensor& input) {
  return F::dropout2d(input, p_, is_training(), generator_);
}

}  // namespace descent::nn
