#pragma once
#include <descent/core/random.h>
#include <descent/core/tensor.h>

namespace descent::F {

// Zeroes each element with probability p and scales the rest by 1/(1-p) when
// training; the identity otherwise. Draws from `gen` (default generator when null).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

// Zeroes whole channels: each (sample, channel) plane of an (N, C, H, W) or (C, H, W)
// input is dropped with probability p, the rest scaled by 1/(1-p) (torch's dropout2d).
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace descent::F
