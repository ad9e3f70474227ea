#pragma once
// Compositions of schedulers, as torch.optim.lr_scheduler:
//   SequentialLR: runs schedulers[0] until milestones[0], then schedulers[1] (restarted
//     at its epoch 0), ... Needs one milestone fewer than schedulers.
//   ChainedScheduler: steps every scheduler each step; chainable schedules multiply.
//   warmup_then(opt, warmup_steps, X): LinearLR from start_factor (default
//     1/warmup_steps) to 1 over warmup_steps, then X: SequentialLR(LinearLR, X).
// All children must drive the same optimizer (Error otherwise). The children share the
// groups' initial lrs (the base lrs of the earliest-built child), like torch's
// 'initial_lr'; CyclicLR and OneCycleLR keep their own.
#include <descent/optim/schedulers/scheduler.h>

#include <concepts>
#include <memory>
#include <optional>

namespace descent::optim {

using SchedulerPtr = std::unique_ptr<LRScheduler>;

// What SequentialLR and ChainedScheduler share: the children, and a state dict that
// nests each child's under "scheduler.<i>.".
class CompositeScheduler : public LRScheduler {
 public:
  const LRScheduler& scheduler(size_t i) const { return *schedulers_.at(i); }
  size_t num_schedulers() const { return schedulers_.size(); }

  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  // Checks that there is at least one child and that every child drives the first
  // child's optimizer (`who` names the scheduler in errors).
  CompositeScheduler(std::vector<SchedulerPtr> schedulers, std::string_view who);
  std::vector<double> compute_lr() override { return current_lrs(); }
  std::vector<LRScheduler*> children() const;

  std::vector<SchedulerPtr> schedulers_;
};

class SequentialLR : public CompositeScheduler {
 public:
  SequentialLR(Optimizer& opt, std::vector<SchedulerPtr> schedulers,
               std::vector<int64_t> milestones);
  std::string_view name() const override { return "sequential_lr"; }
  void step() override;

 private:
  std::vector<int64_t> milestones_;
};

class ChainedScheduler : public CompositeScheduler {
 public:
  explicit ChainedScheduler(std::vector<SchedulerPtr> schedulers);
  std::string_view name() const override { return "chained_scheduler"; }
  void step() override;
};

// Moves a concrete scheduler into a SchedulerPtr: make_scheduler(StepLR(opt, {...})).
template <class S>
requires std::derived_from<std::remove_cvref_t<S>, LRScheduler> SchedulerPtr make_scheduler(S&& s) {
  return std::make_unique<std::remove_cvref_t<S>>(std::move(s));
}

SequentialLR warmup_then(Optimizer& opt, int64_t warmup_steps, SchedulerPtr after,
                         std::optional<double> start_factor = std::nullopt);

template <class S>
requires std::derived_from<std::remove_cvref_t<S>, LRScheduler> SequentialLR
warmup_then(Optimizer& opt, int64_t warmup_steps, S&& after,
            std::optional<double> start_factor = std::nullopt) {
  return warmup_then(opt, warmup_steps, make_scheduler(std::forward<S>(after)), start_factor);
}

}  // namespace descent::optim
