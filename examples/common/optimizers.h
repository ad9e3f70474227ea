#pragma once
// Optimizers and learning-rate schedules chosen by name, for the examples' --optimizer
// and --scheduler flags.
//
//   auto opt = examples::make_optimizer("adam", model.parameters(), /*lr=*/0);  // 0: default
//   examples::Schedule sched("warmup-cosine", *opt, {.epochs = 10, .steps_per_epoch = 469});
//   for (...) { opt->step(); sched.after_step(); }   // per-batch schedules advance here
//   sched.after_epoch(val_loss);                       // per-epoch ones (step, plateau) here
//
// Optimizers: gd (full-batch gradient descent: the caller makes the batch the whole
// set), sgd, momentum (SGD, 0.9), nesterov (SGD, 0.9, Nesterov), rmsprop, adam, amsgrad,
// adamw, nadam, radam, adagrad, lion. Schedules: none, step (×0.1 every third of the
// epochs), cosine (to 0 over all steps), warmup-cosine (linear warm-up over 5% of the
// steps, then cosine), cyclic (triangular between lr/10 and lr, one cycle per epoch),
// onecycle (peak lr), plateau (×0.1 after 2 epochs without a lower validation loss).
// Schedules cycle the momentum only of optimizers that have a non-zero one. An unknown
// name throws std::invalid_argument listing the known ones.
#include <descent/core/state_dict.h>
#include <descent/optim.h>
#include <descent/optim/schedulers/cosine_lr.h>
#include <descent/optim/schedulers/cyclic_lr.h>
#include <descent/optim/schedulers/one_cycle_lr.h>
#include <descent/optim/schedulers/plateau.h>
#include <descent/optim/schedulers/sequential_lr.h>
#include <descent/optim/schedulers/step_lr.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

inline const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"gd",      "sgd",   "momentum", "nesterov",
                                                 "rmsprop", "adam",  "amsgrad",  "adamw",
                                                 "nadam",   "radam", "adagrad",  "lion"};
  return names;
}

inline const std::vector<std::string>& scheduler_names() {
  static const std::vector<std::string> names = {"none",   "step",     "cosine", "warmup-cosine",
                                                 "cyclic", "onecycle", "plateau"};
  return names;
}

inline std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// A learning rate that trains the examples' models well with that optimizer.
inline double default_lr(const std::string& name) {
  if (name == "gd") return 0.5;
  if (name == "sgd" || name == "momentum" || name == "nesterov") return 0.05;
  if (name == "nadam") return 2e-3;
  if (name == "adagrad") return 1e-2;
  if (name == "lion") return 1e-4;
  return 1e-3;  // rmsprop and the Adam family
}

// lr <= 0 picks default_lr(name).
inline std::unique_ptr<descent::optim::Optimizer> make_optimizer(
    const std::string& name, std::vector<descent::Tensor> params, double lr = 0) {
  using namespace descent::optim;
  if (lr <= 0) lr = default_lr(name);
  auto p = std::move(params);
  if (name == "gd") return std::make_unique<GD>(std::move(p), GDOptions{.lr = lr});
  if (name == "sgd") return std::make_unique<SGD>(std::move(p), SGDOptions{.lr = lr});
  if (name == "momentum")
    return std::make_unique<SGD>(std::move(p), SGDOptions{.lr = lr, .momentum = 0.9});
  if (name == "nesterov")
    return std::make_unique<SGD>(std::move(p),
                                 SGDOptions{.lr = lr, .momentum = 0.9, .nesterov = true});
  if (name == "rmsprop") return std::make_unique<RMSprop>(std::move(p), RMSpropOptions{.lr = lr});
  if (name == "adam") return std::make_unique<Adam>(std::move(p), AdamOptions{.lr = lr});
  if (name == "amsgrad")
    return std::make_unique<Adam>(std::move(p), AdamOptions{.lr = lr, .amsgrad = true});
  if (name == "adamw") return std::make_unique<AdamW>(std::move(p), AdamWOptions{.lr = lr});
  if (name == "nadam") return std::make_unique<NAdam>(std::move(p), NAdamOptions{.lr = lr});
  if (name == "radam") return std::make_unique<RAdam>(std::move(p), RAdamOptions{.lr = lr});
  if (name == "adagrad") return std::make_unique<Adagrad>(std::move(p), AdagradOptions{.lr = lr});
  if (name == "lion") return std::make_unique<Lion>(std::move(p), LionOptions{.lr = lr});
  throw std::invalid_argument("unknown optimizer '" + name + "' (expected one of " +
                              join_names(optimizer_names()) + ")");
}

struct ScheduleOptions {
  int64_t epochs = 1;
  int64_t steps_per_epoch = 1;
};

// One of scheduler_names() over an optimizer; owns the scheduler object.
class Schedule {
 public:
  Schedule(std::string name, descent::optim::Optimizer& opt, ScheduleOptions o)
      : name_(std::move(name)) {
    using namespace descent::optim;
    const int64_t total = std::max<int64_t>(1, o.epochs * o.steps_per_epoch);
    const double lr = opt.lr();
    const auto m = opt.momentum(0);
    const bool cycle_momentum = m.has_value() && *m > 0;
    if (name_ == "none") {
    } else if (name_ == "step") {
      per_epoch_ = make_scheduler(
          StepLR(opt, {.step_size = std::max<int64_t>(1, o.epochs / 3), .gamma = 0.1}));
    } else if (name_ == "cosine") {
      per_step_ = make_scheduler(CosineAnnealingLR(opt, {.t_max = total}));
    } else if (name_ == "warmup-cosine") {
      const int64_t warmup = std::max<int64_t>(1, total / 20);
      per_step_ = make_scheduler(warmup_then(
          opt, warmup, CosineAnnealingLR(opt, {.t_max = std::max<int64_t>(1, total - warmup)})));
    } else if (name_ == "cyclic") {
      per_step_ =
          make_scheduler(CyclicLR(opt, {.base_lr = lr / 10,
                                        .max_lr = lr,
                                        .step_size_up = std::max(1.0, o.steps_per_epoch / 2.0),
                                        .cycle_momentum = cycle_momentum}));
    } else if (name_ == "onecycle") {
      per_step_ = make_scheduler(
          OneCycleLR(opt, {.max_lr = lr, .total_steps = total, .cycle_momentum = cycle_momentum}));
    } else if (name_ == "plateau") {
      plateau_ = std::make_unique<ReduceLROnPlateau>(
          opt, ReduceLROnPlateauOptions{.factor = 0.1, .patience = 2});
    } else {
      throw std::invalid_argument("unknown scheduler '" + name_ + "' (expected one of " +
                                  join_names(scheduler_names()) + ")");
    }
  }

  const std::string& name() const { return name_; }
  // After every optimizer step.
  void after_step() {
    if (per_step_) per_step_->step();
  }
  // After every epoch, with the epoch's validation loss.
  void after_epoch(double val_loss) {
    if (per_epoch_) per_epoch_->step();
    if (plateau_) plateau_->step(val_loss);
  }

  // The wrapped scheduler's state under the schedule's name (a checkpoint part).
  descent::StateDict state_dict() const {
    descent::StateDict s;
    s.strings["kind"] = name_;
    if (per_step_) s.merge(per_step_->state_dict(), "sched.");
    if (per_epoch_) s.merge(per_epoch_->state_dict(), "sched.");
    if (plateau_) s.merge(plateau_->state_dict(), "sched.");
    return s;
  }
  void load_state_dict(const descent::StateDict& s) {
    const std::string& kind = s.string("kind", "Schedule");
    descent::check(kind == name_, "Schedule", "got a '{}' schedule's state, expected '{}'", kind,
                   name_);
    const descent::StateDict inner = s.sub("sched.");
    if (per_step_) per_step_->load_state_dict(inner);
    if (per_epoch_) per_epoch_->load_state_dict(inner);
    if (plateau_) plateau_->load_state_dict(inner);
  }

 private:
  std::string name_;
  descent::optim::SchedulerPtr per_step_, per_epoch_;
  std::unique_ptr<descent::optim::ReduceLROnPlateau> plateau_;
};

}  // namespace examples
