#pragma once
// nn::LayerNorm and nn::GroupNorm — F::layer_norm and F::group_norm with torch.nn's
// parameters: "weight" (ones) and "bias" (zeros) of normalized_shape (LayerNorm) or
// (num_channels) (GroupNorm), absent with elementwise_affine / affine = false. Throws
// descent::Error for empty or non-positive shapes and group counts that do not divide
// the channels.
#include <descent/nn/module.h>

namespace descent::nn {

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  Shape normalized_shape_;
  LayerNormOptions options_;
  Tensor weight_, bias_;
};

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;
};

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  int64_t num_groups_, num_channels_;
  GroupNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace descent::nn
