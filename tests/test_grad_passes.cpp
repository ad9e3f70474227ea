// Deferred gradient scaling (core/tensor.h): the loss scaler and clipping fold their
// factors into the fused update instead of rewriting the gradients. These tests hold the
// result to what rewriting the gradients first gives: bit for bit without clipping,
// within one rounding with it; grad() always shows the true gradient; the clip norm's
// one-pass f64 reduction matches an f64 reference and does not depend on threads.
#include <descent/backends/backend.h>
#include <descent/descent.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;

namespace {

// Two f32 parameters with fixed gradients, and a copy of them.
struct Params {
  std::vector<Tensor> ps;
  static Params make(uint64_t seed, double grad_size) {
    manual_seed(seed);
    Params p;
    for (int64_t n : {1000, 37}) {
      Tensor t = randn({n}).requires_grad_();
      p.ps.push_back(t);
    }
    p.set_grads(seed + 1, grad_size);
    return p;
  }
  void set_grads(uint64_t seed, double grad_size) {
    manual_seed(seed);
    for (Tensor& t : ps) t.set_grad(randn(t.shape()) * grad_size);
  }
  Params clone() const {
    Params c;
    for (const Tensor& t : ps) {
      Tensor d = t.detach().clone().requires_grad_();
      d.set_grad(t.grad().clone());
      c.ps.push_back(d);
    }
    return c;
  }
};

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<float>(), y = b.to_vector<float>();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace

// Scaler without clipping: the fused update applies 1/scale exactly as rewriting the
// gradients with mul_ did, so Adam's trajectory is bit-identical.
TEST(GradPasses, ScalerWithoutClippingIsBitIdenticalToUnscalingFirst) {
  Params deferred = Params::make(1, 4096.0), eager = deferred.clone();
  optim::Adam a(deferred.ps, {.lr = 1e-2}), b(eager.ps, {.lr = 1e-2});
  amp::GradScaler scaler({.init_scale = 4096});
  for (int step = 0; step < 5; ++step) {
    scaler.unscale_(a);
    EXPECT_TRUE(scaler.step(a));
    scaler.update();
    {
      NoGradGuard no_grad;
      for (Tensor& p : eager.ps) {
        Tensor g = p.grad();
        mul_(g, 1.0 / 4096);
      }
    }
    b.step();
    for (size_t i = 0; i < deferred.ps.size(); ++i) {
      ASSERT_TRUE(bitwise_equal(deferred.ps[i], eager.ps[i])) << "step " << step;
    }
    deferred.set_grads(10 + step, 4096.0);
    eager.set_grads(10 + step, 4096.0);
  }
}

// Scaler and clipping: one product by (1/scale)·coef instead of two in f32; the
// parameters agree with clipping the true gradients first to a few ulps.
TEST(GradPasses, ClippingFoldedIntoTheUpdateMatchesClippingFirst) {
  Params deferred = Params::make(2, 1024.0), eager = deferred.clone();
  optim::SGD a(deferred.ps, {.lr = 0.1, .momentum = 0.9}),
      b(eager.ps, {.lr = 0.1, .momentum = 0.9});
  amp::GradScaler scaler({.init_scale = 1024});
  for (int step = 0; step < 5; ++step) {
    scaler.unscale_(a);
    const double norm_a = nn::utils::clip_grad_norm_(deferred.ps, 0.5);
    EXPECT_TRUE(scaler.step(a));
    scaler.update();
    double norm_b = 0;
    {
      NoGradGuard no_grad;
      for (Tensor& p : eager.ps) {
        Tensor g = p.grad();
        mul_(g, 1.0 / 1024);
        norm_b += g.to(DType::F64).pow(2).sum().item();
      }
      norm_b = std::sqrt(norm_b);
      for (Tensor& p : eager.ps) {
        Tensor g = p.grad();
        mul_(g, 0.5 / (norm_b + 1e-6));
      }
    }
    b.step();
    EXPECT_NEAR(norm_a, norm_b, 1e-12 * norm_b);
    for (size_t i = 0; i < deferred.ps.size(); ++i) {
      EXPECT_TRUE(descent::testing::all_close(deferred.ps[i], eager.ps[i], 1e-6, 1e-6))
          << "step " << step;
    }
    deferred.set_grads(20 + step, 1024.0);
    eager.set_grads(20 + step, 1024.0);
  }
}

// grad() applies what is pending, once, and hands out the true gradient.
TEST(GradPasses, GradShowsTheTrueGradient) {
  Tensor p = zeros({3}, {.requires_grad = true});
  p.set_grad(from_vector<float>({2, 4, 8}));
  scale_grad_later(p, 0.5);
  scale_grad_later(p, 0.25);
  EXPECT_EQ(pending_grad(p).scale, 0.125);
  EXPECT_EQ(pending_grad(p).grad.to_vector<float>(), (std::vector<float>{2, 4, 8}));  // untouched
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{0.25, 0.5, 1}));
  EXPECT_EQ(pending_grad(p).scale, 1.0);  // applied once
  EXPECT_EQ(p.grad().dtype(), DType::F32);
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{0.25, 0.5, 1}));
  // A new gradient drops what was pending for the old one.
  scale_grad_later(p, 3.0);
  p.set_grad(from_vector<float>({1, 1, 1}));
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{1, 1, 1}));
}

// A finite clip norm lets the scaler skip its inf check; a non-finite gradient is still
// found when nothing clipped.
TEST(GradPasses, ClipNormDoublesAsTheInfCheck) {
  Tensor p = zeros({2}, {.requires_grad = true});
  p.set_grad(from_vector<float>({3, 4}));
  EXPECT_FALSE(grad_known_finite(p));
  nn::utils::clip_grad_norm_({p}, 100.0);
  EXPECT_TRUE(grad_known_finite(p));
  p.set_grad(from_vector<float>({3, INFINITY}));
  EXPECT_FALSE(grad_known_finite(p));
  optim::SGD opt({p}, {.lr = 0.1});
  amp::GradScaler scaler;
  EXPECT_FALSE(scaler.step(opt));  // its own check found the inf
  EXPECT_TRUE(scaler.found_inf(opt));
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0, 0}));
}

// The one-pass power sums against an f64 reference, for every norm order, and the same
// bits on one thread and on two.
TEST(GradPasses, PowerSumsMatchAnF64ReferenceOnAnyThreadCount) {
  manual_seed(3);
  const Tensor a = randn({100'003}), b = randn({7, 5}).to(DType::F64), empty = zeros({0});
  const std::vector<Tensor> xs = {a, b, empty, a.narrow(0, 1, 50'000)};
  for (double p : {1.0, 2.0, 3.0, double(INFINITY)}) {
    std::vector<double> runs[2];
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const Tensor out = zeros({int64_t(xs.size())}, {.dtype = DType::F64});
      backend_for(Device::CPU).power_sums({.xs = xs, .p = p, .out = out});
      runs[threads - 1] = out.to_vector<double>();
    }
    omp_set_num_threads(2);
    EXPECT_EQ(runs[0], runs[1]) << "p = " << p;
    for (size_t i = 0; i < xs.size(); ++i) {
      const Tensor x = xs[i].to(DType::F64).abs();
      const double want = xs[i].numel() == 0 ? 0.0
                          : std::isinf(p)    ? max(x).item()
                                             : x.pow(p).sum().item();
      EXPECT_NEAR(runs[0][i], want, 1e-10 * std::max(1.0, want)) << "p = " << p << ", x" << i;
    }
  }
}

// unscale_ without a step still feeds update(): an inf found then backs the scale off.
TEST(GradPasses, UnscaleWithoutStepStillChecksForInf) {
  Tensor p = zeros({2}, {.requires_grad = true});
  optim::SGD opt({p}, {.lr = 0.1});
  amp::GradScaler scaler({.init_scale = 8});
  p.set_grad(from_vector<float>({1, INFINITY}));
  scaler.unscale_(opt);
  EXPECT_TRUE(scaler.found_inf(opt));
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 4.0);
}

// A loss scale below 1 makes the pending factor above 1: a finite stored gradient that
// would overflow once multiplied is caught and the step skipped.
TEST(GradPasses, AScaleBelowOneThatOverflowsSkipsTheStep) {
  Tensor p = zeros({2}, {.requires_grad = true});
  optim::SGD opt({p}, {.lr = 0.1});
  amp::GradScaler scaler({.init_scale = 0.25});
  p.set_grad(from_vector<float>({1, 1e38f}));  // × 4 overflows f32
  EXPECT_FALSE(scaler.step(opt));
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{0, 0}));
  scaler.update();
  p.set_grad(from_vector<float>({1, 1e37f}));  // × 8 fits
  EXPECT_TRUE(scaler.step(opt));
}

// A high norm order sums the true gradient, as clipping the unscaled gradient did.
TEST(GradPasses, HighOrderNormsOfScaledGradients) {
  Tensor p = zeros({3}, {.dtype = DType::F64, .requires_grad = true});
  p.set_grad(from_vector<double>({65536.0 * 3, 65536.0 * 4, 0}));
  scale_grad_later(p, 1.0 / 65536);
  const double norm = nn::utils::clip_grad_norm_({p}, 1e9, 80.0);
  EXPECT_NEAR(norm, std::pow(std::pow(3.0, 80) + std::pow(4.0, 80), 1.0 / 80), 1e-12);
}
