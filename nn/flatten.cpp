#include <descent/nn/flatten.h>

namespace descent::nn {

Tensor Flatten::forward(const Tensor& input) {
  check(input.defined(), "Flatten", "got an undefined input");
  return input.flatten(start_dim_, end_dim_);
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim_, end_dim_);
}

Tensor Unflatten::forward(const Tensor& input) {
  check(input.defined(), "Unflatten", "got an undefined input");
  const int d = wrap_dim(dim_, input.dim(), "Unflatten");
  check(input.size(d) == sizes_.numel(), "Unflatten",
        "dim {} of input shape {} has size {}, expected the product of {} ({})", dim_,
        input.shape(), input.size(d), sizes_, sizes_.numel());
  Shape shape;
  for (int i = 0; i < input.dim(); ++i) {
    if (i != d) {
      shape.push_back(input.size(i));
      continue;
    }
    for (int64_t s : sizes_) shape.push_back(s);
  }
  return input.reshape(shape);
}

std::string Unflatten::extra_repr() const {
  return fmt::format("dim={}, unflattened_size={}", dim_, sizes_);
}

}  // namespace descent::nn
