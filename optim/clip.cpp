#include "optim/clip.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/grad_mode.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/reduce.h"

namespace descent::optim {
namespace {

void check_norm_type(double p, std::string_view who) {
  check(p > 0, who, "norm_type must be positive or infinity, got {}", p);
}

// sum |g|^p in f64 (max |g| for p = inf), the part of the norm that adds up over
// tensors, as a 0-dim tensor on g's device (no host read yet). g is not empty.
Tensor power_sum_tensor(const Tensor& grad, double p) {
  const Tensor g = grad.detach().to(DType::F64);
  if (std::isinf(p)) return max(abs(g));
  if (p == 1.0) return sum(abs(g));
  if (p == 2.0) return sum(square(g));
  return sum(pow(abs(g), p));
}

double power_sum(const Tensor& grad, double p) {
  return grad.numel() == 0 ? 0.0 : power_sum_tensor(grad, p).item<double>();
}

double finish(double power_sum, double p) {
  return std::isinf(p) ? power_sum : std::pow(power_sum, 1.0 / p);
}

// Accumulates power sums into the total norm.
struct NormAccumulator {
  double p;
  double acc = 0;
  void add(double s) {
    if (!std::isinf(p)) {
      acc += s;
    } else if (std::isnan(s) || s > acc) {
      acc = s;  // a NaN sticks, as torch's max
    }
  }
  double total() const { return finish(acc, p); }
};

GradNorms norms_of(const std::vector<std::pair<std::string, Tensor>>& named, double p) {
  NoGradGuard no_grad;
  GradNorms out;
  NormAccumulator total{p};
  for (const auto& [name, t] : named) {
    ParamGradNorm entry{.name = name};
    if (t.defined() && t.grad().defined()) {
      const double s = power_sum(t.grad(), p);
      total.add(s);
      entry.norm = finish(s, p);
      entry.has_grad = true;
    }
    out.params.push_back(std::move(entry));
  }
  out.total = total.total();
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
  NoGradGuard no_grad;
  NormAccumulator total{norm_type};
  std::vector<Tensor> grads;
  // The per-tensor sums stay on their device and are combined there: one host read
  // per device, not one per parameter (each read waits for a GPU).
  std::vector<Tensor> sums;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    grads.push_back(p.grad());
    if (grads.back().numel() > 0) sums.push_back(power_sum_tensor(grads.back(), norm_type));
  }
  for (const auto& [dev, part] :
       split_by_device(std::move(sums), [](const Tensor& s) { return s.device(); })) {
    const Tensor all = stack(part, 0);
    total.add((std::isinf(norm_type) ? max(all) : sum(all)).item<double>());
  }
  const double norm = total.total();
  check(!error_if_nonfinite || std::isfinite(norm), kWho,
        "the total norm of order {} of the gradients is non-finite ({}), so it cannot be "
        "clipped; pass error_if_nonfinite = false to clip anyway",
        norm_type, norm);
  const double coef = max_norm / (norm + 1e-6);
  // Written so that a NaN coefficient also scales (the gradients become NaN, as in torch).
  if (!(coef >= 1.0)) {
    for (Tensor& g : grads) mul_(g, coef);
  }
  return norm;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  check(clip_value >= 0, "clip_grad_value_", "clip_value must be non-negative, got {}", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor g = p.grad();
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
