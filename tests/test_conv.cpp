// F::conv2d, pooling and nn::Conv2d / MaxPool2d / AvgPool2d / AdaptiveAvgPool2d: f64
// gradchecks (the reference loops on the CPU, cuDNN's double kernels on CUDA), oneDNN's
// f32 and bf16 kernels against the f64 reference, autocast, modules with torch's names
// and init, and argument errors. PyTorch golden values are the "cnn" family of
// test_golden.cpp. Every TEST_P runs once per device.
#include <descent/nn/activation.h>
#include <descent/nn/batchnorm.h>
#include <descent/nn/container.h>
#include <descent/nn/conv.h>
#include <descent/nn/flatten.h>
#include <descent/nn/init.h>
#include <descent/nn/linear.h>
#include <descent/nn/pool.h>
#include <descent/nn/utils/weight_norm.h>
#include <descent/ops/conv.h>
#include <descent/ops/pool.h>

#include "testing/devices.h"
#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

class Conv : public descent::testing::PerDeviceTest {};
class Pool : public descent::testing::PerDeviceTest {};

struct ConvCase {
  Shape x, w;
  F::Conv2dOptions o;
  bool bias = true;
};

// Odd sizes, strides, padding, dilation, groups, depthwise and "same".
const std::vector<ConvCase> kConvCases = {
    {{2, 3, 5, 6}, {4, 3, 3, 3}, {}},
    {{2, 2, 7, 5}, {3, 2, 3, 2}, {.stride = 2, .padding = {1, 0}}},
    {{1, 2, 6, 7}, {2, 2, 2, 3}, {.stride = {1, 2}, .padding = 1, .dilation = {2, 1}}, false},
    {{2, 4, 5, 4}, {6, 2, 3, 3}, {.padding = 1, .groups = 2}},
    {{1, 3, 5, 5}, {3, 1, 3, 3}, {.stride = 2, .padding = 1, .groups = 3}, false},
    {{1, 2, 5, 4}, {3, 2, 2, 3}, {.padding_same = true}},
};

}  // namespace

TEST_P(Conv, GradcheckF64) {
  uint64_t seed = 1;
  for (const ConvCase& c : kConvCases) {
    SCOPED_TRACE(fmt::format("x {} w {}", c.x, c.w));
    std::vector<Tensor> in = {rand_input(c.x, -1, 1, seed++), rand_input(c.w, -1, 1, seed++)};
    if (c.bias) in.push_back(rand_input({c.w[0]}, -1, 1, seed++));
    const F::Conv2dOptions o = c.o;
    EXPECT_GRADCHECK_ON(
        dev(),
        [o](const std::vector<Tensor>& t) {
          return F::conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), o);
        },
        in);
  }
}

// oneDNN's f32 kernels (cuDNN's on CUDA) against the f64 kernels, forward and every
// gradient, on a shape large enough for the blocked layouts and several threads.
TEST_P(Conv, F32MatchesF64) {
  Generator gen(3);
  const Tensor x = randn({4, 8, 13, 11}, {.dtype = DType::F64}, &gen);
  const Tensor w = randn({16, 4, 3, 3}, {.dtype = DType::F64}, &gen) * 0.2;
  const Tensor b = randn({16}, {.dtype = DType::F64}, &gen);
  const Tensor v = randn({4, 16, 7, 6}, {.dtype = DType::F64}, &gen);
  const F::Conv2dOptions o{.stride = 2, .padding = 1, .groups = 2};
  auto run = [&](DType dt) {
    auto leaf = [&](const Tensor& t) { return t.to(dt).to(dev()).clone().requires_grad_(); };
    Tensor xs = leaf(x), ws = leaf(w), bs = leaf(b);
    Tensor y = F::conv2d(xs, ws, bs, o);
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

// Under autocast the convolution runs in bf16 from f32 weights, whose gradients come
// back as f32; values within bf16's precision of the f32 ones.
TEST_P(Conv, AutocastBf16) {
  Generator gen(4);
  const Tensor x = randn({2, 3, 8, 8}, {.device = dev()}, &gen);
  Tensor w = (randn({5, 3, 3, 3}, {}, &gen) * 0.3).to(dev()).requires_grad_();
  Tensor y;
  {
    amp::Autocast cast(DType::BF16);
    y = F::conv2d(x, w, {}, {.padding = 1});
  }
  EXPECT_EQ(y.dtype(), DType::BF16);
  y.to(DType::F32).sum().backward();
  EXPECT_EQ(w.grad().dtype(), DType::F32);
  const Tensor ref = F::conv2d(x, w.detach(), {}, {.padding = 1});
  EXPECT_TRUE(all_close(y.to(DType::F32).to(Device::CPU), ref.to(Device::CPU), 0.05, 0.02));
}

// oneDNN has no f16 convolution on the CPU: under f16 autocast it computes in f32 and
// returns f16 (cuDNN runs f16 itself).
TEST_P(Conv, AutocastF16) {
  Generator gen(8);
  const Tensor x = randn({2, 3, 6, 6}, {.device = dev()}, &gen);
  Tensor w = (randn({4, 3, 3, 3}, {}, &gen) * 0.3).to(dev()).requires_grad_();
  Tensor y;
  {
    amp::Autocast cast(DType::F16);
    y = F::conv2d(x, w, {}, {.padding = 1});
  }
  EXPECT_EQ(y.dtype(), DType::F16);
  y.to(DType::F32).sum().backward();
  EXPECT_EQ(w.grad().dtype(), DType::F32);
  EXPECT_TRUE(all_close(y.to(DType::F32).to(Device::CPU),
                        F::conv2d(x, w.detach(), {}, {.padding = 1}).to(Device::CPU), 0.01, 0.01));
}

// The first layer of a network: the images need no gradient, so none is computed, and
// the weight's gradient is still right.
TEST_P(Conv, InputWithoutGrad) {
  Tensor x = rand_input({2, 1, 6, 6}, -1, 1, 5).detach().to(dev());
  Tensor w = rand_input({3, 1, 3, 3}, -1, 1, 6).to(dev());
  EXPECT_GRADCHECK_ON(dev(), [x](const std::vector<Tensor>& t) { return F::conv2d(x, t[0]); },
                      {w.to(Device::CPU)});
}

TEST_P(Conv, Errors) {
  const TensorOptions o{.device = dev()};
  const Tensor x = zeros({2, 3, 5, 5}, o);
  EXPECT_THROW_MSG(F::conv2d(zeros({3, 5}, o), zeros({4, 3, 3, 3}, o)), "conv2d");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 2, 3, 3}, o)), "expects 2 input channels");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 3, 3}, o)), "(O, C/groups, kH, kW)");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 1, 3, 3}, o), {}, {.groups = 2}), "divisible by groups");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 3, 7, 3}, o)), "larger than the padded input");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 3, 3, 3}, o), zeros({3}, o)), "bias must have shape");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 3, 3, 3}, o), {}, {.stride = 0}), "stride");
  EXPECT_THROW_MSG(F::conv2d(x, zeros({4, 3, 3, 3}, o), {}, {.stride = 2, .padding_same = true}),
                   "padding_same needs stride 1");
  EXPECT_THROW_MSG(F::conv2d(zeros({2, 3, 5, 5}, {.dtype = DType::I64, .device = dev()}),
                             zeros({4, 3, 3, 3}, {.dtype = DType::I64, .device = dev()})),
                   "expected floating tensors");
}

TEST_P(Conv, ModuleMatchesFunctionalAndTorchInit) {
  nn::Conv2d conv(4, 6, {3, 2}, {.stride = 2, .padding = 1, .groups = 2});
  conv.to(dev());
  const auto names = conv.named_parameters();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].first, "weight");
  EXPECT_EQ(names[0].second.shape(), Shape({6, 2, 3, 2}));
  EXPECT_EQ(names[1].first, "bias");
  // torch's default: U(±1/√fan_in), fan_in = in/groups·kH·kW = 12.
  const double bound = 1.0 / std::sqrt(12.0);
  EXPECT_LE(descent::max(conv.weight().abs()).item<double>(), bound);
  EXPECT_LE(descent::max(conv.bias().abs()).item<double>(), bound);
  EXPECT_GT(descent::max(conv.weight().abs()).item<double>(), 0.5 * bound);
  const Tensor x = randn({2, 4, 7, 6}, {.device = dev()});
  EXPECT_TRUE(all_close(conv(x).to(Device::CPU), F::conv2d(x, conv.weight(), conv.bias(),
                                                           {.stride = 2, .padding = 1, .groups = 2})
                                                     .to(Device::CPU)));
  EXPECT_EQ(conv.repr(),
            "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), groups=2)");
  EXPECT_THROW_MSG(conv(zeros({2, 3, 7, 6}, {.device = dev()})), "expected (N, 4, H, W)");
  EXPECT_THROW_MSG(nn::Conv2d(3, 4, 3, {.groups = 2}), "divisible by groups");
}

// ---- pooling -------------------------------------------------------------------------

TEST_P(Pool, GradcheckF64) {
  // Random values have no ties in a max window: the finite differences are defined.
  const Tensor x = rand_input({2, 2, 7, 6}, -1, 1, 9);
  std::vector<std::function<Tensor(const Tensor&)>> ops = {
      [](const Tensor& t) { return F::max_pool2d(t, 2); },
      [](const Tensor& t) {
        return F::max_pool2d(t, {3, 2}, {.stride = 2, .padding = 1, .ceil_mode = true});
      },
      [](const Tensor& t) { return F::avg_pool2d(t, 3, {.stride = 2, .padding = 1}); },
      [](const Tensor& t) {
        return F::avg_pool2d(
            t, 2, {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
      },
      [](const Tensor& t) {
        return F::adaptive_avg_pool2d(t, {3, 4});
      },
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE(i);
    auto op = ops[i];
    EXPECT_GRADCHECK_ON(dev(), [op](const std::vector<Tensor>& t) { return op(t[0]); }, {x});
  }
}

TEST_P(Pool, MaxIndicesAndNaN) {
  Tensor x =
      from_vector<float>({1, 5, 2, 2, 3, 4, 0, 1, -1, 7, 7, 2, 6, 0, 8, 1}, {1, 1, 4, 4}).to(dev());
  Tensor idx;
  const Tensor y = F::max_pool2d(x, 2, {}, &idx);
  // The tie (2, 2) in the second window keeps the first position.
  EXPECT_EQ(y.to(Device::CPU).to_vector<float>(), (std::vector<float>{5, 2, 7, 8}));
  EXPECT_EQ(idx.to(Device::CPU).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 9, 14}));
  // A NaN in a window wins, as torch.
  x = from_vector<float>({1, NAN, 2, 3}, {1, 1, 2, 2}).to(dev());
  EXPECT_TRUE(std::isnan(F::max_pool2d(x, 2).to(Device::CPU).item<float>()));
}

TEST_P(Pool, Bf16AccumulatesInF32) {
  const Tensor x = full({1, 1, 32, 32}, 1.0 / 3.0, {.dtype = DType::BF16, .device = dev()});
  const Tensor y = F::adaptive_avg_pool2d(x, 1);
  EXPECT_EQ(y.dtype(), DType::BF16);
  EXPECT_NEAR(y.to(Device::CPU).item<double>(),
              x.to(Device::CPU).to(DType::F64).mean().item<double>(), 2e-3);
}

TEST_P(Pool, Errors) {
  const Tensor x = zeros({1, 2, 4, 4}, {.device = dev()});
  EXPECT_THROW_MSG(F::max_pool2d(zeros({4, 4}, {.device = dev()}), 2), "max_pool2d");
  EXPECT_THROW_MSG(F::max_pool2d(x, 5), "larger than the padded input");
  EXPECT_THROW_MSG(F::max_pool2d(x, 2, {.padding = 2}), "at most half the kernel");
  EXPECT_THROW_MSG(F::avg_pool2d(x, 0), "must be positive");
  EXPECT_THROW_MSG(F::adaptive_avg_pool2d(x, {0, 2}), "must be positive");
  EXPECT_THROW_MSG(F::max_pool2d(zeros({1, 1, 4, 4}, {.dtype = DType::I64, .device = dev()}), 2),
                   "expected a floating input");
}

TEST_P(Pool, Modules) {
  const Tensor x = randn({2, 3, 6, 5}, {.device = dev()});
  nn::MaxPool2d mp(2, {.stride = 1});
  nn::AvgPool2d ap(3, {.padding = 1, .count_include_pad = false});
  nn::AdaptiveAvgPool2d gap(1);
  EXPECT_TRUE(all_close(mp(x).to(Device::CPU), F::max_pool2d(x, 2, {.stride = 1}).to(Device::CPU)));
  EXPECT_TRUE(
      all_close(ap(x).to(Device::CPU),
                F::avg_pool2d(x, 3, {.padding = 1, .count_include_pad = false}).to(Device::CPU)));
  EXPECT_TRUE(all_close(gap(x).to(Device::CPU), x.mean(Shape{2, 3}, true).to(Device::CPU)));
  EXPECT_EQ(mp.repr(),
            "MaxPool2d(kernel_size=(2, 2), stride=(1, 1), padding=(0, 0), ceil_mode=false)");
  EXPECT_TRUE(mp.parameters().empty());
}

// A small CNN with every new layer (conv with groups and stride, BatchNorm2d, max pool with
// ceil_mode, GroupNorm, adaptive pooling, LayerNorm, a weight-normalised Linear), built in
// PyTorch (tests/oracle/gen_nn_golden.py): its state dict loads under torch's names, and
// one training step gives torch's output, every parameter's gradient and the running
// statistics.
TEST_P(Conv, TorchCnnStateDictAndTrainingStep) {
  const descent::testing::Fixtures fx =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_cnn.txt"));
  auto fc = std::make_shared<nn::Linear>(32, 5);
  nn::utils::weight_norm(*fc);
  nn::Sequential model(
      nn::Conv2d(2, 4, 3, {.padding = 1}), nn::BatchNorm2d(4), nn::ReLU(),
      nn::MaxPool2d(2, {.ceil_mode = true}),
      nn::Conv2d(4, 8, {3, 2}, {.stride = 2, .padding = {1, 0}, .groups = 2, .bias = false}),
      nn::GroupNorm(4, 8), nn::AdaptiveAvgPool2d({2, 2}), nn::Flatten(), nn::LayerNorm({32}), fc);
  StateDict sd;
  const std::string param = "cnn.param.";
  for (const auto& [k, t] : fx)
    if (k.starts_with(param)) sd.tensors[k.substr(param.size())] = t;
  const auto loaded = model.load_state_dict(sd, {.strict = false});
  EXPECT_EQ(loaded.missing, std::vector<std::string>{"1.num_batches_tracked"});
  EXPECT_TRUE(loaded.unexpected.empty());
  model.to(dev());
  Tensor x = fx.at("cnn.x").to(dev()).requires_grad_();
  const Tensor out = model(x);
  out.backward(fx.at("cnn.v").to(dev()));
  EXPECT_TRUE(all_close(out.to(Device::CPU), fx.at("cnn.out")));
  EXPECT_TRUE(all_close(x.grad().to(Device::CPU), fx.at("cnn.grad.x")));
  for (const auto& [name, p] : model.named_parameters()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(fx.contains("cnn.grad." + name));
    EXPECT_TRUE(all_close(p.grad().to(Device::CPU), fx.at("cnn.grad." + name), 1e-5, 1e-3));
  }
  for (const std::string b : {"1.running_mean", "1.running_var"})
    EXPECT_TRUE(
        all_close(model.state_dict().tensors.at(b).to(Device::CPU), fx.at("cnn.buffer." + b)));
}

INSTANTIATE_PER_DEVICE(Conv);
INSTANTIATE_PER_DEVICE(Pool);

// The README's CNN snippet (section "Models"), as written there.
TEST(ConvReadme, Snippet) {
  nn::Sequential cnn(nn::Unflatten(1, {1, 28, 28}),
                     nn::Conv2d(1, 32, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(32),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(32 * 14 * 14, 10));
  Tensor logits = cnn(randn({8, 784}));
  EXPECT_EQ(logits.shape(), Shape({8, 10}));
  auto fc = std::make_shared<nn::Linear>(256, 10);
  nn::utils::weight_norm(*fc);
  EXPECT_NE(fc->find_parameter("weight_g"), nullptr);
  nn::utils::remove_weight_norm(*fc);
  EXPECT_TRUE(fc->find_parameter("weight")->defined());
}
