#pragma once
// Batch normalisation (torch.nn.functional.batch_norm), one fused backend kernel
// forward and one backward.
#include <descent/core/tensor.h>

namespace descent::F {

// y = (x - μ) / √(σ² + eps) · weight + bias, per channel (dim 1).
// - x: (N, C), (N, C, L) or (N, C, H, W); f32 or f64. Under amp::Autocast a 16-bit x is
//   normalised in f32 and returned in its dtype; on the CPU a bf16 (N, C, L) or
//   (N, C, H, W) x is normalised by the kernel itself (f32 arithmetic, f32 parameters
//   and statistics), without a converted copy.
// - running_mean, running_var: (C) of x's dtype, or both undefined (batch statistics
//   only; then `training` must be true).
// - weight, bias: (C) of x's dtype, or undefined (scale 1, shift 0).
// - training: normalise with the batch mean and biased variance, and update the
//   running statistics in place: r ← (1 - momentum)·r + momentum·s, where s is the
//   batch mean or the *unbiased* batch variance (as PyTorch). Needs more than one value
//   per channel. Otherwise normalise with the running statistics.
// Differentiable in x, weight and bias in both modes (no double backward). Throws
// descent::Error for a wrong rank, a channel-count or dtype mismatch, or a negative eps.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

}  // namespace descent::F
