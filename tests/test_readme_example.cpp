// The training loop the README shows, line for line, on the first 2,048 Fashion-MNIST
// training images (scripts/get-data; scripts/test fetches them): it must compile
// against the public API, train, follow the warmup-then-cosine schedule step by step,
// leave the loss scaler in the state 16 finite steps give, and write a checkpoint that
// loads back.
#include <cmath>
#include <filesystem>
#include <numbers>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

double accuracy(nn::Module& model, const data::Dataset& ds) {
  NoGradGuard no_grad;
  model.eval();
  const double acc = train::accuracy(model(ds.inputs()), ds.targets());
  model.train();
  return acc;
}

}  // namespace

TEST(ReadmeExample, TrainsWithAmpClippingSchedulesAndCheckpoints) {
  const std::string dir = std::string(DESCENT_DATASETS_DIR) + "/fashion-mnist";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is missing: run scripts/get-data";
  // README: data::Idx::load("datasets/fashion-mnist", data::Split::Train), here a slice.
  auto train = data::Idx::load(dir, data::Split::Train).slice(0, 2048);
  auto test = data::Idx::load(dir, data::Split::Test).slice(0, 1000);
  data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});

  manual_seed(0);
  nn::Sequential model(nn::Linear(784, 512), nn::BatchNorm1d(512), nn::ReLU(), nn::Linear(512, 10));
  nn::init::kaiming_normal_(model, nn::init::Nonlinearity::ReLU);

  optim::AdamW opt(model.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
  auto sched =
      optim::warmup_then(opt, /*warmup_steps=*/4, optim::CosineAnnealingLR(opt, {.t_max = 12}));
  amp::GradScaler scaler;

  // The lr each step trains with: LinearLR from 1/4 to 1 over 4 steps, then cosine
  // annealing from 1e-3 to 0 over 12 (torch's formulas).
  auto expected_lr = [](int k) {
    if (k < 4) return 1e-3 * (0.25 + 0.75 * k / 4.0);
    return 1e-3 * (1 + std::cos(std::numbers::pi * (k - 4) / 12.0)) / 2;
  };
  const double before = accuracy(model, test);
  int step = 0;
  for (auto [x, y] : loader) {
    EXPECT_NEAR(opt.lr(), expected_lr(step), 1e-15) << "step " << step;
    opt.zero_grad();
    Tensor loss;
    {
      amp::Autocast cast(DType::BF16);
      loss = F::cross_entropy(model(x), y);
    }
    scaler.scale(loss).backward();
    scaler.unscale_(opt);
    nn::utils::clip_grad_norm_(model.parameters(), 1.0);
    scaler.step(opt);
    scaler.update();
    sched.step();
    ++step;
  }
  ASSERT_EQ(step, 16);
  EXPECT_NEAR(opt.lr(), 0.0, 1e-15);  // the end of the cosine
  // Every step was finite: the scale is still the initial 2^16, 16 steps into growth.
  EXPECT_EQ(scaler.get_scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 16);
  EXPECT_EQ(scaler.consecutive_skipped(), 0);
  const double after = accuracy(model, test);
  EXPECT_GT(after, 0.65) << "test accuracy before training " << before;

  const std::string path =
      (std::filesystem::temp_directory_path() / "descent_readme_ckpt.safetensors").string();
  train::save_checkpoint(
      path, {{"model", model}, {"optimizer", opt}, {"scheduler", sched}, {"scaler", scaler}});
  nn::Sequential fresh(nn::Linear(784, 512), nn::BatchNorm1d(512), nn::ReLU(), nn::Linear(512, 10));
  optim::AdamW opt2(fresh.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
  auto sched2 = optim::warmup_then(opt2, 4, optim::CosineAnnealingLR(opt2, {.t_max = 12}));
  amp::GradScaler scaler2;
  train::load_checkpoint(
      path, {{"model", fresh}, {"optimizer", opt2}, {"scheduler", sched2}, {"scaler", scaler2}});
  EXPECT_DOUBLE_EQ(accuracy(fresh, test), after);
  EXPECT_EQ(scaler2.growth_tracker(), 16);
  EXPECT_EQ(opt2.lr(), opt.lr());
  EXPECT_EQ(scaler2.get_scale(), scaler.get_scale());
}
