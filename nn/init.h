#pragma once
// nn::init — weight initialisation with torch.nn.init's formulas and defaults. Every
// function fills its tensor in place (no graph is recorded, so parameters that
// require grad are fine), draws from `gen` (the default generator when null) and
// returns the tensor. Integer tensors throw for the random fills.
//
// Fans (calculate_fan_in_and_fan_out) follow PyTorch: for a (out, in, k...) tensor,
// fan_in = in·∏k and fan_out = out·∏k; tensors with fewer than 2 dims throw.
//
// The Module overloads initialise every parameter named "weight" with dim ≥ 2 in the
// whole tree (Linear and Embedding weights; not BatchNorm's 1-D weight, not LSTM's
// "weight_ih_l0") and set the "bias" of those same modules to zero, the common
// practice for ReLU networks:
//   nn::init::kaiming_normal_(model, nn::init::Nonlinearity::ReLU);
#include <descent/core/random.h>
#include <descent/core/tensor.h>
#include <descent/nn/module.h>

#include <optional>

namespace descent::nn::init {

enum class Nonlinearity {
  Linear,
  Conv1d,
  Conv2d,
  Conv3d,
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  Sigmoid,
  Tanh,
  ReLU,
  LeakyRelu,
  SELU,
};
enum class FanMode { FanIn, FanOut };

// The recommended gain: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for ReLU,
// √(2/(1+slope²)) for leaky ReLU (param = negative slope, default 0.01), 3/4 for
// SELU. param is ignored for the others, as in torch.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

struct Fans {
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};
Fans calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
Tensor normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(const Tensor& t, double value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);

// U(-b, b) with b = gain·√(3/fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                        Generator* gen = nullptr);
// N(0, std²) with std = gain/√fan.
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                       Generator* gen = nullptr);
// U(-b, b) with b = gain·√(6/(fan_in+fan_out)).
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// N(0, std²) with std = gain·√(2/(fan_in+fan_out)).
Tensor xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// A (semi-)orthogonal matrix times gain, from the QR decomposition of a Gaussian
// matrix (computed in f64); tensors of dim > 2 are treated as (size(0), rest).
// Rows are orthonormal when size(0) ≤ rest, columns otherwise. Needs dim ≥ 2.
Tensor orthogonal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);

// ---- whole models (see the header comment for which tensors are touched) ----
Module& kaiming_uniform_(Module& model, Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                         double a = 0.0, FanMode mode = FanMode::FanIn, Generator* gen = nullptr);
Module& kaiming_normal_(Module& model, Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                        double a = 0.0, FanMode mode = FanMode::FanIn, Generator* gen = nullptr);
Module& xavier_uniform_(Module& model, double gain = 1.0, Generator* gen = nullptr);
Module& xavier_normal_(Module& model, double gain = 1.0, Generator* gen = nullptr);
Module& orthogonal_(Module& model, double gain = 1.0, Generator* gen = nullptr);

}  // namespace descent::nn::init
