// Whole-training-state checkpoints: exact resume, atomic replacement, all-or-nothing
// loading with errors that name the part.
#include <descent/core/safetensors.h>
#include <descent/optim/optimizer.h>
#include <descent/train/checkpoint.h>

#include <filesystem>
#include <fstream>

#include "testing/gradcheck.h"

using namespace descent;
namespace fs = std::filesystem;

namespace {

// y = x·w + b with shape-checked state (what a module's strict load does).
struct TinyModel {
  Tensor w, b;
  explicit TinyModel(int64_t in, uint64_t seed = 1) {
    Generator gen(seed);
    w = randn({in, 1}, {}, &gen).requires_grad_();
    b = zeros({1}, {.requires_grad = true});
  }
  StateDict state_dict() const {
    StateDict s;
    s.tensors["w"] = w;
    s.tensors["b"] = b;
    return s;
  }
  void load_state_dict(const StateDict& s) {
    for (auto [name, t] : {std::pair{"w", &w}, {"b", &b}}) {
      const Tensor& src = s.tensor(name, "TinyModel");
      check(src.shape() == t->shape(), "TinyModel", "'{}' has shape {}, expected {}", name,
            src.shape(), t->shape());
      NoGradGuard ng;
      t->copy_(src);
    }
  }
};

// SGD with momentum: per-parameter state that must survive a resume.
class MomentumSgd final : public optim::Optimizer {
 public:
  MomentumSgd(std::vector<Tensor> params, double lr, double momentum)
      : params_(std::move(params)), lr_(lr), momentum_(momentum) {}
  std::string_view name() const override { return "momentum_sgd"; }
  size_t num_groups() const override { return 1; }
  const std::vector<Tensor>& params(size_t) const override { return params_; }
  double lr(size_t) const override { return lr_; }
  void set_lr(double lr, size_t) override { lr_ = lr; }
  void step() override {
    NoGradGuard ng;
    if (buf_.empty()) {
      for (const Tensor& p : params_) buf_.push_back(zeros_like(p));
    }
    for (size_t i = 0; i < params_.size(); ++i) {
      mul_(buf_[i], momentum_);
      add_(buf_[i], params_[i].grad());
      Tensor p = params_[i];
      add_(p, buf_[i], -lr_);
    }
  }
  StateDict state_dict() const override {
    StateDict s;
    s.strings["type"] = std::string(name());
    s.numbers["lr"] = lr_;
    for (size_t i = 0; i < buf_.size(); ++i) s.tensors["buf." + std::to_string(i)] = buf_[i];
    return s;
  }
  void load_state_dict(const StateDict& s) override {
    check(s.string("type", "MomentumSgd") == name(), "MomentumSgd", "state of another optimizer");
    lr_ = s.number("lr", "MomentumSgd");
    buf_.clear();
    for (size_t i = 0; s.tensors.contains("buf." + std::to_string(i)); ++i) {
      buf_.push_back(s.tensor("buf." + std::to_string(i), "MomentumSgd").clone());
    }
  }

 private:
  std::vector<Tensor> params_, buf_;
  double lr_, momentum_;
};

struct TrainingRun {
  TinyModel model{4};
  MomentumSgd opt{{model.w, model.b}, 0.05, 0.9};
  train::Progress progress;
  Tensor x = randn({16, 4}, {}, nullptr);
  std::vector<train::Part> parts() {
    return {{"model", model}, {"optimizer", opt}, {"progress", progress}};
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      opt.zero_grad();
      // Fresh noise from the default generator and dropout each step: the RNG state is
      // part of what a resume must restore.
      Tensor xb = x + randn({16, 4}) * 0.1;
      Tensor pred = F::dropout(matmul(xb, model.w), 0.2, true) + model.b;
      F::mse_loss(pred, xb.sum({1}, true)).backward();
      opt.step();
      ++progress.step;
    }
  }
};

std::string temp_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "descent_train_checkpoint";
  fs::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST(TrainCheckpoint, ResumeIsBitIdenticalToAnUninterruptedRun) {
  manual_seed(7);
  TrainingRun straight;
  straight.steps(20);

  manual_seed(7);
  const std::string path = temp_path("resume.safetensors");
  {
    TrainingRun first;
    first.steps(10);
    train::save_checkpoint(path, first.parts());
  }
  manual_seed(12345);  // whatever the generator did meanwhile
  TrainingRun resumed;
  resumed.x = straight.x;  // the data set
  train::load_checkpoint(path, resumed.parts());
  EXPECT_EQ(resumed.progress.step, 10);
  resumed.steps(10);
  EXPECT_EQ(resumed.progress.step, 20);
  EXPECT_EQ(resumed.model.w.to_vector<float>(), straight.model.w.to_vector<float>());
  EXPECT_EQ(resumed.model.b.to_vector<float>(), straight.model.b.to_vector<float>());
}

TEST(TrainCheckpoint, AFailedSaveLeavesThePreviousCheckpointIntact) {
  const std::string path = temp_path("atomic.safetensors");
  TrainingRun run;
  run.steps(2);
  train::save_checkpoint(path, run.parts());
  std::ifstream f(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(f)), {});
  struct Broken {
    StateDict state_dict() const { throw Error("Broken: cannot serialise"); }
    void load_state_dict(const StateDict&) {}
  } broken;
  run.steps(1);
  auto parts = run.parts();
  parts.emplace_back("broken", broken);
  EXPECT_THROW_MSG(train::save_checkpoint(path, parts), "cannot serialise");
  std::ifstream g(path, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(g)), {});
  EXPECT_EQ(before, after);
}

TEST(TrainCheckpoint, LoadingIntoAnotherModelIsAnErrorAndChangesNothing) {
  const std::string path = temp_path("other.safetensors");
  TrainingRun run;
  run.steps(3);
  train::save_checkpoint(path, run.parts());

  TinyModel wider(5);
  MomentumSgd opt({wider.w, wider.b}, 0.5, 0.0);
  train::Progress progress;
  progress.step = 99;
  const std::vector<float> w_before = wider.w.to_vector<float>();
  // Parts load in order: the optimizer and progress are fine, the model is not — and
  // then nothing may have changed.
  EXPECT_THROW_MSG(
      train::load_checkpoint(path, {{"progress", progress}, {"optimizer", opt}, {"model", wider}}),
      "part 'model' does not fit");
  EXPECT_EQ(progress.step, 99);
  EXPECT_EQ(opt.lr(0), 0.5);
  EXPECT_EQ(wider.w.to_vector<float>(), w_before);
}

TEST(TrainCheckpoint, MissingPartsAndForeignFilesAreClearErrors) {
  const std::string path = temp_path("parts.safetensors");
  TrainingRun run;
  train::save_checkpoint(path, {{"model", run.model}});
  EXPECT_THROW_MSG(train::load_checkpoint(path, run.parts()), "has no state for part 'optimizer'");
  save_safetensors(temp_path("plain.safetensors"), {{"w", ones({2})}});
  EXPECT_THROW_MSG(train::load_checkpoint(temp_path("plain.safetensors"), run.parts()),
                   "is not a descent checkpoint");
  EXPECT_THROW_MSG(train::save_checkpoint(path, {{"a.b", run.model}}), "contain no '.'");
  EXPECT_THROW_MSG(train::save_checkpoint(path, {{"m", run.model}, {"m", run.progress}}),
                   "part 'm' is given twice");
}
