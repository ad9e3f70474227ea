// train::Monitor (monitor.h).
#include <descent/core/grad_mode.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/reduce.h>
#include <descent/train/monitor.h>

#include <cmath>
#include <cstdio>

namespace descent::train {

namespace {

// ‖t‖₂ accumulated in f64.
double norm2(const Tensor& t) { return std::sqrt(sum(square(t.detach().to(DType::F64))).item()); }

}  // namespace

Monitor::Monitor(nn::Module& model, MonitorOptions options)
    : model_(model), options_(std::move(options)), params_(model.named_parameters()) {
  check(options_.every >= 1, "Monitor", "every = {}, expected >= 1", options_.every);
  if (!options_.csv_path.empty()) csv_.emplace(options_.csv_path);
  // The leaf modules (no children) are the layers whose outputs are watched.
  for (const auto& [name, m] : model.named_modules()) {
    if (!m->named_children().empty()) continue;
    const std::string layer = name;
    const nn::HookHandle h =
        m->register_forward_hook([this, layer](nn::Module&, const Tensor&, const Tensor& out) {
          if (!armed_ || !out.defined() || !is_floating(out.dtype()) || out.numel() == 0) {
            return Tensor();
          }
          for (const ActivationRecord& a : current_.activations) {
            if (a.name == layer) return Tensor();  // its first call this step counts
          }
          NoGradGuard no_grad;
          const Tensor o = out.detach().to(DType::F64);
          const double mean = o.mean().item();
          const double var = square(o).mean().item() - mean * mean;
          const double zeros = (o == 0.0).to(DType::F64).mean().item();
          current_.activations.push_back({layer, mean, std::sqrt(std::max(var, 0.0)), zeros});
          return Tensor();
        });
    hooks_.emplace_back(m, h);
  }
}

Monitor::~Monitor() {
  for (auto& [m, h] : hooks_) m->remove_hook(h);
}

void Monitor::begin_step(int64_t step) {
  armed_ = step % options_.every == 0;
  if (!armed_) return;
  current_ = MonitorRecord{};
  current_.step = step;
}

void Monitor::before_update() {
  if (!armed_) return;
  NoGradGuard no_grad;
  double total = 0;
  before_.clear();
  for (const auto& [name, p] : params_) {
    ParamRecord r{name};
    r.weight_norm = norm2(p);
    const Tensor g = p.grad();
    if (g.defined()) {
      const double bad = logical_not(isfinite(g)).to(DType::F64).mean().item();
      r.nonfinite_fraction = bad;
      if (bad > 0 && current_.first_nonfinite.empty()) current_.first_nonfinite = name;
      r.grad_norm = norm2(g);
      total += r.grad_norm * r.grad_norm;
    }
    current_.params.push_back(r);
    before_.push_back(p.detach().clone());
  }
  current_.global_grad_norm = std::sqrt(total);
  if (!current_.first_nonfinite.empty() && !warned_) {
    warned_ = true;
    std::fprintf(stderr, "Monitor: step %lld: the gradient of '%s' has non-finite entries\n",
                 static_cast<long long>(current_.step), current_.first_nonfinite.c_str());
  }
}

void Monitor::after_update() {
  if (!armed_) return;
  armed_ = false;
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size() && i < before_.size(); ++i) {
    ParamRecord& r = current_.params[i];
    r.update_ratio = r.weight_norm > 0 ? norm2(params_[i].second - before_[i]) / r.weight_norm : 0;
  }
  before_.clear();
  if (csv_) {
    Metrics row{{"step", double(current_.step)}, {"global_grad_norm", current_.global_grad_norm}};
    for (const ParamRecord& r : current_.params) {
      row.emplace_back(r.name + ".grad_norm", r.grad_norm);
      row.emplace_back(r.name + ".weight_norm", r.weight_norm);
      row.emplace_back(r.name + ".update_ratio", r.update_ratio);
      row.emplace_back(r.name + ".nonfinite_fraction", r.nonfinite_fraction);
    }
    for (const ActivationRecord& a : current_.activations) {
      row.emplace_back(a.name + ".act_mean", a.mean);
      row.emplace_back(a.name + ".act_std", a.std);
      row.emplace_back(a.name + ".act_zero_fraction", a.zero_fraction);
    }
    csv_->write(row);
  }
  records_.push_back(std::move(current_));
  current_ = MonitorRecord{};
}

std::string Monitor::summary() const {
  if (records_.empty()) return "Monitor: no step recorded yet\n";
  const MonitorRecord& r = records_.back();
  std::string out = fmt::format(
      "step {}: global gradient norm {:.4g}{}\n", r.step, r.global_grad_norm,
      r.first_nonfinite.empty() ? ""
                                : fmt::format(" (non-finite gradient in '{}')", r.first_nonfinite));
  out += fmt::format("{:<24} {:>12} {:>12} {:>12} {:>10}\n", "parameter", "grad norm",
                     "weight norm", "update/w", "nonfinite");
  for (const ParamRecord& p : r.params) {
    out += fmt::format("{:<24} {:>12.4g} {:>12.4g} {:>12.3g} {:>10.3g}\n", p.name, p.grad_norm,
                       p.weight_norm, p.update_ratio, p.nonfinite_fraction);
  }
  out += fmt::format("{:<24} {:>12} {:>12} {:>12}\n", "layer output", "mean", "std", "zeros");
  for (const ActivationRecord& a : r.activations) {
    out += fmt::format("{:<24} {:>12.4g} {:>12.4g} {:>12.3g}\n", a.name, a.mean, a.std,
                       a.zero_fraction);
  }
  return out;
}

}  // namespace descent::train
