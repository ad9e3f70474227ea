#pragma once
// Layer and group normalisation (torch.nn.functional.layer_norm, group_norm): one fused
// backend kernel forward and one backward (oneDNN's layer normalization on the CPU).
#include <descent/core/tensor.h>

namespace descent::F {

// Normalises x over its last normalized_shape.size() dims, which must equal
// normalized_shape: y = (x − mean)/√(var + eps)·weight + bias with the biased variance;
// weight and bias have normalized_shape (or are undefined). f32 or f64; a 16-bit input
// (under amp::Autocast) is normalised in f32 and returned in its dtype. Differentiable
// in x, weight and bias (no double backward).
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// x (N, C, *) split into num_groups groups of C/num_groups channels, each (sample, group)
// normalised over its channels and positions; then weight and bias (C) per channel.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

}  // namespace descent::F
