// Every scheduler against torch.optim.lr_scheduler 1.13: the golden lrs (and momenta
// where cycled) of tests/data/golden/sched_lr.txt and sched_plateau.txt, written by
// tests/oracle/gen_sched_golden.py. Each fixture case is rebuilt here by name with the
// same options; a case without a builder (or a builder without a case) fails.
#include <descent/optim/schedulers/cosine_lr.h>
#include <descent/optim/schedulers/cyclic_lr.h>
#include <descent/optim/schedulers/lambda_lr.h>
#include <descent/optim/schedulers/linear_lr.h>
#include <descent/optim/schedulers/one_cycle_lr.h>
#include <descent/optim/schedulers/plateau.h>
#include <descent/optim/schedulers/sequential_lr.h>
#include <descent/optim/schedulers/step_lr.h>

#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <set>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"
#include "testing/toy_sgd.h"

using namespace descent;
using namespace descent::optim;
using descent::testing::ToySgd;
namespace dt = descent::testing;

namespace {

// Worst relative difference allowed between descent and torch. Most schedules agree
// bit for bit; the bound leaves room for libm differences in cos/pow only.
constexpr double kRelTol = 1e-13;

const std::vector<double> kLrs2 = {0.1, 0.02};

struct Case {
  std::vector<double> lrs;
  std::function<SchedulerPtr(ToySgd&)> build;
};

template <class S>
SchedulerPtr own(S&& s) {
  return make_scheduler(std::forward<S>(s));
}

std::vector<SchedulerPtr> list(SchedulerPtr a, SchedulerPtr b, SchedulerPtr c = nullptr) {
  std::vector<SchedulerPtr> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  if (c) v.push_back(std::move(c));
  return v;
}

std::map<std::string, Case> lr_cases() {
  std::map<std::string, Case> c;
  c["step_lr"] = {kLrs2, [](ToySgd& o) { return own(StepLR(o, {.step_size = 7, .gamma = 0.5})); }};
  c["step_lr_default_gamma"] = {{0.3}, [](ToySgd& o) { return own(StepLR(o, {.step_size = 10})); }};
  c["multi_step_lr"] = {
      kLrs2, [](ToySgd& o) {
        return own(MultiStepLR(o, {.milestones = {10, 25, 25, 60}, .gamma = 0.3}));
      }};
  c["exponential_lr"] = {kLrs2, [](ToySgd& o) { return own(ExponentialLR(o, {.gamma = 0.97})); }};
  c["constant_lr"] = {
      kLrs2, [](ToySgd& o) { return own(ConstantLR(o, {.factor = 0.25, .total_iters = 8})); }};
  c["linear_lr_default"] = {{0.05}, [](ToySgd& o) { return own(LinearLR(o)); }};
  c["linear_lr"] = {
      kLrs2, [](ToySgd& o) {
        return own(LinearLR(o, {.start_factor = 0.05, .end_factor = 0.7, .total_iters = 30}));
      }};
  c["polynomial_lr_default"] = {{0.05}, [](ToySgd& o) { return own(PolynomialLR(o)); }};
  c["polynomial_lr"] = {
      kLrs2, [](ToySgd& o) { return own(PolynomialLR(o, {.total_iters = 50, .power = 2.0})); }};
  c["lambda_lr"] = {
      kLrs2, [](ToySgd& o) {
        return own(LambdaLR(o, {[](int64_t e) { return std::pow(0.95, double(e)); },
                                [](int64_t e) { return 1 / (1 + 0.1 * double(e)); }}));
      }};
  c["lambda_lr_single"] = {
      kLrs2, [](ToySgd& o) {
        return own(LambdaLR(o, [](int64_t e) { return 1 / (1 + 0.1 * double(e)); }));
      }};
  c["multiplicative_lr"] = {
      kLrs2, [](ToySgd& o) { return own(MultiplicativeLR(o, [](int64_t) { return 0.98; })); }};
  c["cosine_lr"] = {
      kLrs2, [](ToySgd& o) { return own(CosineAnnealingLR(o, {.t_max = 30, .eta_min = 0.001})); }};
  c["cosine_lr_default"] = {{0.1},
                            [](ToySgd& o) { return own(CosineAnnealingLR(o, {.t_max = 100})); }};
  c["warm_restarts"] = {
      kLrs2, [](ToySgd& o) {
        return own(CosineAnnealingWarmRestarts(o, {.t_0 = 10, .t_mult = 2, .eta_min = 1e-4}));
      }};
  c["warm_restarts_mult1"] = {
      {0.1}, [](ToySgd& o) { return own(CosineAnnealingWarmRestarts(o, {.t_0 = 15})); }};
  c["warm_restarts_fractional"] = {
      kLrs2, [](ToySgd& o) {
        return own(CosineAnnealingWarmRestarts(o, {.t_0 = 5, .t_mult = 3, .eta_min = 0.001}));
      }};
  c["cyclic_triangular"] = {
      kLrs2, [](ToySgd& o) {
        return own(
            CyclicLR(o, {.base_lr = {0.01, 0.002}, .max_lr = {0.1, 0.05}, .step_size_up = 10}));
      }};
  c["cyclic_triangular2"] = {kLrs2, [](ToySgd& o) {
                               return own(CyclicLR(o, {.base_lr = 0.001,
                                                       .max_lr = 0.01,
                                                       .step_size_up = 8,
                                                       .step_size_down = 12,
                                                       .mode = CyclicMode::Triangular2,
                                                       .base_momentum = 0.85,
                                                       .max_momentum = {0.95, 0.9}}));
                             }};
  c["cyclic_exp_range"] = {kLrs2, [](ToySgd& o) {
                             return own(CyclicLR(o, {.base_lr = 0.001,
                                                     .max_lr = 0.1,
                                                     .step_size_up = 15,
                                                     .mode = CyclicMode::ExpRange,
                                                     .gamma = 0.99}));
                           }};
  c["cyclic_no_momentum"] = {
      kLrs2, [](ToySgd& o) {
        return own(CyclicLR(
            o, {.base_lr = 0.01, .max_lr = 0.2, .step_size_up = 6, .cycle_momentum = false}));
      }};
  c["cyclic_scale_fn_cycle"] = {
      kLrs2, [](ToySgd& o) {
        return own(CyclicLR(
            o, {.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 5, .scale_fn = [](double x) {
                  return 0.5 * (1 + std::sin(x * std::numbers::pi / 2));
                }}));
      }};
  c["cyclic_scale_fn_iterations"] = {
      kLrs2, [](ToySgd& o) {
        return own(CyclicLR(o, {.base_lr = 0.01,
                                .max_lr = 0.1,
                                .step_size_up = 7,
                                .scale_fn = [](double x) { return 1 / (1 + 0.01 * x); },
                                .scale_mode = CyclicScaleMode::Iterations}));
      }};
  c["one_cycle_cos"] = {kLrs2, [](ToySgd& o) {
                          return own(OneCycleLR(o, {.max_lr = {0.1, 0.05}, .total_steps = 120}));
                        }};
  c["one_cycle_linear"] = {kLrs2, [](ToySgd& o) {
                             return own(OneCycleLR(o, {.max_lr = 0.2,
                                                       .epochs = 10,
                                                       .steps_per_epoch = 12,
                                                       .pct_start = 0.25,
                                                       .anneal_strategy = AnnealStrategy::Linear,
                                                       .base_momentum = 0.8,
                                                       .max_momentum = 0.9,
                                                       .div_factor = 10.0,
                                                       .final_div_factor = 100.0}));
                           }};
  c["one_cycle_three_phase"] = {
      kLrs2, [](ToySgd& o) {
        return own(OneCycleLR(o, {.max_lr = 0.1, .total_steps = 100, .three_phase = true}));
      }};
  c["one_cycle_no_momentum"] = {
      {0.1}, [](ToySgd& o) {
        return own(OneCycleLR(o, {.max_lr = 0.3, .total_steps = 150, .cycle_momentum = false}));
      }};
  c["sequential"] = {kLrs2, [](ToySgd& o) {
                       auto a = own(LinearLR(o, {.start_factor = 0.1, .total_iters = 10}));
                       auto b = own(CosineAnnealingLR(o, {.t_max = 90}));
                       return own(SequentialLR(o, list(std::move(a), std::move(b)), {10}));
                     }};
  c["sequential_three"] = {
      kLrs2, [](ToySgd& o) {
        auto a = own(ConstantLR(o, {.factor = 0.5, .total_iters = 5}));
        auto b = own(ExponentialLR(o, {.gamma = 0.9}));
        auto s = own(StepLR(o, {.step_size = 10, .gamma = 0.5}));
        return own(SequentialLR(o, list(std::move(a), std::move(b), std::move(s)), {5, 30}));
      }};
  c["warmup_then_cosine"] = {
      kLrs2, [](ToySgd& o) {
        return own(warmup_then(o, 20, CosineAnnealingLR(o, {.t_max = 100, .eta_min = 0.001})));
      }};
  c["warmup_then_step"] = {
      kLrs2, [](ToySgd& o) {
        return own(warmup_then(o, 8, StepLR(o, {.step_size = 15, .gamma = 0.5}), 0.3));
      }};
  c["chained"] = {kLrs2, [](ToySgd& o) {
                    auto a = own(ConstantLR(o, {.factor = 0.1, .total_iters = 2}));
                    auto b = own(ExponentialLR(o, {.gamma = 0.9}));
                    return own(ChainedScheduler(list(std::move(a), std::move(b))));
                  }};
  c["chained_cosine"] = {kLrs2, [](ToySgd& o) {
                           auto a = own(LinearLR(o, {.start_factor = 0.2, .total_iters = 10}));
                           auto b = own(CosineAnnealingLR(o, {.t_max = 50}));
                           return own(ChainedScheduler(list(std::move(a), std::move(b))));
                         }};
  return c;
}

// Max |a - b| / |b| over a (rows, groups) table, reporting where it is worst.
struct Worst {
  double rel = 0;
  int64_t row = -1, group = -1;
};

void track(Worst& w, double got, double want, int64_t row, int64_t group) {
  const double rel = want == 0 ? std::abs(got) : std::abs(got - want) / std::abs(want);
  if (!(rel <= w.rel)) w = {rel, row, group};  // NaN counts as worst
}

std::vector<std::string> case_names(const dt::Fixtures& fx) {
  std::set<std::string> names;
  for (const auto& [k, v] : fx) {
    if (k.ends_with(".lr")) names.insert(k.substr(0, k.size() - 3));
  }
  return {names.begin(), names.end()};
}

}  // namespace

TEST(SchedGolden, EverySchedulerMatchesTorch) {
  const dt::Fixtures fx = dt::read_fixtures(dt::test_data_path("golden/sched_lr.txt"));
  auto cases = lr_cases();
  std::set<std::string> seen;
  double worst_overall = 0;
  int64_t exact = 0, total = 0;
  for (const std::string& name : case_names(fx)) {
    SCOPED_TRACE(name);
    auto it = cases.find(name);
    ASSERT_NE(it, cases.end()) << "fixture case without a C++ builder";
    seen.insert(name);
    const Tensor want_lr = fx.at(name + ".lr");
    const int64_t rows = want_lr.size(0), groups = want_lr.size(1);
    ASSERT_EQ(size_t(groups), it->second.lrs.size());
    const auto lr = want_lr.to_vector<double>();
    const bool has_m = fx.contains(name + ".momentum");
    const auto mom = has_m ? fx.at(name + ".momentum").to_vector<double>() : std::vector<double>{};
    const bool has_epochs = fx.contains(name + ".epoch");
    const auto epochs =
        has_epochs ? fx.at(name + ".epoch").to_vector<double>() : std::vector<double>{};

    ToySgd opt = dt::toy_optimizer(it->second.lrs, 0.9);
    SchedulerPtr sched = it->second.build(opt);
    Worst w;
    for (int64_t r = 0; r < rows; ++r) {
      if (r > 0) {
        opt.step();
        if (has_epochs) {
          dynamic_cast<CosineAnnealingWarmRestarts&>(*sched).step(epochs[r - 1]);
        } else {
          sched->step();
        }
      }
      for (int64_t g = 0; g < groups; ++g) {
        const double want = lr[r * groups + g];
        track(w, opt.lr(g), want, r, g);
        EXPECT_EQ(sched->get_last_lr().at(g), opt.lr(g)) << "row " << r;
        exact += opt.lr(g) == want;
        ++total;
        if (has_m) track(w, *opt.momentum(g), mom[r * groups + g], r, g);
      }
    }
    EXPECT_LE(w.rel, kRelTol) << "worst at step " << w.row << " group " << w.group;
    worst_overall = std::max(worst_overall, w.rel);
  }
  EXPECT_EQ(seen.size(), cases.size()) << "a builder has no fixture case";
  RecordProperty("worst_rel", std::to_string(worst_overall));
  std::printf("sched golden: %zu cases, %lld/%lld lrs bit-identical, worst rel %.3g\n", seen.size(),
              (long long)exact, (long long)total, worst_overall);
}

TEST(SchedGolden, ReduceLROnPlateauMatchesTorch) {
  const dt::Fixtures fx = dt::read_fixtures(dt::test_data_path("golden/sched_plateau.txt"));
  using O = ReduceLROnPlateauOptions;
  const std::map<std::string, std::pair<std::vector<double>, O>> cases = {
      {"plateau_default", {kLrs2, O{.min_lr = {0.001, 0.0005}}}},
      {"plateau_min_abs_cooldown",
       {kLrs2, O{.factor = 0.5,
                 .patience = 3,
                 .threshold = 0.01,
                 .threshold_mode = ThresholdMode::Abs,
                 .cooldown = 4}}},
      {"plateau_max_rel",
       {kLrs2, O{.mode = PlateauMode::Max, .factor = 0.5, .patience = 2, .min_lr = 1e-3}}},
      {"plateau_max_abs",
       {{0.1},
        O{.mode = PlateauMode::Max,
          .factor = 0.7,
          .patience = 0,
          .threshold = 0.05,
          .threshold_mode = ThresholdMode::Abs}}},
      {"plateau_eps", {{1e-7}, O{.factor = 0.5, .patience = 1}}},
  };
  std::set<std::string> seen;
  for (const std::string& name : case_names(fx)) {
    SCOPED_TRACE(name);
    auto it = cases.find(name);
    ASSERT_NE(it, cases.end()) << "fixture case without a C++ builder";
    seen.insert(name);
    const auto metric = fx.at(name + ".metric").to_vector<double>();
    const Tensor want = fx.at(name + ".lr");
    const int64_t groups = want.size(1);
    const auto lr = want.to_vector<double>();
    ToySgd opt = dt::toy_optimizer(it->second.first);
    ReduceLROnPlateau sched(opt, it->second.second);
    int reductions = 0;
    for (size_t r = 0; r <= metric.size(); ++r) {
      if (r > 0) {
        const double before = opt.lr(0);
        sched.step(metric[r - 1]);
        reductions += opt.lr(0) != before;
      }
      for (int64_t g = 0; g < groups; ++g) {
        EXPECT_EQ(opt.lr(g), lr[r * groups + g]) << "step " << r << " group " << g;
      }
    }
    EXPECT_GT(reductions, 0) << "the case never reduces: it tests nothing";
  }
  EXPECT_EQ(seen.size(), cases.size());
}

// Saving mid-schedule and loading into a freshly built optimizer and scheduler continues
// bit-identically, for every case above (SequentialLR and ChainedScheduler included).
TEST(SchedResume, EveryCaseContinuesExactly) {
  const auto cases = lr_cases();
  for (const auto& [name, c] : cases) {
    SCOPED_TRACE(name);
    for (int64_t split : {1, 9, 37}) {
      const bool fractional = name == "warm_restarts_fractional";
      const auto advance = [&](ToySgd& opt, LRScheduler& s, int64_t i) {
        opt.step();
        if (fractional) {
          dynamic_cast<CosineAnnealingWarmRestarts&>(s).step(0.37 * double(i + 1));
        } else {
          s.step();
        }
      };
      ToySgd ref_opt = dt::toy_optimizer(c.lrs, 0.9);
      SchedulerPtr ref = c.build(ref_opt);
      ToySgd opt = dt::toy_optimizer(c.lrs, 0.9);
      SchedulerPtr first = c.build(opt);
      for (int64_t i = 0; i < split; ++i) {
        advance(ref_opt, *ref, i);
        advance(opt, *first, i);
      }
      const StateDict opt_state = opt.state_dict();
      const StateDict sched_state = first->state_dict();

      ToySgd resumed_opt = dt::toy_optimizer(c.lrs, 0.9);
      SchedulerPtr resumed = c.build(resumed_opt);
      resumed_opt.load_state_dict(opt_state);
      resumed->load_state_dict(sched_state);
      EXPECT_EQ(resumed->last_epoch(), ref->last_epoch());
      EXPECT_EQ(resumed->get_last_lr(), ref->get_last_lr());
      for (int64_t i = split; i < 100; ++i) {
        advance(ref_opt, *ref, i);
        advance(resumed_opt, *resumed, i);
        for (size_t g = 0; g < c.lrs.size(); ++g) {
          ASSERT_EQ(resumed_opt.lr(g), ref_opt.lr(g)) << "split " << split << " step " << i;
          ASSERT_EQ(resumed_opt.momentum(g), ref_opt.momentum(g)) << "split " << split;
        }
      }
    }
  }
}

TEST(SchedResume, ReduceLROnPlateauContinuesExactly) {
  const ReduceLROnPlateauOptions o{.factor = 0.5, .patience = 2, .cooldown = 3};
  const auto metric = [](int i) { return 1.0 / (1 + i % 7) + (i > 20 ? 0.5 : 0.0); };
  ToySgd ref_opt = dt::toy_optimizer(kLrs2);
  ReduceLROnPlateau ref(ref_opt, o);
  ToySgd opt = dt::toy_optimizer(kLrs2);
  ReduceLROnPlateau first(opt, o);
  for (int i = 0; i < 12; ++i) {
    ref.step(metric(i));
    first.step(metric(i));
  }
  ToySgd resumed_opt = dt::toy_optimizer(kLrs2);
  ReduceLROnPlateau resumed(resumed_opt, o);
  resumed_opt.load_state_dict(opt.state_dict());
  resumed.load_state_dict(first.state_dict());
  EXPECT_EQ(resumed.best(), ref.best());
  EXPECT_EQ(resumed.num_bad_epochs(), ref.num_bad_epochs());
  EXPECT_EQ(resumed.cooldown_counter(), ref.cooldown_counter());
  int changes = 0;
  for (int i = 12; i < 60; ++i) {
    const double before = ref_opt.lr(0);
    ref.step(metric(i));
    resumed.step(metric(i));
    changes += ref_opt.lr(0) != before;
    ASSERT_EQ(resumed_opt.lr(0), ref_opt.lr(0)) << i;
    ASSERT_EQ(resumed_opt.lr(1), ref_opt.lr(1)) << i;
  }
  EXPECT_GT(changes, 0);
}
