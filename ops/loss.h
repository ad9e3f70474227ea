#pragma once
// Losses (descent::F), same formulas, defaults and argument checks as PyTorch.
#include <descent/core/tensor.h>

namespace descent::F {

enum class Reduction { None, Mean, Sum };

struct CrossEntropyOptions {
  Tensor weight{};              // per-class weights (C), optional
  int64_t ignore_index = -100;  // targets equal to this add nothing (integer targets)
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};
// input: (N, C) or (N, C, d1...) logits. target: integer class indices (N) / (N, d1...),
// or class probabilities with input's shape.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& opt = {});

struct NllLossOptions {
  Tensor weight{};
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};
// input: log-probabilities (N, C) or (N, C, d1...); target: class indices.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& opt = {});

// Elementwise losses: floating target of exactly input's shape (no broadcasting);
// Mean/Sum give 0-dim.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::Mean, double beta = 1.0);

struct BceWithLogitsOptions {
  Tensor weight{};      // broadcast to input
  Tensor pos_weight{};  // per-class weight of positive examples
  Reduction reduction = Reduction::Mean;
};
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BceWithLogitsOptions& opt = {});

}  // namespace descent::F
