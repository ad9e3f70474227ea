#include <descent/optim/schedulers/linear_lr.h>
#include <descent/optim/schedulers/sequential_lr.h>

#include <algorithm>
#include <string>

namespace descent::optim {
namespace {

Optimizer& first_optimizer(const std::vector<SchedulerPtr>& s, std::string_view who) {
  check(!s.empty(), who, "needs at least one scheduler");
  for (size_t i = 0; i < s.size(); ++i) check(s[i] != nullptr, who, "scheduler {} is null", i);
  return s[0]->optimizer();
}

std::string child_prefix(size_t i) { return "scheduler." + std::to_string(i) + "."; }

}  // namespace

CompositeScheduler::CompositeScheduler(std::vector<SchedulerPtr> schedulers, std::string_view who)
    : LRScheduler(first_optimizer(schedulers, who)), schedulers_(std::move(schedulers)) {
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    check(&schedulers_[i]->optimizer() == opt_, who,
          "every scheduler must drive the same optimizer, but schedulers 0 and {} differ", i);
  }
}

std::vector<LRScheduler*> CompositeScheduler::children() const {
  std::vector<LRScheduler*> out;
  for (const auto& s : schedulers_) out.push_back(s.get());
  return out;
}

StateDict CompositeScheduler::state_dict() const {
  StateDict out = LRScheduler::state_dict();
  out.numbers["num_schedulers"] = double(schedulers_.size());
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    out.merge(schedulers_[i]->state_dict(), child_prefix(i));
  }
  return out;
}

void CompositeScheduler::load_state_dict(const StateDict& state) {
  const std::string who = std::string(name()) + ".load_state_dict";
  const double n = state.number("num_schedulers", who);
  check(n == double(schedulers_.size()), who, "state dict has {} schedulers, expected {}", n,
        schedulers_.size());
  LRScheduler::load_state_dict(state);
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    schedulers_[i]->load_state_dict(state.sub(child_prefix(i)));
  }
}

SequentialLR::SequentialLR(Optimizer& opt, std::vector<SchedulerPtr> schedulers,
                           std::vector<int64_t> milestones)
    : CompositeScheduler(std::move(schedulers), "SequentialLR"),
      milestones_(std::move(milestones)) {
  constexpr std::string_view kWho = "SequentialLR";
  check(opt_ == &opt, kWho,
        "every scheduler must drive the optimizer passed in, but scheduler 0 drives another");
  check(milestones_.size() + 1 == schedulers_.size(), kWho,
        "expected {} milestones for {} schedulers (one fewer), got {}", schedulers_.size() - 1,
        schedulers_.size(), milestones_.size());
  check(std::is_sorted(milestones_.begin(), milestones_.end()), kWho,
        "milestones must be non-decreasing");
  base_lrs_ = share_initial_lrs(children());
  // As torch: back to the initial lrs, undo each child's initial step, and restart the
  // first child at epoch 0.
  for (size_t g = 0; g < num_groups(); ++g) opt.set_lr(base_lrs_[g], g);
  for (auto& s : schedulers_) --s->last_epoch_;
  schedulers_[0]->initial_step();
  last_lr_ = schedulers_[0]->last_lr_;
  last_epoch_ = 0;
  step_count_ = 1;
}

void SequentialLR::step() {
  ++last_epoch_;
  ++step_count_;
  const auto idx = size_t(std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) -
                          milestones_.begin());
  LRScheduler& s = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_) {
    s.step_to(0);
  } else {
    s.step();
  }
  last_lr_ = s.last_lr_;
}

ChainedScheduler::ChainedScheduler(std::vector<SchedulerPtr> schedulers)
    : CompositeScheduler(std::move(schedulers), "ChainedScheduler") {
  base_lrs_ = share_initial_lrs(children());
  last_lr_ = current_lrs();
  last_epoch_ = 0;
  step_count_ = 1;
}

void ChainedScheduler::step() {
  ++last_epoch_;
  ++step_count_;
  for (auto& s : schedulers_) s->step();
  last_lr_ = current_lrs();
}

SequentialLR warmup_then(Optimizer& opt, int64_t warmup_steps, SchedulerPtr after,
                         std::optional<double> start_factor) {
  check(warmup_steps > 0, "warmup_then", "warmup_steps must be positive, got {}", warmup_steps);
  check(after != nullptr, "warmup_then", "the scheduler after the warm-up is null");
  std::vector<SchedulerPtr> s;
  s.push_back(std::make_unique<LinearLR>(
      opt, LinearLROptions{.start_factor = start_factor.value_or(1.0 / double(warmup_steps)),
                           .end_factor = 1.0,
                           .total_iters = warmup_steps}));
  s.push_back(std::move(after));
  return SequentialLR(opt, std::move(s), {warmup_steps});
}

}  // namespace descent::optim
