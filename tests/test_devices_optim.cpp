// The CUDA device against the CPU reference, part 5: every optimizer follows the CPU's
// trajectory for 20 steps on the same problem (f64 to 1e-10, f32 to 1e-5), two
// parameter groups, state included; and the GradScaler on the device: unscaling,
// skipped steps on inf/NaN gradients, growth and backoff of the scale, overflow of a
// scaled loss under autocast. Without a GPU every test reports SKIPPED
// (tests/testing/devices.h).
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "testing/devices.h"
#include "testing/objectives.h"

using namespace descent;
using descent::testing::DeviceTest;
using descent::testing::grad_tolerance;
using descent::testing::kExact;
using descent::testing::matches;
using descent::testing::on_device;
using descent::testing::Tolerance;
using descent::testing::tolerance;

namespace {

class DevicesOptim : public DeviceTest {};

// Builds an optimizer over group 0 and group 1 (the latter at half the lr).
using Factory =
    std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>, std::vector<Tensor>)>;

template <class Opt, class Options>
Factory make(Options options) {
  return [options](std::vector<Tensor> g0, std::vector<Tensor> g1) {
    auto opt = std::make_unique<Opt>(std::move(g0), options);
    opt->add_param_group(std::move(g1));
    opt->set_lr(0.5 * opt->lr(1), 1);
    return std::unique_ptr<optim::Optimizer>(std::move(opt));
  };
}

const std::vector<std::pair<std::string, Factory>>& optimizers() {
  using namespace optim;
  static const std::vector<std::pair<std::string, Factory>> all = {
      {"sgd", make<SGD>(SGDOptions{.lr = 0.05})},
      {"sgd momentum dampening weight_decay",
       make<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01})},
      {"sgd nesterov", make<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true})},
      {"gd weight_decay", make<GD>(GDOptions{.lr = 0.05, .weight_decay = 0.01})},
      {"rmsprop", make<RMSprop>(RMSpropOptions{.lr = 0.01})},
      {"rmsprop centered momentum weight_decay",
       make<RMSprop>(
           RMSpropOptions{.lr = 0.01, .weight_decay = 0.01, .momentum = 0.5, .centered = true})},
      {"adam", make<Adam>(AdamOptions{.lr = 0.01})},
      {"adam weight_decay maximize",
       make<Adam>(AdamOptions{.lr = 0.01, .weight_decay = 0.01, .maximize = true})},
      {"amsgrad", make<Adam>(AdamOptions{.lr = 0.01, .betas = {0.9, 0.99}, .amsgrad = true})},
      {"adamw", make<AdamW>(AdamWOptions{.lr = 0.01, .weight_decay = 0.1})},
      {"adamw amsgrad", make<AdamW>(AdamWOptions{.lr = 0.01, .amsgrad = true})},
      {"nadam", make<NAdam>(NAdamOptions{.lr = 0.01, .weight_decay = 0.01})},
      // 20 steps cross RAdam's switch from plain momentum to the rectified update.
      {"radam", make<RAdam>(RAdamOptions{.lr = 0.01})},
      {"adagrad",
       make<Adagrad>(AdagradOptions{
           .lr = 0.05, .lr_decay = 0.01, .weight_decay = 0.01, .initial_accumulator_value = 0.1})},
      {"adadelta", make<Adadelta>(AdadeltaOptions{.lr = 1.0, .weight_decay = 0.01})},
      {"adamax", make<Adamax>(AdamaxOptions{.lr = 0.01})},
      {"lion", make<Lion>(LionOptions{.lr = 1e-3, .weight_decay = 0.1})},
  };
  return all;
}

std::vector<Tensor> make_params(DType dt, bool large) {
  Generator gen(3);
  std::vector<Tensor> ps = {randn({4, 5}, {.dtype = dt}, &gen).requires_grad_(),
                            randn({7}, {.dtype = dt}, &gen).requires_grad_(),
                            randn({3, 1, 2}, {.dtype = dt}, &gen).requires_grad_()};
  // Many GPU blocks; f64 only: in f32 a Lion sign(·) of an update within rounding of 0
  // would flip somewhere among thousands of elements.
  if (large) ps.push_back(randn({5000}, {.dtype = dt}, &gen).requires_grad_());
  return ps;
}

std::vector<Tensor> clones(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

std::pair<std::vector<Tensor>, std::vector<Tensor>> groups(const std::vector<Tensor>& ps) {
  return {{ps.begin(), ps.begin() + 2}, {ps.begin() + 2, ps.end()}};
}

// A linear model y = x·wᵀ + b with its data, on one device, for the scaler tests.
struct Regression {
  Tensor w, b, x, y;
  Regression(Device d, double scale = 1.0) {
    Generator gen(17);
    w = randn({3, 4}, {}, &gen).to(d).detach().requires_grad_();
    b = zeros({3}, {.device = d, .requires_grad = true});
    x = (randn({8, 4}, {}, &gen) * scale).to(d);
    y = randn({8, 3}, {}, &gen).to(d);
  }
  Tensor loss() const { return F::mse_loss(F::linear(x, w, b), y); }
};

}  // namespace

TEST_F(DevicesOptim, EveryOptimizerFollowsTheCpuTrajectory) {
  for (DType dt : {DType::F64, DType::F32}) {
    const Tolerance tol = tolerance(dt);
    for (const auto& [name, factory] : optimizers()) {
      SCOPED_TRACE(fmt::format("{} {}", name, dt));
      const std::vector<Tensor> init = make_params(dt, dt == DType::F64);
      const std::vector<Tensor> cpu = clones(init), dev_params = on_device(init);
      auto [c0, c1] = groups(cpu);
      auto [d0, d1] = groups(dev_params);
      const auto opt_c = factory(c0, c1), opt_d = factory(d0, d1);
      for (int step = 0; step < 20; ++step) {
        opt_c->zero_grad();
        opt_d->zero_grad();
        descent::testing::smooth_loss_and_grad(cpu);
        descent::testing::smooth_loss_and_grad(dev_params);
        opt_c->step();
        opt_d->step();
      }
      for (size_t i = 0; i < cpu.size(); ++i) {
        SCOPED_TRACE(fmt::format("parameter {}", i));
        EXPECT_TRUE(matches(dev_params[i], cpu[i], tol));
        EXPECT_FALSE(matches(dev_params[i], init[i].to(dev_params[i].device()), kExact))
            << "the parameter did not move";
      }
      // Per-parameter state (moments, buffers) lives on the device and matches.
      const StateDict sc = opt_c->state_dict(), sd = opt_d->state_dict();
      EXPECT_EQ(sd.numbers, sc.numbers);
      ASSERT_EQ(sd.tensors.size(), sc.tensors.size());
      for (const auto& [key, t] : sc.tensors) {
        SCOPED_TRACE(key);
        ASSERT_TRUE(sd.tensors.count(key));
        EXPECT_TRUE(matches(sd.tensors.at(key), t, tol));
      }
    }
  }
}

// The scaler's state machine on the device, step by step against the CPU: finite steps
// grow the scale after growth_interval of them; an inf or NaN gradient skips the step
// (parameters untouched) and halves the scale.
TEST_F(DevicesOptim, GradScalerSkipsNonFiniteStepsGrowsAndBacksOff) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const amp::GradScalerOptions so{.init_scale = 1024.0, .growth_interval = 2};
  Regression rc(Device::CPU), rd(dev());
  optim::SGD opt_c({rc.w, rc.b}, {.lr = 0.1}), opt_d({rd.w, rd.b}, {.lr = 0.1});
  amp::GradScaler sc(so), sd(so);
  struct Step {
    double poison;  // written into one gradient element after backward; 0 = none
    bool steps;
    double scale_after;
  };
  const Step plan[] = {
      {0, true, 1024},    {0, true, 2048}, {inf, false, 1024}, {std::nan(""), false, 512},
      {-inf, false, 256}, {0, true, 256},  {0, true, 512}};
  for (size_t k = 0; k < std::size(plan); ++k) {
    SCOPED_TRACE(fmt::format("step {}", k));
    const Step& s = plan[k];
    const Tensor w_before = rd.w.detach().clone();
    for (auto [r, opt, scaler] : {std::tuple{&rc, &opt_c, &sc}, std::tuple{&rd, &opt_d, &sd}}) {
      opt->zero_grad();
      scaler->scale(r->loss()).backward();
      if (s.poison != 0) {
        NoGradGuard ng;
        r->w.grad().select(0, 1).narrow(0, 2, 1).fill_(s.poison);
      }
      EXPECT_EQ(scaler->step(*opt), s.steps);
      EXPECT_EQ(scaler->found_inf(*opt), !s.steps);
      scaler->update();
      EXPECT_EQ(scaler->get_scale(), s.scale_after);
    }
    EXPECT_EQ(sd.growth_tracker(), sc.growth_tracker());
    if (s.steps) {
      // Unscaled gradients, then the same update.
      EXPECT_TRUE(matches(rd.w.grad(), rc.w.grad()));
      EXPECT_TRUE(matches(rd.b.grad(), rc.b.grad()));
    } else {
      EXPECT_TRUE(matches(rd.w, w_before.to(Device::CPU), kExact)) << "a skipped step moved w";
    }
    EXPECT_TRUE(matches(rd.w, rc.w));
    EXPECT_TRUE(matches(rd.b, rc.b));
  }
}

// Under autocast (bf16 GEMMs) a scale large enough to overflow the f32 loss makes every
// gradient non-finite on the device: the step is skipped and the scale backs off until
// the gradients are finite, then training proceeds as on the CPU.
TEST_F(DevicesOptim, GradScalerBacksOffAnOverflowingScaleUnderAutocast) {
  Regression rc(Device::CPU, 10.0), rd(dev(), 10.0);
  optim::SGD opt_c({rc.w, rc.b}, {.lr = 1e-3}), opt_d({rd.w, rd.b}, {.lr = 1e-3});
  const amp::GradScalerOptions so{.init_scale = 1e38, .backoff_factor = 1e-4};
  amp::GradScaler sc(so), sd(so);
  int skipped_c = 0, skipped_d = 0;
  for (int k = 0; k < 6; ++k) {
    SCOPED_TRACE(fmt::format("step {}", k));
    for (auto [r, opt, scaler, skipped] :
         {std::tuple{&rc, &opt_c, &sc, &skipped_c}, std::tuple{&rd, &opt_d, &sd, &skipped_d}}) {
      opt->zero_grad();
      Tensor loss;
      {
        amp::Autocast cast(DType::BF16);
        loss = r->loss();
      }
      EXPECT_EQ(loss.dtype(), DType::F32);
      scaler->scale(loss).backward();
      EXPECT_EQ(r->w.grad().dtype(), DType::F32);
      if (!scaler->step(*opt)) ++*skipped;
      scaler->update();
    }
    EXPECT_EQ(sd.get_scale(), sc.get_scale());
  }
  EXPECT_GE(skipped_d, 1);  // 1e38 · loss overflows f32
  EXPECT_LT(skipped_d, 6);  // ... and the backoff recovers
  EXPECT_EQ(skipped_d, skipped_c);
  // bf16 gradients on both sides, a few steps: 16-bit gradient accuracy.
  EXPECT_TRUE(matches(rd.w, rc.w, grad_tolerance(DType::BF16)));
  EXPECT_TRUE(matches(rd.b, rc.b, grad_tolerance(DType::BF16)));
}
