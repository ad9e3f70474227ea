#include <descent/amp/grad_scaler.h>
#include <descent/backends/backend.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace descent::amp {

namespace {
// The options' rules, for the constructor and for a loaded state alike.
void validate(const GradScalerOptions& opt, std::string_view op) {
  check(opt.init_scale > 0, op, "init_scale must be positive, got {}", opt.init_scale);
  check(opt.growth_factor > 1.0, op, "growth_factor must be > 1, got {}", opt.growth_factor);
  check(opt.backoff_factor > 0 && opt.backoff_factor < 1.0, op,
        "backoff_factor must be in (0, 1), got {}", opt.backoff_factor);
  check(opt.growth_interval > 0, op, "growth_interval must be positive, got {}",
        opt.growth_interval);
  check(opt.min_scale > 0 && opt.min_scale <= opt.init_scale, op,
        "min_scale must be in (0, init_scale], got {}", opt.min_scale);
  check(opt.warn_after_skipped >= 0, op, "warn_after_skipped must be >= 0, got {}",
        opt.warn_after_skipped);
}
}  // namespace

GradScaler::GradScaler(GradScalerOptions opt) : opt_(opt), scale_(opt.init_scale) {
  validate(opt_, "GradScaler");
}

Tensor GradScaler::scale(const Tensor& loss) const {
  if (!enabled()) return loss;
  // The scale multiplies an f32 copy: a 16-bit loss times 2^16 could overflow.
  return loss.to(is_floating(loss.dtype()) && loss.dtype() != DType::F64 ? DType::F32
                                                                         : loss.dtype()) *
         scale_;
}

void GradScaler::unscale_(optim::Optimizer& opt) {
  if (!enabled()) return;
  PerOptimizer& st = per_opt_[&opt];
  check(!st.unscaled, "GradScaler.unscale_",
        "unscale_() has already been called on this optimizer since the last update()");
  check(!st.stepped, "GradScaler.unscale_", "unscale_() is being called after step()");
  const double inv = 1.0 / scale_;
  for (const Tensor& p : opt.parameters()) {
    if (pending_grad(p).grad.defined()) scale_grad_later(p, inv);
  }
  st.unscaled = true;
}

namespace {
// Whether every gradient of `opt` is finite once its pending scale is applied, with one
// wait per device: all_finite_multi over the stored gradients not already found finite
// by clip_grad_norm_ (a pending factor of at most 1 keeps a finite value finite), and a
// max-|g| read for those whose factor is above 1 (a loss scale below 1), which must not
// overflow the dtype once multiplied.
bool grads_finite(const optim::Optimizer& opt) {
  std::vector<Tensor> unknown;
  std::vector<Tensor> amplified;  // and their factors
  std::vector<double> factors;
  for (const Tensor& p : opt.parameters()) {
    PendingGrad g = pending_grad(p);
    if (!g.grad.defined()) continue;
    const double s = std::fabs(g.scale);
    if (s > 1) {
      amplified.push_back(std::move(g.grad));
      factors.push_back(s);
    } else if (!grad_known_finite(p)) {
      unknown.push_back(std::move(g.grad));
    }
  }
  for (const auto& [dev, here] :
       split_by_device(std::move(unknown), [](const Tensor& g) { return g.device(); })) {
    if (!backend_for(dev).all_finite_multi(here)) return false;
  }
  const std::vector<double> max_abs = power_sums(amplified, INFINITY);
  for (size_t k = 0; k < amplified.size(); ++k) {
    const double limit = amplified[k].dtype() == DType::F64 ? std::numeric_limits<double>::max()
                                                            : std::numeric_limits<float>::max();
    if (!(max_abs[k] * factors[k] <= limit)) return false;  // also false for NaN
  }
  return true;
}
}  // namespace

bool GradScaler::check_inf(const optim::Optimizer& opt, PerOptimizer& st) {
  if (!st.checked) {
    st.found_inf = !grads_finite(opt);
    st.checked = true;
  }
  return st.found_inf;
}

bool GradScaler::step(optim::Optimizer& opt) {
  if (!enabled()) {
    opt.step();
    return true;
  }
  PerOptimizer& st = per_opt_[&opt];
  check(!st.stepped, "GradScaler.step", "step() has already been called since the last update()");
  if (!st.unscaled) unscale_(opt);
  st.stepped = true;
  if (check_inf(opt, st)) return false;
  opt.step();
  return true;
}

void GradScaler::update() {
  if (!enabled()) return;
  check(!per_opt_.empty(), "GradScaler.update",
        "no inf checks were recorded prior to update(): call step() (or unscale_) first");
  bool found_inf = false;
  for (auto& [o, st] : per_opt_) found_inf |= check_inf(*o, st);  // unscaled, not stepped: now
  if (found_inf) {
    scale_ = std::max(scale_ * opt_.backoff_factor, opt_.min_scale);
    growth_tracker_ = 0;
    if (++consecutive_skipped_ == opt_.warn_after_skipped) {
      fmt::print(stderr,
                 "GradScaler: {} steps in a row skipped for inf/NaN gradients (scale now {}); "
                 "the model or the loss produces non-finite values that scaling cannot fix\n",
                 consecutive_skipped_, scale_);
    }
    per_opt_.clear();
    return;
  }
  consecutive_skipped_ = 0;
  if (++growth_tracker_ == opt_.growth_interval) {
    scale_ *= opt_.growth_factor;
    growth_tracker_ = 0;
  }
  per_opt_.clear();
}

bool GradScaler::found_inf(const optim::Optimizer& opt) const {
  auto it = per_opt_.find(&opt);
  if (it == per_opt_.end()) return false;
  return it->second.checked ? it->second.found_inf : !grads_finite(opt);
}

StateDict GradScaler::state_dict() const {
  StateDict s;
  s.strings["type"] = "GradScaler";
  s.numbers["scale"] = scale_;
  s.numbers["growth_factor"] = opt_.growth_factor;
  s.numbers["backoff_factor"] = opt_.backoff_factor;
  s.numbers["growth_interval"] = double(opt_.growth_interval);
  s.numbers["growth_tracker"] = double(growth_tracker_);
  s.numbers["consecutive_skipped"] = double(consecutive_skipped_);
  s.numbers["enabled"] = opt_.enabled ? 1 : 0;
  return s;
}

void GradScaler::load_state_dict(const StateDict& s) {
  constexpr std::string_view op = "GradScaler.load_state_dict";
  check(s.string("type", op) == "GradScaler", op, "state was saved by '{}', not a GradScaler",
        s.string("type", op));
  // Checked with the constructor's rules, all before any is assigned.
  GradScalerOptions opt = opt_;
  opt.growth_factor = s.finite("growth_factor", op);
  opt.backoff_factor = s.finite("backoff_factor", op);
  opt.growth_interval = s.integer("growth_interval", op, 1);
  opt.enabled = s.flag("enabled", op);
  validate(opt, op);
  const double scale = s.finite("scale", op, opt.min_scale);
  const int64_t growth_tracker = s.integer("growth_tracker", op, 0, opt.growth_interval - 1);
  // Older files have no skip count.
  const int64_t skipped =
      s.numbers.contains("consecutive_skipped") ? s.integer("consecutive_skipped", op) : 0;
  opt_ = opt;
  scale_ = scale;
  growth_tracker_ = growth_tracker;
  consecutive_skipped_ = skipped;
  per_opt_.clear();
}

}  // namespace descent::amp
