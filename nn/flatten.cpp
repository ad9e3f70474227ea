#include <descent/nn/flatten.h>

namespace descent::nn {

Tensor Flatten::forward(const Tensor& input) {
  check(input.defined(), "Flatten", "got an undefined input");
  return input.flatten(start_dim_, end_dim_);
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim_, end_dim_);
}

}  // namespace descent::nn
