// F::layer_norm, F::group_norm, weight normalisation (F::weight_norm,
// nn::utils::weight_norm) and dropout2d: f64 gradchecks, oneDNN's f32 layer norm against
// the f64 reference, modules with torch's state-dict names, weight_norm's equivalence
// with the plain layer it reparametrises, and errors. PyTorch golden values are the
// "cnn" family of test_golden.cpp. Every TEST_P runs once per device.
#include <descent/nn/conv.h>
#include <descent/nn/dropout.h>
#include <descent/nn/layernorm.h>
#include <descent/nn/linear.h>
#include <descent/nn/lstm.h>
#include <descent/nn/utils/weight_norm.h>
#include <descent/ops/dropout.h>
#include <descent/ops/layernorm.h>
#include <descent/optim/sgd.h>

#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

class LayerNorm : public descent::testing::PerDeviceTest {};
class WeightNorm : public descent::testing::PerDeviceTest {};
class Dropout2d : public descent::testing::PerDeviceTest {};

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [k, t] : m.state_dict().tensors) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_P(LayerNorm, GradcheckF64) {
  Tensor x = rand_input({3, 4, 5}, -2, 2, 1);
  Tensor w = rand_input({4, 5}, 0.5, 1.5, 2), b = rand_input({4, 5}, -1, 1, 3);
  EXPECT_GRADCHECK_ON(dev(),
                      [](const std::vector<Tensor>& t) {
                        return F::layer_norm(t[0], {4, 5}, t[1], t[2]);
                      },
                      {x, w, b});
  EXPECT_GRADCHECK_ON(dev(), [](const std::vector<Tensor>& t) { return F::layer_norm(t[0], {5}); },
                      {x});
  Tensor gw = rand_input({6}, 0.5, 1.5, 4), gb = rand_input({6}, -1, 1, 5);
  EXPECT_GRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& t) { return F::group_norm(t[0], 3, t[1], t[2]); },
      {rand_input({2, 6, 3, 2}, -2, 2, 6), gw, gb});
}

TEST_P(LayerNorm, F32MatchesF64) {
  Generator gen(7);
  const Tensor x = randn({64, 96}, {.dtype = DType::F64}, &gen) * 3.0 + 1.0;
  const Tensor w = randn({96}, {.dtype = DType::F64}, &gen);
  const Tensor b = randn({96}, {.dtype = DType::F64}, &gen);
  const Tensor v = randn({64, 96}, {.dtype = DType::F64}, &gen);
  auto run = [&](DType dt) {
    auto leaf = [&](const Tensor& t) { return t.to(dt).to(dev()).clone().requires_grad_(); };
    Tensor xs = leaf(x), ws = leaf(w), bs = leaf(b);
    Tensor y = F::layer_norm(xs, {96}, ws, bs);
    (y * v.to(dt).to(dev())).sum().backward();
    return std::vector<Tensor>{y, xs.grad(), ws.grad(), bs.grad()};
  };
  const auto ref = run(DType::F64), got = run(DType::F32);
  for (size_t i = 0; i < ref.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(
        all_close(got[i].to(DType::F64).to(Device::CPU), ref[i].to(Device::CPU), 1e-4, 1e-4));
  }
}

TEST_P(LayerNorm, AutocastKeeps16BitActivations) {
  const Tensor x = randn({4, 8}, {.device = dev()}).to(DType::BF16);
  amp::Autocast cast(DType::BF16);
  const Tensor y = F::layer_norm(x, {8});
  EXPECT_EQ(y.dtype(), DType::BF16);
  EXPECT_NEAR(y.to(DType::F32).mean().item<double>(), 0.0, 0.02);
}

TEST_P(LayerNorm, ModulesAndErrors) {
  nn::LayerNorm ln({3, 4});
  nn::GroupNorm gn(2, 6);
  ln.to(dev());
  gn.to(dev());
  EXPECT_EQ(keys(ln), (std::vector<std::string>{"bias", "weight"}));
  EXPECT_EQ(ln.weight().shape(), Shape({3, 4}));
  EXPECT_EQ(gn.weight().shape(), Shape({6}));
  const Tensor x = randn({2, 3, 4}, {.device = dev()});
  EXPECT_TRUE(all_close(ln(x).to(Device::CPU), F::layer_norm(x, {3, 4}).to(Device::CPU)));
  EXPECT_TRUE(nn::LayerNorm({4}, {.elementwise_affine = false}).parameters().empty());
  EXPECT_THROW_MSG(F::layer_norm(x, {3, 5}), "does not end in normalized_shape");
  EXPECT_THROW_MSG(F::layer_norm(x, {4}, zeros({5}, {.device = dev()})), "weight has shape");
  EXPECT_THROW_MSG(F::group_norm(randn({2, 6, 3}, {.device = dev()}), 4), "divide the 6 channels");
  EXPECT_THROW_MSG(nn::GroupNorm(4, 6), "num_groups dividing");
  EXPECT_THROW_MSG(gn(randn({2, 4, 3}, {.device = dev()})), "expected (N, 6, *)");
}

// A weight-normalised layer computes what the plain layer with w = g·v/‖v‖ computes,
// trains g and v (torch's names), and remove_weight_norm gives the plain layer back.
TEST_P(WeightNorm, LinearEquivalenceAndRemoval) {
  Generator gen(11);
  nn::Linear fc(5, 3, {.generator = &gen});
  fc.to(dev());
  const Tensor w0 = fc.weight().detach().clone();
  const Tensor x = randn({4, 5}, {.device = dev()});
  const Tensor before = fc(x).detach();
  nn::utils::weight_norm(fc);
  EXPECT_EQ(keys(fc), (std::vector<std::string>{"bias", "weight_g", "weight_v"}));
  EXPECT_EQ(fc.find_parameter("weight_g")->shape(), Shape({3, 1}));
  // At the start w = g·v/‖v‖ is the old weight.
  EXPECT_TRUE(all_close(fc(x).to(Device::CPU), before.to(Device::CPU), 1e-6, 1e-5));

  // After an SGD step on g and v, the layer is the plain linear map of the new w.
  optim::SGD opt(fc.parameters(), {.lr = 0.1});
  (fc(x) * fc(x)).sum().backward();
  opt.step();
  const Tensor g = *fc.find_parameter("weight_g"), v = *fc.find_parameter("weight_v");
  EXPECT_TRUE(g.grad().defined() && v.grad().defined());
  const Tensor w = v * (g / (v * v).sum(Shape{1}, true).sqrt());
  EXPECT_TRUE(all_close(fc(x).to(Device::CPU), F::linear(x, w, fc.bias()).to(Device::CPU)));
  EXPECT_FALSE(all_close(w.to(Device::CPU), w0.to(Device::CPU)));

  nn::utils::remove_weight_norm(fc);
  EXPECT_EQ(keys(fc), (std::vector<std::string>{"bias", "weight"}));
  EXPECT_TRUE(all_close(fc.weight().to(Device::CPU), w.detach().to(Device::CPU), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(fc(x).to(Device::CPU), F::linear(x, w, fc.bias()).to(Device::CPU)));
  // Normalising again reuses the absent slots.
  nn::utils::weight_norm(fc, "weight", std::nullopt);
  EXPECT_EQ(fc.find_parameter("weight_g")->shape(), Shape({1, 1}));
}

TEST_P(WeightNorm, ConvAndLstm) {
  nn::Conv2d conv(2, 4, 3);
  conv.to(dev());
  const Tensor x = randn({1, 2, 5, 5}, {.device = dev()});
  const Tensor before = conv(x).detach();
  nn::utils::weight_norm(conv);
  EXPECT_EQ(conv.find_parameter("weight_g")->shape(), Shape({4, 1, 1, 1}));
  EXPECT_TRUE(all_close(conv(x).to(Device::CPU), before.to(Device::CPU), 1e-5, 1e-4));

  nn::LSTM lstm(3, 4);
  lstm.to(dev());
  const Tensor seq = randn({5, 2, 3}, {.device = dev()});
  const Tensor out = lstm(seq).detach();
  nn::utils::weight_norm(lstm, "weight_hh_l0");
  EXPECT_EQ(lstm.find_parameter("weight_hh_l0_g")->shape(), Shape({16, 1}));
  const Tensor again = lstm(seq);
  EXPECT_TRUE(all_close(again.to(Device::CPU), out.to(Device::CPU), 1e-5, 1e-4));
  again.sum().backward();
  EXPECT_TRUE(lstm.find_parameter("weight_hh_l0_v")->grad().defined());
}

TEST_P(WeightNorm, Errors) {
  nn::Linear fc(3, 2);
  EXPECT_THROW_MSG(nn::utils::weight_norm(fc, "kernel"), "has no parameter 'kernel'");
  EXPECT_THROW_MSG(nn::utils::weight_norm(fc, "weight", 2), "weight_norm");
  EXPECT_THROW_MSG(nn::utils::remove_weight_norm(fc), "is not weight-normalised");
  nn::utils::weight_norm(fc);
  EXPECT_THROW_MSG(nn::utils::weight_norm(fc), "has no parameter 'weight'");
}

TEST_P(Dropout2d, ZeroesWholeChannels) {
  Generator gen(5);
  const Tensor x = ones({8, 16, 3, 3}, {.device = dev()});
  const Tensor y = F::dropout2d(x, 0.5, true, &gen).to(Device::CPU);
  const Tensor per_channel = y.sum(Shape{2, 3});  // 0 or 9·2 per (sample, channel)
  const auto v = per_channel.to_vector<float>();
  int dropped = 0;
  for (float s : v) {
    EXPECT_TRUE(s == 0.f || s == 18.f) << s;
    dropped += s == 0.f;
  }
  EXPECT_GT(dropped, 32);
  EXPECT_LT(dropped, 96);
  nn::Dropout2d d(0.5);
  d.eval();
  EXPECT_TRUE(d(x).is_same(x));
  EXPECT_THROW_MSG(F::dropout2d(ones({4, 4}, {.device = dev()})), "dropout2d");
}

INSTANTIATE_PER_DEVICE(LayerNorm);
INSTANTIATE_PER_DEVICE(WeightNorm);
INSTANTIATE_PER_DEVICE(Dropout2d);
