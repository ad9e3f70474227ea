// conv2d as one autograd::Function over the backend's convolution kernels. Inputs are
// made contiguous once; the backward computes only the gradients whose inputs want one
// (a network's first layer never needs the gradient of its images).
#include <descent/backends/backend.h>
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/ops/conv.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/rearrange.h>

namespace descent::F {

namespace {

constexpr std::string_view kOp = "conv2d";

struct Conv2d : autograd::Function<Conv2d> {
  static constexpr std::string_view name = "conv2d";
  Tensor x, weight;
  Conv2dGeometry geo;
  bool want_x = false, want_w = false, want_b = false;

  Tensor forward(const Tensor& x_, const Tensor& w_, const Tensor& b_, const Conv2dGeometry& g) {
    x = x_.contiguous();
    weight = w_.contiguous();
    geo = g;
    want_x = x_.requires_grad();
    want_w = w_.requires_grad();
    want_b = b_.defined() && b_.requires_grad();
    const int64_t OH =
        conv_out_size(x.size(2), weight.size(2), g.stride[0], g.padding[0], g.dilation[0]);
    const int64_t OW =
        conv_out_size(x.size(3), weight.size(3), g.stride[1], g.padding[1], g.dilation[1]);
    Tensor y = Tensor::empty({x.size(0), weight.size(0), OH, OW},
                             {.dtype = x.dtype(), .device = x.device()});
    backend_for(x).conv2d({.x = x,
                           .weight = weight,
                           .bias = b_.defined() ? b_.contiguous() : Tensor(),
                           .geo = geo,
                           .y = y});
    return y;
  }

  std::vector<Tensor> backward(const Tensor& g) {
    const TensorOptions opt{.dtype = x.dtype(), .device = x.device()};
    Tensor gx = want_x ? Tensor::empty(x.shape(), opt) : Tensor();
    Tensor gw = want_w ? Tensor::empty(weight.shape(), opt) : Tensor();
    Tensor gb = want_b ? Tensor::empty({weight.size(0)}, opt) : Tensor();
    if (gx.defined() || gw.defined() || gb.defined()) {
      backend_for(x).conv2d_backward({.x = x,
                                      .weight = weight,
                                      .grad_y = g.contiguous(),
                                      .geo = geo,
                                      .grad_x = gx,
                                      .grad_weight = gw,
                                      .grad_bias = gb});
    }
    return {gx, gw, gb};
  }
};

void check_positive(Size2 s, std::string_view what) {
  check(s.h > 0 && s.w > 0, kOp, "{} must be positive, got ({}, {})", what, s.h, s.w);
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& o) {
  ops::check_defined(x_in, kOp, "input");
  ops::check_defined(weight, kOp, "weight");
  ops::check_same_device(x_in, weight, kOp);
  check(x_in.dim() == 3 || x_in.dim() == 4, kOp,
        "expected input of shape (N, C, H, W) or (C, H, W), got {}", x_in.shape());
  if (x_in.dim() == 3) return conv2d(x_in.unsqueeze(0), weight, bias, o).squeeze(0);
  check(weight.dim() == 4, kOp, "expected weight of shape (O, C/groups, kH, kW), got {}",
        weight.shape());
  check(o.groups > 0, kOp, "groups must be positive, got {}", o.groups);
  check_positive(o.stride, "stride");
  check_positive(o.dilation, "dilation");
  check(o.padding.h >= 0 && o.padding.w >= 0, kOp, "padding must be non-negative, got ({}, {})",
        o.padding.h, o.padding.w);
  const int64_t C = x_in.size(1), O = weight.size(0);
  check(C % o.groups == 0 && O % o.groups == 0, kOp,
        "input channels {} and output channels {} must both be divisible by groups={}", C, O,
        o.groups);
  check(weight.size(1) * o.groups == C, kOp,
        "weight of shape {} expects {} input channels (groups={}), got input of shape {}",
        weight.shape(), weight.size(1) * o.groups, o.groups, x_in.shape());
  DType dt = result_type(x_in, weight);
  if (bias.defined()) {
    ops::check_same_device(x_in, bias, kOp);
    check(bias.dim() == 1 && bias.size(0) == O, kOp, "bias must have shape [{}], got {}", O,
          bias.shape());
    dt = promote_types(dt, bias.dtype());
  }
  check(is_floating(dt), kOp, "expected floating tensors, got {}", dt);
  dt = amp::lower_precision(dt);
  // oneDNN has no f16 convolution on these CPUs: f16 (an f16 input, or autocast to f16)
  // computes in f32 there and hands the result back in f16.
  const DType out_dt = dt;
  if (dt == DType::F16 && !x_in.device().is_cuda()) dt = DType::F32;

  Tensor x = x_in;
  Conv2dGeometry g{.stride = {o.stride.h, o.stride.w},
                   .padding = {o.padding.h, o.padding.w},
                   .dilation = {o.dilation.h, o.dilation.w},
                   .groups = o.groups};
  if (o.padding_same) {
    check(o.stride == Size2(1), kOp, "padding_same needs stride 1, got ({}, {})", o.stride.h,
          o.stride.w);
    // Total padding dil·(k − 1) per dim: half each side, the odd one at the end.
    int64_t extra[2];
    for (int d = 0; d < 2; ++d) {
      const int64_t total = g.dilation[d] * (weight.size(2 + d) - 1);
      g.padding[d] = total / 2;
      extra[d] = total % 2;
    }
    if (extra[0] || extra[1]) x = pad(x, {0, extra[1], 0, extra[0]});
  }
  for (int d = 0; d < 2; ++d) {
    const int64_t in = x.size(2 + d) + 2 * g.padding[d];
    const int64_t extent = g.dilation[d] * (weight.size(2 + d) - 1) + 1;
    check(extent <= in, kOp,
          "kernel of extent {} (size {}, dilation {}) is larger than the padded input ({}) in "
          "dim {} of input shape {}",
          extent, weight.size(2 + d), g.dilation[d], in, 2 + d, x_in.shape());
  }
  return Conv2d::apply(x.to(dt), weight.to(dt), bias.defined() ? bias.to(dt) : bias, g).to(out_dt);
}

}  // namespace descent::F
