// The training loop the README shows, line for line, on a synthetic stand-in for
// Fashion-MNIST (so it needs no data files): it must compile against the public API,
// train, and leave a checkpoint that loads back.
#include <filesystem>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

// 10 Gaussian clusters in 784 dimensions, labels 0..9.
data::Dataset synthetic_images(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor labels = randint(0, 10, {n}, {.dtype = DType::I64}, &gen);
  Tensor centers = randn({10, 784}, {}, &gen);
  return data::Dataset(index_select(centers, 0, labels) + randn({n, 784}, {}, &gen), labels);
}

double accuracy(nn::Module& model, const data::Dataset& ds) {
  NoGradGuard no_grad;
  model.eval();
  Tensor pred = argmax(model(ds.inputs()), 1);
  model.train();
  return eq(pred, ds.targets()).to(DType::F32).mean().item<double>();
}

}  // namespace

TEST(ReadmeExample, TrainsWithAmpClippingSchedulesAndCheckpoints) {
  auto train = synthetic_images(2048, 1);  // README: data::Idx::load("datasets/fashion-mnist", ...)
  data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});

  nn::Sequential model(nn::Linear(784, 512), nn::BatchNorm1d(512), nn::ReLU(), nn::Linear(512, 10));
  nn::init::kaiming_normal_(model, nn::init::Nonlinearity::ReLU);

  optim::AdamW opt(model.parameters(), {.lr = 1e-3, .weight_decay = 1e-2});
  auto sched =
      optim::warmup_then(opt, /*warmup_steps=*/4, optim::CosineAnnealingLR(opt, {.t_max = 12}));
  amp::GradScaler scaler;

  const double before = accuracy(model, train);
  for (auto [x, y] : loader) {
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
  }
  const double after = accuracy(model, train);
  EXPECT_GT(after, 0.9) << "accuracy before training " << before;

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
  EXPECT_DOUBLE_EQ(accuracy(fresh, train), after);
  EXPECT_EQ(opt2.lr(), opt.lr());
  EXPECT_EQ(scaler2.get_scale(), scaler.get_scale());
}
