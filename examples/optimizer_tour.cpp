// The optimizer tour: one small MLP (784-H-10) on a Fashion-MNIST slice, trained from
// the same initial weights on the same batches by every optimizer; then the LR range
// test, and the learning rate of every schedule step by step. Writes under --out:
//   loss/<optimizer>.csv   step, epoch (passes over the data), loss (the batch loss),
//                          smoothed_loss, lr; gd takes as many (full-batch) steps
//   lr_range.csv           step, lr, loss, smoothed_loss (+ suggested_lr.csv: a marker)
//   schedules/<name>.csv   step, lr
// and, unless --plot is empty, renders losses.png, lr_range.png and schedules.png with
// scripts/plot (gnuplot).
//
//   build/examples/optimizer_tour --limit 5000 --epochs 5 --out runs/tour
#include <descent/descent.h>
#include <descent/train/lr_range_test.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "common/cli.h"
#include "common/optimizers.h"

using namespace descent;

namespace {

nn::Sequential make_mlp(int64_t hidden, uint64_t seed) {
  Generator gen(seed);  // every optimizer starts from the same weights
  return nn::Sequential(nn::Linear(784, hidden, {.generator = &gen}), nn::ReLU(),
                        nn::Linear(hidden, 10, {.generator = &gen}));
}

// Runs scripts/plot; a failed plot is reported but does not fail the tour.
void plot(const std::string& script, const std::string& args) {
  if (script.empty()) return;
  const std::string cmd = script + " " + args;
  if (std::system(cmd.c_str()) != 0) fmt::print(stderr, "optimizer_tour: failed: {}\n", cmd);
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : " ") + p;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "datasets/fashion-mnist", out = "runs/optimizer_tour",
              script = "scripts/plot";
  std::string only;
  int epochs = 3, batch_size = 64, hidden = 64, limit = 4000, seed = 0, range_steps = 100;
  examples::Cli cli("optimizer_tour", "Trains one MLP with every optimizer and plots the losses.");
  cli.add("--data", data_dir, "folder with the IDX files (scripts/get-data)");
  cli.add("--limit", limit, "training images used (the first N)")->check(examples::positive());
  cli.add("--epochs", epochs, "passes over the slice per optimizer")->check(examples::positive());
  cli.add("--batch-size", batch_size, "examples per step (gd: the whole slice)")
      ->check(examples::positive());
  cli.add("--hidden", hidden, "hidden units of the MLP")->check(examples::positive());
  cli.add("--seed", seed, "seed of the weights and the batch order")
      ->check(examples::non_negative());
  cli.add("--only", only, "comma-separated optimizers (empty: all)");
  cli.add("--range-steps", range_steps, "steps of the LR range test")->check(examples::positive());
  cli.add("--out", out, "output folder");
  cli.add("--plot", script, "scripts/plot to render PNGs (empty: CSVs only)");
  cli.parse(argc, argv);

  try {
    std::vector<std::string> names;
    for (const auto& n : examples::optimizer_names()) {
      if (only.empty() || ("," + only + ",").find("," + n + ",") != std::string::npos)
        names.push_back(n);
    }
    check(!names.empty(), "optimizer_tour", "got --only '{}', expected some of {}", only,
          examples::join_names(examples::optimizer_names()));
    data::Dataset train = data::Idx::load(data_dir, data::Split::Train);
    train = train.slice(0, std::min<int64_t>(limit, train.size()));
    train = train.normalize(train.compute_normalization());
    const data::Batch all = train.rows(0, train.size());

    // ---- every optimizer on the same model, data and seed ----
    std::vector<std::string> loss_csvs;
    train::Metrics summary;
    for (const std::string& name : names) {
      nn::Sequential model = make_mlp(hidden, uint64_t(seed));
      auto opt = examples::make_optimizer(name, model.parameters());
      const bool full_batch = name == "gd";
      data::DataLoader loader(train, {.batch_size = full_batch ? train.size() : batch_size,
                                      .shuffle = !full_batch,
                                      .seed = uint64_t(seed)});
      const std::string path = out + "/loss/" + name + ".csv";
      train::MetricsWriter csv(path);
      double smoothed = 0, initial = 0;
      int64_t step = 0, seen = 0;
      {
        NoGradGuard no_grad;
        initial = F::cross_entropy(model(all.x), all.y).item<double>();
      }
      // Every optimizer takes the same number of steps; gd's are full-batch.
      const int64_t steps = epochs * ((train.size() + batch_size - 1) / batch_size);
      while (step < steps) {
        for (auto [x, y] : loader) {
          opt->zero_grad();
          Tensor loss = F::cross_entropy(model(x), y);
          loss.backward();
          opt->step();
          const double l = loss.item<double>();
          ++step;
          // Bias-corrected EMA, so the noisy batch losses are readable on one plot.
          smoothed = 0.9 * smoothed + 0.1 * l;
          seen += x.size(0);
          csv.write({{"step", step},
                     {"epoch", double(seen) / double(train.size())},
                     {"loss", l},
                     {"smoothed_loss", smoothed / (1 - std::pow(0.9, double(step)))},
                     {"lr", opt->lr()}});
          if (step == steps) break;
        }
      }
      NoGradGuard no_grad;
      const double final_loss = F::cross_entropy(model(all.x), all.y).item<double>();
      fmt::print("{:>9}  lr {:<8} train loss {:.4f} -> {:.4f}\n", name, opt->lr(), initial,
                 final_loss);
      summary.push_back({name, final_loss});
      loss_csvs.push_back(path);
    }
    plot(script, join(loss_csvs) + " --x step --y smoothed_loss --logy --out " + out +
                     "/losses.png --title 'MLP on " + std::to_string(train.size()) +
                     " Fashion-MNIST images: smoothed batch loss'");

    // ---- LR range test (SGD with momentum) ----
    {
      nn::Sequential model = make_mlp(hidden, uint64_t(seed));
      auto opt = examples::make_optimizer("momentum", model.parameters());
      int64_t next = 0;
      auto r = train::lr_range_test(*opt,
                                    [&] {
                                      if (next + batch_size > train.size()) next = 0;
                                      const data::Batch b = train.rows(next, next + batch_size);
                                      next += batch_size;
                                      Tensor loss = F::cross_entropy(model(b.x), b.y);
                                      loss.backward();
                                      return loss.item<double>();
                                    },
                                    {.start_lr = 1e-5,
                                     .end_lr = 10.0,
                                     .num_steps = range_steps,
                                     .csv_path = out + "/lr_range.csv"});
      check(r.suggested_lr.has_value(), "optimizer_tour", "got {} LR range steps, expected >= 3",
            r.lrs.size());
      fmt::print("lr range test: {} steps{}, suggested lr {:.3g}\n", r.lrs.size(),
                 r.diverged ? " (stopped at divergence)" : "", *r.suggested_lr);
      // A vertical line at the suggestion, as a two-point curve.
      double lo = r.best_loss, hi = r.best_loss;
      for (double s : r.smoothed_losses) hi = std::max(hi, s);
      train::MetricsWriter mark(out + "/suggested_lr.csv");
      mark.write({{"lr", *r.suggested_lr}, {"smoothed_loss", lo}});
      mark.write({{"lr", *r.suggested_lr}, {"smoothed_loss", hi}});
      summary.push_back({"suggested_lr", *r.suggested_lr});
      plot(script, out + "/lr_range.csv " + out +
                       "/suggested_lr.csv --x lr --y smoothed_loss --logx --out " + out +
                       "/lr_range.png --title 'LR range test, SGD momentum 0.9'");
    }

    // ---- the learning rate of every schedule ----
    {
      const int64_t sched_epochs = 10, steps_per_epoch = 50;
      std::vector<std::string> sched_csvs;
      for (const std::string& name : examples::scheduler_names()) {
        if (name == "none") continue;
        Tensor w = zeros({1}, {.requires_grad = true});
        optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9});
        examples::Schedule sched(name, opt,
                                 {.epochs = sched_epochs, .steps_per_epoch = steps_per_epoch});
        const std::string path = out + "/schedules/" + name + ".csv";
        train::MetricsWriter csv(path);
        for (int64_t s = 0; s < sched_epochs * steps_per_epoch; ++s) {
          csv.write({{"step", s}, {"lr", opt.lr()}});
          opt.step();  // no gradient: a no-op, kept so the order is the real one
          sched.after_step();
          if ((s + 1) % steps_per_epoch == 0) sched.after_epoch(1.0);  // a flat val loss
        }
        sched_csvs.push_back(path);
      }
      plot(script, join(sched_csvs) + " --x step --y lr --out " + out +
                       "/schedules.png --title 'lr schedules, base lr 0.1, 10 epochs x 50 "
                       "steps (plateau: flat loss)'");
    }
    fmt::print("{}\n", train::format_result(summary));
  } catch (const std::exception& e) {
    fmt::print(stderr, "optimizer_tour: {}\n", e.what());
    return 1;
  }
  return 0;
}
