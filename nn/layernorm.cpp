#include <descent/nn/layernorm.h>
#include <descent/ops/factory.h>
#include <descent/ops/layernorm.h>

namespace descent::nn {

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : normalized_shape_(normalized_shape), options_(options) {
  check(!normalized_shape.empty() && normalized_shape.numel() > 0, "LayerNorm",
        "got normalized_shape {}, expected a non-empty shape of positive sizes", normalized_shape);
  check(options.eps >= 0, "LayerNorm", "eps must be non-negative, got {}", options.eps);
  weight_ =
      register_parameter("weight", options.elementwise_affine ? ones(normalized_shape) : Tensor());
  bias_ =
      register_parameter("bias", options.elementwise_affine ? zeros(normalized_shape) : Tensor());
}

Tensor LayerNorm::forward(const Tensor& input) {
  return F::layer_norm(input, normalized_shape_, resolve(weight_), resolve(bias_), options_.eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", normalized_shape_, options_.eps,
                     options_.elementwise_affine);
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options)
    : num_groups_(num_groups), num_channels_(num_channels), options_(options) {
  check(num_groups > 0 && num_channels > 0 && num_channels % num_groups == 0, "GroupNorm",
        "got num_groups={}, num_channels={}, expected positive sizes with num_groups dividing "
        "num_channels",
        num_groups, num_channels);
  weight_ = register_parameter("weight", options.affine ? ones({num_channels}) : Tensor());
  bias_ = register_parameter("bias", options.affine ? zeros({num_channels}) : Tensor());
}

Tensor GroupNorm::forward(const Tensor& input) {
  check(input.defined() && input.dim() >= 2 && input.size(1) == num_channels_, "GroupNorm",
        "got input of shape {}, expected (N, {}, *)", input.defined() ? input.shape() : Shape{},
        num_channels_);
  return F::group_norm(input, num_groups_, resolve(weight_), resolve(bias_), options_.eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups_, num_channels_, options_.eps,
                     options_.affine);
}

}  // namespace descent::nn
