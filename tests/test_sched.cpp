// Scheduler behaviour beyond the golden schedules: option validation (every error
// message), momentum cycling on optimizers without momentum, OneCycleLR's step limit,
// state-dict validation, composition rules and warmup_then's defaults.
#include <descent/optim/schedulers/cosine_lr.h>
#include <descent/optim/schedulers/cyclic_lr.h>
#include <descent/optim/schedulers/lambda_lr.h>
#include <descent/optim/schedulers/linear_lr.h>
#include <descent/optim/schedulers/one_cycle_lr.h>
#include <descent/optim/schedulers/plateau.h>
#include <descent/optim/schedulers/sequential_lr.h>
#include <descent/optim/schedulers/step_lr.h>

#include <cmath>

#include "testing/gradcheck.h"
#include "testing/toy_sgd.h"

using namespace descent;
using namespace descent::optim;
using descent::testing::toy_optimizer;
using descent::testing::ToySgd;

TEST(Sched, ConstructionSetsEpochZeroLr) {
  ToySgd opt = toy_optimizer({0.1, 0.02});
  LinearLR s(opt, {.start_factor = 0.5, .total_iters = 4});
  EXPECT_EQ(s.last_epoch(), 0);
  EXPECT_EQ(s.base_lrs(), (std::vector<double>{0.1, 0.02}));
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.05);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.01);
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{opt.lr(0), opt.lr(1)}));
  for (int i = 0; i < 4; ++i) s.step();
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.1);
  s.step();  // past total_iters: unchanged
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.1);
}

TEST(Sched, ChainableFormComposesWithOutsideChanges) {
  ToySgd opt = toy_optimizer({1.0});
  StepLR s(opt, {.step_size = 2, .gamma = 0.5});
  s.step();
  opt.set_lr(0.3);  // e.g. a manual override between steps
  s.step();         // epoch 2: multiplies the current lr
  EXPECT_DOUBLE_EQ(opt.lr(), 0.15);
}

TEST(Sched, CosineFollowsTheCosinePastTMax) {
  ToySgd opt = toy_optimizer({1.0});
  CosineAnnealingLR s(opt, {.t_max = 10, .eta_min = 0.1});
  for (int i = 0; i < 10; ++i) s.step();
  EXPECT_NEAR(opt.lr(), 0.1, 1e-15);
  for (int i = 0; i < 10; ++i) s.step();
  EXPECT_NEAR(opt.lr(), 1.0, 1e-14);  // back at the top after 2·t_max
  s.step();
  EXPECT_NEAR(opt.lr(), 0.1 + 0.9 * (1 + std::cos(M_PI / 10)) / 2, 1e-14);
}

TEST(Sched, WarmRestartsRestartAtBaseLr) {
  ToySgd opt = toy_optimizer({1.0});
  CosineAnnealingWarmRestarts s(opt, {.t_0 = 3, .t_mult = 2});
  std::vector<double> lrs = {opt.lr()};
  for (int i = 0; i < 9; ++i) {
    s.step();
    lrs.push_back(opt.lr());
  }
  EXPECT_EQ(lrs[0], 1.0);
  EXPECT_EQ(lrs[3], 1.0);  // restart after 3
  EXPECT_EQ(lrs[9], 1.0);  // then after 6 more
  EXPECT_EQ(s.t_i(), 12);
  EXPECT_NEAR(lrs[6], 0.5, 1e-15);  // middle of the 6-long cycle
}

TEST(Sched, WarmupThenDefaultsToOneOverWarmupSteps) {
  ToySgd opt = toy_optimizer({0.4, 0.1});
  SequentialLR s = warmup_then(opt, 4, ExponentialLR(opt, {.gamma = 0.5}));
  EXPECT_EQ(s.num_schedulers(), 2u);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.1);  // 0.4 / 4
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.025);
  for (int i = 1; i <= 3; ++i) {
    s.step();  // LinearLR's factor: 1/4 at epoch 0 up to 1 at epoch 4
    EXPECT_DOUBLE_EQ(opt.lr(0), 0.4 * (0.25 + 0.75 * i / 4)) << i;
  }
  s.step();  // the milestone: ExponentialLR restarts at its epoch 0, the base lr
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.4);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.1);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.2);
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{opt.lr(0), opt.lr(1)}));
}

TEST(Sched, CyclicLrWithoutMomentumCyclingWorksOnAnyOptimizer) {
  ToySgd opt = toy_optimizer({0.5}, 0.0, /*has_momentum=*/false);
  CyclicLR s(opt, {.base_lr = 0.1, .max_lr = 0.3, .step_size_up = 2, .cycle_momentum = false});
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.2);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.3);
  s.step();
  EXPECT_DOUBLE_EQ(opt.lr(), 0.2);
}

TEST(Sched, MomentumCyclingNeedsAMomentum) {
  ToySgd opt = toy_optimizer({0.5}, 0.0, /*has_momentum=*/false);
  EXPECT_THROW_MSG(CyclicLR(opt, {.base_lr = 0.1, .max_lr = 0.3}),
                   "CyclicLR: cycle_momentum needs an optimizer with a momentum (or beta1), but "
                   "toy_sgd has none");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 10}),
                   "OneCycleLR: cycle_momentum needs an optimizer with a momentum");
  EXPECT_EQ(opt.lr(), 0.5);  // untouched by the failed constructions
}

TEST(Sched, OneCycleRefusesToStepPastTotalSteps) {
  ToySgd opt = toy_optimizer({0.1});
  OneCycleLR s(opt, {.max_lr = 1.0, .total_steps = 10});
  EXPECT_NEAR(opt.lr(), 1.0 / 25, 1e-15);  // max_lr / div_factor
  EXPECT_NEAR(*opt.momentum(0), 0.95, 1e-15);
  for (int i = 0; i < 10; ++i) s.step();
  EXPECT_EQ(s.last_epoch(), 10);
  const double lr = opt.lr();
  EXPECT_THROW_MSG(s.step(), "OneCycleLR: tried to step 12 times, but total_steps is 10");
  EXPECT_EQ(s.last_epoch(), 10);  // unchanged by the refused step
  EXPECT_EQ(opt.lr(), lr);
}

TEST(Sched, OptionErrors) {
  ToySgd opt = toy_optimizer({0.1, 0.02});
  EXPECT_THROW_MSG(StepLR(opt, {.step_size = 0}), "StepLR: step_size must be positive, got 0");
  EXPECT_THROW_MSG(MultiStepLR(opt, {.milestones = {3, -1}}),
                   "MultiStepLR: milestones must be non-negative, got -1");
  EXPECT_THROW_MSG(LinearLR(opt, {.start_factor = 1.5}),
                   "LinearLR: start_factor must be in [0, 1], got 1.5");
  EXPECT_THROW_MSG(LinearLR(opt, {.end_factor = -0.1}),
                   "LinearLR: end_factor must be in [0, 1], got -0.1");
  EXPECT_THROW_MSG(LinearLR(opt, {.total_iters = 0}),
                   "LinearLR: total_iters must be positive, got 0");
  EXPECT_THROW_MSG(ConstantLR(opt, {.factor = 2}), "ConstantLR: factor must be in [0, 1], got 2");
  EXPECT_THROW_MSG(PolynomialLR(opt, {.total_iters = -3}),
                   "PolynomialLR: total_iters must be positive, got -3");
  EXPECT_THROW_MSG(CosineAnnealingLR(opt, {.t_max = 0}),
                   "CosineAnnealingLR: t_max must be positive, got 0");
  EXPECT_THROW_MSG(CosineAnnealingWarmRestarts(opt, {.t_0 = 0}),
                   "CosineAnnealingWarmRestarts: t_0 must be positive, got 0");
  EXPECT_THROW_MSG(CosineAnnealingWarmRestarts(opt, {.t_0 = 2, .t_mult = 0}),
                   "CosineAnnealingWarmRestarts: t_mult must be at least 1, got 0");
  CosineAnnealingWarmRestarts wr(opt, {.t_0 = 2});
  EXPECT_THROW_MSG(wr.step(-1.0),
                   "CosineAnnealingWarmRestarts.step: epoch must be non-negative, got -1");
  EXPECT_THROW_MSG(
      LambdaLR(opt, std::vector<LrLambda>{[](int64_t) { return 1.0; }, [](int64_t) { return 1.0; },
                                          [](int64_t) { return 1.0; }}),
      "LambdaLR: expected 1 or 2 lr_lambdas (one per parameter group), got 3");
  EXPECT_THROW_MSG(LambdaLR(opt, LrLambda{}), "LambdaLR: lr_lambda 0 is empty");
  EXPECT_THROW_MSG(CyclicLR(opt, {.max_lr = 0.1}), "CyclicLR: base_lr is required");
  EXPECT_THROW_MSG(CyclicLR(opt, {.base_lr = 0.01, .max_lr = {0.1, 0.2, 0.3}}),
                   "CyclicLR: expected 1 or 2 values for max_lr (one per parameter group), got 3");
  EXPECT_THROW_MSG(CyclicLR(opt, {.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 0}),
                   "CyclicLR: step_size_up and step_size_down must be positive, got 0 and 0");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1}),
                   "OneCycleLR: give total_steps, or epochs and steps_per_epoch");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1, .epochs = 3}),
                   "OneCycleLR: steps_per_epoch must be positive, got 0");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1, .total_steps = -5}),
                   "OneCycleLR: total_steps must be positive, got -5");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5}),
                   "OneCycleLR: pct_start must be in [0, 1], got 1.5");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 10, .pct_start = 0.1}),
                   "OneCycleLR: phase 0 is empty (pct_start 0.1, total_steps 10)");
  EXPECT_THROW_MSG(OneCycleLR(opt, {.total_steps = 10}), "OneCycleLR: max_lr is required");
  EXPECT_THROW_MSG(ReduceLROnPlateau(opt, {.factor = 1.0}),
                   "ReduceLROnPlateau: factor must be in (0, 1), got 1");
  EXPECT_THROW_MSG(ReduceLROnPlateau(opt, {.patience = -1}),
                   "ReduceLROnPlateau: patience must be non-negative, got -1");
  EXPECT_THROW_MSG(ReduceLROnPlateau(opt, {.min_lr = {1e-3, 1e-4, 1e-5}}),
                   "ReduceLROnPlateau: expected 1 or 2 values for min_lr");
  EXPECT_THROW_MSG(warmup_then(opt, 0, StepLR(opt, {.step_size = 3})),
                   "warmup_then: warmup_steps must be positive, got 0");
}

TEST(Sched, CompositionErrors) {
  ToySgd opt = toy_optimizer({0.1});
  ToySgd other = toy_optimizer({0.1});
  const auto two = [&](Optimizer& a, Optimizer& b) {
    std::vector<SchedulerPtr> v;
    v.push_back(make_scheduler(StepLR(a, {.step_size = 2})));
    v.push_back(make_scheduler(ExponentialLR(b, {.gamma = 0.9})));
    return v;
  };
  EXPECT_THROW_MSG(SequentialLR(opt, two(opt, opt), {}),
                   "SequentialLR: expected 1 milestones for 2 schedulers (one fewer), got 0");
  EXPECT_THROW_MSG(SequentialLR(opt, two(opt, other), {3}),
                   "SequentialLR: every scheduler must drive the same optimizer, but "
                   "schedulers 0 and 1 differ");
  EXPECT_THROW_MSG(SequentialLR(other, two(opt, opt), {3}),
                   "SequentialLR: every scheduler must drive the optimizer passed in, but "
                   "scheduler 0 drives another");
  EXPECT_THROW_MSG(SequentialLR(opt, {}, {}), "SequentialLR: needs at least one scheduler");
  EXPECT_THROW_MSG(ChainedScheduler(two(opt, other)),
                   "ChainedScheduler: every scheduler must drive the same optimizer, but "
                   "schedulers 0 and 1 differ");
  std::vector<SchedulerPtr> with_null = two(opt, opt);
  with_null[1].reset();
  EXPECT_THROW_MSG(ChainedScheduler(std::move(with_null)), "ChainedScheduler: scheduler 1 is null");
}

TEST(Sched, StateDictValidation) {
  ToySgd opt = toy_optimizer({0.1, 0.02});
  StepLR step(opt, {.step_size = 2});
  ExponentialLR expo(opt, {.gamma = 0.9});
  EXPECT_THROW_MSG(
      step.load_state_dict(expo.state_dict()),
      "step_lr.load_state_dict: state dict is for a exponential_lr, expected a step_lr");
  ToySgd one = toy_optimizer({0.1});
  StepLR single(one, {.step_size = 2});
  EXPECT_THROW_MSG(step.load_state_dict(single.state_dict()),
                   "step_lr.load_state_dict: state dict has 1 parameter groups, expected 2");
  StateDict broken = step.state_dict();
  broken.numbers.erase("last_lr.1");
  for (int i = 0; i < 3; ++i) step.step();
  const int64_t epoch = step.last_epoch();
  EXPECT_THROW_MSG(step.load_state_dict(broken),
                   "step_lr.load_state_dict: state dict has no number 'last_lr.1'");
  EXPECT_EQ(step.last_epoch(), epoch);  // a failed load changes nothing
  ReduceLROnPlateau plateau(opt);
  EXPECT_THROW_MSG(plateau.load_state_dict(step.state_dict()),
                   "reduce_lr_on_plateau.load_state_dict: state dict is for a step_lr");
  // A fresh plateau scheduler has no best yet: its dict round-trips without infinities.
  ReduceLROnPlateau plateau2(opt, {.mode = PlateauMode::Max});
  plateau2.load_state_dict(ReduceLROnPlateau(opt, {.mode = PlateauMode::Max}).state_dict());
  EXPECT_EQ(plateau2.best(), -INFINITY);
}

TEST(Sched, PlateauCountsBadEpochsAndCooldown) {
  ToySgd opt = toy_optimizer({1.0});
  ReduceLROnPlateau s(opt, {.factor = 0.5, .patience = 1, .cooldown = 2, .min_lr = 0.2});
  s.step(1.0);  // best
  EXPECT_EQ(s.best(), 1.0);
  s.step(1.0);  // bad 1 (not better by the relative threshold)
  EXPECT_EQ(s.num_bad_epochs(), 1);
  s.step(1.0);  // bad 2 > patience: reduce, cooldown 2
  EXPECT_EQ(opt.lr(), 0.5);
  EXPECT_TRUE(s.in_cooldown());
  s.step(2.0);
  s.step(2.0);  // cooldown over, bad epochs ignored meanwhile
  EXPECT_EQ(s.num_bad_epochs(), 0);
  EXPECT_FALSE(s.in_cooldown());
  s.step(2.0);
  s.step(2.0);  // reduce again, clamped at min_lr
  EXPECT_EQ(opt.lr(), 0.25);
  for (int i = 0; i < 10; ++i) s.step(2.0);
  EXPECT_EQ(opt.lr(), 0.2);
  EXPECT_TRUE(s.is_better(0.5, 1.0));
  EXPECT_FALSE(s.is_better(0.99995, 1.0));  // inside the 1e-4 relative threshold
}
