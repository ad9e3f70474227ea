// The data path end to end on the real MNIST digits (skipped when scripts/get-data has
// not run): Idx::load → normalisation from the training split → shuffled, prefetched
// DataLoader → softmax regression trained with plain SGD → test accuracy, with the
// progress bar and the metrics CSV in the loop.
#include <descent/data.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/gradcheck.h"

using namespace descent;

TEST(DataTrain, SoftmaxRegressionOnMnistDigitsThroughTheLoader) {
  const auto root = std::filesystem::path(DESCENT_DATASETS_DIR);
  const std::string dir = (root / "mnist").string();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " missing: run scripts/get-data";
  data::Dataset train = data::Idx::load(dir, data::Split::Train);
  data::Dataset test = data::Idx::load(dir, data::Split::Test);
  const data::Normalization stats = train.compute_normalization();
  train = train.normalize(stats);
  test = test.normalize(stats);

  Generator gen(0);
  Tensor w = (randn({10, 784}, {}, &gen) * 0.01).detach().requires_grad_();
  Tensor b = zeros({10}, {.requires_grad = true});
  data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 0});
  const auto csv_path = std::filesystem::temp_directory_path() / "descent_train" / "steps.csv";
  train::MetricsWriter csv(csv_path.string());
  std::ostringstream log;
  int64_t step = 0;
  double first_epoch_loss = 0, last_epoch_loss = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    train::ProgressBar bar({.total = loader.size(), .epoch = epoch + 1, .epochs = 3, .out = &log});
    for (auto [x, y] : loader) {
      w.set_grad({});
      b.set_grad({});
      Tensor loss = F::cross_entropy(F::linear(x, w, b), y);
      loss.backward();
      {
        NoGradGuard no_grad;
        add_(w, w.grad(), -0.1);
        add_(b, b.grad(), -0.1);
      }
      bar.update(loss.item(), x.size(0));
      csv.write({{"step", double(++step)}, {"epoch", double(epoch)}, {"loss", loss.item()}});
    }
    bar.finish();
    (epoch == 0 ? first_epoch_loss : last_epoch_loss) = bar.mean_loss();
  }
  EXPECT_LT(last_epoch_loss, first_epoch_loss);
  EXPECT_EQ(csv.rows(), 3 * loader.size());
  EXPECT_EQ(loader.epoch(), 3);
  EXPECT_NE(log.str().find("epoch 3/3 batch 125/125 (100%)"), std::string::npos) << log.str();

  NoGradGuard no_grad;
  const Tensor pred = argmax(F::linear(test.inputs(), w, b), 1);
  const double acc = eq(pred, test.targets()).to(DType::F64).mean().item();
  // Softmax regression gets about 90% on MNIST; well above chance (10%) shows images,
  // labels, normalisation and batching line up.
  const std::string result =
      train::format_result({{"test_acc", acc}, {"last_epoch_loss", last_epoch_loss}});
  std::printf("%s\n", result.c_str());
  EXPECT_GT(acc, 0.85) << result;
  std::filesystem::remove_all(csv_path.parent_path());
}
