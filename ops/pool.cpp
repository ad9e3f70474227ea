// Pooling as one autograd::Function over the backend's pool2d kernels: the geometry
// (backends/conv_geometry.h) is checked here once, in torch's words, and the kernels
// share its window arithmetic.
#include <descent/backends/backend.h>
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/pool.h>

namespace descent::F {

namespace {

struct Pool2d : autograd::Function<Pool2d> {
  static constexpr std::string_view name = "pool2d";
  Pool2dGeometry geo;
  Shape in_shape;
  Tensor indices;

  Tensor forward(const Tensor& x_, const Pool2dGeometry& g, Shape out_hw, Tensor* indices_out) {
    const Tensor x = x_.contiguous();
    geo = g;
    in_shape = x.shape();
    const TensorOptions opt{.dtype = x.dtype(), .device = x.device()};
    const Shape out_shape{x.size(0), x.size(1), out_hw[0], out_hw[1]};
    Tensor y = Tensor::empty(out_shape, opt);
    if (g.kind == PoolKind::Max)
      indices = Tensor::empty(out_shape, {.dtype = DType::I64, .device = x.device()});
    if (y.numel() > 0 && x.numel() > 0)
      backend_for(x).pool2d({.x = x, .geo = g, .y = y, .indices = indices});
    if (indices_out) *indices_out = indices;
    return y;
  }

  std::vector<Tensor> backward(const Tensor& g) {
    Tensor gx = Tensor::empty(in_shape, {.dtype = g.dtype(), .device = g.device()});
    if (gx.numel() > 0)
      backend_for(g).pool2d_backward(
          {.grad_y = g.contiguous(), .geo = geo, .indices = indices, .grad_x = gx});
    return {gx};
  }
};

// Checks x, runs the pooling on its 4-D form and restores an unbatched shape.
Tensor run_pool(const Tensor& x, Pool2dGeometry g, std::string_view op, Size2 adaptive_out,
                Tensor* indices) {
  ops::check_defined(x, op);
  check(x.dim() == 3 || x.dim() == 4, op,
        "expected input of shape (N, C, H, W) or (C, H, W), got {}", x.shape());
  check(is_floating(x.dtype()), op, "expected a floating input, got {}", x.dtype());
  const Tensor x4 = x.dim() == 3 ? x.unsqueeze(0) : x;
  int64_t out[2];
  for (int d = 0; d < 2; ++d) {
    const int64_t in = x4.size(2 + d);
    if (g.kind == PoolKind::AdaptiveAvg) {
      out[d] = d == 0 ? adaptive_out.h : adaptive_out.w;
      check(out[d] > 0 && in > 0, op, "output size ({}, {}) and input shape {} must be positive",
            adaptive_out.h, adaptive_out.w, x.shape());
      continue;
    }
    check(g.kernel[d] > 0 && g.stride[d] > 0, op,
          "kernel size ({}, {}) and stride ({}, {}) must be positive", g.kernel[0], g.kernel[1],
          g.stride[0], g.stride[1]);
    check(g.padding[d] >= 0 && 2 * g.padding[d] <= g.kernel[d], op,
          "padding ({}, {}) must be non-negative and at most half the kernel size ({}, {})",
          g.padding[0], g.padding[1], g.kernel[0], g.kernel[1]);
    out[d] = pool_out_size(in, g.kernel[d], g.stride[d], g.padding[d], g.ceil_mode);
    check(out[d] > 0, op, "kernel size ({}, {}) is larger than the padded input of shape {}",
          g.kernel[0], g.kernel[1], x.shape());
  }
  Tensor y = Pool2d::apply(x4, g, Shape{out[0], out[1]}, indices);
  if (x.dim() == 3) {
    if (indices) *indices = indices->squeeze(0);
    return y.squeeze(0);
  }
  return y;
}

Pool2dGeometry window_geometry(PoolKind kind, Size2 k, const std::optional<Size2>& stride,
                               Size2 padding, bool ceil_mode) {
  const Size2 s = stride.value_or(k);
  return {.kind = kind,
          .kernel = {k.h, k.w},
          .stride = {s.h, s.w},
          .padding = {padding.h, padding.w},
          .ceil_mode = ceil_mode};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, const MaxPool2dOptions& o, Tensor* indices) {
  return run_pool(x, window_geometry(PoolKind::Max, kernel_size, o.stride, o.padding, o.ceil_mode),
                  "max_pool2d", 0, indices);
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, const AvgPool2dOptions& o) {
  check(o.divisor_override >= 0, "avg_pool2d", "divisor_override must be positive, got {}",
        o.divisor_override);
  Pool2dGeometry g = window_geometry(PoolKind::Avg, kernel_size, o.stride, o.padding, o.ceil_mode);
  g.count_include_pad = o.count_include_pad;
  g.divisor_override = o.divisor_override;
  return run_pool(x, g, "avg_pool2d", 0, nullptr);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  return run_pool(x, {.kind = PoolKind::AdaptiveAvg}, "adaptive_avg_pool2d", output_size, nullptr);
}

}  // namespace descent::F
