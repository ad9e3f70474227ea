// EarlyStopping: every branch (improvement, min_delta, Min/Max, patience 0, NaN
// metrics, staying stopped), in-place restoration of the best parameters, state-dict
// round trip and errors.
#include <descent/nn.h>
#include <descent/train/early_stopping.h>

#include <cmath>

#include "testing/gradcheck.h"

using namespace descent;
using namespace descent::optim;
using namespace descent::train;
using descent::testing::all_close;

namespace {

Tensor param(std::vector<double> v) {
  Tensor p = from_vector<double>(v);
  p.requires_grad_();
  return p;
}

void set_values(const Tensor& p, std::vector<double> v) {
  NoGradGuard g;
  Tensor t = p;
  t.copy_(from_vector<double>(v));
}

}  // namespace

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStopping s({.patience = 2, .restore_best = false});
  EXPECT_FALSE(s.step(1.0));
  EXPECT_EQ(s.best(), 1.0);
  EXPECT_EQ(s.best_epoch(), 0);
  EXPECT_FALSE(s.step(0.8));  // improvement resets the counter
  EXPECT_EQ(s.epochs_without_improvement(), 0);
  EXPECT_FALSE(s.step(0.9));
  EXPECT_EQ(s.epochs_without_improvement(), 1);
  EXPECT_TRUE(s.step(0.85));
  EXPECT_TRUE(s.should_stop());
  EXPECT_EQ(s.best(), 0.8);
  EXPECT_EQ(s.best_epoch(), 1);
  EXPECT_EQ(s.epoch(), 4);
  EXPECT_TRUE(s.step(0.1));  // stays stopped, though it records the better value
  EXPECT_EQ(s.best(), 0.1);
}

TEST(EarlyStopping, MinDeltaAndMaxMode) {
  EarlyStopping min({.patience = 1, .min_delta = 0.1, .restore_best = false});
  min.step(1.0);
  EXPECT_FALSE(min.is_better(0.95));  // not by more than min_delta
  EXPECT_TRUE(min.is_better(0.85));
  EXPECT_TRUE(min.step(0.95));
  EarlyStopping max({.patience = 3, .min_delta = 0.01, .mode = EarlyStoppingMode::Max});
  EXPECT_FALSE(max.step(0.5));
  EXPECT_FALSE(max.step(0.6));
  EXPECT_EQ(max.best(), 0.6);
  EXPECT_FALSE(max.step(0.605));
  EXPECT_FALSE(max.step(0.2));
  EXPECT_TRUE(max.step(0.609));
}

TEST(EarlyStopping, PatienceZeroStopsAtFirstNonImprovement) {
  EarlyStopping s({.patience = 0});
  EXPECT_FALSE(s.step(3.0));
  EXPECT_FALSE(s.step(2.0));
  EXPECT_TRUE(s.step(2.0));
}

TEST(EarlyStopping, NanNeverImproves) {
  EarlyStopping s({.patience = 2});
  EXPECT_FALSE(s.step(std::nan("")));
  EXPECT_EQ(s.best_epoch(), -1);
  EXPECT_TRUE(std::isinf(s.best()));
  EXPECT_FALSE(s.step(1.0));
  EXPECT_FALSE(s.step(std::nan("")));
  EXPECT_TRUE(s.step(std::nan("")));
}

TEST(EarlyStopping, RestoresBestParametersInPlace) {
  Tensor w = param({1, 2}), b = param({3});
  const Tensor w_alias = w;  // in place: other handles see the restored values
  EarlyStopping s({.patience = 2});
  s.step(5.0, {w, b});
  set_values(w, {10, 20});
  set_values(b, {30});
  s.step(4.0, {w, b});  // best: snapshot {10, 20}, {30}
  EXPECT_TRUE(s.has_snapshot());
  set_values(w, {-1, -1});
  set_values(b, {-1});
  EXPECT_FALSE(s.step(4.5, {w, b}));
  EXPECT_EQ(w.to_vector<double>(), (std::vector<double>{-1, -1}));  // not yet
  EXPECT_TRUE(s.step(4.2, {w, b}));
  EXPECT_EQ(w_alias.to_vector<double>(), (std::vector<double>{10, 20}));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{30}));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_FALSE(w.grad_fn());  // still a leaf: the restore records no graph
}

TEST(EarlyStopping, WithoutRestoreBestKeepsTheLastValues) {
  Tensor w = param({1});
  EarlyStopping s({.patience = 1, .restore_best = false});
  s.step(1.0, {w});
  set_values(w, {7});
  EXPECT_TRUE(s.step(2.0, {w}));
  EXPECT_FALSE(s.has_snapshot());
  EXPECT_EQ(w.item<double>(), 7.0);
}

TEST(EarlyStopping, StateDictRoundTripContinuesTheSame) {
  Tensor w = param({1, 2});
  EarlyStopping a({.patience = 3});
  a.step(2.0, {w});
  set_values(w, {5, 6});
  a.step(1.0, {w});
  a.step(1.5, {w});
  const StateDict saved = a.state_dict();
  EXPECT_EQ(saved.tensors.at("best_params.0").to_vector<double>(), (std::vector<double>{5, 6}));

  EarlyStopping b({.patience = 3});
  b.load_state_dict(saved);
  EXPECT_EQ(b.best(), 1.0);
  EXPECT_EQ(b.best_epoch(), 1);
  EXPECT_EQ(b.epochs_without_improvement(), 1);
  EXPECT_EQ(b.epoch(), 3);
  set_values(w, {0, 0});
  EXPECT_FALSE(b.step(1.2, {w}));
  EXPECT_TRUE(b.step(1.1, {w}));  // third epoch without improvement, as `a` would
  EXPECT_EQ(w.to_vector<double>(), (std::vector<double>{5, 6}));
  // A fresh one (infinite best) round-trips too.
  EarlyStopping c;
  c.load_state_dict(EarlyStopping().state_dict());
  EXPECT_TRUE(std::isinf(c.best()));
}

TEST(EarlyStopping, Errors) {
  EXPECT_THROW_MSG(EarlyStopping({.patience = -1}),
                   "EarlyStopping: patience must be non-negative, got -1");
  EXPECT_THROW_MSG(EarlyStopping({.min_delta = -0.5}),
                   "EarlyStopping: min_delta must be non-negative, got -0.5");
  EarlyStopping s({.patience = 1});
  EXPECT_THROW_MSG(s.restore_best(std::vector<Tensor>{}),
                   "EarlyStopping.restore_best: no snapshot taken yet");
  Tensor w = param({1, 2});
  s.step(1.0, {w});
  EXPECT_THROW_MSG(s.step(2.0, {w, w}),
                   "EarlyStopping.restore_best: got 2 parameters, expected 1 (as in the snapshot)");
  EXPECT_FALSE(s.should_stop());  // the failed restore did not stop it
  EXPECT_THROW_MSG(s.restore_best({param({1, 2, 3})}),
                   "EarlyStopping.restore_best: parameter 0 has shape [3], expected [2]");
  StateDict other;
  other.strings["type"] = "step_lr";
  EXPECT_THROW_MSG(s.load_state_dict(other),
                   "early_stopping.load_state_dict: state dict is for a step_lr, expected a "
                   "early_stopping");
  StateDict partial = s.state_dict();
  partial.numbers.erase("wait");
  EXPECT_THROW_MSG(s.load_state_dict(partial),
                   "early_stopping.load_state_dict: state dict has no number 'wait'");
}

TEST(EarlyStopping, AModuleSnapshotRestoresBuffersWithTheWeights) {
  nn::Sequential model(nn::Linear(3, 4), nn::BatchNorm1d(4));
  auto bn_mean = [&] { return model.state_dict().tensors.at("1.running_mean"); };
  auto weight = [&] { return model.state_dict().tensors.at("0.weight"); };
  model(randn({8, 3}));  // running statistics move away from 0
  const Tensor best_mean = bn_mean().clone(), best_weight = weight().clone();
  EarlyStopping s({.patience = 1});
  EXPECT_FALSE(s.step(1.0, model));  // the best epoch: snapshot
  {
    NoGradGuard g;
    Tensor w = weight();
    add_(w, ones(w.shape()));
  }
  model(randn({8, 3}) + 5.0);  // a worse epoch changes weights and statistics
  ASSERT_FALSE(all_close(bn_mean(), best_mean));
  EXPECT_TRUE(s.step(2.0, model));  // stop: both come back
  EXPECT_TRUE(all_close(bn_mean(), best_mean, 0, 0));
  EXPECT_TRUE(all_close(weight(), best_weight, 0, 0));
  // A model of another shape is refused by name.
  nn::Sequential other(nn::Linear(3, 5), nn::BatchNorm1d(5));
  EXPECT_THROW_MSG(s.restore_best(other), "EarlyStopping.restore_best");
}
