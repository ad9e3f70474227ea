// Character-level LSTM language model: Embedding → LSTM (--layers) → Linear to the
// byte vocabulary of datasets/text/corpus.txt (scripts/get-data --only text). Reports the
// validation bits per character after every epoch and samples text with a temperature.
//
//   build/examples/char_lstm --epochs 10 --checkpoint runs/char
//   build/examples/char_lstm --epochs 20 --checkpoint runs/char --resume   # continues
//
// Ends with "result: val_bpc=... first_val_bpc=... uniform_bpc=... epochs=...".
// With --checkpoint DIR, DIR/last.safetensors holds the model, optimizer, data-loader
// position, RNG and epoch after every epoch; --resume continues from it exactly.
#include <descent/descent.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include "common/cli.h"
#include "common/divergence.h"
#include "common/optimizers.h"
#include "common/run_options.h"

using namespace descent;

namespace {

class CharLstm : public nn::Module {
 public:
  CharLstm(int64_t vocab, int64_t embed, int64_t hidden, int64_t layers, double dropout) {
    embed_ = register_module("embed", std::make_shared<nn::Embedding>(vocab, embed));
    lstm_ = register_module(
        "lstm",
        std::make_shared<nn::LSTM>(
            embed, hidden,
            nn::LSTMOptions{.num_layers = layers, .batch_first = true, .dropout = dropout}));
    head_ = register_module("head", std::make_shared<nn::Linear>(hidden, vocab));
  }
  // tokens: i64 (N, T) → logits (N, T, vocab), and the final LSTM state.
  std::pair<Tensor, nn::LSTMState> step(const Tensor& tokens, const nn::LSTMState& state) {
    const F::LstmOutput out = (*lstm_)((*embed_)(tokens), state);
    return {(*head_)(out.output), {out.h_n, out.c_n}};
  }
  Tensor forward(const Tensor& tokens) override { return step(tokens, {}).first; }

 private:
  std::shared_ptr<nn::Embedding> embed_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

// Mean cross-entropy in nats of next-token logits (N, T, V) against targets (N, T).
Tensor token_loss(const Tensor& logits, const Tensor& targets) {
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
}

double validation_bpc(CharLstm& model, const data::Dataset& val, int64_t batch_size) {
  NoGradGuard no_grad;
  model.eval();
  double nats = 0;
  for (int64_t start = 0; start < val.size(); start += batch_size) {
    const data::Batch b = val.rows(start, std::min(val.size(), start + batch_size));
    nats += token_loss(model(b.x), b.y).item<double>() * double(b.x.size(0));
  }
  model.train();
  return nats / double(val.size()) / std::log(2.0);
}

// Feeds `prime` and then draws `length` characters from softmax(logits / temperature).
std::string sample(CharLstm& model, const data::Vocabulary& vocab, const std::string& prime,
                   int64_t length, double temperature, Generator& gen) {
  NoGradGuard no_grad;
  model.eval();
  nn::LSTMState state;
  Tensor logits;
  std::string text = prime;
  auto feed = [&](const Tensor& ids) {
    auto [out, next] = model.step(ids.reshape({1, -1}), state);
    state = next;
    logits = out.select(0, 0).select(0, out.size(1) - 1);  // the last step: (V)
  };
  feed(vocab.encode(prime));
  for (int64_t i = 0; i < length; ++i) {
    const auto p = F::softmax(logits / temperature, -1).to_vector<double>();
    const double u = rand({1}, {.dtype = DType::F64}, &gen).item<double>();
    int64_t id = 0;
    for (double acc = p[0]; acc < u && id + 1 < int64_t(p.size()); acc += p[++id]) {
    }
    text += vocab.chars()[size_t(id)];
    Tensor next = Tensor::empty({1}, {.dtype = DType::I64});
    next.data<int64_t>()[0] = id;
    feed(next);
  }
  model.train();
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string text_path = "datasets/text/corpus.txt", optimizer = "adam", checkpoint, metrics;
  std::string prime = "The ";
  int epochs = 10, batch_size = 32, seq_len = 64, embed = 64, hidden = 256, layers = 2, seed = 0;
  int limit = 0, sample_len = 200, monitor_every = 0;
  std::string monitor_csv = "runs/char_lstm_monitor.csv";
  double lr = 2e-3, clip = 1.0, dropout = 0.0, temperature = 0.8;
  bool resume = false, detect_anomaly = false;
  examples::Cli cli("char_lstm", "Trains a character-level LSTM language model and samples it.");
  using examples::non_negative, examples::positive;
  cli.add("--data", text_path, "text file (scripts/get-data --only text)");
  cli.add("--epochs", epochs, "total passes over the training text (counting resumed ones)")
      ->check(positive());
  cli.add("--batch-size", batch_size, "sequences per step")->check(positive());
  cli.add("--seq-len", seq_len, "characters per training sequence (truncated BPTT length)")
      ->check(positive());
  cli.add("--embed", embed, "embedding size")->check(positive());
  cli.add("--hidden", hidden, "LSTM hidden size")->check(positive());
  cli.add("--layers", layers, "LSTM layers")->check(positive());
  cli.add("--dropout", dropout, "dropout between LSTM layers")->check(examples::probability());
  cli.choice("--optimizer", optimizer, examples::optimizer_names(), "optimizer");
  cli.add("--lr", lr, "learning rate")->check(positive());
  cli.add("--clip", clip, "max gradient norm (0: no clipping)")->check(non_negative());
  cli.add("--seed", seed, "seed of the weights, the shuffles and the samples")
      ->check(non_negative());
  cli.add("--limit", limit, "use only the first N characters of the text (0: all)")
      ->check(non_negative());
  cli.add("--temperature", temperature, "sampling temperature (lower is greedier)")
      ->check(positive());
  cli.add("--sample-len", sample_len, "characters sampled after each epoch (0: none)")
      ->check(non_negative());
  cli.add("--prime", prime, "text the samples start from");
  cli.add("--checkpoint", checkpoint, "folder for last.safetensors after every epoch");
  cli.flag("--resume", resume, "continue from --checkpoint");
  cli.add("--metrics", metrics, "CSV file for per-epoch metrics (empty: none)");
  cli.add("--monitor", monitor_every,
          "record gradient/weight/update/activation statistics every K steps; 0 = off")
      ->check(non_negative());
  cli.add("--monitor-csv", monitor_csv, "where --monitor writes its CSV");
  cli.flag("--detect-anomaly", detect_anomaly,
           "name the first op whose output or gradient is NaN/inf (slower)");
  cli.parse(argc, argv);
  autograd::set_detect_anomaly(detect_anomaly);

  try {
    check(!resume || !checkpoint.empty(), "char_lstm", "got --resume, expected --checkpoint DIR");
    std::ifstream in(text_path, std::ios::binary);
    check(bool(in), "char_lstm", "cannot read {} (run scripts/get-data --only text)", text_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (limit > 0 && size_t(limit) < text.size()) text.resize(size_t(limit));
    const data::TextCorpus corpus(std::move(text), {.val_fraction = 0.1});
    const int64_t vocab = corpus.vocab().size();
    // Checked before the first epoch, not when the first sample or save comes.
    if (sample_len > 0) {
      check(!prime.empty(), "char_lstm",
            "got an empty --prime, expected the text samples start from");
      (void)corpus.vocab().encode(prime);  // an Error naming the first unknown character
    }
    if (!checkpoint.empty()) {
      std::filesystem::create_directories(checkpoint);
      check(std::filesystem::is_directory(checkpoint), "char_lstm",
            "--checkpoint {} is not a folder", checkpoint);
    }
    const data::Dataset train = data::sequences(corpus.train(), seq_len);
    const data::Dataset val = data::sequences(corpus.val(), seq_len);

    manual_seed(uint64_t(seed));
    CharLstm model(vocab, embed, hidden, layers, dropout);
    auto opt = examples::make_optimizer(optimizer, model.parameters(), lr);
    data::DataLoader loader(train,
                            {.batch_size = batch_size, .shuffle = true, .seed = uint64_t(seed)});
    train::Progress progress;
    const std::string ckpt = checkpoint.empty() ? "" : checkpoint + "/last.safetensors";
    examples::RunOptions options({{"--optimizer", optimizer},
                                  {"--lr", fmt::format("{}", lr)},
                                  {"--clip", fmt::format("{}", clip)},
                                  {"--batch-size", fmt::format("{}", batch_size)},
                                  {"--seq-len", fmt::format("{}", seq_len)},
                                  {"--dropout", fmt::format("{}", dropout)},
                                  {"--seed", fmt::format("{}", seed)},
                                  {"--limit", fmt::format("{}", limit)},
                                  {"--data", text_path}});
    const std::vector<train::Part> parts = {{"model", model},
                                            {"optimizer", *opt},
                                            {"loader", loader},
                                            {"progress", progress},
                                            {"options", options}};
    if (resume) {
      train::load_checkpoint(ckpt, parts);
      fmt::print("char_lstm: resumed {} at epoch {}\n", ckpt, progress.epoch);
    }
    std::unique_ptr<train::MetricsWriter> csv;
    if (!metrics.empty() && resume)  // continue the CSV from the checkpoint's epoch
      csv = std::make_unique<train::MetricsWriter>(
          metrics, train::MetricsAppend{"epoch", double(progress.epoch)});
    else if (!metrics.empty())
      csv = std::make_unique<train::MetricsWriter>(metrics);

    std::optional<train::Monitor> monitor;
    if (monitor_every > 0) {
      monitor.emplace(model,
                      train::MonitorOptions{.every = monitor_every, .csv_path = monitor_csv});
    }

    const double uniform_bpc = std::log2(double(vocab));
    fmt::print(
        "char_lstm: {} characters, vocabulary {} (uniform {:.3f} bpc), {} train / {} val "
        "sequences of {}\n",
        corpus.text().size(), vocab, uniform_bpc, train.size(), val.size(), seq_len);
    double val_bpc = NAN;
    for (int64_t e = progress.epoch; e < epochs; ++e) {
      train::ProgressBar bar({.total = loader.size(), .epoch = e + 1, .epochs = epochs});
      for (auto [x, y] : loader) {
        if (monitor) monitor->begin_step(progress.step);
        opt->zero_grad();
        Tensor loss = token_loss(model(x), y);
        loss.backward();
        if (clip > 0) nn::utils::clip_grad_norm_(model.parameters(), clip);
        if (monitor) monitor->before_update();
        opt->step();
        if (monitor) monitor->after_update();
        ++progress.step;
        const double l = loss.item<double>();
        examples::check_finite_loss(l, e + 1, progress.step);
        bar.update(l, x.size(0));
      }
      bar.finish();
      val_bpc = validation_bpc(model, val, 64);
      if (e == 0) progress.extra["first_val_bpc"] = val_bpc;  // kept across resumes
      progress.epoch = e + 1;
      const double train_bpc = bar.mean_loss() / std::log(2.0);
      fmt::print("epoch {}: train_bpc {:.4f} val_bpc {:.4f}\n", e + 1, train_bpc, val_bpc);
      if (csv) csv->write({{"epoch", e + 1}, {"train_bpc", train_bpc}, {"val_bpc", val_bpc}});
      if (!ckpt.empty()) {
        std::filesystem::create_directories(checkpoint);
        train::save_checkpoint(ckpt, parts);
      }
      if (sample_len > 0) {
        // Its own generator, so sampling does not change the training's random stream.
        Generator gen(uint64_t(seed) * 1000003u + uint64_t(e));
        fmt::print("--- sample (temperature {}) ---\n{}\n---\n", temperature,
                   sample(model, corpus.vocab(), prime, sample_len, temperature, gen));
      }
    }
    fmt::print("{}\n", train::format_result({{"val_bpc", val_bpc},
                                             {"first_val_bpc", progress.extra["first_val_bpc"]},
                                             {"uniform_bpc", uniform_bpc},
                                             {"epochs", double(progress.epoch)}}));
  } catch (const std::exception& e) {
    fmt::print(stderr, "char_lstm: {}\n", e.what());
    return 1;
  }
  return 0;
}
