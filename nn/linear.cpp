#include <descent/nn/init.h>
#include <descent/nn/linear.h>
#include <descent/ops/factory.h>
#include <descent/ops/linalg.h>

#include <cmath>

namespace descent::nn {

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options)
    : in_features_(in_features), out_features_(out_features) {
  check(in_features >= 0 && out_features >= 0, "Linear",
        "got in_features={}, out_features={}, expected sizes >= 0", in_features, out_features);
  weight_ = register_parameter("weight", empty({out_features, in_features}));
  bias_ = register_parameter("bias", options.bias ? empty({out_features}) : Tensor());
  reset_parameters(options.generator);
}

void Linear::reset_parameters(Generator* gen) {
  init::kaiming_uniform_(weight_, std::sqrt(5.0), init::FanMode::FanIn,
                         init::Nonlinearity::LeakyRelu, gen);
  if (bias_.defined()) {
    const double bound = in_features_ > 0 ? 1.0 / std::sqrt(double(in_features_)) : 0.0;
    init::uniform_(bias_, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& input) {
  check(input.defined(), "Linear", "got an undefined input");
  check(input.dim() >= 1 && input.size(-1) == in_features_, "Linear",
        "got input of shape {}, expected a last dim of in_features={}", input.shape(),
        in_features_);
  return F::linear(input, resolve(weight_), resolve(bias_));
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features_, out_features_,
                     bias_.defined());
}

}  // namespace descent::nn
