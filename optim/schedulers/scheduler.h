#pragma once
// LRScheduler: the base of the epoch/step learning-rate schedules, with the semantics
// of torch.optim.lr_scheduler (1.13). A scheduler sets every group's lr at
// construction (step 0) and on each step(); call it after opt.step().
//
//   optim::StepLR sched(opt, {.step_size = 30, .gamma = 0.1});
//   for (...) { train_one_epoch(); sched.step(); }
//
// base_lrs are the group lrs at construction. Most schedules are "chainable" as in
// PyTorch: they multiply the optimizer's current lr, so lr changes made by other code
// (or other schedulers in a ChainedScheduler) compose. state_dict() holds the counters
// (last_epoch, step count, base and last lrs, schedule-specific state); a scheduler
// rebuilt with the same options and loaded (together with its optimizer's state)
// continues exactly. load_state_dict throws descent::Error for a dict of another
// scheduler type or group count.
#include <descent/core/state_dict.h>
#include <descent/optim/optimizer.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

namespace descent::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(LRScheduler&&) = default;
  LRScheduler& operator=(LRScheduler&&) = delete;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // "step_lr", "cosine_annealing_lr", ... (state dicts are checked against it).
  virtual std::string_view name() const = 0;

  // Advances one epoch (or batch, for per-batch schedules) and sets the group lrs.
  virtual void step();

  // The lrs this scheduler set last, one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() const { return *opt_; }

  virtual StateDict state_dict() const;
  virtual void load_state_dict(const StateDict& state);

 protected:
  // Reads the base lrs from the optimizer's groups.
  explicit LRScheduler(Optimizer& opt);

  // The lrs for last_epoch_ (already advanced), one per group. May read the
  // optimizer's current lrs (chainable form) and set momentum as a side effect.
  virtual std::vector<double> compute_lr() = 0;
  // PyTorch's _get_closed_form_lr: the lrs at last_epoch_ from base_lrs alone, used
  // when SequentialLR restarts a scheduler at epoch 0. nullopt: use compute_lr().
  virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }
  // Schedule-specific state beyond the base counters (under the same dict).
  virtual void save_extra(StateDict& /*out*/) const {}
  virtual void load_extra(const StateDict& /*in*/) {}

  // The step the constructors of concrete schedulers end with (epoch -1 → 0).
  void initial_step();
  // Applies `lrs` to the groups and records them as the last lrs.
  void apply(const std::vector<double>& lrs);
  // Jumps to `epoch` (closed form when available), as torch's step(epoch); SequentialLR
  // restarts a child with step_to(0).
  virtual void step_to(int64_t epoch);
  // True for schedules that define their own base lrs (CyclicLR, OneCycleLR): those
  // keep them inside SequentialLR and ChainedScheduler.
  virtual bool owns_base_lrs() const { return false; }
  size_t num_groups() const { return base_lrs_.size(); }
  // The current lr of every group.
  std::vector<double> current_lrs() const;
  // lrs[g] · factor for every group.
  static std::vector<double> scaled(const std::vector<double>& lrs, double factor);

  // For SequentialLR and ChainedScheduler: the base lrs of the earliest-built child
  // (what torch keeps as the groups' 'initial_lr'), adopted by every child that does
  // not own its base lrs; returns them.
  static std::vector<double> share_initial_lrs(const std::vector<LRScheduler*>& children);

  Optimizer* opt_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;  // torch's _step_count: steps taken, including the initial one
  // Order of construction: SequentialLR and ChainedScheduler treat the base lrs of the
  // earliest-built child as the groups' initial lrs, as torch's shared 'initial_lr'.
  uint64_t created_ = 0;

  friend class SequentialLR;  // steps and restarts its children
};

// A hyper-parameter given once for all groups or once per group:
// `.max_lr = 0.1` or `.max_lr = {0.1, 0.01}`.
struct PerGroup {
  std::vector<double> values;
  PerGroup() = default;              // no value: required options report it when expanded
  PerGroup(double v) : values{v} {}  // NOLINT: implicit on purpose
  PerGroup(std::initializer_list<double> v) : values(v) {}
  PerGroup(std::vector<double> v) : values(std::move(v)) {}  // NOLINT
  // One value per group: a single value is broadcast; otherwise the count must match
  // (Error naming `who` and `what`).
  std::vector<double> expand(size_t groups, std::string_view who, std::string_view what) const;
};

// The momentum of every group, or an Error naming `who` when the optimizer has none.
std::vector<double> require_momentum(const Optimizer& opt, std::string_view who);

}  // namespace descent::optim
