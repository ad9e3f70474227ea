#pragma once
// nn::Flatten — merges dims start_dim..end_dim into one (Tensor::flatten); the
// defaults keep the batch dim: (N, C, H, W) → (N, C·H·W). Dims out of range throw.
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

}  // namespace descent::nn
