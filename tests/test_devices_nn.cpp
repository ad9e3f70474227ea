// The CUDA device against the CPU reference, part 4: nn modules moved with
// .to(device) (an MLP with BatchNorm1d and Dropout, nn::LSTM, nn::LSTMCell,
// nn::Embedding) give the CPU copy's outputs and parameter gradients, and state dicts
// and whole training checkpoints cross devices both ways: identical parameters, and
// training continues as it would have. Without a GPU every test reports SKIPPED
// (tests/testing/devices.h).
#include <filesystem>
#include <memory>
#include <string>

#include "testing/devices.h"

using namespace descent;
using descent::testing::DeviceTest;
using descent::testing::kExact;
using descent::testing::matches;
using descent::testing::Tolerance;
using descent::testing::tolerance;
namespace fs = std::filesystem;

namespace {

class DevicesNn : public DeviceTest {};

// Every parameter and buffer of `got` (on the device) matches `want`'s (CPU), by name;
// with `grads`, their gradients too.
void expect_same_state(const nn::Module& got, const nn::Module& want, Tolerance tol,
                       bool grads = false) {
  const auto gp = got.named_parameters(), wp = want.named_parameters();
  ASSERT_EQ(gp.size(), wp.size());
  for (size_t i = 0; i < gp.size(); ++i) {
    SCOPED_TRACE(gp[i].first);
    ASSERT_EQ(gp[i].first, wp[i].first);
    EXPECT_TRUE(matches(gp[i].second, wp[i].second, tol));
    if (grads) {
      EXPECT_TRUE(matches(gp[i].second.grad(), wp[i].second.grad(), tol));
    }
  }
  const auto gb = got.named_buffers(), wb = want.named_buffers();
  ASSERT_EQ(gb.size(), wb.size());
  for (size_t i = 0; i < gb.size(); ++i) {
    SCOPED_TRACE(gb[i].first);
    EXPECT_TRUE(matches(gb[i].second, wb[i].second, tol));
  }
}

void expect_on(const nn::Module& m, Device d) {
  for (const auto& [name, t] : m.named_parameters()) EXPECT_EQ(t.device(), d) << name;
  for (const auto& [name, t] : m.named_buffers()) EXPECT_EQ(t.device(), d) << name;
}

// Linear → BatchNorm1d → ReLU → Dropout → Linear; the init is a function of `seed`.
std::shared_ptr<nn::Sequential> make_mlp(uint64_t seed, Generator* dropout_gen) {
  Generator init(seed);
  return std::make_shared<nn::Sequential>(
      nn::Linear(5, 16, {.generator = &init}), nn::BatchNorm1d(16), nn::ReLU(),
      nn::Dropout(0.25, dropout_gen), nn::Linear(16, 3, {.generator = &init}));
}

// The network the checkpoint tests train (f64, with batch-norm buffers).
std::shared_ptr<nn::Sequential> make_net(uint64_t seed) {
  Generator init(seed);
  auto m =
      std::make_shared<nn::Sequential>(nn::Linear(4, 8, {.generator = &init}), nn::BatchNorm1d(8),
                                       nn::Tanh(), nn::Linear(8, 1, {.generator = &init}));
  m->to(DType::F64);
  return m;
}

std::string temp_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "descent_test_devices";
  fs::create_directories(dir);
  return (dir / name).string();
}

// A training run on one device: model, Adam, progress counters and fixed data.
struct TrainingRun {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> opt;
  train::Progress progress;
  Tensor x, y;
  TrainingRun(uint64_t seed, Device d) : model(make_net(seed)) {
    model->to(d);
    opt = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions{.lr = 0.05});
    Generator data(123);
    const Tensor xc = randn({16, 4}, {.dtype = DType::F64}, &data);
    x = xc.to(d);
    y = tanh(xc.sum({1}, true)).to(d);
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      opt->zero_grad();
      F::mse_loss((*model)(x), y).backward();
      opt->step();
      ++progress.step;
    }
  }
  std::vector<train::Part> parts() {
    return {{"model", *model}, {"optimizer", *opt}, {"progress", progress}};
  }
};

}  // namespace

TEST_F(DevicesNn, MlpOutputsAndGradientsMatchTheCpuCopy) {
  for (DType dt : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dt));
    Generator drop_c(77), drop_d(77);
    auto cpu = make_mlp(1, &drop_c), gpu = make_mlp(1, &drop_d);
    cpu->to(dt);
    gpu->to(dt).to(dev());
    expect_on(*gpu, dev());
    expect_same_state(*gpu, *cpu, kExact);
    const Tensor x = randn({8, 5}).to(dt), labels = randint(0, 3, {8});
    // Several steps: the running statistics and the dropout generator move on.
    for (int step = 0; step < 3; ++step) {
      SCOPED_TRACE(step);
      cpu->zero_grad();
      gpu->zero_grad();
      const Tensor yc = (*cpu)(x), yg = (*gpu)(x.to(dev()));
      ASSERT_TRUE(matches(yg, yc));
      F::cross_entropy(yc, labels).backward();
      F::cross_entropy(yg, labels.to(dev())).backward();
      expect_same_state(*gpu, *cpu, tolerance(dt), /*grads=*/true);
    }
    cpu->eval();
    gpu->eval();
    EXPECT_TRUE(matches((*gpu)(x.to(dev())), (*cpu)(x)));
    // Back to the CPU: the same values, gradients included.
    gpu->to(Device::CPU);
    expect_on(*gpu, Device::CPU);
    for (const auto& [name, p] : gpu->named_parameters()) {
      EXPECT_TRUE(p.grad().defined() && p.grad().device().is_cpu()) << name;
    }
  }
}

TEST_F(DevicesNn, LstmModuleOutputsAndGradientsMatchTheCpuCopy) {
  struct Config {
    std::string name;
    nn::LSTMOptions opt;
  };
  const Config configs[] = {
      {"2 layers, dropout between them", {.num_layers = 2, .dropout = 0.3}},
      {"bidirectional, batch_first", {.batch_first = true, .bidirectional = true}},
  };
  for (const Config& c : configs) {
    for (DType dt : {DType::F32, DType::F64}) {
      SCOPED_TRACE(fmt::format("{} {}", c.name, dt));
      Generator gc(5), gg(5);
      nn::LSTMOptions oc = c.opt, og = c.opt;
      oc.generator = &gc;
      og.generator = &gg;
      nn::LSTM cpu(4, 6, oc), gpu(4, 6, og);
      cpu.to(dt);
      gpu.to(dt).to(dev());
      expect_on(gpu, dev());
      const int64_t D = c.opt.bidirectional ? 2 : 1, L = c.opt.num_layers;
      Generator data(6);
      const Tensor x =
          randn(c.opt.batch_first ? Shape{3, 5, 4} : Shape{5, 3, 4}, {.dtype = dt}, &data);
      const Tensor h0 = randn({D * L, 3, 6}, {.dtype = dt}, &data) * 0.5;
      const Tensor c0 = randn({D * L, 3, 6}, {.dtype = dt}, &data) * 0.5;
      for (bool training : {true, false}) {
        SCOPED_TRACE(training ? "train" : "eval");
        cpu.train(training);
        gpu.train(training);
        cpu.zero_grad();
        gpu.zero_grad();
        const F::LstmOutput rc = cpu(x, {h0, c0});
        const F::LstmOutput rg = gpu(x.to(dev()), {h0.to(dev()), c0.to(dev())});
        ASSERT_TRUE(matches(rg.output, rc.output));
        EXPECT_TRUE(matches(rg.h_n, rc.h_n));
        EXPECT_TRUE(matches(rg.c_n, rc.c_n));
        const Tensor v = randn(rc.output.shape(), {.dtype = dt}, &data);
        ((rc.output * v).sum() + rc.h_n.sum() + rc.c_n.sum()).backward();
        ((rg.output * v.to(dev())).sum() + rg.h_n.sum() + rg.c_n.sum()).backward();
        expect_same_state(gpu, cpu, tolerance(dt), /*grads=*/true);
      }
    }
  }
}

TEST_F(DevicesNn, LstmCellAndEmbeddingModules) {
  Generator gc(8), gg(8);
  nn::LSTMCell cell_c(4, 5, {.generator = &gc}), cell_g(4, 5, {.generator = &gg});
  cell_g.to(dev());
  const Tensor x = randn({3, 4}), h = randn({3, 5}), c = randn({3, 5});
  const auto [hc, cc] = cell_c(x, {h, c});
  const auto [hg, cg] = cell_g(x.to(dev()), {h.to(dev()), c.to(dev())});
  EXPECT_TRUE(matches(hg, hc));
  EXPECT_TRUE(matches(cg, cc));
  (hc.sum() + cc.sum() * 2.0).backward();
  (hg.sum() + cg.sum() * 2.0).backward();
  expect_same_state(cell_g, cell_c, tolerance(DType::F32), true);

  Generator ec(9), eg(9);
  nn::Embedding emb_c(10, 4, {.padding_idx = 0, .generator = &ec}),
      emb_g(10, 4, {.padding_idx = 0, .generator = &eg});
  emb_g.to(dev());
  const Tensor ids = from_vector<int64_t>({0, 3, 3, 9, 1, 0}, {2, 3});
  const Tensor yc = emb_c(ids), yg = emb_g(ids.to(dev()));
  EXPECT_TRUE(matches(yg, yc, kExact));
  yc.pow(2).sum().backward();
  yg.pow(2).sum().backward();
  expect_same_state(emb_g, emb_c, tolerance(DType::F32), true);
}

// A state dict saved from the device loads into a CPU model, and the other way round,
// bit for bit; the loaded tensors stay on the loading model's device.
TEST_F(DevicesNn, StateDictsCrossDevicesExactly) {
  TrainingRun trained(3, dev());
  trained.steps(3);  // parameters and running statistics away from their init
  const std::string path = temp_path("device_model.safetensors");
  save(trained.model->state_dict(), path);

  auto on_cpu = make_net(99);
  on_cpu->load_state_dict(load_state_dict_file(path));
  expect_on(*on_cpu, Device::CPU);
  expect_same_state(*trained.model, *on_cpu, kExact);

  // Straight from the device's state dict, without a file.
  auto direct = make_net(98);
  direct->load_state_dict(trained.model->state_dict());
  expect_on(*direct, Device::CPU);
  expect_same_state(*trained.model, *direct, kExact);

  // CPU → file → device.
  TrainingRun cpu_run(4, Device::CPU);
  cpu_run.steps(3);
  save(cpu_run.model->state_dict(), path);
  auto on_dev = make_net(97);
  on_dev->to(dev());
  on_dev->load_state_dict(load_state_dict_file(path));
  expect_on(*on_dev, dev());
  expect_same_state(*on_dev, *cpu_run.model, kExact);
  fs::remove(path);
}

// save_checkpoint on one device, load_checkpoint on the other: training continues as
// the uninterrupted run does (to f64 rounding across devices; bit for bit on the same
// device), model, optimizer state and counters included.
TEST_F(DevicesNn, TrainingCheckpointsResumeAcrossDevices) {
  const std::string path = temp_path("device_checkpoint.safetensors");
  // Device → CPU.
  TrainingRun straight(7, dev());
  straight.steps(5);
  train::save_checkpoint(path, straight.parts());
  straight.steps(5);

  TrainingRun cpu_resumed(70, Device::CPU);  // another init: everything must come from the file
  train::load_checkpoint(path, cpu_resumed.parts());
  EXPECT_EQ(cpu_resumed.progress.step, 5);
  cpu_resumed.steps(5);
  EXPECT_EQ(cpu_resumed.progress.step, 10);
  expect_same_state(*straight.model, *cpu_resumed.model, tolerance(DType::F64));

  TrainingRun dev_resumed(71, dev());
  train::load_checkpoint(path, dev_resumed.parts());
  expect_on(*dev_resumed.model, dev());
  dev_resumed.steps(5);
  expect_same_state(*straight.model, *dev_resumed.model, kExact);

  // CPU → device.
  TrainingRun cpu_straight(8, Device::CPU);
  cpu_straight.steps(5);
  train::save_checkpoint(path, cpu_straight.parts());
  cpu_straight.steps(5);
  TrainingRun dev_from_cpu(80, dev());
  train::load_checkpoint(path, dev_from_cpu.parts());
  expect_on(*dev_from_cpu.model, dev());
  dev_from_cpu.steps(5);
  expect_same_state(*dev_from_cpu.model, *cpu_straight.model, tolerance(DType::F64));
  // The optimizer's moments crossed too.
  const StateDict so = dev_from_cpu.opt->state_dict(), ref = cpu_straight.opt->state_dict();
  ASSERT_EQ(so.tensors.size(), ref.tensors.size());
  for (const auto& [key, t] : ref.tensors) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(matches(so.tensors.at(key), t, tolerance(DType::F64)));
  }
  fs::remove(path);
}
