// train::Monitor: gradient and weight norms, update ratios and activation statistics
// against values computed by hand on a tiny model; only every k-th step is recorded; a
// NaN put into one gradient is reported with that parameter's name; the CSV has one
// column per quantity.
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

double l2(const Tensor& t) { return std::sqrt(sum(square(t.detach().to(DType::F64))).item()); }

}  // namespace

TEST(Monitor, RecordsNormsRatiosAndActivationsEveryKSteps) {
  Generator gen(3);
  nn::Sequential model(nn::Linear(3, 4, {.generator = &gen}), nn::ReLU(),
                       nn::Linear(4, 2, {.generator = &gen}));
  const Tensor x = randn({8, 3}, {}, &gen);
  const Tensor y = randn({8, 2}, {}, &gen);
  const double lr = 0.1;
  optim::SGD opt(model.parameters(), {.lr = lr});
  const std::string csv = (std::filesystem::temp_directory_path() / "descent_monitor.csv").string();
  train::Monitor monitor(model, {.every = 2, .csv_path = csv});
  for (int64_t step = 0; step < 5; ++step) {
    monitor.begin_step(step);
    opt.zero_grad();
    F::mse_loss(model(x), y).backward();
    // What the monitor should see at this step, computed here.
    const auto params = model.named_parameters();
    std::vector<double> g_norm, w_norm;
    double total = 0;
    for (const auto& [name, p] : params) {
      g_norm.push_back(l2(p.grad()));
      w_norm.push_back(l2(p));
      total += g_norm.back() * g_norm.back();
    }
    Tensor hidden;
    {
      NoGradGuard no_grad;
      hidden = F::relu(model.at<nn::Linear>(0)(x));
    }
    monitor.before_update();
    opt.step();
    monitor.after_update();
    if (step % 2 != 0) continue;
    ASSERT_EQ(monitor.records().size(), size_t(step / 2 + 1));
    const train::MonitorRecord& r = monitor.records().back();
    EXPECT_EQ(r.step, step);
    EXPECT_NEAR(r.global_grad_norm, std::sqrt(total), 1e-6);
    ASSERT_EQ(r.params.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(r.params[i].name, params[i].first);
      EXPECT_NEAR(r.params[i].grad_norm, g_norm[i], 1e-6);
      EXPECT_NEAR(r.params[i].weight_norm, w_norm[i], 1e-6);
      // Plain SGD moves each weight by lr·g.
      EXPECT_NEAR(r.params[i].update_ratio, lr * g_norm[i] / w_norm[i], 1e-5);
      EXPECT_EQ(r.params[i].nonfinite_fraction, 0.0);
    }
    // Leaf modules 0 (Linear), 1 (ReLU), 2 (Linear), in forward order.
    ASSERT_EQ(r.activations.size(), 3u);
    EXPECT_EQ(r.activations[1].name, "1");
    const double zeros = (hidden == 0.0).to(DType::F64).mean().item();
    EXPECT_NEAR(r.activations[1].zero_fraction, zeros, 1e-12);
    EXPECT_NEAR(r.activations[1].mean, hidden.to(DType::F64).mean().item(), 1e-6);
    EXPECT_TRUE(r.first_nonfinite.empty());
  }
  EXPECT_EQ(monitor.records().size(), 3u);  // steps 0, 2, 4
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("step,global_grad_norm,0.weight.grad_norm,0.weight.weight_norm", 0), 0u)
      << header;
  EXPECT_NE(header.find("1.act_zero_fraction"), std::string::npos) << header;
  int rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_EQ(rows, 3);
  EXPECT_NE(monitor.summary().find("layer output"), std::string::npos);
}

TEST(Monitor, NamesTheParameterWithANonFiniteGradient) {
  nn::Sequential model(nn::Linear(2, 3), nn::Tanh(), nn::Linear(3, 1));
  train::Monitor monitor(model, {.every = 1});
  monitor.begin_step(0);
  F::mse_loss(model(ones({4, 2})), zeros({4, 1})).backward();
  Tensor bias = model.at<nn::Linear>(2).bias();
  bias.set_grad(from_vector<float>({std::nanf("")}));
  monitor.before_update();
  monitor.after_update();
  const train::MonitorRecord& r = monitor.records().back();
  EXPECT_EQ(r.first_nonfinite, "2.bias");
  EXPECT_EQ(r.params[3].nonfinite_fraction, 1.0);
  EXPECT_NE(monitor.summary().find("non-finite gradient in '2.bias'"), std::string::npos);
  EXPECT_THROW_MSG(train::Monitor(model, {.every = 0}), "Monitor: every = 0, expected >= 1");
}

TEST(Monitor, RemovesItsHooks) {
  nn::Sequential model(nn::Linear(2, 2), nn::ReLU());
  {
    train::Monitor monitor(model, {.every = 1});
    monitor.begin_step(0);
    model(ones({1, 2}));
    EXPECT_EQ(monitor.records().size(), 0u);  // a record is written by after_update
  }
  model(ones({1, 2}));  // the hooks are gone: nothing refers to the destroyed monitor
  SUCCEED();
}
