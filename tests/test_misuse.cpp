// Misuse and faults that must end in a clear descent::Error or a visible report, never a
// crash or a silent wrong answer: undefined tensors, graphs deeper than any stack,
// overflowing shapes, a loss scaler that never sees a finite gradient, damaged
// checkpoint numbers.
#include <descent/amp.h>
#include <descent/optim.h>
#include <descent/train.h>

#include <cmath>
#include <functional>
#include <limits>

#include "testing/gradcheck.h"

using namespace descent;

TEST(UndefinedTensor, AccessorsThrowNamingThemselves) {
  const Tensor t;
  EXPECT_THROW_MSG((void)t.numel(), "numel: tensor is undefined");
  EXPECT_THROW_MSG((void)t.shape(), "shape: tensor is undefined");
  EXPECT_THROW_MSG((void)t.size(0), "size: tensor is undefined");
  EXPECT_THROW_MSG((void)t.stride(0), "stride: tensor is undefined");
  EXPECT_THROW_MSG((void)t.dim(), "dim: tensor is undefined");
  EXPECT_THROW_MSG((void)t.dtype(), "dtype: tensor is undefined");
  EXPECT_THROW_MSG((void)t.device(), "device: tensor is undefined");
  EXPECT_THROW_MSG((void)t.storage(), "storage: tensor is undefined");
  EXPECT_THROW_MSG((void)t.is_contiguous(), "tensor is undefined");
  EXPECT_THROW_MSG((void)t.raw_data(), "raw_data: tensor is undefined");
  EXPECT_THROW_MSG((void)t.requires_grad(), "requires_grad: tensor is undefined");
  EXPECT_THROW_MSG((void)t.is_leaf(), "is_leaf: tensor is undefined");
  EXPECT_THROW_MSG((void)t.item<float>(), "tensor is undefined");
  EXPECT_THROW_MSG((void)t.data<float>(), "data: tensor is undefined");
  Tensor u;
  EXPECT_THROW_MSG(u.set_grad(zeros({1})), "set_grad: tensor is undefined");
  EXPECT_FALSE(u.grad().defined());  // no gradient: undefined, not an error
}

TEST(UndefinedTensor, OpsAndViewsThrow) {
  const Tensor t, x = ones({2});
  EXPECT_THROW(add(t, x), Error);
  EXPECT_THROW(add(x, t), Error);
  EXPECT_THROW(t.reshape({1}), Error);
  EXPECT_THROW(t.transpose(0, 1), Error);
  EXPECT_THROW(t.contiguous(), Error);
  EXPECT_THROW(t.clone(), Error);
  EXPECT_THROW(sum(t), Error);
  EXPECT_THROW(t.backward(), Error);
}

// A chain as long as a recurrence stepped over a long sequence: freeing it must not
// recurse once per node (it overflowed the stack at ~150k nodes).
TEST(DeepGraph, AMillionNodesAreFreedWithoutRecursion) {
  Tensor x = ones({1}, {.requires_grad = true});
  {
    Tensor total = x;
    for (int i = 0; i < 1'000'000; ++i) total = total * 1.0;
    EXPECT_NE(total.grad_fn(), nullptr);
  }  // the whole chain is released here
  EXPECT_TRUE(x.requires_grad());
}

TEST(DeepGraph, BackwardThroughALongChainAndFreeingItAfterwards) {
  Tensor x = full({2}, 1.0, {.dtype = DType::F64, .requires_grad = true});
  Tensor total = zeros({2}, {.dtype = DType::F64});
  for (int i = 0; i < 200'000; ++i) total = total + x;  // also saves nothing: all edges
  sum(total).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{200000, 200000}));
  total = Tensor();
}

// Element counts that overflow int64 are refused where the shape is made, not turned
// into a wrapped-around allocation that a later write overruns.
TEST(ShapeOverflow, FactoriesViewsAndOneHotRefuseIt) {
  const int64_t big = int64_t(1) << 32;
  EXPECT_THROW_MSG(zeros({big, big}), "empty: shape [4294967296, 4294967296] has more elements");
  EXPECT_THROW_MSG(empty({int64_t(1) << 62, 4}), "has more elements than an int64 can count");
  EXPECT_THROW_MSG(empty({int64_t(1) << 61}, {.dtype = DType::F64}), "has more bytes");
  EXPECT_THROW_MSG(ones({4}).expand({int64_t(1) << 62, 4}), "expand: shape");
  EXPECT_THROW_MSG(F::one_hot(from_vector<int64_t>({0, 1, 2}), int64_t(1) << 62), "more elements");
  EXPECT_THROW_MSG(zeros({2, -3}), "negative dimension");
  // Large but countable expands stay views.
  EXPECT_EQ(ones({1}).expand({int64_t(1) << 40}).numel(), int64_t(1) << 40);
}

// A scaler whose gradients are never finite backs off to its floor, not to 0, counts the
// skipped steps and says so once per streak.
TEST(GradScalerFloor, BacksOffToTheFloorCountsAndWarnsOnce) {
  Tensor p = zeros({2}, {.requires_grad = true});
  optim::SGD opt({p}, {.lr = 0.1});
  amp::GradScaler scaler({.init_scale = 1.0, .min_scale = 0.25, .warn_after_skipped = 3});
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 6; ++i) {
    p.set_grad(full({2}, std::numeric_limits<double>::infinity()));
    EXPECT_FALSE(scaler.step(opt));
    scaler.update();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(scaler.get_scale(), 0.25);  // 1 → 0.5 → 0.25, then held
  EXPECT_EQ(scaler.consecutive_skipped(), 6);
  EXPECT_NE(err.find("GradScaler: 3 steps in a row skipped"), std::string::npos) << err;
  EXPECT_EQ(err.find("steps in a row", err.find("steps in a row") + 1), std::string::npos) << err;
  p.set_grad(ones({2}));
  EXPECT_TRUE(scaler.step(opt));
  scaler.update();
  EXPECT_EQ(scaler.consecutive_skipped(), 0);
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{-0.4f, -0.4f}));  // grad 1 / 0.25
  EXPECT_THROW_MSG(amp::GradScaler({.min_scale = 0}), "min_scale must be in (0, init_scale]");
}

// Numbers read back from a checkpoint are held to the constructors' rules.
TEST(CheckpointNumbers, OutOfRangeValuesAreRefusedNamingTheKey) {
  train::Progress progress;
  StateDict s = progress.state_dict();
  s.numbers["epoch"] = std::nan("");
  EXPECT_THROW_MSG(progress.load_state_dict(s), "'epoch' is nan, expected a whole number");
  s.numbers["epoch"] = 2.5;
  EXPECT_THROW_MSG(progress.load_state_dict(s), "'epoch' is 2.5");
  s.numbers["epoch"] = -1;
  EXPECT_THROW(progress.load_state_dict(s), Error);
  s.numbers["epoch"] = 3;
  progress.load_state_dict(s);
  EXPECT_EQ(progress.epoch, 3);

  amp::GradScaler scaler;
  const StateDict good = scaler.state_dict();
  for (const auto& [key, bad] : std::vector<std::pair<std::string, double>>{
           {"scale", 0.0},
           {"scale", std::numeric_limits<double>::infinity()},
           {"growth_interval", 0.0},
           {"growth_tracker", 5000.0},
           {"backoff_factor", 1.0},
           {"enabled", 2.0}}) {
    StateDict d = good;
    d.numbers[key] = bad;
    EXPECT_THROW(scaler.load_state_dict(d), Error) << key << " = " << bad;
  }
  EXPECT_EQ(scaler.get_scale(), 65536.0);  // untouched by the failed loads

  Tensor p = zeros({1}, {.requires_grad = true});
  optim::SGD opt({p});
  optim::StepLR sched(opt, {.step_size = 2});
  StateDict d = sched.state_dict();
  d.numbers["last_epoch"] = 1e300;
  EXPECT_THROW_MSG(sched.load_state_dict(d), "'last_epoch' is 1e+300");

  optim::ReduceLROnPlateau plateau(opt);
  StateDict pl = plateau.state_dict();
  pl.numbers["num_bad_epochs"] = -1;
  EXPECT_THROW_MSG(plateau.load_state_dict(pl), "'num_bad_epochs' is -1");

  train::EarlyStopping stop;
  StateDict e = stop.state_dict();
  e.numbers["wait"] = -4;
  EXPECT_THROW_MSG(stop.load_state_dict(e), "'wait' is -4");
}

// In-place changes to a tensor the graph saved are an error at backward, as PyTorch's
// version counters make them; changes to tensors no node saved are fine.
TEST(VersionCounter, ModifyingASavedTensorInPlaceIsAnErrorAtBackward) {
  Tensor a = from_vector<float>({1, 2, 3}).requires_grad_();
  Tensor b = a * 1.0;
  Tensor c = sum(b * b);  // mul saves b
  b.fill_(100);
  EXPECT_THROW_MSG(c.backward(),
                   "mul: input 0 saved for backward was modified by an in-place "
                   "operation after the forward (its version is 1, backward "
                   "expected 0)");
  for (auto modify : std::vector<std::function<void(Tensor&)>>{
           [](Tensor& t) { t.zero_(); }, [](Tensor& t) { t.copy_(ones({3})); },
           [](Tensor& t) { add_(t, ones({3})); }, [](Tensor& t) { mul_(t, 2.0); },
           [](Tensor& t) { t.narrow(0, 1, 1).fill_(5); },  // through a view
       }) {
    Tensor x = a * 1.0;
    Tensor y = sum(x + 2.0);  // add saves nothing
    Tensor e = sum(x * x);
    {
      NoGradGuard no_grad;  // add_ and mul_ refuse tensors that require grad otherwise
      modify(x);
    }
    EXPECT_THROW_MSG(e.backward(), "saved for backward was modified");
    EXPECT_NO_THROW(y.backward());
  }
}

TEST(VersionCounter, UnsavedInputsMayChangeAndSavedOutputsAreChecked) {
  Tensor a = from_vector<double>({1, 2}).requires_grad_();
  Tensor b = a * 1.0;
  Tensor c = sum(b + 1.0);  // add saves nothing
  b.fill_(7);
  c.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 1}));

  Tensor y = (a * 1.0).exp();  // exp saves its output
  Tensor s = sum(y);
  {
    NoGradGuard no_grad;
    y.fill_(0);
  }
  EXPECT_THROW_MSG(s.backward(), "exp: output 0 saved for backward was modified");
}

// An optimizer step between forward and backward changes the weights a matmul saved.
TEST(VersionCounter, AnOptimizerStepBetweenForwardAndBackwardIsCaught) {
  Tensor w = from_vector<float>({1, 2, 3, 4}).reshape({2, 2}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  Tensor x = ones({1, 2});
  Tensor first = sum(matmul(x, w));
  Tensor second = sum(matmul(x, w) * 2.0);
  first.backward();
  opt.step();
  EXPECT_THROW_MSG(second.backward(), "saved for backward was modified");
  // A fresh forward after the step is fine.
  w.set_grad(Tensor());
  sum(matmul(x, w)).backward();
  EXPECT_TRUE(w.grad().defined());
}
