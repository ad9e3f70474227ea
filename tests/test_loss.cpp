// Losses: values against PyTorch, f64 gradchecks, and every argument error. Every TEST_P
// runs once per device (cpu, cuda); the argument errors are CPU-only.
//
// Golden values were computed once with Debian's python3-torch 1.13 in f64
// (torch.set_default_dtype(torch.float64)) from the small inputs written below, e.g.
//   F.cross_entropy(X, T, weight=W, ignore_index=-100, reduction=r, label_smoothing=ls)
// and copied here with repr() precision.
#include <cmath>

#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::rand_input;
using R = F::Reduction;

namespace {

// X: (3, 4) logits; T: class indices; TI: the same with sample 1 ignored; W: class weights;
// P: class probabilities.
Tensor X() {
  return from_vector<double>({0.2, -1.3, 0.8, 2.1, 1.5, 0.3, -0.7, 0.0, -0.4, 2.2, 0.9, -1.8},
                             {3, 4});
}
Tensor T(bool ignore = false) { return from_vector<int64_t>({3, ignore ? -100 : 0, 1}); }
Tensor W() { return from_vector<double>({0.5, 2.0, 1.0, 1.5}); }
Tensor P() {
  return from_vector<double>({0.1, 0.2, 0.3, 0.4, 0.7, 0.1, 0.1, 0.1, 0.25, 0.25, 0.25, 0.25},
                             {3, 4});
}

// (N, C, d) = (2, 3, 2) logits with weights, one ignored position and smoothing 0.2.
Tensor X3() {
  return from_vector<double>({0.5, -0.2, 1.0, 0.3, -1.1, 0.7, 0.0, 2.0, 0.4, -0.6, 1.2, 0.1},
                             {2, 3, 2});
}
Tensor T3() { return from_vector<int64_t>({2, 0, -100, 1}, {2, 2}); }
Tensor W3() { return from_vector<double>({1.0, 0.5, 2.0}); }

// A = input, B = target for the regression losses.
Tensor A() { return from_vector<double>({0.5, -1.2, 2.0, 0.1, 0.0, -0.3}, {2, 3}); }
Tensor B() { return from_vector<double>({0.4, 0.3, -1.0, 0.1, -0.8, 0.2}, {2, 3}); }

// L: logits including 0 and ±50 (stability); Y: soft labels; BW: (2, 1) weight that
// broadcasts; PW: per-class pos_weight.
Tensor L() { return from_vector<double>({0.0, 1.5, -2.0, 50.0, -50.0, 0.3}, {2, 3}); }
Tensor Y() { return from_vector<double>({1.0, 0.0, 0.3, 0.0, 1.0, 0.8}, {2, 3}); }
Tensor BW() { return from_vector<double>({1.0, 2.0}, {2, 1}); }
Tensor PW() { return from_vector<double>({3.0, 0.5, 1.5}); }

void expect_values(const Tensor& got, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_TRUE(got.defined());
  std::vector<double> v = got.to(DType::F64).contiguous().to_vector<double>();
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(v[i], want[i], tol * (1 + std::abs(want[i]))) << "element " << i;
  }
}

Shape shape_for(R r, Shape none) { return r == R::None ? none : Shape{}; }

// The fixture of every per-device suite below: its members shadow the inputs above with
// copies on dev() (the CPU-only error tests use the CPU ones).
class LossTest : public descent::testing::PerDeviceTest {
 protected:
  Tensor X() const { return on_dev(::X()); }
  Tensor T(bool ignore = false) const { return on_dev(::T(ignore)); }
  Tensor W() const { return on_dev(::W()); }
  Tensor P() const { return on_dev(::P()); }
  Tensor X3() const { return on_dev(::X3()); }
  Tensor T3() const { return on_dev(::T3()); }
  Tensor W3() const { return on_dev(::W3()); }
  Tensor A() const { return on_dev(::A()); }
  Tensor B() const { return on_dev(::B()); }
  Tensor L() const { return on_dev(::L()); }
  Tensor Y() const { return on_dev(::Y()); }
  Tensor BW() const { return on_dev(::BW()); }
  Tensor PW() const { return on_dev(::PW()); }
};
class CrossEntropy : public LossTest {};
class NllLoss : public LossTest {};
class RegressionLosses : public LossTest {};
class BceWithLogits : public LossTest {};
class LossGradcheck : public LossTest {};

}  // namespace

TEST_P(CrossEntropy, IndexTargetsEveryOptionCombinationMatchesTorch) {
  struct Case {
    bool weight, ignore;
    double smoothing;
    R reduction;
    std::vector<double> want;
  };
  const Case cases[] = {
      {false, false, 0.0, R::None, {0.37533140243029234, 0.4917208015660495, 0.31124307682263386}},
      {false, false, 0.0, R::Mean, {0.3927650936063252}},
      {false, false, 0.0, R::Sum, {1.1782952808189757}},
      {false, false, 0.1, R::None, {0.5403314024302923, 0.6142208015660495, 0.5087430768226339}},
      {false, false, 0.1, R::Mean, {0.5544317602729919}},
      {false, false, 0.1, R::Sum, {1.6632952808189758}},
      {false, true, 0.0, R::None, {0.37533140243029234, 0.0, 0.31124307682263386}},
      {false, true, 0.0, R::Mean, {0.3432872396264631}},
      {false, true, 0.0, R::Sum, {0.6865744792529263}},
      {false, true, 0.1, R::None, {0.5403314024302923, 0.0, 0.5087430768226339}},
      {false, true, 0.1, R::Mean, {0.5245372396264631}},
      {false, true, 0.1, R::Sum, {1.0490744792529263}},
      {true, false, 0.0, R::None, {0.5629971036454385, 0.24586040078302476, 0.6224861536452677}},
      {true, false, 0.0, R::Mean, {0.3578359145184328}},
      {true, false, 0.0, R::Sum, {1.431343658073731}},
      {true, false, 0.1, R::None, {0.7798638185846812, 0.4539894609004785, 0.8141429228835702}},
      {true, false, 0.1, R::Mean, {0.5119990505921824}},
      {true, false, 0.1, R::Sum, {2.0479962023687297}},
      {true, true, 0.0, R::None, {0.5629971036454385, 0.0, 0.6224861536452677}},
      {true, true, 0.0, R::Mean, {0.3387095020830589}},
      {true, true, 0.0, R::Sum, {1.1854832572907061}},
      {true, true, 0.1, R::None, {0.7798638185846812, 0.0, 0.8141429228835702}},
      {true, true, 0.1, R::Mean, {0.45543049756235754}},
      {true, true, 0.1, R::Sum, {1.5940067414682515}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "weight=" << c.weight << " ignore=" << c.ignore << " smoothing=" << c.smoothing
                 << " reduction=" << int(c.reduction));
    Tensor y = F::cross_entropy(X(), T(c.ignore),
                                {.weight = c.weight ? W() : Tensor(),
                                 .reduction = c.reduction,
                                 .label_smoothing = c.smoothing});
    EXPECT_EQ(y.shape(), shape_for(c.reduction, {3}));
    expect_values(y, c.want);
  }
}

TEST_P(CrossEntropy, ProbabilityTargetsMatchTorch) {
  struct Case {
    bool weight;
    double smoothing;
    R reduction;
    std::vector<double> want;
  };
  const Case cases[] = {
      {false, 0.0, R::None, {1.6353314024302925, 0.9817208015660495, 2.286243076822634}},
      {false, 0.0, R::Mean, {1.634431760272992}},
      {false, 0.0, R::Sum, {4.903295280818976}},
      {false, 0.1, R::None, {1.6743314024302927, 1.0552208015660498, 2.286243076822634}},
      {false, 0.1, R::Mean, {1.6719317602729922}},
      {false, 0.1, R::Sum, {5.015795280818977}},
      {true, 0.0, R::None, {2.351697393280895, 1.0783766412528397, 2.5390538460282923}},
      {true, 0.0, R::Mean, {1.9897092935206757}},
      {true, 0.0, R::Sum, {5.969127880562027}},
      {true, 0.1, R::None, {2.3896940792565924, 1.203254077323312, 2.5390538460282923}},
      {true, 0.1, R::Mean, {2.0440006675360656}},
      {true, 0.1, R::Sum, {6.132002002608197}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "weight=" << c.weight << " smoothing=" << c.smoothing
                                      << " reduction=" << int(c.reduction));
    Tensor y = F::cross_entropy(X(), P(),
                                {.weight = c.weight ? W() : Tensor(),
                                 .reduction = c.reduction,
                                 .label_smoothing = c.smoothing});
    EXPECT_EQ(y.shape(), shape_for(c.reduction, {3}));
    expect_values(y, c.want);
  }
}

TEST_P(CrossEntropy, SpatialInputsMatchTorch) {
  const F::CrossEntropyOptions base{.weight = W3(), .label_smoothing = 0.2};
  auto with = [&](R r) {
    F::CrossEntropyOptions o = base;
    o.reduction = r;
    return o;
  };
  Tensor none = F::cross_entropy(X3(), T3(), with(R::None));
  EXPECT_EQ(none.shape(), Shape({2, 2}));
  expect_values(none, {4.6771488543802455, 1.5485671555186387, 0.0, 1.507930326340233});
  expect_values(F::cross_entropy(X3(), T3(), with(R::Mean)), {2.209613238925462});
  expect_values(F::cross_entropy(X3(), T3(), with(R::Sum)), {7.733646336239118});

  // Probability targets: torch.softmax of a fixed (2, 3, 2) tensor over dim 1.
  Tensor p3 = on_dev(from_vector<double>(
      {0.2693074991777379, 0.3288785274664995, 0.3289329222889067, 0.1804923627350838,
       0.4017595785333554, 0.4906291097984168, 0.1509809427271752, 0.37442922164689685,
       0.7478135047934406, 0.4573288840552853, 0.1012055524793843, 0.16824189429781772},
      {2, 3, 2}));
  Tensor pn = F::cross_entropy(X3(), p3, with(R::None));
  EXPECT_EQ(pn.shape(), Shape({2, 2}));
  expect_values(pn,
                {2.4406966167855275, 1.328341231559173, 0.9473356889239398, 1.5260417710598095});
  expect_values(F::cross_entropy(X3(), p3, with(R::Mean)), {1.5606038270821125});
  expect_values(F::cross_entropy(X3(), p3, with(R::Sum)), {6.24241530832845});
}

TEST_P(CrossEntropy, UnbatchedInputTakesScalarTarget) {
  Tensor x = on_dev(from_vector<double>({0.3, -0.5, 1.2, 0.0}));
  Tensor t = full({}, 2, {.dtype = DType::I64, .device = dev()});
  Tensor none = F::cross_entropy(x, t, {.weight = {}, .reduction = R::None});
  EXPECT_EQ(none.shape(), Shape{});
  expect_values(none, {0.636813518362947});
  expect_values(F::cross_entropy(x, t, {.weight = {}, .label_smoothing = 0.3}),
                {0.9218135183629469});
  Tensor probs = F::cross_entropy(x, on_dev(from_vector<double>({0.1, 0.6, 0.3, 0.0})),
                                  {.weight = {}, .reduction = R::None});
  EXPECT_EQ(probs.shape(), Shape{});
  expect_values(probs, {1.746813518362947});
}

TEST_P(CrossEntropy, IgnoreIndexInsideClassRangeAndI32Targets) {
  // ignore_index = 0 drops sample 1 (class 0): same value as TI.
  expect_values(
      F::cross_entropy(X(), T(), {.weight = W(), .ignore_index = 0, .label_smoothing = 0.1}),
      {0.45543049756235754});
  expect_values(F::cross_entropy(X(), T(true).to(DType::I32), {.weight = W()}),
                {0.3387095020830589});
}

TEST_P(CrossEntropy, AllTargetsIgnoredGivesNanMeanAndZeroSum) {
  Tensor t = on_dev(from_vector<int64_t>({-100, -100, -100}));
  EXPECT_TRUE(std::isnan(F::cross_entropy(X(), t).item<double>()));
  EXPECT_TRUE(std::isnan(F::cross_entropy(X(), t, {.weight = W()}).item<double>()));
  EXPECT_EQ(F::cross_entropy(X(), t, {.weight = {}, .reduction = R::Sum}).item<double>(), 0.0);
}

TEST_P(CrossEntropy, F32MatchesF64AndGradientMatchesTorch) {
  Tensor y32 = F::cross_entropy(X().to(DType::F32), T(true), {.weight = W().to(DType::F32)});
  EXPECT_EQ(y32.dtype(), DType::F32);
  expect_values(y32, {0.3387095020830589}, 1e-6);

  // d/dX of the mean loss with weights, ignore_index and smoothing 0.1 (torch autograd).
  Tensor x = X().requires_grad_();
  F::cross_entropy(x, T(true), {.weight = W(), .label_smoothing = 0.1}).backward();
  expect_values(x.grad(), {0.039735771208046756, -0.004622571863339912, 0.07176800576759258,
                           -0.10688120511229936, 0.0, 0.0, 0.0, 0.0, 0.02635300136154973,
                           -0.1256767431070455, 0.10265875389062569, -0.0033350121451299333});
}

TEST_P(NllLoss, EveryOptionCombinationMatchesTorch) {
  struct Case {
    bool weight, ignore;
    R reduction;
    std::vector<double> want;
  };
  const Case cases[] = {
      {false, false, R::None, {-2.1, -1.5, -2.2}},
      {false, false, R::Mean, {-1.9333333333333336}},
      {false, false, R::Sum, {-5.800000000000001}},
      {false, true, R::None, {-2.1, 0.0, -2.2}},
      {false, true, R::Mean, {-2.1500000000000004}},
      {false, true, R::Sum, {-4.300000000000001}},
      {true, false, R::None, {-3.1500000000000004, -0.75, -4.4}},
      {true, false, R::Mean, {-2.075}},
      {true, false, R::Sum, {-8.3}},
      {true, true, R::None, {-3.1500000000000004, 0.0, -4.4}},
      {true, true, R::Mean, {-2.1571428571428575}},
      {true, true, R::Sum, {-7.550000000000001}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "weight=" << c.weight << " ignore=" << c.ignore
                                      << " reduction=" << int(c.reduction));
    Tensor y = F::nll_loss(X(), T(c.ignore),
                           {.weight = c.weight ? W() : Tensor(), .reduction = c.reduction});
    EXPECT_EQ(y.shape(), shape_for(c.reduction, {3}));
    expect_values(y, c.want);
  }
}

TEST_P(NllLoss, IgnoredMinusInfinityDoesNotMakeNan) {
  Tensor logp = on_dev(from_vector<double>({-INFINITY, -0.1, -0.2, -0.3}, {2, 2}));
  Tensor t = on_dev(from_vector<int64_t>({-100, 1}));
  expect_values(F::nll_loss(logp, t), {0.3});
}

TEST_P(RegressionLosses, MatchTorch) {
  expect_values(F::mse_loss(A(), B(), R::None), {0.01, 2.25, 9.0, 0.0, 0.64, 0.25});
  expect_values(F::mse_loss(A(), B()), {2.025});
  expect_values(F::mse_loss(A(), B(), R::Sum), {12.15});
  expect_values(F::l1_loss(A(), B(), R::None), {0.1, 1.5, 3.0, 0.0, 0.8, 0.5});
  expect_values(F::l1_loss(A(), B()), {0.9833333333333334});
  expect_values(F::l1_loss(A(), B(), R::Sum), {5.9});
  expect_values(F::smooth_l1_loss(A(), B(), R::None), {0.005, 1.0, 2.5, 0.0, 0.32, 0.125});
  expect_values(F::smooth_l1_loss(A(), B()), {0.6583333333333333});
  expect_values(F::smooth_l1_loss(A(), B(), R::Sum), {3.95});
  expect_values(F::smooth_l1_loss(A(), B(), R::None, 0.5), {0.01, 1.25, 2.75, 0.0, 0.55, 0.25});
  expect_values(F::smooth_l1_loss(A(), B(), R::Mean, 0.5), {0.8016666666666667});
  expect_values(F::smooth_l1_loss(A(), B(), R::Sum, 0.5), {4.81});
  // beta = 0 is the L1 loss.
  expect_values(F::smooth_l1_loss(A(), B(), R::Sum, 0.0), {5.9});
  EXPECT_EQ(F::mse_loss(A(), B(), R::None).shape(), Shape({2, 3}));
}

TEST_P(BceWithLogits, MatchesTorchIncludingExtremeLogits) {
  using Opt = F::BceWithLogitsOptions;
  expect_values(
      F::binary_cross_entropy_with_logits(
          L(), Y(), Opt{.weight = {}, .pos_weight = {}, .reduction = R::None}),
      {0.6931471805599453, 1.7014132779827524, 0.7269280110429727, 50.0, 50.0, 0.614355244468527});
  expect_values(F::binary_cross_entropy_with_logits(L(), Y()), {17.2893072856757});
  expect_values(F::binary_cross_entropy_with_logits(
                    L(), Y(), Opt{.weight = {}, .pos_weight = {}, .reduction = R::Sum}),
                {103.7358437140542});
  const Opt w{.weight = BW(), .pos_weight = PW(), .reduction = R::Mean};
  Opt wn = w, ws = w;
  wn.reduction = R::None;
  ws.reduction = R::Sum;
  expect_values(F::binary_cross_entropy_with_logits(L(), Y(), wn),
                {2.0794415416798357, 1.7014132779827524, 1.0459672126994186, 100.0, 50.0,
                 1.6721946845118754});
  expect_values(F::binary_cross_entropy_with_logits(L(), Y(), w), {26.083169452812314});
  expect_values(F::binary_cross_entropy_with_logits(L(), Y(), ws), {156.49901671687388});
}

TEST_P(BceWithLogits, GradientsMatchTorchAtZeroLogit) {
  // x = 0 is where a composed |x| / max(-x, 0) would get the derivative wrong.
  Tensor x = L().requires_grad_(), y = Y().requires_grad_();
  F::binary_cross_entropy_with_logits(x, y,
                                      {.weight = BW(), .pos_weight = PW(), .reduction = R::Mean})
      .backward();
  expect_values(x.grad(), {-0.25, 0.1362624126989406, -0.05215277327909413, 0.3333333333333333,
                           -0.16666666666666666, -0.13192682548789247});
  expect_values(y.grad(), {0.2310490601866484, -0.26678443983189604, 0.5105773342535811,
                           -16.666666666666668, 8.333333333333334, -0.007607459255245493});
  Tensor x2 = L().requires_grad_();
  F::binary_cross_entropy_with_logits(x2, Y(),
                                      {.weight = {}, .pos_weight = {}, .reduction = R::Sum})
      .backward();
  expect_values(x2.grad(),
                {-0.5, 0.8175744761936437, -0.18079707797788244, 1.0, -1.0, -0.225557483188341});
}

// ---- gradchecks (f64) ------------------------------------------------------------------

TEST_P(LossGradcheck, CrossEntropyIndexTargetsOnTransposedInput) {
  // The (3, 4) logits are a transposed view of a (4, 3) leaf.
  Tensor x = rand_input({4, 3}, -2, 2, 11);
  for (R r : {R::None, R::Mean, R::Sum}) {
    for (double ls : {0.0, 0.25}) {
      EXPECT_GRADCHECK_ON(
          dev(),
          [&](const std::vector<Tensor>& in) {
            return F::cross_entropy(in[0].t(), T(true),
                                    {.weight = W(), .reduction = r, .label_smoothing = ls});
          },
          std::vector<Tensor>{x});
    }
  }
}

TEST_P(LossGradcheck, SecondOrderCrossEntropyAndBce) {
  Tensor x = rand_input({3, 4}, -2, 2, 30);
  EXPECT_GRADGRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return F::cross_entropy(in[0], T(true), {.weight = W(), .label_smoothing = 0.1});
      },
      std::vector<Tensor>{x});
  Tensor p = rand_input({3, 4}, 0, 1, 31);
  EXPECT_GRADGRADCHECK_ON(
      dev(), [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], in[1]); },
      std::vector<Tensor>{x, p});
  Tensor y = rand_input({3, 4}, 0, 1, 32);
  Tensor pw = rand_input({4}, 0.5, 3, 33);
  EXPECT_GRADGRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return F::binary_cross_entropy_with_logits(
            in[0], in[1], {.weight = {}, .pos_weight = in[2], .reduction = R::Sum});
      },
      std::vector<Tensor>{x, y, pw});
}

TEST_P(LossGradcheck, CrossEntropySpatialAndUnbatched) {
  Tensor x = rand_input({2, 3, 2}, -2, 2, 12);
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return F::cross_entropy(in[0], T3(), {.weight = W3(), .label_smoothing = 0.2});
      },
      std::vector<Tensor>{x});
  Tensor x1 = rand_input({5}, -2, 2, 13);
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return F::cross_entropy(in[0], full({}, 3, {.dtype = DType::I64, .device = dev()}));
      },
      std::vector<Tensor>{x1});
}

TEST_P(LossGradcheck, CrossEntropyProbabilityTargetsInputAndTarget) {
  Tensor x = rand_input({3, 4}, -2, 2, 14);
  Tensor p = rand_input({3, 4}, 0, 1, 15);
  for (R r : {R::None, R::Mean, R::Sum}) {
    EXPECT_GRADCHECK_ON(
        dev(),
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], in[1],
                                  {.weight = W(), .reduction = r, .label_smoothing = 0.1});
        },
        std::vector<Tensor>{x, p});
  }
  Tensor x3 = rand_input({2, 3, 2}, -2, 2, 16);
  Tensor p3 = rand_input({2, 3, 2}, 0, 1, 17);
  EXPECT_GRADCHECK_ON(
      dev(), [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], in[1]); },
      std::vector<Tensor>{x3, p3});
}

TEST_P(LossGradcheck, NllLoss) {
  Tensor x = rand_input({3, 4}, -3, 0, 18);
  for (R r : {R::None, R::Mean, R::Sum}) {
    EXPECT_GRADCHECK_ON(
        dev(),
        [&](const std::vector<Tensor>& in) {
          return F::nll_loss(in[0], T(true), {.weight = W(), .reduction = r});
        },
        std::vector<Tensor>{x});
  }
  Tensor x3 = rand_input({2, 3, 2}, -3, 0, 19);
  EXPECT_GRADCHECK_ON(
      dev(), [&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], T3()); },
      std::vector<Tensor>{x3});
}

TEST_P(LossGradcheck, RegressionLossesInputAndTarget) {
  Tensor a = rand_input({3, 4}, -2, 2, 20);
  Tensor b = rand_input({3, 4}, -2, 2, 21);
  for (R r : {R::None, R::Mean, R::Sum}) {
    SCOPED_TRACE(int(r));
    EXPECT_GRADCHECK_ON(
        dev(), [&](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], r); },
        std::vector<Tensor>{a, b});
    EXPECT_GRADCHECK_ON(
        dev(), [&](const std::vector<Tensor>& in) { return F::l1_loss(in[0], in[1], r); },
        std::vector<Tensor>{a, b});
    for (double beta : {1.0, 0.5, 0.0}) {
      EXPECT_GRADCHECK_ON(
          dev(),
          [&](const std::vector<Tensor>& in) { return F::smooth_l1_loss(in[0], in[1], r, beta); },
          std::vector<Tensor>{a, b});
    }
  }
  // Second order through the composed ops.
  EXPECT_GRADGRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) { return F::smooth_l1_loss(in[0], in[1], R::Sum, 0.7); },
      std::vector<Tensor>{a, b});
}

TEST_P(LossGradcheck, BceWithLogitsAllInputs) {
  Tensor x = rand_input({3, 4}, -4, 4, 22);
  Tensor y = rand_input({3, 4}, 0, 1, 23);
  Tensor w = rand_input({3, 1}, 0.5, 2, 24);
  Tensor pw = rand_input({4}, 0.5, 3, 25);
  for (R r : {R::None, R::Mean, R::Sum}) {
    EXPECT_GRADCHECK_ON(
        dev(),
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(
              in[0], in[1], {.weight = in[2], .pos_weight = in[3], .reduction = r});
        },
        std::vector<Tensor>{x, y, w, pw});
  }
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return F::binary_cross_entropy_with_logits(in[0], in[1]);
      },
      std::vector<Tensor>{x, y});
}

// ---- argument errors -----------------------------------------------------------------

// CPU-only: the messages of argument errors, found before dispatch or by the CPU kernels.
TEST(LossErrors, ClassTargets) {
  EXPECT_THROW_MSG(F::cross_entropy(X(), from_vector<int64_t>({0, 5, 1})),
                   "cross_entropy: target 5 (at flat position 1) is out of bounds: expected class "
                   "indices in [0, 4)");
  EXPECT_THROW_MSG(F::cross_entropy(X(), from_vector<int64_t>({0, -1, 1})), "target -1");
  EXPECT_THROW_MSG(F::nll_loss(X(), from_vector<int32_t>({4, 0, 1})),
                   "nll_loss: target 4 (at flat position 0) is out of bounds");
  // ignore_index is not a free pass for other negative values.
  EXPECT_THROW_MSG(F::cross_entropy(X(), T(true), {.weight = {}, .ignore_index = -1}),
                   "target -100");
  EXPECT_THROW_MSG(F::cross_entropy(X(), from_vector<int64_t>({0, 1, 2, 3})),
                   "cross_entropy: expected target of shape [3] (input's shape [3, 4] without the "
                   "class dim), got [4]");
  EXPECT_THROW_MSG(F::nll_loss(X3(), from_vector<int64_t>({0, 1, 2, 0}, {2, 1, 2})),
                   "nll_loss: expected target of shape [2, 2]");
  EXPECT_THROW_MSG(F::cross_entropy(X(), from_vector<double>({0, 1, 2})),
                   "cross_entropy: expected integer class indices (i64 or i32) of shape [3] as "
                   "target, got f64");
  // A floating target of another shape than input's is not a probability target.
  EXPECT_THROW_MSG(F::cross_entropy(X(), zeros({3, 3}, {.dtype = DType::F64})),
                   "got f64 of shape [3, 3] (class probabilities must have input's shape [3, 4]");
  EXPECT_THROW_MSG(F::nll_loss(X(), from_vector<double>({0, 1, 2})),
                   "nll_loss: expected integer class indices");
  EXPECT_THROW_MSG(F::cross_entropy(X(), zeros({3, 4}, {.dtype = DType::I64})),
                   "cross_entropy: a target of input's shape [3, 4] holds class probabilities and "
                   "must be floating, got i64");
  EXPECT_THROW_MSG(F::cross_entropy(X(), P(), {.weight = {}, .ignore_index = 1}),
                   "ignore_index (1) is not supported for class-probability targets");
  EXPECT_THROW_MSG(F::cross_entropy(from_vector<double>({1, 2}), from_vector<int64_t>({1})),
                   "expected target of shape [] (input's shape [2] without the class dim)");
  EXPECT_THROW_MSG(F::cross_entropy(full({}, 1.0), full({}, 0.0)),
                   "cross_entropy: expected input of shape (N, C, d...) or (C), got a 0-dim");
  EXPECT_THROW_MSG(F::nll_loss(T(), T()), "nll_loss: expected a floating input, got i64");
  EXPECT_THROW_MSG(F::cross_entropy(X(), Tensor()), "cross_entropy: target is an undefined");
}

TEST(LossErrors, WeightsSmoothingAndReduction) {
  const Tensor w3 = from_vector<double>({1, 2, 3});
  EXPECT_THROW_MSG(F::cross_entropy(X(), T(), {.weight = w3}),
                   "cross_entropy: weight should hold one value per class (4) but got weight of "
                   "shape [3]");
  EXPECT_THROW_MSG(F::cross_entropy(X(), P(), {.weight = w3}), "one value per class (4)");
  EXPECT_THROW_MSG(F::nll_loss(X(), T(), {.weight = ones({1, 4})}), "got weight of shape [1, 4]");
  EXPECT_THROW_MSG(F::nll_loss(X(), T(), {.weight = ones({4}, {.dtype = DType::I64})}),
                   "nll_loss: expected a floating weight, got i64");
  EXPECT_THROW_MSG(F::cross_entropy(X(), T(), {.weight = {}, .label_smoothing = 1.5}),
                   "cross_entropy: label_smoothing must be in [0, 1], got 1.5");
  EXPECT_THROW_MSG(F::cross_entropy(X(), P(), {.weight = {}, .label_smoothing = -0.1}), "got -0.1");
  const R bad = static_cast<R>(7);
  const std::string msg = "invalid reduction value 7";
  EXPECT_THROW_MSG(F::cross_entropy(X(), T(), {.weight = {}, .reduction = bad}),
                   "cross_entropy: " + msg);
  EXPECT_THROW_MSG(F::nll_loss(X(), T(), {.weight = {}, .reduction = bad}), "nll_loss: " + msg);
  EXPECT_THROW_MSG(F::mse_loss(A(), B(), bad), "mse_loss: " + msg);
  EXPECT_THROW_MSG(F::l1_loss(A(), B(), bad), "l1_loss: " + msg);
  EXPECT_THROW_MSG(F::smooth_l1_loss(A(), B(), bad), "smooth_l1_loss: " + msg);
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(
                       L(), Y(), {.weight = {}, .pos_weight = {}, .reduction = bad}),
                   "binary_cross_entropy_with_logits: " + msg);
}

TEST(LossErrors, ElementwiseLosses) {
  EXPECT_THROW_MSG(F::mse_loss(A(), B().reshape({6})),
                   "mse_loss: target shape [6] must be the same as input shape [2, 3]");
  EXPECT_THROW_MSG(F::l1_loss(A(), B().slice(1, 0, 1)), "l1_loss: target shape [2, 1]");
  EXPECT_THROW_MSG(F::smooth_l1_loss(A(), B(), R::Mean, -1.0),
                   "smooth_l1_loss: beta must be non-negative, got -1");
  EXPECT_THROW_MSG(F::mse_loss(A(), zeros({2, 3}, {.dtype = DType::I64})),
                   "mse_loss: expected a floating target, got i64");
  EXPECT_THROW_MSG(F::l1_loss(zeros({2, 3}, {.dtype = DType::I32}), B()),
                   "l1_loss: expected a floating input, got i32");
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(L(), Y().slice(0, 0, 1)),
                   "binary_cross_entropy_with_logits: target shape [1, 3] must be the same as "
                   "input shape [2, 3]");
  EXPECT_THROW_MSG(
      F::binary_cross_entropy_with_logits(L(), Y(), {.weight = {}, .pos_weight = ones({2})}),
      "pos_weight of shape [2] does not broadcast to input shape [2, 3]");
  EXPECT_THROW_MSG(
      F::binary_cross_entropy_with_logits(L(), Y(), {.weight = ones({3, 3}), .pos_weight = {}}),
      "weight of shape [3, 3] does not broadcast to input shape [2, 3]");
}

INSTANTIATE_PER_DEVICE(CrossEntropy);
INSTANTIATE_PER_DEVICE(NllLoss);
INSTANTIATE_PER_DEVICE(RegressionLosses);
INSTANTIATE_PER_DEVICE(BceWithLogits);
INSTANTIATE_PER_DEVICE(LossGradcheck);
