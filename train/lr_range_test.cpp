#include <descent/core/error.h>
#include <descent/core/grad_mode.h>
#include <descent/train/lr_range_test.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace descent::train {
namespace {

constexpr std::string_view kWho = "lr_range_test";

void validate(const LrRangeOptions& o) {
  check(o.start_lr > 0, kWho, "start_lr must be positive, got {}", o.start_lr);
  check(o.end_lr > o.start_lr, kWho, "end_lr must be greater than start_lr {}, got {}", o.start_lr,
        o.end_lr);
  check(o.num_steps >= 2, kWho, "num_steps must be at least 2, got {}", o.num_steps);
  check(o.smoothing >= 0 && o.smoothing < 1, kWho, "smoothing must be in [0, 1), got {}",
        o.smoothing);
  check(o.divergence > 1, kWho, "divergence must be greater than 1, got {}", o.divergence);
  check(o.skip_start >= 0 && o.skip_end >= 0, kWho,
        "skip_start and skip_end must be non-negative, got {} and {}", o.skip_start, o.skip_end);
}

double lr_at(const LrRangeOptions& o, int64_t i) {
  const double t = double(i) / double(o.num_steps - 1);
  switch (o.mode) {
    case LrRangeMode::Exponential: return o.start_lr * std::pow(o.end_lr / o.start_lr, t);
    case LrRangeMode::Linear: return o.start_lr + (o.end_lr - o.start_lr) * t;
  }
  return o.start_lr;
}

// Everything the test changes, copied so it can be put back in place.
class Snapshot {
 public:
  Snapshot(const optim::Optimizer& opt, const std::vector<Tensor>& extra) : extra_(extra) {
    NoGradGuard no_grad;
    params_ = opt.parameters();
    for (const Tensor& p : params_) {
      values_.push_back(p.detach().clone());
      grads_.push_back(p.grad().defined() ? p.grad().detach().clone() : Tensor());
    }
    for (const Tensor& t : extra_) extra_values_.push_back(t.detach().clone());
    // Deep copy: an optimizer may hand out its live slot tensors.
    state_ = opt.state_dict();
    for (auto& [k, v] : state_.tensors) v = v.detach().clone();
    for (size_t g = 0; g < opt.num_groups(); ++g) lrs_.push_back(opt.lr(g));
  }

  void restore(optim::Optimizer& opt) const {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
      Tensor p = params_[i];
      p.copy_(values_[i]);
      p.set_grad(grads_[i].defined() ? grads_[i].clone() : Tensor());
    }
    for (size_t i = 0; i < extra_.size(); ++i) {
      Tensor t = extra_[i];
      t.copy_(extra_values_[i]);
    }
    StateDict state = state_;
    for (auto& [k, v] : state.tensors) v = v.clone();  // keep ours pristine
    opt.load_state_dict(state);
    for (size_t g = 0; g < lrs_.size(); ++g) opt.set_lr(lrs_[g], g);
  }

 private:
  std::vector<Tensor> params_, values_, grads_;
  std::vector<Tensor> extra_, extra_values_;
  StateDict state_;
  std::vector<double> lrs_;
};

// Index of the most negative d(smoothed)/d(log lr), central differences inside.
std::optional<size_t> steepest(const LrRangeResult& r, const LrRangeOptions& o) {
  // The last point of a diverged run is the blow-up itself; leave it out.
  const size_t n = r.diverged ? r.lrs.size() - 1 : r.lrs.size();
  if (n < 3) return std::nullopt;
  std::vector<double> x(n), grad(n);
  for (size_t i = 0; i < n; ++i) x[i] = std::log(r.lrs[i]);
  const auto& y = r.smoothed_losses;
  for (size_t i = 0; i < n; ++i) {
    const size_t lo = i == 0 ? 0 : i - 1, hi = i + 1 == n ? i : i + 1;
    grad[i] = (y[hi] - y[lo]) / (x[hi] - x[lo]);
  }
  size_t begin = size_t(o.skip_start), end = n > size_t(o.skip_end) ? n - size_t(o.skip_end) : 0;
  if (begin >= end) {  // a short curve: use all of it
    begin = 0;
    end = n;
  }
  size_t best = begin;
  for (size_t i = begin; i < end; ++i) {
    if (grad[i] < grad[best]) best = i;
  }
  return best;
}

void write_csv(const LrRangeResult& r, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    check(out.good(), kWho, "cannot write {}", tmp);
    out << "step,lr,loss,smoothed_loss\n";
    for (size_t i = 0; i < r.lrs.size(); ++i) {
      out << fmt::format("{},{:.17g},{:.17g},{:.17g}\n", i, r.lrs[i], r.losses[i],
                         r.smoothed_losses[i]);
    }
    out.flush();
    check(out.good(), kWho, "cannot write {}", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  check(!ec, kWho, "cannot rename {} to {}: {}", tmp, path, ec.message());
}

LrRangeResult run(optim::Optimizer& opt, const std::function<double()>& closure,
                  const LrRangeOptions& o) {
  LrRangeResult r;
  double avg = 0, beta_pow = 1;
  for (int64_t i = 0; i < o.num_steps; ++i) {
    const double lr = lr_at(o, i);
    opt.set_lr(lr);
    opt.zero_grad();
    const double loss = closure();
    opt.step();
    avg = o.smoothing * avg + (1 - o.smoothing) * loss;
    beta_pow *= o.smoothing;
    const double smoothed = avg / (1 - beta_pow);
    r.lrs.push_back(lr);
    r.losses.push_back(loss);
    r.smoothed_losses.push_back(smoothed);
    if (i == 0 || smoothed < r.best_loss) r.best_loss = smoothed;
    if (!std::isfinite(loss) || !std::isfinite(smoothed) || smoothed > o.divergence * r.best_loss) {
      r.diverged = true;
      break;
    }
  }
  r.suggested_index = steepest(r, o);
  if (r.suggested_index) r.suggested_lr = r.lrs[*r.suggested_index];
  return r;
}

}  // namespace

LrRangeResult lr_range_test(optim::Optimizer& opt, const std::function<double()>& step_closure,
                            const LrRangeOptions& options) {
  validate(options);
  check(bool(step_closure), kWho, "step_closure is empty");
  std::optional<Snapshot> saved;
  if (options.restore) saved.emplace(opt, options.extra_state);
  LrRangeResult result;
  try {
    result = run(opt, step_closure, options);
  } catch (...) {
    if (saved) saved->restore(opt);
    throw;
  }
  if (saved) saved->restore(opt);
  if (!options.csv_path.empty()) write_csv(result, options.csv_path);
  return result;
}

}  // namespace descent::train
