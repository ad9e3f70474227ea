// The optimizer family's behaviour around the update rules (the rules themselves are
// checked against torch.optim in test_optim_golden.cpp): option validation, parameter
// groups and their defaults, lr / momentum access, skipped parameters, step(closure),
// bit-exact resume through state_dict for every optimizer, load errors, f32 against
// f64, the parallel path against the serial one, and the kernels' own checks. Resume and
// stepping run once per device (cpu, cuda); the API and kernel checks are CPU-only.
#include <descent/backends/cpu/loops.h>
#include <descent/optim.h>
#include <descent/optim/update_batch.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "testing/devices.h"
#include "testing/gradcheck.h"
#include "testing/objectives.h"

using namespace descent;
using namespace descent::optim;

namespace {

// Drawn on the CPU (the same values for every device), then moved to `dev`.
std::vector<Tensor> make_params(DType dtype, uint64_t seed = 3, Device dev = Device::CPU) {
  Generator gen(seed);
  // The second one is above the kernels' parallel threshold.
  return {randn({4, 5}, {.dtype = dtype}, &gen).to(dev).requires_grad_(),
          randn({cpu::kParallelThreshold + 1000}, {.dtype = dtype}, &gen).to(dev).requires_grad_(),
          randn({7}, {.dtype = dtype}, &gen).to(dev).requires_grad_()};
}

std::vector<Tensor> clones(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

// Same shape, dtype and bytes; a and b may live on any device.
bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.to(Device::CPU).contiguous().raw_data(),
                     b.to(Device::CPU).contiguous().raw_data(),
                     size_t(a.numel()) * a.element_size()) == 0;
}

void run_steps(Optimizer& opt, const std::vector<Tensor>& params, int n) {
  for (int i = 0; i < n; ++i) {
    opt.zero_grad();
    descent::testing::smooth_loss_and_grad(params);
    opt.step();
  }
}

// N steps, state_dict, a fresh optimizer (other options on purpose), load, N steps:
// bit-identical to 2N straight steps, in two groups.
template <class Opt, class Options>
void expect_resume_exact(const Options& options, DType dtype, Device dev, int n = 5) {
  SCOPED_TRACE(std::string(Opt::kName) + " " + std::string(dtype_name(dtype)));
  const std::vector<Tensor> init = make_params(dtype, 3, dev);
  auto groups = [](const std::vector<Tensor>& ps) {
    return std::pair{std::vector<Tensor>{ps[0], ps[1]}, std::vector<Tensor>{ps[2]}};
  };

  std::vector<Tensor> straight = clones(init);
  auto [s0, s1] = groups(straight);
  Opt a(s0, options);
  a.add_param_group(s1);
  a.set_lr(0.5 * a.lr(1), 1);
  run_steps(a, straight, 2 * n);

  std::vector<Tensor> first = clones(init);
  auto [f0, f1] = groups(first);
  Opt b(f0, options);
  b.add_param_group(f1);
  b.set_lr(0.5 * b.lr(1), 1);
  run_steps(b, first, n);
  const StateDict saved = b.state_dict();
  const std::vector<Tensor> resumed = clones(first);  // the parameters at the snapshot
  run_steps(b, first, 1);                             // the snapshot must not see later steps

  auto [r0, r1] = groups(resumed);
  Opt c(r0, Options{});
  c.add_param_group(r1);
  c.load_state_dict(saved);
  EXPECT_EQ(c.lr(1), a.lr(1));
  run_steps(c, resumed, n);

  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_TRUE(bitwise_equal(resumed[i].detach(), straight[i].detach())) << "param " << i;
    // And the run moved the parameter at all.
    EXPECT_FALSE(bitwise_equal(straight[i].detach(), init[i].detach())) << "param " << i;
  }
  const StateDict end_a = a.state_dict(), end_c = c.state_dict();
  ASSERT_EQ(end_a.tensors.size(), end_c.tensors.size());
  for (const auto& [k, t] : end_a.tensors) {
    EXPECT_TRUE(bitwise_equal(t, end_c.tensors.at(k))) << k;
  }
  EXPECT_EQ(end_a.numbers, end_c.numbers);
}

class OptimResume : public descent::testing::PerDeviceTest {};
class OptimStep : public descent::testing::PerDeviceTest {};

}  // namespace

// ---- resume exactness, every optimizer ------------------------------------------------------
TEST_P(OptimResume, EveryOptimizerF32AndF64) {
  for (DType dt : {DType::F32, DType::F64}) {
    expect_resume_exact<GD>(GDOptions{.lr = 0.05, .weight_decay = 0.01}, dt, dev());
    expect_resume_exact<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true}, dt, dev());
    expect_resume_exact<SGD>(
        SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}, dt, dev());
    expect_resume_exact<RMSprop>(
        RMSpropOptions{.lr = 0.01, .weight_decay = 0.01, .momentum = 0.5, .centered = true}, dt,
        dev());
    expect_resume_exact<Adam>(AdamOptions{.lr = 0.01, .amsgrad = true}, dt, dev());
    expect_resume_exact<AdamW>(AdamWOptions{.lr = 0.01}, dt, dev());
    expect_resume_exact<NAdam>(NAdamOptions{.lr = 0.01, .weight_decay = 0.01}, dt, dev());
    // RAdam switches to the rectified step at step 6: the resume crosses it.
    expect_resume_exact<RAdam>(RAdamOptions{.lr = 0.01}, dt, dev());
    expect_resume_exact<Adagrad>(AdagradOptions{.lr = 0.1, .lr_decay = 0.01}, dt, dev());
    expect_resume_exact<Adadelta>(AdadeltaOptions{.weight_decay = 0.01}, dt, dev());
    expect_resume_exact<Adamax>(AdamaxOptions{.lr = 0.01}, dt, dev());
    expect_resume_exact<Lion>(LionOptions{.lr = 1e-3, .weight_decay = 0.1}, dt, dev());
  }
}

// ---- validation ---------------------------------------------------------------------------
// CPU-only, as the groups below: options and groups are handled the same for every device.
TEST(OptimOptions, InvalidOptionsNameOptimizerFieldAndValue) {
  std::vector<Tensor> ps = {zeros({3}, {.requires_grad = true})};
  EXPECT_THROW_MSG(SGD(ps, {.lr = -0.1}), "sgd: invalid lr: got -0.1, expected a value >= 0");
  EXPECT_THROW_MSG(SGD(ps, {.momentum = -1}), "sgd: invalid momentum: got -1");
  EXPECT_THROW_MSG(SGD(ps, {.weight_decay = -1e-3}), "sgd: invalid weight_decay: got -0.001");
  EXPECT_THROW_MSG(SGD(ps, {.nesterov = true}),
                   "sgd: nesterov momentum requires a momentum > 0 and zero dampening");
  EXPECT_THROW_MSG(SGD(ps, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                   "got momentum 0.9 and dampening 0.1");
  EXPECT_THROW_MSG(GD(ps, {.lr = -1}), "gd: invalid lr: got -1");
  EXPECT_THROW_MSG(RMSprop(ps, {.alpha = 1.5}),
                   "rmsprop: invalid alpha: got 1.5, expected a value in [0, 1]");
  EXPECT_THROW_MSG(RMSprop(ps, {.eps = 0}), "rmsprop: invalid eps: got 0, expected a value > 0");
  EXPECT_THROW_MSG(RMSprop(ps, {.momentum = -0.5}), "rmsprop: invalid momentum: got -0.5");
  EXPECT_THROW_MSG(Adam(ps, {.betas = {1.0, 0.999}}),
                   "adam: invalid beta1: got 1, expected a value in [0, 1)");
  EXPECT_THROW_MSG(Adam(ps, {.betas = {0.9, -0.1}}), "adam: invalid beta2: got -0.1");
  EXPECT_THROW_MSG(Adam(ps, {.eps = -1e-8}), "adam: invalid eps: got -1e-08");
  EXPECT_THROW_MSG(AdamW(ps, {.weight_decay = -0.01}), "adamw: invalid weight_decay: got -0.01");
  EXPECT_THROW_MSG(NAdam(ps, {.momentum_decay = -1}), "nadam: invalid momentum_decay: got -1");
  EXPECT_THROW_MSG(RAdam(ps, {.lr = -1}), "radam: invalid lr: got -1");
  EXPECT_THROW_MSG(Adagrad(ps, {.lr_decay = -1}), "adagrad: invalid lr_decay: got -1");
  EXPECT_THROW_MSG(Adagrad(ps, {.initial_accumulator_value = -1}),
                   "adagrad: invalid initial_accumulator_value: got -1");
  EXPECT_THROW_MSG(Adadelta(ps, {.rho = 1.1}), "adadelta: invalid rho: got 1.1");
  EXPECT_THROW_MSG(Adamax(ps, {.eps = 0}), "adamax: invalid eps: got 0");
  EXPECT_THROW_MSG(Lion(ps, {.betas = {0.9, 1.0}}), "lion: invalid beta2: got 1");
  // Later changes are validated too.
  Adam adam(ps);
  EXPECT_THROW_MSG(adam.set_lr(-1.0), "adam: invalid lr: got -1");
  EXPECT_THROW_MSG(adam.set_momentum(1.0, 0), "adam: invalid beta1: got 1");
  EXPECT_THROW_MSG(adam.add_param_group({zeros({2}, {.requires_grad = true})},
                                        [](AdamOptions& o) { o.eps = 0.0; }),
                   "adam: invalid eps: got 0");
  EXPECT_EQ(adam.num_groups(), 1u);
}

TEST(OptimOptions, BadParameterLists) {
  Tensor p = zeros({3}, {.requires_grad = true});
  EXPECT_THROW_MSG(SGD(std::vector<Tensor>{}), "sgd: got an empty parameter list for group 0");
  EXPECT_THROW_MSG(Adam({p, p}), "adam: parameter 1 of group 0 appears in more than one");
  Adam adam({p});
  EXPECT_THROW_MSG(adam.add_param_group({p}), "parameter 0 of group 1 appears in more than one");
  EXPECT_THROW_MSG(SGD({zeros({3}, {.dtype = DType::I64})}),
                   "sgd: parameter 0 of group 0 has dtype i64, expected f32 or f64");
  EXPECT_THROW_MSG(SGD({zeros({3, 4}).t()}), "sgd: parameter 0 of group 0 must be contiguous");
  EXPECT_THROW_MSG(adam.lr(3), "adam: group 3 out of range (1 groups)");
}

// ---- groups, defaults, lr and momentum ------------------------------------------------------
TEST(OptimGroups, AGroupStartsFromACopyOfTheDefaults) {
  Tensor a = zeros({2}, {.requires_grad = true}), b = zeros({2}, {.requires_grad = true});
  SGD sgd({a}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  sgd.add_param_group({b}, [](SGDOptions& o) {
    o.lr = 0.5;
    o.nesterov = true;
  });
  ASSERT_EQ(sgd.num_groups(), 2u);
  EXPECT_EQ(sgd.options(1).lr, 0.5);
  EXPECT_TRUE(sgd.options(1).nesterov);
  EXPECT_EQ(sgd.options(1).momentum, 0.9);  // from the defaults
  EXPECT_EQ(sgd.options(1).weight_decay, 0.01);
  EXPECT_EQ(sgd.parameters().size(), 2u);
  EXPECT_TRUE(sgd.params(1)[0].is_same(b));

  AdamW adamw({a}, {.lr = 2e-3});
  EXPECT_EQ(adamw.options().weight_decay, 1e-2);  // AdamW's default, unlike Adam's 0
  EXPECT_EQ(Adam({b}).options().weight_decay, 0.0);
  adamw.add_param_group({b}, [](AdamWOptions& o) { o.betas = {0.5, 0.9}; });
  EXPECT_EQ(adamw.lr(1), 2e-3);
  EXPECT_EQ(adamw.momentum(1), 0.5);
}

TEST(OptimGroups, LrAndMomentumAccessors) {
  Tensor a = zeros({2}, {.requires_grad = true}), b = zeros({2}, {.requires_grad = true});
  RMSprop rms({a}, {.lr = 0.1, .momentum = 0.3});
  rms.add_param_group({b}, [](RMSpropOptions& o) { o.lr = 0.2; });
  rms.set_lr(0.05);  // every group
  EXPECT_EQ(rms.lr(0), 0.05);
  EXPECT_EQ(rms.lr(1), 0.05);
  rms.set_lr(0.07, 1);
  EXPECT_EQ(rms.lr(0), 0.05);
  EXPECT_EQ(rms.lr(1), 0.07);
  EXPECT_EQ(rms.momentum(1), 0.3);
  rms.set_momentum(0.8, 1);
  EXPECT_EQ(rms.options(1).momentum, 0.8);
  EXPECT_EQ(rms.options(0).momentum, 0.3);

  Optimizer& base = rms;  // through the interface schedulers use
  base.set_lr(0.01);
  EXPECT_EQ(base.lr(1), 0.01);
  NAdam nadam({a});
  EXPECT_EQ(nadam.momentum(0), 0.9);
  Adagrad adagrad({b});
  EXPECT_EQ(adagrad.momentum(0), std::nullopt);  // nothing for a scheduler to cycle
  EXPECT_EQ(adagrad.name(), "adagrad");
}

// ---- stepping -----------------------------------------------------------------------------
TEST_P(OptimStep, ParametersWithoutGradientsAreSkipped) {
  Tensor a = ones({3}, {.device = dev(), .requires_grad = true});
  Tensor b = ones({3}, {.device = dev(), .requires_grad = true});
  Adam adam({a, b}, {.lr = 0.1});
  (a * 2.0).sum().backward();
  adam.step();
  EXPECT_EQ(adam.state(0).step, 1);
  EXPECT_EQ(adam.state(1).step, 0);
  EXPECT_FALSE(adam.state(1).exp_avg.defined());
  EXPECT_EQ(b.detach().to_vector<float>(), std::vector<float>(3, 1.f));
  // Adam's first step moves by lr·sign(g) (up to eps).
  for (float v : a.detach().to_vector<float>()) EXPECT_NEAR(v, 0.9f, 1e-6f);
  // The state dict only holds initialised states.
  const StateDict d = adam.state_dict();
  EXPECT_TRUE(d.tensors.count("state.0.exp_avg"));
  EXPECT_FALSE(d.tensors.count("state.1.exp_avg"));
  EXPECT_FALSE(d.numbers.count("state.1.step"));
}

TEST_P(OptimStep, ClosureIsEvaluatedThenStepped) {
  Tensor x = full({1}, 3.0, {.dtype = DType::F64, .device = dev(), .requires_grad = true});
  GD gd({x}, {.lr = 0.25});
  int calls = 0;
  const double loss = gd.step([&] {
    ++calls;
    gd.zero_grad();
    Tensor l = (x * x).sum();
    l.backward();
    return l.item<double>();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loss, 9.0);
  EXPECT_EQ(x.detach().item<double>(), 3.0 - 0.25 * 6.0);
}

TEST_P(OptimStep, NonContiguousGradientsAreUsedAsValues) {
  Tensor a = ones({2, 3}, {.device = dev(), .requires_grad = true});
  Tensor b = ones({2, 3}, {.device = dev(), .requires_grad = true});
  Tensor g = arange(6.0, {.device = dev()}).reshape({3, 2}).t();  // (2, 3), not contiguous
  ASSERT_FALSE(g.is_contiguous());
  a.set_grad(g);
  b.set_grad(g.contiguous());
  SGD sa({a}, {.lr = 0.1, .momentum = 0.9});
  SGD sb({b}, {.lr = 0.1, .momentum = 0.9});
  sa.step();
  sb.step();
  EXPECT_TRUE(bitwise_equal(a.detach(), b.detach()));
}

// CPU-only: checked before dispatch, the same for every device.
TEST(OptimStepCpu, MismatchedGradientThrows) {
  Tensor a = ones({3}, {.requires_grad = true});
  Adam adam({a});
  a.impl()->grad = zeros({3}, {.dtype = DType::F64}).impl_ptr();
  EXPECT_THROW_MSG(adam.step(), "adam: gradient of shape [3] and dtype f64 does not match");
}

TEST_P(OptimStep, F32FollowsF64) {
  const std::vector<Tensor> p64 = make_params(DType::F64, 3, dev());
  std::vector<Tensor> p32;
  for (const Tensor& p : p64) p32.push_back(p.detach().to(DType::F32).requires_grad_());
  Adam a64(p64, {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true});
  Adam a32(p32, {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true});
  run_steps(a64, p64, 20);
  run_steps(a32, p32, 20);
  for (size_t i = 0; i < p64.size(); ++i) {
    EXPECT_TRUE(
        descent::testing::all_close(p32[i].detach().to(DType::F64), p64[i].detach(), 1e-5, 1e-5));
  }
}

// Elements of the parallel path (a big tensor) get exactly what the serial path (small
// tensors with the same values) gives them. CPU-only: the split is the CPU kernels'.
TEST(OptimStepCpu, ParallelPathMatchesSerialPath) {
  const int64_t small = 1000, reps = cpu::kParallelThreshold / small + 8;
  Generator gen(11);
  Tensor p_small = randn({small}, {}, &gen).requires_grad_();
  const Tensor g_small = randn({small}, {}, &gen);
  Tensor p_big = cat(std::vector<Tensor>(size_t(reps), p_small.detach()), 0).requires_grad_();
  const Tensor g_big = cat(std::vector<Tensor>(size_t(reps), g_small), 0);
  ASSERT_GT(p_big.numel(), cpu::kParallelThreshold);
  RMSprop a({p_small}, {.lr = 0.01, .momentum = 0.9, .centered = true});
  RMSprop b({p_big}, {.lr = 0.01, .momentum = 0.9, .centered = true});
  for (int step = 0; step < 3; ++step) {
    p_small.set_grad(g_small * double(step + 1));
    p_big.set_grad(g_big * double(step + 1));
    a.step();
    b.step();
  }
  for (int64_t r = 0; r < reps; ++r) {
    ASSERT_TRUE(bitwise_equal(p_big.detach().narrow(0, r * small, small), p_small.detach()))
        << "chunk " << r;
  }
}

// ---- state dict -----------------------------------------------------------------------------
// CPU-only: the state dict's keys and load checks are the same for every device.
TEST(OptimStateDict, KeysCoverSlotsStepsAndGroupOptions) {
  std::vector<Tensor> ps = make_params(DType::F32);
  RMSprop rms({ps[0]}, {.lr = 0.01, .momentum = 0.5, .centered = true});
  rms.add_param_group({ps[1], ps[2]}, [](RMSpropOptions& o) { o.alpha = 0.9; });
  run_steps(rms, ps, 2);
  const StateDict d = rms.state_dict();
  EXPECT_EQ(d.strings.at("optimizer"), "rmsprop");
  EXPECT_EQ(d.numbers.at("num_groups"), 2);
  EXPECT_EQ(d.numbers.at("group.1.num_params"), 2);
  EXPECT_EQ(d.numbers.at("group.1.alpha"), 0.9);
  EXPECT_EQ(d.numbers.at("group.0.centered"), 1);
  for (int i = 0; i < 3; ++i) {
    const std::string s = "state." + std::to_string(i) + ".";
    EXPECT_EQ(d.numbers.at(s + "step"), 2);
    for (const char* slot : {"square_avg", "grad_avg", "momentum_buffer"}) {
      ASSERT_TRUE(d.tensors.count(s + slot)) << s + slot;
      EXPECT_EQ(d.tensors.at(s + slot).shape(), ps[size_t(i)].shape());
    }
  }
  // A snapshot, not a view of the live state.
  EXPECT_FALSE(d.tensors.at("state.0.square_avg").storage() == rms.state(0).square_avg.storage());
}

TEST(OptimStateDict, LoadChecksNameGroupsParamsAndSlots) {
  std::vector<Tensor> ps = make_params(DType::F32);
  Adam adam({ps[0], ps[1]});
  adam.add_param_group({ps[2]});
  run_steps(adam, ps, 1);
  const StateDict good = adam.state_dict();

  Adam other({ps[0], ps[1]});
  other.add_param_group({ps[2]});
  SGD sgd({ps[0]});
  EXPECT_THROW_MSG(sgd.load_state_dict(good), "sgd: state dict is for optimizer 'adam'");
  Adam one_group({ps[0], ps[1], ps[2]});
  EXPECT_THROW_MSG(one_group.load_state_dict(good),
                   "adam: state dict has 2 parameter groups, expected 1");
  StateDict bad = good;
  bad.numbers["group.0.num_params"] = 3;
  EXPECT_THROW_MSG(other.load_state_dict(bad), "adam: state dict group 0 has 3 parameters");
  bad = good;
  bad.tensors["state.2.exp_avg"] = zeros({8});
  EXPECT_THROW_MSG(other.load_state_dict(bad),
                   "state 'state.2.exp_avg' has shape [8] and dtype f32, expected the "
                   "parameter's [7] and f32");
  bad = good;
  bad.tensors.erase("state.1.exp_avg_sq");
  EXPECT_THROW_MSG(other.load_state_dict(bad),
                   "adam: state dict has no tensor 'state.1.exp_avg_sq'");
  bad = good;
  bad.numbers["group.1.beta2"] = 1.5;
  EXPECT_THROW_MSG(other.load_state_dict(bad), "adam: invalid beta2: got 1.5");
  bad = good;
  bad.numbers.erase("group.0.eps");
  EXPECT_THROW_MSG(other.load_state_dict(bad), "adam: state dict has no number 'group.0.eps'");
  // A failed load leaves the optimizer as it was; a good one then works.
  EXPECT_EQ(other.state(0).step, 0);
  other.load_state_dict(good);
  EXPECT_EQ(other.state(0).step, 1);
}

// ---- the kernels' own contract checks ----------------------------------------------------------
// CPU-only, as the batching below: they drive the CPU backend directly.
// Runs one update of `rule` through the backend's optimizer slot.
template <class Rule>
void run_one(Update<Rule> u) {
  backend_for(u.param).optimizer_step(std::span<const Update<Rule>>(&u, 1));
}

TEST(OptimKernels, ContractViolationsThrow) {
  Tensor p = zeros({4}), g = zeros({5}), m = zeros({4});
  EXPECT_THROW_MSG(run_one(Update<SgdRule>{p, g, {}, {.lr = 0.1}}),
                   "sgd_update: got grad of shape [5], expected the param's [4]");
  EXPECT_THROW_MSG(run_one(Update<AdamRule>{p, zeros({4}, {.dtype = DType::F64}), {m, m, {}}, {}}),
                   "adam_update: got grad of dtype f64, expected the param's f32");
  const Tensor h = zeros({4}, {.dtype = DType::BF16});
  EXPECT_THROW_MSG(run_one(Update<LionRule>{h, h, {h}, {}}),
                   "lion_update: got param dtype bf16, expected f32 or f64");
  EXPECT_THROW_MSG(run_one(Update<RmspropRule>{p, zeros({4}), {m, {}, {}}, {.centered = true}}),
                   "rmsprop_update: grad_avg is undefined");
  // A slot the rule does not use may be absent.
  run_one(Update<RmspropRule>{p, zeros({4}), {m, {}, {}}, {.lr = 0.1, .alpha = 0.9, .eps = 1e-8}});
}

// ---- multi-tensor batching (optim/update_batch.h) ----------------------------------

TEST(UpdateBatch, RunsTheCollectedUpdatesWhenFlushed) {
  Tensor p = ones({3}), g = from_vector<float>({1, 2, 3});
  optim::UpdateBatch batch;
  const auto sgd = [&] { batch.add(Update<SgdRule>{p, g, {}, {.lr = 0.5}}); };
  sgd();
  sgd();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{1, 1, 1}));  // nothing ran yet
  batch.flush();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0, -1, -2}));  // both ran, in order
  batch.flush();                                                     // nothing left to run
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0, -1, -2}));
}

TEST(UpdateBatch, AppliesTheGradScale) {
  Tensor p = ones({2}), g = from_vector<float>({2, 4});
  optim::UpdateBatch batch;
  batch.add(Update<SgdRule>{p, g, {}, {.lr = 1.0, .grad_scale = 0.25}});
  batch.flush();
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0.5, 0}));
}

INSTANTIATE_PER_DEVICE(OptimResume);
INSTANTIATE_PER_DEVICE(OptimStep);

TEST(OptimGroups, ParamGroupsListsEachGroupsParametersAndOptions) {
  const Tensor a = zeros({2}, {.requires_grad = true}), b = zeros({3}, {.requires_grad = true});
  optim::SGD opt({a}, {.lr = 0.1, .momentum = 0.9});
  opt.add_param_group({b}, [](optim::SGDOptions& o) { o.lr = 0.01; });
  const auto& groups = opt.param_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params.size(), 1u);
  EXPECT_EQ(groups[1].params[0].numel(), 3);
  EXPECT_EQ(groups[0].options.lr, 0.1);
  EXPECT_EQ(groups[1].options.lr, 0.01);
  EXPECT_EQ(groups[1].options.momentum, 0.9);  // copied from the defaults
  opt.set_lr(0.5, 1);
  EXPECT_EQ(opt.param_groups()[1].options.lr, 0.5);
}
