#include <descent/nn/conv.h>
#include <descent/nn/init.h>
#include <descent/ops/factory.h>

#include <cmath>

namespace descent::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, F::Size2 kernel_size,
               Conv2dOptions options)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      options_(options) {
  check(in_channels > 0 && out_channels > 0 && kernel_size.h > 0 && kernel_size.w > 0, "Conv2d",
        "got in_channels={}, out_channels={}, kernel_size=({}, {}), expected positive sizes",
        in_channels, out_channels, kernel_size.h, kernel_size.w);
  check(
      options.groups > 0 && in_channels % options.groups == 0 && out_channels % options.groups == 0,
      "Conv2d", "in_channels={} and out_channels={} must be divisible by groups={}", in_channels,
      out_channels, options.groups);
  weight_ = register_parameter(
      "weight", empty({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}));
  bias_ = register_parameter("bias", options.bias ? empty({out_channels}) : Tensor());
  reset_parameters(options.generator);
}

void Conv2d::reset_parameters(Generator* gen) {
  init::kaiming_uniform_(weight_, std::sqrt(5.0), init::FanMode::FanIn,
                         init::Nonlinearity::LeakyRelu, gen);
  if (bias_.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight_).fan_in;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
    init::uniform_(bias_, -bound, bound, gen);
  }
}

Tensor Conv2d::forward(const Tensor& input) {
  check(input.defined(), "Conv2d", "got an undefined input");
  check((input.dim() == 4 || input.dim() == 3) && input.size(-3) == in_channels_, "Conv2d",
        "got input of shape {}, expected (N, {}, H, W) or ({}, H, W)", input.shape(), in_channels_,
        in_channels_);
  return F::conv2d(input, resolve(weight_), resolve(bias_),
                   {.stride = options_.stride,
                    .padding = options_.padding,
                    .padding_same = options_.padding_same,
                    .dilation = options_.dilation,
                    .groups = options_.groups});
}

std::string Conv2d::extra_repr() const {
  std::string s =
      fmt::format("{}, {}, kernel_size=({}, {}), stride=({}, {})", in_channels_, out_channels_,
                  kernel_size_.h, kernel_size_.w, options_.stride.h, options_.stride.w);
  if (options_.padding_same) {
    s += ", padding=same";
  } else if (options_.padding != F::Size2(0)) {
    s += fmt::format(", padding=({}, {})", options_.padding.h, options_.padding.w);
  }
  if (options_.dilation != F::Size2(1))
    s += fmt::format(", dilation=({}, {})", options_.dilation.h, options_.dilation.w);
  if (options_.groups != 1) s += fmt::format(", groups={}", options_.groups);
  if (!bias_.defined()) s += ", bias=false";
  return s;
}

}  // namespace descent::nn
