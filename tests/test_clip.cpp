// Gradient clipping and norms: hand-computed values, torch golden values
// (tests/data/golden/sched_clip.txt from tests/oracle/gen_sched_golden.py), parameters
// without gradients, non-finite totals and argument errors.
#include <descent/optim/clip.h>

#include <cmath>
#include <limits>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
namespace dt = descent::testing;
using dt::all_close;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor param_with_grad(const std::vector<double>& g, DType dtype = DType::F64) {
  Tensor p = zeros({int64_t(g.size())}, {.dtype = dtype, .requires_grad = true});
  p.set_grad(from_vector<double>(g).to(dtype));
  return p;
}

std::vector<double> grad_of(const Tensor& p) { return p.grad().to_vector<double>(); }

}  // namespace

TEST(Clip, NormHandComputed) {
  // Gradients (3, 4) and (12): total 2-norm 13; clip to 6.5 halves them (up to the 1e-6).
  Tensor a = param_with_grad({3, 4}), b = param_with_grad({12});
  const double total = nn::utils::clip_grad_norm_({a, b}, 6.5);
  EXPECT_DOUBLE_EQ(total, 13.0);
  const double coef = 6.5 / (13.0 + 1e-6);
  EXPECT_DOUBLE_EQ(grad_of(a)[0], 3 * coef);
  EXPECT_DOUBLE_EQ(grad_of(a)[1], 4 * coef);
  EXPECT_DOUBLE_EQ(grad_of(b)[0], 12 * coef);
}

TEST(Clip, NormBelowMaxLeavesGradientsAlone) {
  Tensor a = param_with_grad({3, -4});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a}, 5.0 + 1e-5), 5.0);
  EXPECT_EQ(grad_of(a), (std::vector<double>{3, -4}));
}

TEST(Clip, OtherNorms) {
  Tensor a = param_with_grad({3, -4}), b = param_with_grad({-12});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, b}, 100, 1.0), 19.0);
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, b}, 100, kInf), 12.0);
  EXPECT_NEAR(optim::clip_grad_norm_({a, b}, 100, 3.0), std::cbrt(27.0 + 64 + 1728), 1e-12);
  optim::clip_grad_norm_({a, b}, 1.2, kInf);  // max-abs 12 → 1.2
  EXPECT_NEAR(grad_of(b)[0], -1.2, 1e-6);
  EXPECT_NEAR(grad_of(a)[1], -0.4, 1e-6);
}

TEST(Clip, SkipsParametersWithoutGradients) {
  Tensor a = param_with_grad({6, 8});
  Tensor no_grad = zeros({3}, {.dtype = DType::F64, .requires_grad = true});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({no_grad, a}, 1.0), 10.0);
  EXPECT_FALSE(no_grad.grad().defined());
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({no_grad}, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({}, 1.0), 0.0);
}

TEST(Clip, NonFiniteTotal) {
  Tensor a = param_with_grad({1, std::nan("")}), b = param_with_grad({2});
  EXPECT_THROW_MSG(optim::clip_grad_norm_({a, b}, 1.0, 2.0, /*error_if_nonfinite=*/true),
                   "clip_grad_norm_: the total norm of order 2 of the gradients is non-finite "
                   "(nan), so it cannot be clipped");
  EXPECT_EQ(grad_of(b)[0], 2.0);  // untouched by the refused clip
  // Without the check, as torch: the NaN coefficient poisons every gradient.
  EXPECT_TRUE(std::isnan(optim::clip_grad_norm_({a, b}, 1.0)));
  EXPECT_TRUE(std::isnan(grad_of(b)[0]));
  Tensor c = param_with_grad({kInf, 1});
  EXPECT_THROW_MSG(optim::clip_grad_norm_({c}, 1.0, kInf, true), "non-finite (inf)");
  Tensor d = param_with_grad({1, std::nan("")});
  EXPECT_TRUE(std::isnan(optim::grad_norms({param_with_grad({5}), d}, kInf).total));
}

TEST(Clip, Value) {
  Tensor a = param_with_grad({-3, 0.5, 2, -0.25}, DType::F32);
  nn::utils::clip_grad_value_({a}, 1.0);
  EXPECT_EQ(grad_of(a), (std::vector<double>{-1, 0.5, 1, -0.25}));
  EXPECT_EQ(a.grad().dtype(), DType::F32);
}

TEST(Clip, GradNormsPerParameter) {
  Tensor a = param_with_grad({3, 4}), b = param_with_grad({0, 0, 12});
  Tensor none = zeros({2}, {.requires_grad = true});
  const optim::GradNorms n = optim::grad_norms({{"fc.weight", a}, {"fc.bias", none}, {"out", b}});
  ASSERT_EQ(n.params.size(), 3u);
  EXPECT_EQ(n.params[0].name, "fc.weight");
  EXPECT_DOUBLE_EQ(n.params[0].norm, 5.0);
  EXPECT_TRUE(n.params[0].has_grad);
  EXPECT_FALSE(n.params[1].has_grad);
  EXPECT_EQ(n.params[1].norm, 0.0);
  EXPECT_DOUBLE_EQ(n.params[2].norm, 12.0);
  EXPECT_DOUBLE_EQ(n.total, 13.0);
  const optim::GradNorms unnamed = optim::grad_norms({a, b}, 1.0);
  EXPECT_EQ(unnamed.params[1].name, "1");
  EXPECT_DOUBLE_EQ(unnamed.params[0].norm, 7.0);
  EXPECT_DOUBLE_EQ(unnamed.total, 19.0);
  EXPECT_EQ(grad_of(a), (std::vector<double>{3, 4}));  // monitoring does not clip
}

TEST(Clip, Errors) {
  Tensor a = param_with_grad({1});
  EXPECT_THROW_MSG(optim::clip_grad_norm_({a}, -1.0),
                   "clip_grad_norm_: max_norm must be non-negative, got -1");
  EXPECT_THROW_MSG(optim::clip_grad_norm_({a}, 1.0, 0.0),
                   "clip_grad_norm_: norm_type must be positive or infinity, got 0");
  EXPECT_THROW_MSG(optim::clip_grad_norm_({a}, 1.0, std::nan("")),
                   "clip_grad_norm_: norm_type must be positive or infinity, got nan");
  EXPECT_THROW_MSG(optim::clip_grad_value_({a}, -0.5),
                   "clip_grad_value_: clip_value must be non-negative, got -0.5");
  EXPECT_THROW_MSG(optim::grad_norms({a}, -2.0),
                   "grad_norms: norm_type must be positive or infinity, got -2");
}

TEST(Clip, MatchesTorch) {
  const dt::Fixtures fx = dt::read_fixtures(dt::test_data_path("golden/sched_clip.txt"));
  int cases = 0;
  for (const auto& [key, value] : fx) {
    if (!key.ends_with(".g0")) continue;
    const std::string name = key.substr(0, key.size() - 3);
    SCOPED_TRACE(name);
    ++cases;
    std::vector<Tensor> params;
    for (int i = 0; i < 3; ++i) {
      const Tensor g = fx.at(name + ".g" + std::to_string(i));
      Tensor p = zeros(g.shape(), {.dtype = g.dtype(), .requires_grad = true});
      p.set_grad(g.clone());
      params.push_back(p);
    }
    const bool f32 = params[0].dtype() == DType::F32;
    // f64 gradients agree to rounding; torch accumulates f32 gradients in f32.
    const double rtol = f32 ? 1e-6 : 1e-13;
    if (fx.contains(name + ".arg.clip_value")) {
      optim::clip_grad_value_(params, fx.at(name + ".arg.clip_value").item<double>());
    } else {
      const double total =
          optim::clip_grad_norm_(params, fx.at(name + ".arg.max_norm").item<double>(),
                                 fx.at(name + ".arg.norm_type").item<double>());
      const double want = fx.at(name + ".total").item<double>();
      EXPECT_NEAR(total, want, rtol * want);
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(all_close(params[i].grad(), fx.at(name + ".out" + std::to_string(i)), 0, rtol))
          << "gradient " << i;
    }
  }
  EXPECT_EQ(cases, 10);
}
