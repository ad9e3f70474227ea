#include <descent/amp/grad_scaler.h>
#include <descent/backends/backend.h>
#include <descent/ops/elementwise.h>

namespace descent::amp {

GradScaler::GradScaler(GradScalerOptions opt) : opt_(opt), scale_(opt.init_scale) {
  constexpr std::string_view op = "GradScaler";
  check(opt.init_scale > 0, op, "init_scale must be positive, got {}", opt.init_scale);
  check(opt.growth_factor > 1.0, op, "growth_factor must be > 1, got {}", opt.growth_factor);
  check(opt.backoff_factor > 0 && opt.backoff_factor < 1.0, op,
        "backoff_factor must be in (0, 1), got {}", opt.backoff_factor);
  check(opt.growth_interval > 0, op, "growth_interval must be positive, got {}",
        opt.growth_interval);
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
// Whether every gradient of `opt` is finite: one wait per device for all of them
// (all_finite_multi), over those clip_grad_norm_ has not already found finite. A
// pending scale of 1/scale ≤ 1 cannot turn a finite gradient infinite (with a scale
// below 1 an overflow of the product goes unseen, as it would be anyway in f64 models).
bool grads_finite(const optim::Optimizer& opt) {
  std::vector<Tensor> unknown;
  for (const Tensor& p : opt.parameters()) {
    Tensor g = pending_grad(p).grad;
    if (g.defined() && !grad_known_finite(p)) unknown.push_back(std::move(g));
  }
  for (const auto& [dev, here] :
       split_by_device(std::move(unknown), [](const Tensor& g) { return g.device(); })) {
    if (!backend_for(dev).all_finite_multi(here)) return false;
  }
  return true;
}
}  // namespace

bool GradScaler::step(optim::Optimizer& opt) {
  if (!enabled()) {
    opt.step();
    return true;
  }
  PerOptimizer& st = per_opt_[&opt];
  check(!st.stepped, "GradScaler.step", "step() has already been called since the last update()");
  if (!st.unscaled) unscale_(opt);
  st.stepped = true;
  st.found_inf = !grads_finite(opt);
  if (st.found_inf) return false;
  opt.step();
  return true;
}

void GradScaler::update() {
  if (!enabled()) return;
  check(!per_opt_.empty(), "GradScaler.update",
        "no inf checks were recorded prior to update(): call step() (or unscale_) first");
  bool found_inf = false;
  for (const auto& [o, st] : per_opt_) found_inf |= st.found_inf;
  if (found_inf) {
    scale_ *= opt_.backoff_factor;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == opt_.growth_interval) {
    scale_ *= opt_.growth_factor;
    growth_tracker_ = 0;
  }
  per_opt_.clear();
}

bool GradScaler::found_inf(const optim::Optimizer& opt) const {
  auto it = per_opt_.find(&opt);
  return it != per_opt_.end() && it->second.found_inf;
}

StateDict GradScaler::state_dict() const {
  StateDict s;
  s.strings["type"] = "GradScaler";
  s.numbers["scale"] = scale_;
  s.numbers["growth_factor"] = opt_.growth_factor;
  s.numbers["backoff_factor"] = opt_.backoff_factor;
  s.numbers["growth_interval"] = double(opt_.growth_interval);
  s.numbers["growth_tracker"] = double(growth_tracker_);
  s.numbers["enabled"] = opt_.enabled ? 1 : 0;
  return s;
}

void GradScaler::load_state_dict(const StateDict& s) {
  constexpr std::string_view op = "GradScaler.load_state_dict";
  check(s.string("type", op) == "GradScaler", op, "state was saved by '{}', not a GradScaler",
        s.string("type", op));
  scale_ = s.number("scale", op);
  opt_.growth_factor = s.number("growth_factor", op);
  opt_.backoff_factor = s.number("backoff_factor", op);
  opt_.growth_interval = int64_t(s.number("growth_interval", op));
  growth_tracker_ = int64_t(s.number("growth_tracker", op));
  opt_.enabled = s.number("enabled", op) != 0;
  per_opt_.clear();
}

}  // namespace descent::amp
