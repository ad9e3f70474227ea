#pragma once
// Gradient clipping and gradient-norm monitoring, as torch.nn.utils. Use between
// backward() (and the loss scaler's unscale_) and opt.step():
//
//   loss.backward();
//   double norm = nn::utils::clip_grad_norm_(model.parameters(), 1.0);
//
// Parameters without a gradient are skipped. Norms are accumulated in f64 whatever the
// gradient dtype, in one read of each gradient. The clipping coefficient is not written
// into the gradients: it joins their pending scale (core/tensor.h, "deferred gradient
// scaling"), which the optimizer's fused update applies; grad() shows it applied.
#include <descent/core/tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace descent::optim {

// Scales every gradient by min(1, max_norm / (total + 1e-6)), where total is the
// norm_type-norm of all gradients taken together (norm_type > 0, or infinity for the
// max-abs norm), and returns total (before clipping). A NaN/inf total makes the
// gradients NaN, as in torch, unless error_if_nonfinite, which throws descent::Error
// instead and leaves them untouched. Error for max_norm < 0 or norm_type ≤ 0 / NaN.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value] in place. Error for a
// negative or NaN clip_value.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

// Gradient norms for logging vanishing or exploding gradients.
struct ParamGradNorm {
  std::string name;  // the given name, or the parameter's index
  double norm = 0;   // 0 when the parameter has no gradient
  bool has_grad = false;
};
struct GradNorms {
  std::vector<ParamGradNorm> params;  // in the order given
  double total = 0;                   // the norm of all gradients together
};

// The norm_type-norm of every parameter's gradient and of all of them together (the
// value clip_grad_norm_ returns). Error for norm_type ≤ 0 / NaN.
GradNorms grad_norms(const std::vector<Tensor>& params, double norm_type = 2.0);
GradNorms grad_norms(const std::vector<std::pair<std::string, Tensor>>& named_params,
                     double norm_type = 2.0);

}  // namespace descent::optim

// PyTorch's spelling: nn::utils::clip_grad_norm_(...).
namespace descent::nn::utils {
using optim::clip_grad_norm_;
using optim::clip_grad_value_;
using optim::grad_norms;
}  // namespace descent::nn::utils
