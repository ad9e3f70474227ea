// nn::init: gains and fans against PyTorch (tests/oracle/gen_nn_core_golden.py), the
// empirical mean/std/bounds of every random init on 10^6-element tensors against the
// formulas, orthogonality of orthogonal_ (square, tall, wide, 3-D), generators, the
// Module overloads and argument errors.
#include <descent/nn.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
namespace init = descent::nn::init;
using init::FanMode;
using init::Nonlinearity;

namespace {

struct Stats {
  double n, mean, std, min, max, within_1sd;  // within_1sd: fraction with |x - mean| < std
};

Stats stats_of(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  double s = 0;
  for (double x : v) s += x;
  const double n = double(v.size()), mean = s / n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / (n - 1));
  double within = 0;
  for (double x : v) within += std::abs(x - mean) < sd;
  return {n,
          mean,
          sd,
          *std::min_element(v.begin(), v.end()),
          *std::max_element(v.begin(), v.end()),
          within / n};
}

// Sample mean within 6 standard errors, sample std within 0.5% (≈7 standard errors
// for 10^6 samples), and the Gaussian's 68.27% within one std (±0.3%).
void expect_normal(const Tensor& t, double mean, double std) {
  const Stats s = stats_of(t);
  EXPECT_NEAR(s.mean, mean, 6 * std / std::sqrt(s.n));
  EXPECT_NEAR(s.std / std, 1.0, 0.005) << "std " << s.std << " expected " << std;
  EXPECT_NEAR(s.within_1sd, 0.6827, 0.003);
}

// Inside [a, b], reaching within 10^-4 of both ends, std (b-a)/√12 within 0.5% and
// 57.7% (1/√3) within one std, as a uniform distribution.
void expect_uniform(const Tensor& t, double a, double b) {
  const Stats s = stats_of(t);
  const double w = b - a;
  // The draw u·(b-a) + a is computed in f32: allow its rounding at the ends.
  const double ulp = 4 * std::numeric_limits<float>::epsilon() * std::max(std::abs(a), std::abs(b));
  EXPECT_GE(s.min, a - ulp);
  EXPECT_LE(s.max, b + ulp);
  EXPECT_LT(s.min, a + 1e-4 * w);
  EXPECT_GT(s.max, b - 1e-4 * w);
  EXPECT_NEAR(s.mean, (a + b) / 2, 6 * w / std::sqrt(12 * s.n));
  EXPECT_NEAR(s.std / (w / std::sqrt(12.0)), 1.0, 0.005);
  EXPECT_NEAR(s.within_1sd, 1 / std::sqrt(3.0), 0.003);
}

// Max |A·Aᵀ - gain²·I| over the smaller Gram matrix (rows when rows ≤ cols).
double orthogonality_error(const Tensor& w, double gain) {
  Tensor m = w.reshape({w.size(0), -1}).to(DType::F64);
  if (m.size(0) > m.size(1)) m = m.t();
  Tensor gram = m.matmul(m.t());
  Tensor eye_g = eye(m.size(0), -1, {.dtype = DType::F64}) * (gain * gain);
  return amax((gram - eye_g).abs(), {0, 1}).item<double>();
}

const descent::testing::Fixtures& golden() {
  static const auto f =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_core.txt"));
  return f;
}

}  // namespace

TEST(Init, GainsMatchPyTorch) {
  const std::vector<std::pair<std::string, double>> ours = {
      {"linear", init::calculate_gain(Nonlinearity::Linear)},
      {"conv1d", init::calculate_gain(Nonlinearity::Conv1d)},
      {"conv2d", init::calculate_gain(Nonlinearity::Conv2d)},
      {"conv3d", init::calculate_gain(Nonlinearity::Conv3d)},
      {"conv_transpose1d", init::calculate_gain(Nonlinearity::ConvTranspose1d)},
      {"conv_transpose2d", init::calculate_gain(Nonlinearity::ConvTranspose2d)},
      {"conv_transpose3d", init::calculate_gain(Nonlinearity::ConvTranspose3d)},
      {"sigmoid", init::calculate_gain(Nonlinearity::Sigmoid)},
      {"tanh", init::calculate_gain(Nonlinearity::Tanh)},
      {"relu", init::calculate_gain(Nonlinearity::ReLU)},
      {"leaky_relu", init::calculate_gain(Nonlinearity::LeakyRelu)},
      {"leaky_relu_0.2", init::calculate_gain(Nonlinearity::LeakyRelu, 0.2)},
      {"leaky_relu_sqrt5", init::calculate_gain(Nonlinearity::LeakyRelu, std::sqrt(5.0))},
      {"selu", init::calculate_gain(Nonlinearity::SELU)},
  };
  for (const auto& [name, g] : ours) {
    SCOPED_TRACE(name);
    EXPECT_NEAR(g, golden().at("gain." + name).item<double>(), 1e-15);
  }
  // The parameter only matters for leaky ReLU, as in torch.
  EXPECT_EQ(init::calculate_gain(Nonlinearity::ReLU, 0.3), std::sqrt(2.0));
}

TEST(Init, FansMatchPyTorchFor2DAndHigherDims) {
  for (int i = 0; i < 4; ++i) {
    const auto shape_v = golden().at(fmt::format("fans.{}.shape", i)).to_vector<int64_t>();
    const auto want = golden().at(fmt::format("fans.{}.value", i)).to_vector<int64_t>();
    const Shape shape(shape_v);
    const init::Fans f = init::calculate_fan_in_and_fan_out(empty(shape));
    SCOPED_TRACE(fmt::format("{}", shape));
    EXPECT_EQ(f.fan_in, want[0]);
    EXPECT_EQ(f.fan_out, want[1]);
  }
  EXPECT_THROW_MSG(init::calculate_fan_in_and_fan_out(empty({5})),
                   "calculate_fan_in_and_fan_out: fan in and fan out can not be computed for a "
                   "tensor of shape [5], expected at least 2 dims");
}

TEST(Init, UniformAndNormalMatchTheirMoments) {
  Tensor t = empty({1000, 1000});
  expect_uniform(init::uniform_(t, -2.0, 3.0), -2.0, 3.0);
  expect_uniform(init::uniform_(t), 0.0, 1.0);
  expect_normal(init::normal_(t, 0.5, 2.0), 0.5, 2.0);
  expect_normal(init::normal_(t), 0.0, 1.0);
  // f64 and bf16 tensors are filled too (bf16 drawn in f32 and rounded).
  Tensor d = empty({1000, 1000}, {.dtype = DType::F64});
  expect_normal(init::normal_(d, -1.0, 0.1), -1.0, 0.1);
  Tensor h = empty({500, 400}, {.dtype = DType::BF16});
  const Stats s = stats_of(init::uniform_(h, -1.0, 1.0));
  EXPECT_GE(s.min, -1.0);
  EXPECT_LE(s.max, 1.0);
  EXPECT_NEAR(s.std, 1 / std::sqrt(3.0), 0.01);
  EXPECT_EQ(init::constant_(t, 0.25).to_vector<float>(), std::vector<float>(1000000, 0.25f));
  EXPECT_EQ(init::zeros_(t).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(init::ones_(t).sum().item<double>(), 1e6);
}

TEST(Init, KaimingMatchesTheFormulas) {
  // fan_in = 2000, fan_out = 500: the mode matters.
  Tensor t = empty({500, 2000});
  const double relu = std::sqrt(2.0);
  {
    SCOPED_TRACE("kaiming_uniform_ defaults: leaky_relu gain with a = 0, fan_in");
    const double b = relu * std::sqrt(3.0 / 2000);
    expect_uniform(init::kaiming_uniform_(t), -b, b);
  }
  {
    SCOPED_TRACE("kaiming_uniform_ a = √5 (Linear's init): bound 1/√fan_in");
    const double b = 1 / std::sqrt(2000.0);
    expect_uniform(init::kaiming_uniform_(t, std::sqrt(5.0)), -b, b);
  }
  {
    SCOPED_TRACE("kaiming_normal_ relu, fan_out");
    expect_normal(init::kaiming_normal_(t, 0, FanMode::FanOut, Nonlinearity::ReLU), 0,
                  relu / std::sqrt(500.0));
  }
  {
    SCOPED_TRACE("kaiming_normal_ leaky_relu a = 0.2, fan_in");
    expect_normal(init::kaiming_normal_(t, 0.2), 0, std::sqrt(2 / 1.04) / std::sqrt(2000.0));
  }
  {
    SCOPED_TRACE("kaiming_normal_ on a 4-D tensor: fan_in = in·kh·kw");
    Tensor conv = empty({64, 100, 5, 5});  // fan_in = 2500, fan_out = 1600
    expect_normal(init::kaiming_normal_(conv, 0, FanMode::FanIn, Nonlinearity::ReLU), 0,
                  relu / 50.0);
  }
}

TEST(Init, XavierMatchesTheFormulas) {
  Tensor t = empty({500, 2000});
  const double std1 = std::sqrt(2.0 / 2500);
  expect_normal(init::xavier_normal_(t), 0, std1);
  expect_normal(init::xavier_normal_(t, 5.0 / 3.0), 0, 5.0 / 3.0 * std1);
  const double b = std::sqrt(6.0 / 2500);
  expect_uniform(init::xavier_uniform_(t), -b, b);
  expect_uniform(init::xavier_uniform_(t, 0.5), -0.5 * b, 0.5 * b);
}

TEST(Init, OrthogonalGivesOrthonormalRowsOrColumns) {
  struct Case {
    Shape shape;
    double gain;
  };
  for (const Case& c : {Case{{64, 64}, 1.0}, Case{{100, 30}, 1.0}, Case{{30, 100}, 2.0},
                        Case{{8, 4, 5}, 1.0}, Case{{1, 7}, 1.0}}) {
    SCOPED_TRACE(fmt::format("{} gain {}", c.shape, c.gain));
    Tensor w = init::orthogonal_(empty(c.shape), c.gain);
    EXPECT_EQ(w.shape(), c.shape);
    EXPECT_LT(orthogonality_error(w, c.gain), 1e-5);  // f32 storage
  }
  // In f64 the QR is exact to rounding.
  Tensor d = init::orthogonal_(empty({50, 80}, {.dtype = DType::F64}));
  EXPECT_LT(orthogonality_error(d, 1.0), 1e-13);
  // Not a fixed matrix: the entries look Gaussian-ish and differ between draws.
  Tensor a = init::orthogonal_(empty({64, 64})).clone();
  Tensor b = init::orthogonal_(empty({64, 64}));
  EXPECT_FALSE(all_close(a, b, 1e-3, 0));
  EXPECT_THROW_MSG(init::orthogonal_(empty({4})),
                   "orthogonal_: got a tensor of shape [4], expected at least 2 dims");
}

TEST(Init, GeneratorsMakeInitReproducible) {
  Generator g1(42), g2(42), g3(43);
  Tensor a = init::kaiming_normal_(empty({30, 20}), 0, FanMode::FanIn, Nonlinearity::ReLU, &g1);
  Tensor b = init::kaiming_normal_(empty({30, 20}), 0, FanMode::FanIn, Nonlinearity::ReLU, &g2);
  Tensor c = init::kaiming_normal_(empty({30, 20}), 0, FanMode::FanIn, Nonlinearity::ReLU, &g3);
  EXPECT_TRUE(all_close(a, b, 0, 0));
  EXPECT_FALSE(all_close(a, c, 1e-3, 0));
  Generator o1(5), o2(5);
  EXPECT_TRUE(all_close(init::orthogonal_(empty({6, 9}), 1.0, &o1),
                        init::orthogonal_(empty({6, 9}), 1.0, &o2), 0, 0));
}

TEST(Init, WorksOnParametersThatRequireGrad) {
  Tensor w = zeros({100, 100}, {.requires_grad = true});
  init::xavier_uniform_(w);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_GT(w.abs().sum().item<double>(), 0.0);
}

TEST(Init, ModuleOverloadsInitEveryWeightAndZeroTheirBiases) {
  struct Scaled : nn::Module {  // a 1-D "weight": left alone
    Scaled() {
      register_parameter("weight", ones({300}));
      register_parameter("bias", ones({300}));
    }
  };
  nn::Sequential model(nn::Linear(400, 300), nn::ReLU(), Scaled(), nn::Linear(300, 1000),
                       nn::Embedding(10, 20));
  init::kaiming_normal_(model, Nonlinearity::ReLU);
  expect_normal(model.at<nn::Linear>(0).weight(), 0, std::sqrt(2.0 / 400));
  expect_normal(model.at<nn::Linear>(3).weight(), 0, std::sqrt(2.0 / 300));
  EXPECT_EQ(model.at<nn::Linear>(0).bias().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(model.at<nn::Linear>(3).bias().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(model.at<Scaled>(2).find_parameter("weight")->sum().item<double>(), 300.0);
  EXPECT_EQ(model.at<Scaled>(2).find_parameter("bias")->sum().item<double>(), 300.0);
  // The embedding table is a 2-D "weight" too: fan_in = 20.
  const Stats e = stats_of(model.at<nn::Embedding>(4).weight());
  EXPECT_NEAR(e.std, std::sqrt(2.0 / 20), 0.08);  // 200 samples: ±5 standard errors

  init::xavier_uniform_(model, 2.0);
  const double b = 2.0 * std::sqrt(6.0 / 700);
  expect_uniform(model.at<nn::Linear>(0).weight(), -b, b);
  init::kaiming_uniform_(model, Nonlinearity::LeakyRelu, 0.1, FanMode::FanOut);
  const double kb = std::sqrt(2 / 1.01) * std::sqrt(3.0 / 1000);
  expect_uniform(model.at<nn::Linear>(3).weight(), -kb, kb);
  init::xavier_normal_(model);
  expect_normal(model.at<nn::Linear>(0).weight(), 0, std::sqrt(2.0 / 700));
  init::orthogonal_(model, 1.0);
  EXPECT_LT(orthogonality_error(model.at<nn::Linear>(0).weight(), 1.0), 1e-5);
  EXPECT_LT(orthogonality_error(model.at<nn::Linear>(3).weight(), 1.0), 1e-5);
}

TEST(Init, BadArgumentsThrow) {
  Tensor i = zeros({3, 3}, {.dtype = DType::I64});
  EXPECT_THROW_MSG(init::normal_(i),
                   "normal_: got a i64 tensor of shape [3, 3], expected a floating dtype");
  EXPECT_THROW_MSG(init::kaiming_uniform_(i), "kaiming_uniform_: got a i64 tensor");
  EXPECT_THROW_MSG(init::uniform_(empty({2}), 1.0, 0.0),
                   "uniform_: got the range [1, 0), expected from <= to");
  EXPECT_THROW_MSG(init::normal_(empty({2}), 0.0, -1.0), "normal_: got std -1, expected std >= 0");
  EXPECT_THROW_MSG(init::xavier_normal_(empty({7})), "fan in and fan out can not be computed");
  EXPECT_THROW_MSG(init::kaiming_normal_(empty({7})), "fan in and fan out can not be computed");
  EXPECT_THROW_MSG(init::zeros_(Tensor()), "zeros_: got an undefined tensor");
  // Integer tensors can still be set to constants; empty tensors are left alone.
  EXPECT_EQ(init::constant_(i, 4).sum().item<int64_t>(), 36);
  EXPECT_EQ(init::kaiming_normal_(empty({0, 3})).numel(), 0);
}
