#pragma once
// A number passed where a tensor could go (x + 2, x * 0.5). Integral scalars keep an
// integer tensor's dtype; floating ones turn it into f32, like PyTorch.
#include <concepts>

namespace descent {

struct Scalar {
  double value;
  bool integral;
  Scalar(double v) : value(v), integral(false) {}  // NOLINT: implicit on purpose
  Scalar(float v) : value(v), integral(false) {}   // NOLINT
  template <std::integral I>
  Scalar(I v) : value(double(v)), integral(true) {}  // NOLINT
};

}  // namespace descent
