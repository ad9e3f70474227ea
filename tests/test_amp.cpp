// Autocast (16-bit GEMMs from f32 master weights, f32 softmax/losses) and the dynamic
// loss scaler, every branch of its state machine.
#include <descent/amp/grad_scaler.h>
#include <descent/core/autocast.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

// A minimal optimizer for the scaler tests: p -= lr·g.
class PlainSgd final : public optim::Optimizer {
 public:
  PlainSgd(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {}
  std::string_view name() const override { return "plain_sgd"; }
  size_t num_groups() const override { return 1; }
  const std::vector<Tensor>& params(size_t) const override { return params_; }
  double lr(size_t) const override { return lr_; }
  void set_lr(double lr, size_t) override { lr_ = lr; }
  void step() override {
    NoGradGuard ng;
    ++steps;
    for (Tensor p : params_) {
      if (p.grad().defined()) add_(p, p.grad(), -lr_);
    }
  }
  StateDict state_dict() const override { return {}; }
  void load_state_dict(const StateDict&) override {}
  int steps = 0;

 private:
  std::vector<Tensor> params_;
  double lr_;
};

}  // namespace

TEST(Autocast, MatmulAndLinearRunIn16BitFromF32Weights) {
  Generator gen(1);
  Tensor x = randn({8, 16}, {}, &gen);
  Tensor w = randn({4, 16}, {.requires_grad = true}, &gen);
  Tensor b = randn({4}, {.requires_grad = true}, &gen);
  Tensor ref = F::linear(x, w, b);
  ref.sum().backward();
  Tensor gw_ref = w.grad().clone();
  w.set_grad({});
  for (DType dt : {DType::BF16, DType::F16}) {
    Tensor y;
    {
      amp::Autocast cast(dt);
      EXPECT_TRUE(amp::autocast_enabled());
      y = F::linear(x, w, b);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_EQ(matmul(x, w.t()).dtype(), dt);
    }
    EXPECT_FALSE(amp::autocast_enabled());
    EXPECT_TRUE(all_close(y.to(DType::F32), ref, 0.1, 2e-2));
    y.sum().backward();
    EXPECT_EQ(w.grad().dtype(), DType::F32);  // master weights get f32 gradients
    EXPECT_TRUE(all_close(w.grad(), gw_ref, 0.1, 2e-2));
    w.set_grad({});
  }
}

TEST(Autocast, SoftmaxAndLossesStayInF32) {
  Tensor logits = randn({6, 5}).to(DType::BF16);
  Tensor labels = from_vector<int64_t>({0, 1, 2, 3, 4, 0});
  amp::Autocast cast(DType::BF16);
  EXPECT_EQ(F::softmax(logits, 1).dtype(), DType::F32);
  EXPECT_EQ(F::log_softmax(logits, 1).dtype(), DType::F32);
  EXPECT_EQ(F::cross_entropy(logits, labels).dtype(), DType::F32);
  EXPECT_EQ(F::mse_loss(logits, zeros({6, 5})).dtype(), DType::F32);
}

TEST(Autocast, F64IsNeverLoweredAndScopesNest) {
  Tensor a = randn({3, 3}, {.dtype = DType::F64});
  amp::Autocast cast(DType::BF16);
  EXPECT_EQ(matmul(a, a).dtype(), DType::F64);
  {
    amp::Autocast off(DType::BF16, /*enabled=*/false);
    EXPECT_EQ(matmul(a.to(DType::F32), a.to(DType::F32)).dtype(), DType::F32);
  }
  EXPECT_EQ(matmul(a.to(DType::F32), a.to(DType::F32)).dtype(), DType::BF16);
  EXPECT_THROW_MSG(amp::Autocast bad(DType::F32), "autocast: dtype must be bf16 or f16");
}

TEST(Autocast, HalvesActivationMemory) {
  // A 3-layer MLP on a large batch: saved activations dominate the weights.
  Generator gen(2);
  Tensor x = randn({2048, 64}, {}, &gen);
  std::vector<Tensor> ws{randn({256, 64}, {.requires_grad = true}, &gen) * 0.1,
                         randn({256, 256}, {.requires_grad = true}, &gen) * 0.1,
                         randn({10, 256}, {.requires_grad = true}, &gen) * 0.1};
  auto graph_bytes = [&](bool amp_on) {
    const size_t before = memory_stats().allocated_bytes;
    amp::Autocast cast(DType::BF16, amp_on);
    Tensor h = x;
    for (size_t i = 0; i < ws.size(); ++i) {
      h = F::linear(h, ws[i]);
      if (i + 1 < ws.size()) h = F::relu(h);
    }
    Tensor loss = h.to(DType::F32).sum();  // keeps the whole graph alive
    return memory_stats().allocated_bytes - before;
  };
  const double f32 = double(graph_bytes(false)), bf16 = double(graph_bytes(true));
  std::printf("graph memory: f32 %.0f bytes, bf16 %.0f bytes (ratio %.3f)\n", f32, bf16,
              bf16 / f32);
  EXPECT_LT(bf16, 0.6 * f32) << "f32 graph " << f32 << " bytes, bf16 graph " << bf16;
}

TEST(GradScaler, ScalesTheLossAndUnscalesGradients) {
  Tensor w = full({3}, 2.0, {.requires_grad = true});
  PlainSgd opt({w}, 0.5);
  amp::GradScaler scaler;
  EXPECT_EQ(scaler.get_scale(), 65536.0);
  Tensor loss = (w * w).sum();
  Tensor scaled = scaler.scale(loss);
  EXPECT_DOUBLE_EQ(scaled.item<double>(), loss.item<double>() * 65536.0);
  scaled.backward();
  EXPECT_DOUBLE_EQ(w.grad().to_vector<float>()[0], 4.0 * 65536.0);
  scaler.unscale_(opt);
  EXPECT_FLOAT_EQ(w.grad().to_vector<float>()[0], 4.0f);
  EXPECT_TRUE(scaler.step(opt));  // does not unscale a second time
  EXPECT_FLOAT_EQ(w.to_vector<float>()[0], 2.0f - 0.5f * 4.0f);
  scaler.update();
  EXPECT_EQ(scaler.growth_tracker(), 1);
}

TEST(GradScaler, GrowsAfterGrowthIntervalFiniteSteps) {
  Tensor w = ones({2}, {.requires_grad = true});
  PlainSgd opt({w}, 0.0);
  amp::GradScaler scaler({.init_scale = 8.0, .growth_interval = 3});
  for (int i = 1; i <= 7; ++i) {
    opt.zero_grad();
    scaler.scale(w.sum()).backward();
    EXPECT_TRUE(scaler.step(opt));
    scaler.update();
    const double want = i < 3 ? 8.0 : i < 6 ? 16.0 : 32.0;
    EXPECT_EQ(scaler.get_scale(), want) << "after step " << i;
    EXPECT_EQ(scaler.growth_tracker(), i % 3);
  }
  EXPECT_EQ(opt.steps, 7);
}

TEST(GradScaler, SkipsTheStepAndBacksOffOnInfOrNan) {
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan("")}) {
    Tensor w = ones({2}, {.requires_grad = true});
    PlainSgd opt({w}, 1.0);
    amp::GradScaler scaler({.init_scale = 1024.0, .growth_interval = 2});
    opt.zero_grad();
    scaler.scale(w.sum()).backward();
    scaler.step(opt);
    scaler.update();  // tracker 1
    opt.zero_grad();
    scaler.scale((w * bad).sum()).backward();
    EXPECT_FALSE(scaler.step(opt));
    EXPECT_TRUE(scaler.found_inf(opt));
    EXPECT_EQ(opt.steps, 1);  // the second update was skipped
    const std::vector<float> before = w.to_vector<float>();
    scaler.update();
    EXPECT_EQ(scaler.get_scale(), 512.0);
    EXPECT_EQ(scaler.growth_tracker(), 0);
    EXPECT_EQ(w.to_vector<float>(), before);
  }
}

TEST(GradScaler, MisuseIsAClearError) {
  Tensor w = ones({2}, {.requires_grad = true});
  PlainSgd opt({w}, 0.1);
  amp::GradScaler scaler;
  EXPECT_THROW_MSG(scaler.update(), "no inf checks were recorded");
  scaler.scale(w.sum()).backward();
  scaler.unscale_(opt);
  EXPECT_THROW_MSG(scaler.unscale_(opt), "unscale_() has already been called");
  scaler.step(opt);
  EXPECT_THROW_MSG(scaler.step(opt), "step() has already been called");
  scaler.update();
  EXPECT_THROW_MSG(amp::GradScaler({.backoff_factor = 1.5}), "backoff_factor must be in (0, 1)");
  EXPECT_THROW_MSG(amp::GradScaler({.init_scale = 0}), "init_scale must be positive");
}

TEST(GradScaler, DisabledIsANoOp) {
  Tensor w = ones({2}, {.requires_grad = true});
  PlainSgd opt({w}, 0.5);
  amp::GradScaler scaler({.enabled = false});
  Tensor loss = w.sum();
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  EXPECT_EQ(scaler.get_scale(), 1.0);
  loss.backward();
  scaler.unscale_(opt);
  EXPECT_TRUE(scaler.step(opt));
  scaler.update();
  EXPECT_FLOAT_EQ(w.to_vector<float>()[0], 0.5f);
}

TEST(GradScaler, StateDictRoundTrips) {
  amp::GradScaler a({.init_scale = 256.0, .growth_interval = 5});
  Tensor w = ones({1}, {.requires_grad = true});
  PlainSgd opt({w}, 0.0);
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    a.scale(w.sum()).backward();
    a.step(opt);
    a.update();
  }
  amp::GradScaler b;
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(b.get_scale(), 256.0);
  EXPECT_EQ(b.growth_tracker(), 2);
  StateDict wrong;
  wrong.strings["type"] = "Adam";
  EXPECT_THROW_MSG(b.load_state_dict(wrong), "not a GradScaler");
}
