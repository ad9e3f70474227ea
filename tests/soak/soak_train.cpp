// The soak test's trainer: a small MLP (with BatchNorm and Dropout, so buffers and the
// RNG matter) trained with Adam and a per-step cosine schedule on a seeded synthetic
// data set, checkpointing every --every steps into --dir/last.safetensors and resuming
// from it when it exists. At --steps it writes the parameters to --dir/final.safetensors.
// tests/soak/soak.sh kills it at random moments and checks that the killed-and-resumed
// run ends with exactly the parameters of an uninterrupted one.
//   soak_train --dir DIR --steps 3000 --every 50
// Prints "rss_kb step=S kb=K" at a quarter of the steps and at the end (memory must
// stay flat), and "resumed step=S" when it continued a checkpoint.
#include <descent/descent.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace descent;

namespace {

long rss_kb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE) / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int64_t steps = 3000, every = 50;
  CLI::App app("soak test trainer", "soak_train");
  app.add_option("--dir", dir, "checkpoint folder")->required();
  app.add_option("--steps", steps, "optimizer steps in all")->check(CLI::PositiveNumber);
  app.add_option("--every", every, "steps between checkpoints")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    manual_seed(7);
    const Tensor x = randn({4096, 32});
    const Tensor y = (x.narrow(1, 0, 4).sum({1}) > 0).to(DType::I64);
    data::DataLoader loader(data::Dataset(x, y), {.batch_size = 64, .shuffle = true, .seed = 3});
    nn::Sequential model(nn::Linear(32, 256), nn::BatchNorm1d(256), nn::ReLU(), nn::Dropout(0.1),
                         nn::Linear(256, 2));
    optim::Adam opt(model.parameters(), {.lr = 1e-3});
    optim::CosineAnnealingLR sched(opt, {.t_max = steps});
    train::Progress progress;
    const std::vector<train::Part> parts = {{"model", model},
                                            {"optimizer", opt},
                                            {"scheduler", sched},
                                            {"loader", loader},
                                            {"progress", progress}};
    std::filesystem::create_directories(dir);
    const std::string ckpt = dir + "/last.safetensors";
    if (std::filesystem::exists(ckpt)) {
      train::load_checkpoint(ckpt, parts);
      std::printf("resumed step=%lld\n", (long long)progress.step);
      std::fflush(stdout);  // seen even when the run is killed
    }
    while (progress.step < steps) {
      for (auto [bx, by] : loader) {
        opt.zero_grad();
        F::cross_entropy(model(bx), by).backward();
        opt.step();
        sched.step();
        ++progress.step;
        if (progress.step % every == 0 || progress.step == steps)
          train::save_checkpoint(ckpt, parts);
        if (progress.step == steps / 4 || progress.step == steps)
          std::printf("rss_kb step=%lld kb=%ld\n", (long long)progress.step, rss_kb());
        if (progress.step == steps) break;
      }
      ++progress.epoch;
    }
    save(model.state_dict(), dir + "/final.safetensors");
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
