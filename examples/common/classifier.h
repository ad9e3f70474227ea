#pragma once
// The training program the image-classifier examples share (mnist_mlp, mnist_cnn): data
// with a seeded validation split and normalisation, a choice of optimizer, schedule,
// gradient clipping, mixed precision, exact checkpoint/resume, early stopping, metrics
// CSVs and the training monitor; the test set is evaluated once, at the end, and the
// run ends with one `result:` line. An example builds its model and calls
//   examples::train_classifier("mnist_cnn", config, [] { return make_cnn(); });
// Inputs reach the model as the loader's (N, 784) rows; a model that wants images
// reshapes them itself.
#include <descent/descent.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "common/cli.h"
#include "common/divergence.h"
#include "common/optimizers.h"
#include "common/run_options.h"

namespace examples {

using namespace descent;

struct ClassifierConfig {
  std::string data = "datasets/fashion-mnist", optimizer = "adam", scheduler = "cosine";
  std::string amp = "off", device = "cpu", checkpoint, metrics, monitor_csv = "runs/monitor.csv";
  int monitor = 0;
  int crop_padding = 0;  // augmentation: random crops of the image padded by this much
  bool hflip = false;    // augmentation: random horizontal flips
  int epochs = 10, batch_size = 128, seed = 0, early_stopping = 0, stop_after = 0;
  long limit = 0;
  double lr = 0, clip = 0, val_fraction = 0.1;
  bool resume = false, detect_anomaly = false;
};

struct Eval {
  double loss = 0, acc = 0;
};

// Mean cross-entropy and accuracy over `ds`, in eval mode and without a graph.
inline Eval evaluate(nn::Module& model, const data::Dataset& ds, Device dev,
                     const std::optional<DType>& amp) {
  model.eval();
  NoGradGuard no_grad;
  double loss = 0, correct = 0;
  for (int64_t i = 0; i < ds.size(); i += 1000) {
    data::Batch b = ds.rows(i, std::min(ds.size(), i + 1000));
    Tensor x = b.x.to(dev), y = b.y.to(dev), logits;
    {
      amp::Autocast cast(amp.value_or(DType::BF16), amp.has_value());
      logits = model(x);
    }
    loss += F::cross_entropy(logits, y, {.reduction = F::Reduction::Sum}).item<double>();
    correct += eq(argmax(logits, 1), y).sum().item<double>();
  }
  model.train();
  return {loss / ds.size(), correct / ds.size()};
}

// The model comes from `make_model`, called after the seed is set (its init draws from
// the default generator) and before it is moved to the device.
inline int train_classifier(std::string_view program, const ClassifierConfig& c,
                            const std::function<std::shared_ptr<nn::Module>()>& make_model) {
  check(!c.resume || !c.checkpoint.empty(), program,
        "got --resume without --checkpoint, expected both");
  check(c.val_fraction > 0 || (c.early_stopping == 0 && c.scheduler != "plateau"), program,
        "--early-stopping and --scheduler plateau watch the validation loss, expected "
        "--val-fraction > 0");
  manual_seed(c.seed);
  const Device dev = c.device == "cuda" ? Device::CUDA : Device::CPU;
  data::Dataset train = data::Idx::load(c.data, data::Split::Train);
  data::Dataset test = data::Idx::load(c.data, data::Split::Test);
  if (c.limit > 0) {
    train = train.slice(0, std::min<int64_t>(c.limit, train.size()));
    test = test.slice(0, std::min<int64_t>(std::max<int64_t>(1, c.limit / 5), test.size()));
  }
  // The validation rows come out of the training set, drawn with the run's seed.
  data::Dataset val;
  const auto n_val = int64_t(std::llround(c.val_fraction * double(train.size())));
  check(c.val_fraction == 0 || (n_val > 0 && n_val < train.size()), program,
        "--val-fraction {} of {} training images leaves {} for validation, expected at least "
        "one image on each side",
        c.val_fraction, train.size(), n_val);
  if (n_val > 0) std::tie(val, train) = train.random_split(n_val, uint64_t(c.seed));
  const data::Normalization norm = train.compute_normalization();
  train = train.normalize(norm);
  test = test.normalize(norm);
  if (n_val > 0) val = val.normalize(norm);

  const std::shared_ptr<nn::Module> model_ptr = make_model();
  nn::Module& model = *model_ptr;
  model.to(dev);

  // Full-batch gradient descent: one batch is the whole training set.
  const int64_t batch = c.optimizer == "gd" ? train.size() : c.batch_size;
  // Augmentation on the loader's thread, seeded by (seed, epoch, batch): resumable. Crops
  // pad with the normalised value of a black pixel.
  std::function<data::Batch(data::Batch, data::BatchPosition)> augment;
  if (c.crop_padding > 0 || c.hflip)
    augment = data::ImageAugment({.shape = {1, 28, 28},
                                  .crop_padding = c.crop_padding,
                                  .pad_value = -norm.mean / norm.std,
                                  .horizontal_flip = c.hflip,
                                  .seed = uint64_t(c.seed)});
  data::DataLoader loader(
      train, {.batch_size = batch, .shuffle = true, .seed = uint64_t(c.seed), .augment = augment});
  auto opt = examples::make_optimizer(c.optimizer, model.parameters(), c.lr);
  examples::Schedule sched(c.scheduler, *opt,
                           {.epochs = c.epochs, .steps_per_epoch = loader.size()});
  const std::optional<DType> amp_dtype = c.amp == "bf16"  ? std::optional(DType::BF16)
                                         : c.amp == "f16" ? std::optional(DType::F16)
                                                          : std::nullopt;
  amp::GradScaler scaler({.enabled = c.amp == "f16"});  // f16 gradients underflow unscaled
  train::EarlyStopping stopper({.patience = std::max(1, c.early_stopping)});
  train::Progress progress;

  examples::RunOptions options({{"--optimizer", c.optimizer},
                                {"--lr", fmt::format("{}", opt->lr())},
                                {"--scheduler", c.scheduler},
                                {"--batch-size", fmt::format("{}", c.batch_size)},
                                {"--clip", fmt::format("{}", c.clip)},
                                {"--amp", c.amp},
                                {"--seed", fmt::format("{}", c.seed)},
                                {"--limit", fmt::format("{}", c.limit)},
                                {"--val-fraction", fmt::format("{}", c.val_fraction)},
                                {"--crop-padding", fmt::format("{}", c.crop_padding)},
                                {"--hflip", fmt::format("{}", c.hflip)},
                                {"--data", c.data}});

  const std::string ckpt = c.checkpoint.empty() ? "" : c.checkpoint + "/last.safetensors";
  const std::vector<train::Part> parts = {
      {"model", model},     {"optimizer", *opt}, {"scheduler", sched},   {"scaler", scaler},
      {"stopper", stopper}, {"loader", loader},  {"progress", progress}, {"options", options}};
  if (!ckpt.empty()) std::filesystem::create_directories(c.checkpoint);
  if (c.resume) {
    if (std::filesystem::exists(ckpt)) {
      train::load_checkpoint(ckpt, parts);
      std::cout << "resumed from " << ckpt << " after epoch " << progress.epoch << "\n";
    }
  }
  std::optional<train::MetricsWriter> epoch_csv, step_csv;
  if (!c.metrics.empty()) {
    std::filesystem::path p(c.metrics);
    const std::string steps = (p.parent_path() / (p.stem().string() + "_steps.csv")).string();
    if (c.resume) {  // continue the CSVs from the checkpoint's epoch and step
      epoch_csv.emplace(c.metrics, train::MetricsAppend{"epoch", double(progress.epoch)});
      step_csv.emplace(steps, train::MetricsAppend{"step", double(progress.step) - 1});
    } else {
      epoch_csv.emplace(c.metrics);
      step_csv.emplace(steps);
    }
  }

  // Gradient, weight, update and activation statistics every --monitor steps.
  std::optional<train::Monitor> monitor;
  if (c.monitor > 0)
    monitor.emplace(model, train::MonitorOptions{.every = c.monitor, .csv_path = c.monitor_csv});

  Eval last{};  // the last epoch's validation
  double train_loss = 0, epoch_s = 0;
  int run_epochs = 0;
  for (int64_t epoch = progress.epoch; epoch < c.epochs; ++epoch) {
    if (c.stop_after > 0 && run_epochs == c.stop_after) {
      std::cout << "stopping after " << run_epochs << " epoch(s) of this run (--stop-after)\n";
      return 0;
    }
    train::ProgressBar bar({.total = loader.size(), .epoch = epoch + 1, .epochs = c.epochs});
    const auto t0 = std::chrono::steady_clock::now();
    for (auto [x, y] : loader) {
      if (monitor) monitor->begin_step(progress.step);
      opt->zero_grad();
      Tensor loss;
      {
        amp::Autocast cast(amp_dtype.value_or(DType::BF16), amp_dtype.has_value());
        loss = F::cross_entropy(model(x.to(dev)), y.to(dev));
      }
      scaler.scale(loss).backward();
      if (c.clip > 0) {
        scaler.unscale_(*opt);
        nn::utils::clip_grad_norm_(model.parameters(), c.clip);
      }
      if (monitor) monitor->before_update();
      scaler.step(*opt);
      if (monitor) monitor->after_update();
      scaler.update();
      sched.after_step();
      const double l = loss.item<double>();
      examples::check_finite_loss(l, epoch + 1, progress.step);
      bar.update(l, x.size(0));
      if (step_csv) step_csv->write({{"epoch", epoch + 1}, {"step", progress.step}, {"loss", l}});
      ++progress.step;
    }
    epoch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.finish();
    train_loss = bar.mean_loss();
    if (val.size() > 0) last = evaluate(model, val, dev, amp_dtype);
    const double lr = opt->lr();
    sched.after_epoch(last.loss);
    progress.epoch = epoch + 1;
    ++run_epochs;
    std::cout << fmt::format("epoch {}: train_loss={:.4f} val_loss={:.4f} val_acc={:.4f} {:.2f}s\n",
                             epoch + 1, train_loss, last.loss, last.acc, epoch_s);
    if (epoch_csv)
      epoch_csv->write({{"epoch", epoch + 1},
                        {"train_loss", train_loss},
                        {"val_loss", last.loss},
                        {"val_acc", last.acc},
                        {"lr", lr},
                        {"epoch_s", epoch_s}});
    // The snapshot is the model's state dict: BatchNorm's running statistics belong to
    // the best weights.
    const bool stop = c.early_stopping > 0 && stopper.step(last.loss, model);
    if (!ckpt.empty()) train::save_checkpoint(ckpt, parts);
    if (stop) {
      std::cout << "early stopping: best val_loss at epoch " << stopper.best_epoch() + 1
                << ", its weights restored\n";
      break;
    }
  }
  const Eval test_eval = evaluate(model, test, dev, amp_dtype);  // once, at the end
  std::cout << train::format_result({{"test_acc", test_eval.acc},
                                     {"test_loss", test_eval.loss},
                                     {"train_loss", train_loss},
                                     {"epoch_s", epoch_s},
                                     {"samples_per_s", epoch_s > 0 ? train.size() / epoch_s : 0}})
            << "\n";
  return 0;
}

// The flags of ClassifierConfig, bound to `c` (its values are the defaults shown).
inline void add_classifier_flags(Cli& cli, ClassifierConfig& c) {
  cli.add("--data", c.data, "folder with the four idx files");
  cli.add("--epochs", c.epochs, "passes over the training set")->check(positive());
  cli.add("--batch-size", c.batch_size, "examples per step (gd uses the whole set)")
      ->check(positive());
  cli.choice("--optimizer", c.optimizer, examples::optimizer_names(), "update rule");
  cli.add("--lr", c.lr, "learning rate (default: the optimizer's)")
      ->check(positive())
      ->default_str("");
  cli.choice("--scheduler", c.scheduler, examples::scheduler_names(), "learning-rate schedule");
  cli.add("--clip", c.clip, "max gradient norm; 0 = no clipping")->check(non_negative());
  cli.choice("--amp", c.amp, {"off", "bf16", "f16"}, "mixed precision (f16 uses loss scaling)");
  cli.choice("--device", c.device, {"cpu", "cuda"}, "where to train");
  cli.add("--checkpoint", c.checkpoint, "folder for last.safetensors, saved every epoch");
  cli.flag("--resume", c.resume, "continue from --checkpoint when it holds one");
  cli.add("--val-fraction", c.val_fraction,
          "training images held out (seeded) for validation, early stopping and plateau")
      ->check(examples::probability());
  cli.add("--early-stopping", c.early_stopping, "patience in epochs on val loss; 0 = off")
      ->check(non_negative());
  cli.add("--metrics", c.metrics, "per-epoch CSV (per-step rows go to <name>_steps.csv)");
  cli.add("--monitor", c.monitor,
          "record gradient/weight/update/activation statistics every K steps; 0 = off")
      ->check(non_negative());
  cli.add("--monitor-csv", c.monitor_csv, "where --monitor writes its CSV");
  cli.add("--crop-padding", c.crop_padding,
          "augment: random 28×28 crops of the image padded by N pixels; 0 = off")
      ->check(non_negative());
  cli.flag("--hflip", c.hflip, "augment: mirror each training image with probability 1/2");
  cli.add("--seed", c.seed, "seed for the init and the shuffles")->check(non_negative());
  cli.add("--limit", c.limit, "use the first N training and N/5 test examples; 0 = all")
      ->check(non_negative());
  cli.add("--stop-after", c.stop_after, "leave after N epochs of this run, as if interrupted")
      ->check(non_negative());
  cli.flag("--detect-anomaly", c.detect_anomaly,
           "name the first op whose output or gradient is NaN/inf (slower)");
}

}  // namespace examples
