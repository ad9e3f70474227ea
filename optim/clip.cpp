#include <descent/core/error.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/reduce.h>
#include <descent/optim/clip.h>

#include <cmath>
#include <limits>

namespace descent::optim {
namespace {

void check_norm_type(double p, std::string_view who) {
  check(p > 0, who, "norm_type must be positive or infinity, got {}", p);
}

// Σ |true gradient|^p of every given tensor (max for p = ∞), in order; 0 for a tensor
// without a gradient. The stored gradients are read once, in f64, by the backend's
// power_sums slot (one host read per device); a pending scale s multiplies the sum by
// |s|^p (|s| for ∞) instead of being applied to the gradient first.
std::vector<double> grad_power_sums(const std::vector<Tensor>& params, double p) {
  // Orders other than 1, 2 and ∞ sum |g|^p of the true gradient: |stored|^p could
  // overflow (or |scale|^p underflow) for a large p where the true norm does not.
  const bool fold_scale = p == 1 || p == 2 || std::isinf(p);
  std::vector<size_t> index;
  std::vector<Tensor> grads;
  std::vector<double> scales;
  for (size_t i = 0; i < params.size(); ++i) {
    PendingGrad g = pending_grad(params[i]);
    if (!g.grad.defined()) continue;
    if (!fold_scale && g.scale != 1.0) g = {params[i].grad(), 1.0};
    index.push_back(i);
    grads.push_back(std::move(g.grad));
    scales.push_back(std::fabs(g.scale));
  }
  const std::vector<double> stored = power_sums(grads, p);
  std::vector<double> sums(params.size(), 0.0);
  for (size_t k = 0; k < index.size(); ++k) {
    const double s = scales[k];
    sums[index[k]] = stored[k] * (std::isinf(p) ? s : (s == 1.0 ? 1.0 : std::pow(s, p)));
  }
  return sums;
}

double finish(double power_sum, double p) {
  return std::isinf(p) ? power_sum : std::pow(power_sum, 1.0 / p);
}

// The norm of all the sums together.
double total_norm(const std::vector<double>& sums, double p) {
  double acc = 0;
  for (double s : sums) {
    if (!std::isinf(p)) {
      acc += s;
    } else if (std::isnan(s) || s > acc) {
      acc = s;  // a NaN sticks, as torch's max
      if (std::isnan(acc)) break;
    }
  }
  return finish(acc, p);
}

GradNorms norms_of(const std::vector<std::pair<std::string, Tensor>>& named, double p) {
  std::vector<Tensor> params;
  for (const auto& [name, t] : named) params.push_back(t);
  const std::vector<double> sums = grad_power_sums(params, p);
  GradNorms out;
  for (size_t i = 0; i < named.size(); ++i) {
    const bool has_grad = pending_grad(named[i].second).grad.defined();
    out.params.push_back({.name = named[i].first,
                          .norm = has_grad ? finish(sums[i], p) : 0.0,
                          .has_grad = has_grad});
  }
  out.total = total_norm(sums, p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> index_named(const std::vector<Tensor>& params) {
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), params[i]);
  return named;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  constexpr std::string_view kWho = "clip_grad_norm_";
  check_norm_type(norm_type, kWho);
  check(max_norm >= 0, kWho, "max_norm must be non-negative, got {}", max_norm);
  std::vector<Tensor> with_grad;
  for (const Tensor& p : params) {
    if (p.defined() && pending_grad(p).grad.defined()) with_grad.push_back(p);
  }
  const double norm = total_norm(grad_power_sums(with_grad, norm_type), norm_type);
  check(!error_if_nonfinite || std::isfinite(norm), kWho,
        "the total norm of order {} of the gradients is non-finite ({}), so it cannot be "
        "clipped; pass error_if_nonfinite = false to clip anyway",
        norm_type, norm);
  // A finite norm proves every gradient finite: the loss scaler need not look again.
  if (std::isfinite(norm)) {
    for (const Tensor& p : with_grad) set_grad_known_finite(p, true);
  }
  const double coef = max_norm / (norm + 1e-6);
  // Written so that a NaN coefficient also scales (the gradients become NaN, as in
  // torch). The coefficient joins the pending scale the optimizer's update applies.
  if (!(coef >= 1.0)) {
    for (const Tensor& p : with_grad) scale_grad_later(p, coef);
  }
  return norm;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  check(clip_value >= 0, "clip_grad_value_", "clip_value must be non-negative, got {}", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor g = p.grad();  // any pending scale applied first
    g.copy_(clamp(g, -clip_value, clip_value));
  }
}

GradNorms grad_norms(const std::vector<Tensor>& params, double norm_type) {
  check_norm_type(norm_type, "grad_norms");
  return norms_of(index_named(params), norm_type);
}

GradNorms grad_norms(const std::vector<std::pair<std::string, Tensor>>& named_params,
                     double norm_type) {
  check_norm_type(norm_type, "grad_norms");
  return norms_of(named_params, norm_type);
}

}  // namespace descent::optim
