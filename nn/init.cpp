#include <descent/core/grad_mode.h>
#include <descent/nn/init.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>

#include <cmath>
#include <vector>

namespace descent::nn::init {

namespace {

void check_fillable(const Tensor& t, std::string_view op) {
  check(t.defined(), op, "got an undefined tensor, expected a tensor to fill");
}

void check_random_fillable(const Tensor& t, std::string_view op) {
  check_fillable(t, op);
  check(is_floating(t.dtype()), op, "got a {} tensor of shape {}, expected a floating dtype",
        t.dtype(), t.shape());
}

// Random draws happen in at least f32 (a bf16/f16 draw has too few bits) on t's device.
TensorOptions draw_options(const Tensor& t) {
  return {.dtype = t.dtype() == DType::F64 ? DType::F64 : DType::F32, .device = t.device()};
}

// Writes `values` (t's shape, any dtype) into t without recording a graph.
Tensor assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  Tensor(t).copy_(values);
  return t;
}

Tensor fill(const Tensor& t, double value, std::string_view op) {
  check_fillable(t, op);
  NoGradGuard no_grad;
  Tensor(t).fill_(value);
  return t;
}

double correct_fan(const Tensor& t, FanMode mode) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  switch (mode) {
    case FanMode::FanIn: return double(f.fan_in);
    case FanMode::FanOut: return double(f.fan_out);
  }
  return 0.0;
}

// The "weight" (dim ≥ 2) of every module in the tree gets `init`; that module's
// "bias" is zeroed.
Module& init_weights(Module& model, const std::function<void(const Tensor&)>& init) {
  model.apply([&](Module& m) {
    const Tensor* w = m.find_parameter("weight");
    if (!w || !w->defined() || w->dim() < 2) return;
    init(*w);
    if (const Tensor* b = m.find_parameter("bias"); b && b->defined()) zeros_(*b);
  });
  return model;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1d:
    case Nonlinearity::Conv2d:
    case Nonlinearity::Conv3d:
    case Nonlinearity::ConvTranspose1d:
    case Nonlinearity::ConvTranspose2d:
    case Nonlinearity::ConvTranspose3d:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyRelu: {
      const double slope = param.value_or(0.01);
      check(std::isfinite(slope), "calculate_gain", "negative_slope {} is not a finite number",
            slope);
      return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

Fans calculate_fan_in_and_fan_out(const Tensor& t) {
  constexpr std::string_view op = "calculate_fan_in_and_fan_out";
  check_fillable(t, op);
  check(t.dim() >= 2, op,
        "fan in and fan out can not be computed for a tensor of shape {}, expected at least 2 "
        "dims",
        t.shape());
  int64_t receptive = 1;
  for (int d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {.fan_in = t.size(1) * receptive, .fan_out = t.size(0) * receptive};
}

Tensor uniform_(const Tensor& t, double a, double b, Generator* gen) {
  check_random_fillable(t, "uniform_");
  check(a <= b, "uniform_", "got the range [{}, {}), expected from <= to", a, b);
  Tensor u = rand(t.shape(), draw_options(t), gen);
  return assign(t, u * (b - a) + a);
}

Tensor normal_(const Tensor& t, double mean, double std, Generator* gen) {
  check_random_fillable(t, "normal_");
  check(std >= 0.0, "normal_", "got std {}, expected std >= 0", std);
  Tensor n = randn(t.shape(), draw_options(t), gen);
  return assign(t, n * std + mean);
}

Tensor constant_(const Tensor& t, double value) { return fill(t, value, "constant_"); }
Tensor zeros_(const Tensor& t) { return fill(t, 0.0, "zeros_"); }
Tensor ones_(const Tensor& t) { return fill(t, 1.0, "ones_"); }

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                        Generator* gen) {
  check_random_fillable(t, "kaiming_uniform_");
  if (t.numel() == 0) return t;  // torch warns and leaves it
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(correct_fan(t, mode));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity,
                       Generator* gen) {
  check_random_fillable(t, "kaiming_normal_");
  if (t.numel() == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(correct_fan(t, mode));
  return normal_(t, 0.0, std, gen);
}

Tensor xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  check_random_fillable(t, "xavier_uniform_");
  const Fans f = calculate_fan_in_and_fan_out(t);
  if (t.numel() == 0) return t;
  const double std = gain * std::sqrt(2.0 / double(f.fan_in + f.fan_out));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound, gen);
}

Tensor xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  check_random_fillable(t, "xavier_normal_");
  const Fans f = calculate_fan_in_and_fan_out(t);
  if (t.numel() == 0) return t;
  const double std = gain * std::sqrt(2.0 / double(f.fan_in + f.fan_out));
  return normal_(t, 0.0, std, gen);
}

Tensor orthogonal_(const Tensor& t, double gain, Generator* gen) {
  constexpr std::string_view op = "orthogonal_";
  check_random_fillable(t, op);
  check(t.dim() >= 2, op, "got a tensor of shape {}, expected at least 2 dims", t.shape());
  if (t.numel() == 0) return t;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Work on the tall orientation m×n (m ≥ n), as torch transposes a wide matrix.
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, n = wide ? rows : cols;
  const std::vector<double> g = randn({rows, cols}, {.dtype = DType::F64}, gen).to_vector<double>();
  // Column-major m×n copy of the (possibly transposed) Gaussian matrix.
  std::vector<double> q(size_t(m * n));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double v = g[size_t(r * cols + c)];
      if (wide) {
        q[size_t(r * m + c)] = v;  // column r of the transpose is row r
      } else {
        q[size_t(c * m + r)] = v;
      }
    }
  }
  // Modified Gram–Schmidt, two passes for orthogonality to rounding. Q's columns come
  // out with a positive R diagonal: torch's sign(diag(R)) correction.
  for (int64_t j = 0; j < n; ++j) {
    double* qj = q.data() + j * m;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < j; ++i) {
        const double* qi = q.data() + i * m;
        double dot = 0;
        for (int64_t k = 0; k < m; ++k) dot += qi[k] * qj[k];
        for (int64_t k = 0; k < m; ++k) qj[k] -= dot * qi[k];
      }
    }
    double norm = 0;
    for (int64_t k = 0; k < m; ++k) norm += qj[k] * qj[k];
    norm = std::sqrt(norm);
    check(norm > 0, op, "the Gaussian draw was rank deficient; draw again");
    for (int64_t k = 0; k < m; ++k) qj[k] /= norm;
  }
  // Back to a row-major rows×cols matrix (transposing again when wide).
  std::vector<double> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double v = wide ? q[size_t(r * m + c)] : q[size_t(c * m + r)];
      out[size_t(r * cols + c)] = v * gain;
    }
  }
  return assign(t, from_vector<double>(out, {rows, cols}).reshape(t.shape()).to(t.device()));
}

Module& kaiming_uniform_(Module& model, Nonlinearity nonlinearity, double a, FanMode mode,
                         Generator* gen) {
  return init_weights(model,
                      [&](const Tensor& w) { kaiming_uniform_(w, a, mode, nonlinearity, gen); });
}

Module& kaiming_normal_(Module& model, Nonlinearity nonlinearity, double a, FanMode mode,
                        Generator* gen) {
  return init_weights(model,
                      [&](const Tensor& w) { kaiming_normal_(w, a, mode, nonlinearity, gen); });
}

Module& xavier_uniform_(Module& model, double gain, Generator* gen) {
  return init_weights(model, [&](const Tensor& w) { xavier_uniform_(w, gain, gen); });
}

Module& xavier_normal_(Module& model, double gain, Generator* gen) {
  return init_weights(model, [&](const Tensor& w) { xavier_normal_(w, gain, gen); });
}

Module& orthogonal_(Module& model, double gain, Generator* gen) {
  return init_weights(model, [&](const Tensor& w) { orthogonal_(w, gain, gen); });
}

}  // namespace descent::nn::init
