#include <descent/nn/dropout.h>
#include <descent/ops/dropout.h>

namespace descent::nn {

Dropout::Dropout(double p, Generator* generator) : p_(p), generator_(generator) {
  check(p >= 0.0 && p <= 1.0, "Dropout", "got p={}, expected a probability in [0, 1]", p);
}

Tensor Dropout::forward(const Tensor& input) {
  return F::dropout(input, p_, is_training(), generator_);
}

std::string Dropout::extra_repr() const { return fmt::format("p={}", p_); }

}  // namespace descent::nn
