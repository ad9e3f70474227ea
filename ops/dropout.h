#pragma once
#include <descent/core/random.h>
#include <descent/core/tensor.h>

namespace descent::F {

// Zeroes each element with probability p and scales the rest by 1/(1-p) when
// training; the identity otherwise. Draws from `gen` (default generator when null).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace descent::F
