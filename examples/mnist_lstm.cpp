// Row-by-row sequence classifier on (Fashion-)MNIST: each 28×28 image is read as 28
// time steps of 28 pixels by an LSTM (hidden 128); its last hidden state feeds
// Linear(128, 10).
//
//   build/examples/mnist_lstm --data datasets/fashion-mnist --epochs 5
//   build/examples/mnist_lstm --amp --limit 2000 --epochs 2     # a quick bf16 run
//
// Prints a progress bar per epoch, the test loss and accuracy after each epoch, and
// ends with "result: test_acc=... test_loss=... first_loss=... last_loss=... epoch_s=...".
#include <descent/descent.h>

#include <chrono>
#include <memory>
#include <optional>

#include "common/cli.h"
#include "common/divergence.h"
#include "common/optimizers.h"

using namespace descent;

namespace {

constexpr int64_t kRows = 28, kCols = 28, kClasses = 10;

class RowLstm : public nn::Module {
 public:
  RowLstm(int64_t hidden, Generator* gen) {
    lstm_ = register_module(
        "lstm", std::make_shared<nn::LSTM>(kCols, hidden,
                                           nn::LSTMOptions{.batch_first = true, .generator = gen}));
    fc_ = register_module(
        "fc", std::make_shared<nn::Linear>(hidden, kClasses, nn::LinearOptions{.generator = gen}));
  }
  // x: (N, 784) → logits (N, 10).
  Tensor forward(const Tensor& x) override {
    const F::LstmOutput out = (*lstm_)(x.reshape({-1, kRows, kCols}), {});
    return (*fc_)(out.h_n.select(0, 0));  // h_n: (1, N, H), the last step of the one layer
  }

 private:
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> fc_;
};

struct Eval {
  double loss = 0, acc = 0;
};

Eval evaluate(RowLstm& model, const data::Dataset& test, int64_t batch_size, bool amp) {
  NoGradGuard no_grad;
  model.eval();
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < test.size(); start += batch_size) {
    const data::Batch b = test.rows(start, std::min(test.size(), start + batch_size));
    Tensor logits;
    {
      amp::Autocast cast(DType::BF16, amp);
      logits = model(b.x);
    }
    logits = logits.to(DType::F32);
    loss_sum += F::cross_entropy(logits, b.y).item<double>() * double(b.x.size(0));
    const auto pred = argmax(logits, 1).to_vector<int64_t>();
    const auto truth = b.y.to_vector<int64_t>();
    for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
  }
  model.train();
  return {loss_sum / double(test.size()), double(correct) / double(test.size())};
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "datasets/fashion-mnist", optimizer = "adam", scheduler = "none", metrics;
  int epochs = 5, batch_size = 128, hidden = 128, limit = 0, seed = 0, monitor_every = 0;
  std::string monitor_csv = "runs/mnist_lstm_monitor.csv";
  double lr = 0, clip = 1.0;  // lr 0: the optimizer's default
  bool use_amp = false, detect_anomaly = false;
  examples::Cli cli("mnist_lstm", "Classifies (Fashion-)MNIST images read row by row by an LSTM.");
  cli.add("--data", data_dir, "folder with the IDX files (scripts/get-data)");
  cli.add("--epochs", epochs, "passes over the training set")->check(examples::positive());
  cli.add("--batch-size", batch_size, "examples per step")->check(examples::positive());
  cli.add("--hidden", hidden, "LSTM hidden size")->check(examples::positive());
  cli.choice("--optimizer", optimizer, examples::optimizer_names(), "optimizer");
  cli.add("--lr", lr, "learning rate (default: the optimizer's)")
      ->check(examples::positive())
      ->default_str("");
  cli.choice("--scheduler", scheduler, examples::scheduler_names(), "learning-rate schedule");
  cli.add("--clip", clip, "max gradient norm (0: no clipping)")->check(examples::non_negative());
  cli.flag("--amp", use_amp, "bf16 autocast for the LSTM and Linear");
  cli.add("--monitor", monitor_every,
          "record gradient/weight/update/activation statistics every K steps; 0 = off")
      ->check(examples::non_negative());
  cli.add("--monitor-csv", monitor_csv, "where --monitor writes its CSV");
  cli.add("--seed", seed, "seed of the initial weights and the shuffles")
      ->check(examples::non_negative());
  cli.add("--limit", limit, "use only the first N training and N test images (0: all)")
      ->check(examples::non_negative());
  cli.add("--metrics", metrics, "CSV file for per-epoch metrics (empty: none)");
  cli.flag("--detect-anomaly", detect_anomaly,
           "name the first op whose output or gradient is NaN/inf (slower)");
  cli.parse(argc, argv);
  autograd::set_detect_anomaly(detect_anomaly);

  try {
    manual_seed(uint64_t(seed));
    data::Dataset train = data::Idx::load(data_dir, data::Split::Train);
    data::Dataset test = data::Idx::load(data_dir, data::Split::Test);
    if (limit > 0) {
      train = train.slice(0, std::min<int64_t>(limit, train.size()));
      test = test.slice(0, std::min<int64_t>(limit, test.size()));
    }
    // Normalise with the training statistics, as torchvision's Normalize.
    const data::Normalization norm = train.compute_normalization();
    train = train.normalize(norm);
    test = test.normalize(norm);
    data::DataLoader loader(train,
                            {.batch_size = batch_size, .shuffle = true, .seed = uint64_t(seed)});

    Generator gen{uint64_t(seed)};
    RowLstm model(hidden, &gen);
    auto opt = examples::make_optimizer(optimizer, model.parameters(), lr);
    examples::Schedule sched(scheduler, *opt, {.epochs = epochs, .steps_per_epoch = loader.size()});
    std::unique_ptr<train::MetricsWriter> csv;
    if (!metrics.empty()) csv = std::make_unique<train::MetricsWriter>(metrics);

    fmt::print("mnist_lstm: {} train / {} test, hidden {}, {} lr {}{}\n", train.size(), test.size(),
               hidden, optimizer, opt->lr(), use_amp ? ", bf16 autocast" : "");
    std::optional<train::Monitor> monitor;
    if (monitor_every > 0) {
      monitor.emplace(model,
                      train::MonitorOptions{.every = monitor_every, .csv_path = monitor_csv});
    }
    int64_t step = 0;
    double first_loss = 0, last_loss = 0, epoch_s_sum = 0;
    Eval ev;
    for (int e = 0; e < epochs; ++e) {
      train::ProgressBar bar({.total = loader.size(), .epoch = e + 1, .epochs = epochs});
      const auto t0 = std::chrono::steady_clock::now();
      for (auto [x, y] : loader) {
        if (monitor) monitor->begin_step(step++);
        opt->zero_grad();
        Tensor loss;
        {
          amp::Autocast cast(DType::BF16, use_amp);
          loss = F::cross_entropy(model(x), y);
        }
        loss.backward();
        if (clip > 0) nn::utils::clip_grad_norm_(model.parameters(), clip);
        if (monitor) monitor->before_update();
        opt->step();
        if (monitor) monitor->after_update();
        sched.after_step();
        const double l = loss.item<double>();
        examples::check_finite_loss(l, e + 1, bar.batches() + 1);
        bar.update(l, x.size(0));
      }
      bar.finish();
      const double epoch_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      epoch_s_sum += epoch_s;
      const double train_loss = bar.mean_loss();
      if (e == 0) first_loss = train_loss;
      last_loss = train_loss;
      ev = evaluate(model, test, 512, use_amp);
      fmt::print("epoch {}: train_loss {:.4f} test_loss {:.4f} test_acc {:.4f} ({:.1f} s)\n", e + 1,
                 train_loss, ev.loss, ev.acc, epoch_s);
      sched.after_epoch(ev.loss);
      if (csv) {
        csv->write({{"epoch", e + 1},
                    {"train_loss", train_loss},
                    {"test_loss", ev.loss},
                    {"test_acc", ev.acc},
                    {"epoch_s", epoch_s}});
      }
    }
    fmt::print("{}\n",
               train::format_result({{"test_acc", ev.acc},
                                     {"test_loss", ev.loss},
                                     {"first_loss", first_loss},
                                     {"last_loss", last_loss},
                                     {"epoch_s", epochs > 0 ? epoch_s_sum / epochs : 0.0}}));
  } catch (const std::exception& e) {
    fmt::print(stderr, "mnist_lstm: {}\n", e.what());
    return 1;
  }
  return 0;
}
