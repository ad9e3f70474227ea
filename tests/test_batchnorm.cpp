// F::batch_norm and nn::BatchNorm1d/2d: f64 gradchecks in training and eval mode (through the
// reference kernel), the oneDNN f32 kernel against the f64 reference, running-statistics semantics,
// PyTorch golden values (tests/oracle/gen_nn_golden.py) and argument errors. Every TEST_P
// runs once per device (cpu, cuda); the rest are CPU-only, each says why.
#include <descent/nn/batchnorm.h>
#include <descent/nn/container.h>
#include <descent/nn/linear.h>
#include <descent/ops/batchnorm.h>
#include <descent/ops/loss.h>
#include <descent/optim/sgd.h>

#include "testing/devices.h"
#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

Tensor randn_f64(const Shape& s, uint64_t seed, double scale = 1.0, double shift = 0.0) {
  Generator gen(seed);
  return randn(s, {.dtype = DType::F64}, &gen) * scale + shift;
}

const std::vector<Shape> kShapes = {{6, 3}, {4, 3, 5}, {3, 3, 2, 4}};

class BatchNorm : public descent::testing::PerDeviceTest {};
class BatchNormModule : public descent::testing::PerDeviceTest {};

}  // namespace

TEST_P(BatchNorm, GradcheckTrainingF64) {
  uint64_t seed = 1;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(fmt::format("shape {}", s));
    Tensor x = rand_input(s, -2, 2, seed++);
    Tensor w = rand_input({3}, 0.5, 1.5, seed++), b = rand_input({3}, -1, 1, seed++);
    EXPECT_GRADCHECK_ON(dev(),
                        [](const std::vector<Tensor>& in) {
                          return F::batch_norm(in[0], {}, {}, in[1], in[2], /*training=*/true);
                        },
                        {x, w, b});
    // No affine parameters: gradient with respect to x only.
    EXPECT_GRADCHECK_ON(
        dev(),
        [](const std::vector<Tensor>& in) { return F::batch_norm(in[0], {}, {}, {}, {}, true); },
        {x});
  }
}

TEST_P(BatchNorm, GradcheckEvalF64) {
  uint64_t seed = 10;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(fmt::format("shape {}", s));
    Tensor x = rand_input(s, -2, 2, seed++);
    Tensor w = rand_input({3}, 0.5, 1.5, seed++), b = rand_input({3}, -1, 1, seed++);
    Tensor rm = randn_f64({3}, seed++).to(dev()),
           rv = (randn_f64({3}, seed++).abs() + 0.5).to(dev());
    EXPECT_GRADCHECK_ON(dev(),
                        [&](const std::vector<Tensor>& in) {
                          return F::batch_norm(in[0], rm, rv, in[1], in[2], /*training=*/false);
                        },
                        {x, w, b});
  }
}

// The oneDNN f32 kernels (forward and backward, both modes, with and without affine
// parameters) against the f64 reference loops. CPU-only: oneDNN is the CPU backend's.
TEST(BatchNormCpu, OneDnnF32MatchesF64Reference) {
  uint64_t seed = 100;
  for (const Shape& s : std::vector<Shape>{{32, 7}, {8, 7, 9}, {4, 7, 5, 6}}) {
    for (bool training : {true, false}) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(fmt::format("shape {} training {} affine {}", s, training, affine));
        Tensor x64 = randn_f64(s, seed++, 2.0, 0.7);
        Tensor w64 = affine ? randn_f64({7}, seed++, 0.3, 1.0) : Tensor();
        Tensor b64 = affine ? randn_f64({7}, seed++) : Tensor();
        Tensor rm64 = randn_f64({7}, seed++), rv64 = randn_f64({7}, seed++).abs() + 0.5;
        Tensor v64 = randn_f64(s, seed++);
        struct Result {
          Tensor y, gx, gw, gb, rm, rv;
        };
        const auto run = [&](DType dt) {
          Tensor x = x64.to(dt).requires_grad_();
          Tensor w = affine ? w64.to(dt).requires_grad_() : Tensor();
          Tensor b = affine ? b64.to(dt).requires_grad_() : Tensor();
          Tensor rm = rm64.to(dt), rv = rv64.to(dt);
          Tensor y = F::batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5);
          (y * v64.to(dt)).sum().backward();
          return Result{y,  x.grad(), affine ? w.grad() : Tensor(), affine ? b.grad() : Tensor(),
                        rm, rv};
        };
        Result r32 = run(DType::F32), r64 = run(DType::F64);
        EXPECT_TRUE(all_close(r32.y, r64.y, 1e-4, 1e-4));
        EXPECT_TRUE(all_close(r32.gx, r64.gx, 1e-4, 1e-4));
        EXPECT_TRUE(all_close(r32.rm, r64.rm, 1e-5, 1e-5));
        EXPECT_TRUE(all_close(r32.rv, r64.rv, 1e-5, 1e-5));
        if (affine) {
          EXPECT_TRUE(all_close(r32.gw, r64.gw, 1e-3, 1e-4));
          EXPECT_TRUE(all_close(r32.gb, r64.gb, 1e-3, 1e-4));
        }
      }
    }
  }
}

// Training normalises with the batch statistics and moves the running ones by
// momentum, using the unbiased variance; eval uses the running ones and leaves them.
TEST_P(BatchNorm, RunningStatisticsSemantics) {
  Tensor x = on_dev(from_vector<double>({1, 10, 2, 20, 3, 30, 6, 60}, {4, 2}));
  Tensor rm = zeros({2}, {.dtype = DType::F64, .device = dev()});
  Tensor rv = ones({2}, {.dtype = DType::F64, .device = dev()});
  Tensor y = F::batch_norm(x, rm, rv, {}, {}, /*training=*/true, /*momentum=*/0.25, 0.0);
  // Channel 0: mean 3, biased var 3.5, unbiased 14/3. Channel 1 is 10× channel 0.
  EXPECT_TRUE(all_close(rm, from_vector<double>({0.75, 7.5}), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(rv, from_vector<double>({0.75 + 0.25 * 14.0 / 3, 0.75 + 25.0 * 14.0 / 3}),
                        1e-12, 1e-12));
  const double r = 1.0 / std::sqrt(3.5);
  EXPECT_TRUE(all_close(y.select(1, 0), from_vector<double>({-2 * r, -r, 0, 3 * r}), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(y.select(1, 1), y.select(1, 0), 1e-12, 1e-12));

  // Eval: (x - running_mean) / sqrt(running_var + eps); the statistics stay.
  const auto rm_before = rm.to_vector<double>(), rv_before = rv.to_vector<double>();
  Tensor ye = F::batch_norm(x, rm, rv, {}, {}, /*training=*/false, 0.25, 0.0);
  EXPECT_EQ(rm.to_vector<double>(), rm_before);
  EXPECT_EQ(rv.to_vector<double>(), rv_before);
  EXPECT_NEAR(ye.select(1, 0).to_vector<double>()[3], (6 - 0.75) / std::sqrt(rv_before[0]), 1e-12);
  EXPECT_NEAR(ye.select(1, 1).to_vector<double>()[0], (10 - 7.5) / std::sqrt(rv_before[1]), 1e-12);

  // Without running statistics, training still normalises with the batch ones.
  Tensor yn = F::batch_norm(x, {}, {}, {}, {}, true, 0.1, 0.0);
  EXPECT_TRUE(all_close(yn, y, 1e-9, 1e-9));
}

// The eval backward treats the statistics as constants: dx = w / sqrt(var + eps) · dy.
TEST_P(BatchNorm, EvalGradientIsScaledUpstream) {
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = on_dev(randn_f64({5, 3, 4}, 3).to(dt)).requires_grad_();
    Tensor rm = on_dev(from_vector<double>({0.5, -1, 2}).to(dt));
    Tensor rv = on_dev(from_vector<double>({4, 0.25, 1}).to(dt));
    Tensor w = on_dev(from_vector<double>({2, 3, -1}).to(dt));
    F::batch_norm(x, rm, rv, w, {}, false, 0.1, 0.0).sum().backward();
    const auto g = x.grad().to_vector<double>();
    const double want[3] = {2 / 2.0, 3 / 0.5, -1 / 1.0};
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[(i / 4) % 3], 1e-6);
  }
}

// PyTorch golden values: outputs, gradients and buffers after several steps.
TEST_P(BatchNorm, GoldenAgainstPyTorch) {
  const auto fx =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_batchnorm.txt"));
  int cases = 0;
  for (const char* name : {"bn1d_train", "bn1d_ncl_train", "bn2d_train", "bn1d_noaffine_train",
                           "bn1d_eval", "bn2d_eval"}) {
    SCOPED_TRACE(name);
    // A fresh copy on dev() of the fixture `name`.`key`.
    const auto at = [&](const std::string& key) {
      return fx.at(std::string(name) + "." + key).to(dev()).clone();
    };
    const bool affine = fx.count(std::string(name) + ".param.weight") > 0;
    const bool eval = fx.count(std::string(name) + ".x") > 0;
    const double momentum = at("arg.momentum").item<double>();
    const int64_t steps = at("arg.steps").item<int64_t>();
    Tensor w = affine ? at("param.weight").requires_grad_() : Tensor();
    Tensor b = affine ? at("param.bias").requires_grad_() : Tensor();
    const int64_t C = at("buffer.running_mean").numel();
    Tensor rm = zeros({C}, {.device = dev()}), rv = ones({C}, {.device = dev()});
    Tensor x, y;
    for (int64_t s = 0; s < steps; ++s) {
      x = at(fmt::format("x{}", s)).requires_grad_();
      y = F::batch_norm(x, rm, rv, w, b, true, momentum, 1e-5);
    }
    if (eval) {
      EXPECT_TRUE(all_close(y, at("train_out")));
      x = at("x").requires_grad_();
      y = F::batch_norm(x, rm, rv, w, b, false, momentum, 1e-5);
    }
    (y * at("v")).sum().backward();
    EXPECT_TRUE(all_close(y, at("out")));
    EXPECT_TRUE(all_close(x.grad(), at("grad.x")));
    EXPECT_TRUE(all_close(rm, at("buffer.running_mean")));
    EXPECT_TRUE(all_close(rv, at("buffer.running_var")));
    if (affine) {
      EXPECT_TRUE(all_close(w.grad(), at("grad.weight")));
      EXPECT_TRUE(all_close(b.grad(), at("grad.bias")));
    }
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(BatchNormCpu, Errors) {
  Tensor x = zeros({4, 3});
  Tensor c3 = ones({3}), c2 = ones({2});
  EXPECT_THROW_MSG(F::batch_norm(zeros({4}), c3, c3), "batch_norm: expected input of shape");
  EXPECT_THROW_MSG(F::batch_norm(zeros({2, 3, 2, 2, 2}), c3, c3), "got [2, 3, 2, 2, 2]");
  EXPECT_THROW_MSG(F::batch_norm(x, c2, c2), "running_mean has shape [2], expected (3)");
  EXPECT_THROW_MSG(F::batch_norm(x, c3, c3, c2), "weight has shape [2], expected (3)");
  EXPECT_THROW_MSG(F::batch_norm(x, c3, c3, c3, c2), "bias has shape [2]");
  EXPECT_THROW_MSG(F::batch_norm(x, c3, c3, ones({3}, {.dtype = DType::F64})),
                   "weight is f64, expected the input's dtype f32");
  EXPECT_THROW_MSG(F::batch_norm(x, {}, {}), "needs running_mean and running_var");
  EXPECT_THROW_MSG(F::batch_norm(x, c3, {}, {}, {}, true), "both be given");
  EXPECT_THROW_MSG(F::batch_norm(zeros({1, 3}), c3, c3, {}, {}, true),
                   "expected more than 1 value per channel when training");
  EXPECT_THROW_MSG(F::batch_norm(zeros({4, 3}, {.dtype = DType::I64}), c3, c3),
                   "expected f32 or f64");
  EXPECT_THROW_MSG(F::batch_norm(x, c3, c3, {}, {}, false, 0.1, -1.0), "eps must be non-negative");
}

// ---- modules ---------------------------------------------------------------------------

namespace {

std::vector<std::string> keys(const StateDict& d) {
  std::vector<std::string> out;
  for (const auto& [k, v] : d.tensors) out.push_back(k);
  return out;
}

}  // namespace

// CPU-only: the module's layout, the same on every device.
TEST(BatchNormModuleCpu, ParametersBuffersAndStateDictKeysAsPyTorch) {
  nn::BatchNorm1d bn(4);
  EXPECT_EQ(keys(bn.state_dict()),
            (std::vector<std::string>{"bias", "num_batches_tracked", "running_mean", "running_var",
                                      "weight"}));
  EXPECT_EQ(bn.parameters().size(), 2u);
  EXPECT_TRUE(all_close(bn.weight(), ones({4}), 0, 0));
  EXPECT_TRUE(all_close(bn.bias(), zeros({4}), 0, 0));
  EXPECT_TRUE(all_close(bn.running_var(), ones({4}), 0, 0));
  EXPECT_EQ(bn.num_batches_tracked().dtype(), DType::I64);
  EXPECT_EQ(bn.num_batches_tracked().dim(), 0);
  nn::BatchNorm2d plain(3, {.affine = false});
  EXPECT_EQ(keys(plain.state_dict()),
            (std::vector<std::string>{"num_batches_tracked", "running_mean", "running_var"}));
  nn::BatchNorm1d untracked(3, {.track_running_stats = false});
  EXPECT_EQ(keys(untracked.state_dict()), (std::vector<std::string>{"bias", "weight"}));
  EXPECT_EQ(bn.repr(),
            "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
}

// The golden cases again, through the modules: buffers after several steps (including
// num_batches_tracked), eval outputs and all gradients.
TEST_P(BatchNormModule, GoldenAgainstPyTorch) {
  const auto fx =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_batchnorm.txt"));
  for (const char* name : {"bn1d_train", "bn1d_ncl_train", "bn2d_train", "bn1d_noaffine_train",
                           "bn1d_eval", "bn2d_eval"}) {
    SCOPED_TRACE(name);
    // A fresh copy on dev() of the fixture `name`.`key`.
    const auto at = [&](const std::string& key) {
      return fx.at(std::string(name) + "." + key).to(dev()).clone();
    };
    const bool affine = fx.count(std::string(name) + ".param.weight") > 0;
    const bool eval = fx.count(std::string(name) + ".x") > 0;
    const int64_t C = at("buffer.running_mean").numel(), steps = at("arg.steps").item<int64_t>();
    const nn::BatchNormOptions opt{.momentum = at("arg.momentum").item<double>(), .affine = affine};
    std::unique_ptr<nn::BatchNormBase> bn;
    if (std::string(name).starts_with("bn2d")) {
      bn = std::make_unique<nn::BatchNorm2d>(C, opt);
    } else {
      bn = std::make_unique<nn::BatchNorm1d>(C, opt);
    }
    if (affine) {
      StateDict sd = bn->state_dict();
      sd.tensors["weight"] = at("param.weight");
      sd.tensors["bias"] = at("param.bias");
      bn->load_state_dict(sd);
    }
    bn->to(dev());
    Tensor x, y;
    for (int64_t s = 0; s < steps; ++s) {
      x = at(fmt::format("x{}", s)).requires_grad_();
      y = (*bn)(x);
    }
    if (eval) {
      bn->eval();
      x = at("x").requires_grad_();
      y = (*bn)(x);
    }
    (y * at("v")).sum().backward();
    EXPECT_TRUE(all_close(y, at("out")));
    EXPECT_TRUE(all_close(x.grad(), at("grad.x")));
    EXPECT_TRUE(all_close(bn->running_mean(), at("buffer.running_mean")));
    EXPECT_TRUE(all_close(bn->running_var(), at("buffer.running_var")));
    EXPECT_EQ(bn->num_batches_tracked().item<int64_t>(),
              at("buffer.num_batches_tracked").item<int64_t>());
    if (affine) {
      EXPECT_TRUE(all_close(bn->weight().grad(), at("grad.weight")));
      EXPECT_TRUE(all_close(bn->bias().grad(), at("grad.bias")));
    }
  }
}

// momentum = nullopt: the running statistics are the plain average of all batches.
TEST_P(BatchNormModule, CumulativeAverageWithoutMomentum) {
  nn::BatchNorm1d bn(2, {.momentum = std::nullopt});
  bn.to(dev());
  Tensor a = on_dev(from_vector<float>({1, 2, 3, 6}, {2, 2}));
  Tensor b = on_dev(from_vector<float>({5, 0, 9, 2}, {2, 2}));
  bn(a);
  bn(b);
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);
  // Batch means (2, 4) and (7, 1); unbiased variances (2, 8) and (8, 2).
  EXPECT_TRUE(all_close(bn.running_mean(), from_vector<float>({4.5, 2.5}), 1e-6, 1e-6));
  EXPECT_TRUE(all_close(bn.running_var(), from_vector<float>({5, 5}), 1e-5, 1e-6));
  bn.reset_running_stats();
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 0);
  EXPECT_TRUE(all_close(bn.running_mean(), zeros({2}), 0, 0));
}

// Eval uses the running statistics; without tracking it uses the batch's, and leaves
// num_batches_tracked alone in eval.
TEST_P(BatchNormModule, EvalVersusTrain) {
  Tensor x = on_dev(from_vector<float>({1, 2, 3, 6, 5, 0}, {3, 2}));
  nn::BatchNorm1d bn(2);
  bn.to(dev());
  Tensor train = bn(x);
  bn.eval();
  Tensor eval = bn(x);
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 1);
  EXPECT_FALSE(all_close(train, eval, 1e-3, 1e-3));
  const auto rm = bn.running_mean().to_vector<float>(), rv = bn.running_var().to_vector<float>();
  EXPECT_NEAR(eval.to_vector<float>()[0], (1 - rm[0]) / std::sqrt(rv[0] + 1e-5), 1e-5);
  nn::BatchNorm1d untracked(2, {.track_running_stats = false});
  untracked.to(dev());
  untracked.eval();
  EXPECT_TRUE(all_close(untracked(x), train, 1e-6, 1e-6));
}

// CPU-only: training a small regression through BatchNorm, then the trained model
// converted to f64 computes what it computed in f32.
TEST(BatchNormModuleCpu, InSequentialTrainsAndConvertsToF64) {
  Generator gen(5);
  nn::Sequential model(nn::Linear(3, 8, {.generator = &gen}), nn::BatchNorm1d(8), nn::ReLU(),
                       nn::Linear(8, 1, {.generator = &gen}));
  const Tensor x = randn({64, 3}, {}, &gen) * 2.0 + 1.0;  // off-centre inputs
  const Tensor y = abs(x.narrow(1, 0, 1) * 2.0 - x.narrow(1, 1, 1));
  optim::SGD opt(model.parameters(), {.lr = 0.05, .momentum = 0.9});
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Tensor loss = F::mse_loss(model(x), y);
    loss.backward();
    opt.step();
    last = loss.item();
    if (step == 0) first = last;
  }
  EXPECT_LT(last, 0.1 * first) << "first " << first << " last " << last;
  // The running statistics followed the batches: the mean left 0 (the inputs are
  // off-centre) and every training forward was counted.
  const auto& bn = model.at<nn::BatchNorm1d>(1);
  EXPECT_GT(abs(bn.running_mean()).sum().item(), 0.5);
  EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 150);
  model.eval();
  const Tensor y32 = model(x);
  EXPECT_LT(F::mse_loss(y32, y).item(), 0.2 * first);  // eval (running statistics) fits too
  model.to(DType::F64);
  const Tensor y64 = model(x.to(DType::F64));
  EXPECT_EQ(y64.dtype(), DType::F64);
  EXPECT_TRUE(all_close(y64, y32.to(DType::F64), 1e-5, 1e-4));
  EXPECT_EQ(model.state_dict().tensors.at("1.running_mean").dtype(), DType::F64);
  EXPECT_EQ(model.state_dict().tensors.at("1.num_batches_tracked").dtype(), DType::I64);
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(BatchNormModuleCpu, Errors) {
  EXPECT_THROW_MSG(nn::BatchNorm1d(0), "BatchNorm1d: got num_features=0");
  EXPECT_THROW_MSG(nn::BatchNorm1d(3, {.momentum = 1.5}), "got momentum=1.5");
  EXPECT_THROW_MSG(nn::BatchNorm2d(3, {.eps = -1}), "BatchNorm2d: got eps=-1");
  nn::BatchNorm1d bn(3);
  EXPECT_THROW_MSG(bn(zeros({4, 2})),
                   "BatchNorm1d: got input of shape [4, 2] with 2 channels, "
                   "expected num_features=3");
  EXPECT_THROW_MSG(bn(zeros({4, 3, 2, 2})), "expected (N, C) or (N, C, L)");
  nn::BatchNorm2d bn2(3);
  EXPECT_THROW_MSG(bn2(zeros({4, 3, 2})),
                   "BatchNorm2d: got input of shape [4, 3, 2], expected "
                   "(N, C, H, W)");
}

INSTANTIATE_PER_DEVICE(BatchNorm);
INSTANTIATE_PER_DEVICE(BatchNormModule);

// CPU only (the mixed-precision kernel is the CPU's): under bf16 autocast a bf16 image
// batch is normalised by the kernel itself — bf16 in and out, f32 statistics, weight
// gradients and running statistics — and agrees with the f32 computation to bf16's
// precision.
TEST(BatchNormMixed, Bf16ImagesUnderAutocastMatchF32) {
  Generator gen(21);
  const Tensor x32 = randn({4, 3, 5, 6}, {}, &gen) * 2.0 + 1.0;
  const Tensor v = randn({4, 3, 5, 6}, {}, &gen);
  auto run = [&](bool bf16) {
    nn::BatchNorm2d bn(3);
    Tensor x = (bf16 ? x32.to(DType::BF16) : x32.clone()).requires_grad_();
    Tensor y;
    {
      amp::Autocast cast(DType::BF16, bf16);
      y = bn(x);
    }
    (y.to(DType::F32) * v).sum().backward();
    return std::tuple{y, x.grad(), bn.weight().grad(), bn.running_var().clone()};
  };
  const auto [y16, gx16, gw16, rv16] = run(true);
  const auto [y32, gx32, gw32, rv32] = run(false);
  EXPECT_EQ(y16.dtype(), DType::BF16);
  EXPECT_EQ(gx16.dtype(), DType::BF16);
  EXPECT_EQ(gw16.dtype(), DType::F32);
  EXPECT_TRUE(all_close(y16.to(DType::F32), y32, 0.03, 0.02));
  EXPECT_TRUE(all_close(gx16.to(DType::F32), gx32, 0.03, 0.03));
  EXPECT_TRUE(all_close(gw16, gw32, 0.05, 0.02));
  EXPECT_TRUE(all_close(rv16, rv32, 0.01, 0.01));
}
