#pragma once
// nn::MaxPool2d, nn::AvgPool2d, nn::AdaptiveAvgPool2d — F::max_pool2d, F::avg_pool2d and
// F::adaptive_avg_pool2d as modules without parameters, with torch.nn's defaults.
#include <descent/nn/module.h>
#include <descent/ops/pool.h>

namespace descent::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(F::Size2 kernel_size, F::MaxPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  F::Size2 kernel_size_;
  F::MaxPool2dOptions options_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(F::Size2 kernel_size, F::AvgPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  F::Size2 kernel_size_;
  F::AvgPool2dOptions options_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(F::Size2 output_size) : output_size_(output_size) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

 private:
  F::Size2 output_size_;
};

}  // namespace descent::nn
