#pragma once
// nn::Flatten — merges dims start_dim..end_dim into one (Tensor::flatten); the
// defaults keep the batch dim: (N, C, H, W) → (N, C·H·W). Dims out of range throw.
// nn::Unflatten splits one dim back into several.
#include <descent/nn/module.h>

namespace descent::nn {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  int64_t start_dim_, end_dim_;
};

// nn::Unflatten — the inverse: splits dim `dim` into `sizes` (their product must equal
// its size), e.g. Unflatten(1, {1, 28, 28}) turns (N, 784) rows into (N, 1, 28, 28)
// images.
class Unflatten : public Module {
 public:
  Unflatten(int64_t dim, Shape sizes) : dim_(dim), sizes_(sizes) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  int64_t dim_;
  Shape sizes_;
};

}  // namespace descent::nn
