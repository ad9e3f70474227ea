#pragma once
// nn::Linear — y = x·Wᵀ + b (F::linear). x: (..., in_features) → (..., out_features).
// Parameters "weight" (out, in) and "bias" (out, absent with .bias = false), f32.
// Default init as torch.nn.Linear: weight kaiming_uniform_(a = √5), i.e.
// U(±1/√in_features), and bias U(±1/√in_features).
// Throws descent::Error for negative sizes and for an input whose last dim is not
// in_features.
#include <descent/core/random.h>
#include <descent/nn/module.h>

namespace descent::nn {

struct LinearOptions {
  bool bias = true;
  Generator* generator = nullptr;  // for the initial values; default generator when null
};

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {});
  // Re-draws weight and bias with the default init.
  void reset_parameters(Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

}  // namespace descent::nn
