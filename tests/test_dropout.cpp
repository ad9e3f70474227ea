// Dropout: identity cases, drop rate, scaling, seeding, gradients and argument errors.
#include <cmath>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

TEST(Dropout, EvalModeAndZeroProbabilityReturnTheInput) {
  Tensor x = randn({4, 5});
  EXPECT_TRUE(F::dropout(x, 0.5, /*training=*/false).is_same(x));
  EXPECT_TRUE(F::dropout(x, 0.0).is_same(x));
  // Eval mode is the identity for any p, including 1, and any dtype.
  Tensor i = arange(6, {.dtype = DType::I64});
  EXPECT_TRUE(F::dropout(i, 1.0, false).is_same(i));
}

TEST(Dropout, ProbabilityOneGivesZerosWithZeroGradient) {
  Tensor x = rand_input({3, 4});
  Tensor y = F::dropout(x, 1.0);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.dtype(), DType::F64);
  EXPECT_TRUE(all_close(y, zeros({3, 4}, {.dtype = DType::F64}), 0, 0));
  ASSERT_TRUE(y.requires_grad());
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), zeros({3, 4}, {.dtype = DType::F64}), 0, 0));
}

TEST(Dropout, DropFractionAndScaleOnManyElements) {
  const int64_t n = 100000;
  for (double p : {0.1, 0.5, 0.8}) {
    SCOPED_TRACE(p);
    Generator gen(42);
    Tensor x = full({n}, 2.0);
    std::vector<float> y = F::dropout(x, p, true, &gen).to_vector<float>();
    int64_t zeros_seen = 0;
    const float kept = float(2.0 / (1.0 - p));
    for (float v : y) {
      if (v == 0.0f) {
        ++zeros_seen;
      } else {
        ASSERT_FLOAT_EQ(v, kept);
      }
    }
    // Binomial(n, p): 5 standard deviations is at most 0.0079 of n.
    const double sd = std::sqrt(p * (1 - p) / double(n));
    EXPECT_NEAR(double(zeros_seen) / double(n), p, 5 * sd);
  }
}

TEST(Dropout, KeepsDtypeShapeAndStridedInputs) {
  Generator gen(3);
  Tensor x = randn({6, 8}, {.dtype = DType::F64}, &gen).t();  // non-contiguous view
  Generator g1(9);
  Tensor y = F::dropout(x, 0.3, true, &g1);
  EXPECT_EQ(y.shape(), Shape({8, 6}));
  EXPECT_EQ(y.dtype(), DType::F64);
  std::vector<double> xs = x.contiguous().to_vector<double>(), ys = y.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_TRUE(ys[i] == 0.0 || std::abs(ys[i] - xs[i] / 0.7) < 1e-12) << i;
  }
  for (DType dt : {DType::F16, DType::BF16}) {
    Generator g(5);
    Tensor h = F::dropout(ones({1000}, {.dtype = dt}), 0.5, true, &g);
    EXPECT_EQ(h.dtype(), dt);
    for (float v : h.to_vector<float>()) EXPECT_TRUE(v == 0.0f || v == 2.0f);
  }
}

TEST(Dropout, SameSeedSameMaskAndGeneratorAdvances) {
  Tensor x = ones({64, 32});
  Generator a(123), b(123);
  Tensor ya = F::dropout(x, 0.4, true, &a);
  Tensor yb = F::dropout(x, 0.4, true, &b);
  EXPECT_EQ(ya.to_vector<float>(), yb.to_vector<float>());
  // The generator moved on: the next mask differs.
  Tensor ya2 = F::dropout(x, 0.4, true, &a);
  EXPECT_NE(ya.to_vector<float>(), ya2.to_vector<float>());
  // Without a generator the default one is used and seeded by manual_seed.
  manual_seed(77);
  Tensor d1 = F::dropout(x, 0.4);
  manual_seed(77);
  Tensor d2 = F::dropout(x, 0.4);
  EXPECT_EQ(d1.to_vector<float>(), d2.to_vector<float>());
}

TEST(Dropout, GradientIsTheScaledMask) {
  Tensor x = rand_input({5, 7});
  Generator gen(8);
  Tensor y = F::dropout(x, 0.25, true, &gen);
  y.backward(ones({5, 7}, {.dtype = DType::F64}));
  // With x ≠ 0, y / x is exactly the mask: 0 or 1/(1-p).
  Tensor mask = y.detach() / x.detach();
  EXPECT_TRUE(all_close(x.grad(), mask, 1e-12, 1e-12));
}

TEST(Dropout, Gradcheck) {
  Tensor x = rand_input({4, 6}, -1, 1, 21);
  auto f = [](const std::vector<Tensor>& in) {
    Generator gen(2024);  // a fresh generator: the same mask on every evaluation
    return F::dropout(in[0], 0.35, true, &gen);
  };
  EXPECT_GRADCHECK(f, std::vector<Tensor>{x});
  EXPECT_GRADGRADCHECK(f, std::vector<Tensor>{x});
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return F::dropout(in[0], 1.0); },
                   std::vector<Tensor>{x});
}

TEST(Dropout, Errors) {
  Tensor x = ones({3});
  EXPECT_THROW_MSG(F::dropout(x, -0.1), "dropout: probability p must be in [0, 1], got -0.1");
  EXPECT_THROW_MSG(F::dropout(x, 1.5), "dropout: probability p must be in [0, 1], got 1.5");
  EXPECT_THROW_MSG(F::dropout(x, 1.5, false), "got 1.5");
  EXPECT_THROW_MSG(F::dropout(x, std::nan("")), "got nan");
  EXPECT_THROW_MSG(F::dropout(arange(4, {.dtype = DType::I64}), 0.5),
                   "dropout: expected a floating input, got i64");
  EXPECT_THROW_MSG(F::dropout(Tensor(), 0.5), "dropout: input is an undefined tensor");
}
