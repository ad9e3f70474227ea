#include <descent/nn/pool.h>

namespace descent::nn {

namespace {

std::string pair(F::Size2 s) { return fmt::format("({}, {})", s.h, s.w); }

}  // namespace

MaxPool2d::MaxPool2d(F::Size2 kernel_size, F::MaxPool2dOptions options)
    : kernel_size_(kernel_size), options_(options) {}

Tensor MaxPool2d::forward(const Tensor& input) {
  return F::max_pool2d(input, kernel_size_, options_);
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, ceil_mode={}", pair(kernel_size_),
                     pair(options_.stride.value_or(kernel_size_)), pair(options_.padding),
                     options_.ceil_mode);
}

AvgPool2d::AvgPool2d(F::Size2 kernel_size, F::AvgPool2dOptions options)
    : kernel_size_(kernel_size), options_(options) {}

Tensor AvgPool2d::forward(const Tensor& input) {
  return F::avg_pool2d(input, kernel_size_, options_);
}

std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", pair(kernel_size_),
                     pair(options_.stride.value_or(kernel_size_)), pair(options_.padding));
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return F::adaptive_avg_pool2d(input, output_size_);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return fmt::format("output_size={}", pair(output_size_));
}

}  // namespace descent::nn
