#pragma once
// nn::Conv2d — F::conv2d with torch.nn.Conv2d's parameters and defaults.
// Parameters "weight" (out_channels, in_channels/groups, kH, kW) and "bias"
// (out_channels, absent with .bias = false), f32, initialised as torch does:
// kaiming_uniform_(a = √5) on the weight, i.e. U(±1/√fan_in) with
// fan_in = in_channels/groups·kH·kW, and the bias U(±1/√fan_in).
// Throws descent::Error for non-positive sizes, channels not divisible by groups, and
// inputs whose channel count is not in_channels.
#include <descent/core/random.h>
#include <descent/nn/module.h>
#include <descent/ops/conv.h>

namespace descent::nn {

struct Conv2dOptions {
  F::Size2 stride = 1;
  F::Size2 padding = 0;
  bool padding_same = false;  // torch's padding="same" (stride 1)
  F::Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  Generator* generator = nullptr;  // for the initial values; default generator when null
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, F::Size2 kernel_size,
         Conv2dOptions options = {});
  // Re-draws weight and bias with the default init.
  void reset_parameters(Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }  // the parameter (see Module::resolve)
  const Tensor& bias() const { return bias_; }      // undefined without bias
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  F::Size2 kernel_size() const { return kernel_size_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  int64_t in_channels_, out_channels_;
  F::Size2 kernel_size_;
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace descent::nn
