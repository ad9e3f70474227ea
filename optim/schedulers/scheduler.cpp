#include <descent/optim/schedulers/scheduler.h>

#include <atomic>
#include <string>

namespace descent::optim {
namespace {

uint64_t next_creation_index() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

}  // namespace

std::vector<double> PerGroup::expand(size_t groups, std::string_view who,
                                     std::string_view what) const {
  check(!values.empty(), who, "{} is required", what);
  check(values.size() == 1 || values.size() == groups, who,
        "expected 1 or {} values for {} (one per parameter group), got {}", groups, what,
        values.size());
  return values.size() == 1 ? std::vector<double>(groups, values[0]) : values;
}

std::vector<double> require_momentum(const Optimizer& opt, std::string_view who) {
  std::vector<double> out;
  for (size_t g = 0; g < opt.num_groups(); ++g) {
    const std::optional<double> m = opt.momentum(g);
    check(m.has_value(), who,
          "cycle_momentum needs an optimizer with a momentum (or beta1), but {} has none; "
          "pass .cycle_momentum = false",
          opt.name());
    out.push_back(*m);
  }
  return out;
}

LRScheduler::LRScheduler(Optimizer& opt) : opt_(&opt), created_(next_creation_index()) {
  check(opt.num_groups() > 0, "LRScheduler", "optimizer {} has no parameter groups", opt.name());
  base_lrs_ = current_lrs();
  last_lr_ = base_lrs_;
}

std::vector<double> LRScheduler::scaled(const std::vector<double>& lrs, double factor) {
  std::vector<double> out(lrs.size());
  for (size_t g = 0; g < lrs.size(); ++g) out[g] = lrs[g] * factor;
  return out;
}

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs(opt_->num_groups());
  for (size_t g = 0; g < lrs.size(); ++g) lrs[g] = opt_->lr(g);
  return lrs;
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  for (size_t g = 0; g < lrs.size(); ++g) opt_->set_lr(lrs[g], g);
  last_lr_ = current_lrs();
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();  // virtual, as torch's _initial_step calls self.step()
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  std::vector<double> lrs;
  try {
    lrs = compute_lr();
  } catch (...) {
    // A refused step (e.g. past OneCycleLR's total_steps) leaves the schedule as it was.
    --step_count_;
    --last_epoch_;
    throw;
  }
  apply(lrs);
}

void LRScheduler::step_to(int64_t epoch) {
  ++step_count_;
  last_epoch_ = epoch;
  std::optional<std::vector<double>> closed = closed_form_lr();
  apply(closed ? *closed : compute_lr());
}

std::vector<double> LRScheduler::share_initial_lrs(const std::vector<LRScheduler*>& children) {
  const LRScheduler* earliest = children.at(0);
  for (const LRScheduler* s : children) {
    if (s->created_ < earliest->created_) earliest = s;
  }
  std::vector<double> initial = earliest->base_lrs_;
  for (LRScheduler* s : children) {
    if (!s->owns_base_lrs()) s->base_lrs_ = initial;
  }
  return initial;
}

StateDict LRScheduler::state_dict() const {
  StateDict s;
  s.strings["type"] = std::string(name());
  s.numbers["last_epoch"] = double(last_epoch_);
  s.numbers["step_count"] = double(step_count_);
  s.numbers["num_groups"] = double(num_groups());
  for (size_t g = 0; g < num_groups(); ++g) {
    s.numbers["base_lr." + std::to_string(g)] = base_lrs_[g];
    s.numbers["last_lr." + std::to_string(g)] = last_lr_[g];
  }
  save_extra(s);
  return s;
}

void LRScheduler::load_state_dict(const StateDict& state) {
  const std::string who = fmt::format("{}.load_state_dict", name());
  const std::string& type = state.string("type", who);
  check(type == name(), who, "state dict is for a {}, expected a {}", type, name());
  const double groups = state.number("num_groups", who);
  check(groups == double(num_groups()), who, "state dict has {} parameter groups, expected {}",
        groups, num_groups());
  // Read everything before assigning, so a bad dict leaves the scheduler unchanged.
  std::vector<double> base(num_groups()), last(num_groups());
  for (size_t g = 0; g < num_groups(); ++g) {
    base[g] = state.finite("base_lr." + std::to_string(g), who, 0);
    last[g] = state.finite("last_lr." + std::to_string(g), who, 0);
  }
  const int64_t last_epoch = state.integer("last_epoch", who, -1);
  const int64_t step_count = state.integer("step_count", who);
  load_extra(state);
  base_lrs_ = std::move(base);
  last_lr_ = std::move(last);
  last_epoch_ = last_epoch;
  step_count_ = step_count;
}

}  // namespace descent::optim
