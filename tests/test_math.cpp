// Elementwise math functions (ops/math.h): values against libm in f64 per element
// (contiguous and strided, f32 and f64), rounding and modulo edge cases, integer
// dtypes, gradients (f64 finite differences, first and second order) and errors. Every
// TEST_P runs once per device; PyTorch's values are in test_golden.cpp (Golden.Math).
#include <cmath>
#include <functional>
#include <limits>

#include "testing/devices.h"
#include "testing/elementwise_reference.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;
using descent::testing::ref_binary;
using descent::testing::ref_unary;
using descent::testing::uniform;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct UnaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&);
  double (*ref)(double);
  double lo, hi;  // a domain where the function is smooth
  bool smooth = true;
};

double py_remainder(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((b < 0) != (r < 0))) r += b;
  return r;
}

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {"sin", descent::sin, [](double v) { return std::sin(v); }, -3, 3},
      {"cos", descent::cos, [](double v) { return std::cos(v); }, -3, 3},
      {"tan", descent::tan, [](double v) { return std::tan(v); }, -1.2, 1.2},
      {"asin", descent::asin, [](double v) { return std::asin(v); }, -.9, .9},
      {"acos", descent::acos, [](double v) { return std::acos(v); }, -.9, .9},
      {"atan", descent::atan, [](double v) { return std::atan(v); }, -4, 4},
      {"sinh", descent::sinh, [](double v) { return std::sinh(v); }, -3, 3},
      {"cosh", descent::cosh, [](double v) { return std::cosh(v); }, -3, 3},
      {"erf", descent::erf, [](double v) { return std::erf(v); }, -3, 3},
      {"erfc", descent::erfc, [](double v) { return std::erfc(v); }, -3, 3},
      {"floor", descent::floor, [](double v) { return std::floor(v); }, -5, 5, false},
      {"ceil", descent::ceil, [](double v) { return std::ceil(v); }, -5, 5, false},
      {"round", descent::round, [](double v) { return std::nearbyint(v); }, -5, 5, false},
      {"trunc", descent::trunc, [](double v) { return std::trunc(v); }, -5, 5, false},
      {"frac", descent::frac, [](double v) { return v - std::trunc(v); }, -5, 5, false},
  };
  return cases;
}

struct BinaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&, const Tensor&);
  double (*ref)(double, double);
  double alo, ahi, blo, bhi;
};

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> cases = {
      {"atan2", descent::atan2, [](double a, double b) { return std::atan2(a, b); }, -2, 2, -2, 2},
      {"hypot", descent::hypot, [](double a, double b) { return std::hypot(a, b); }, -2, 2, -2, 2},
      {"fmod", descent::fmod, [](double a, double b) { return std::fmod(a, b); }, -6, 6, .7, 2},
      {"remainder", descent::remainder, py_remainder, -6, 6, -2, -.7},
      {"logaddexp", descent::logaddexp,
       [](double a, double b) { return std::log(std::exp(a) + std::exp(b)); }, -3, 3, -3, 3},
  };
  return cases;
}

class MathOps : public descent::testing::PerDeviceTest {};

}  // namespace

TEST_P(MathOps, UnaryValues) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    for (DType dt : {DType::F32, DType::F64}) {
      const double tol = dt == DType::F32 ? 1e-6 : 1e-12;
      const Tensor x = uniform({3, 5}, c.lo, c.hi, 1, dt).to(dev());
      const Tensor y = c.fn(x);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_EQ(y.device(), dev());
      EXPECT_TRUE(all_close(y, ref_unary(x, c.ref), tol, tol));
      const Tensor xt = uniform({5, 3}, c.lo, c.hi, 2, dt).to(dev()).t();
      EXPECT_TRUE(all_close(c.fn(xt), ref_unary(xt, c.ref), tol, tol));
      // Above the CPU's parallel threshold.
      const Tensor big = uniform({70000}, c.lo, c.hi, 3, dt).to(dev());
      EXPECT_TRUE(all_close(c.fn(big), ref_unary(big, c.ref), tol, tol));
    }
  }
}

TEST_P(MathOps, BinaryValuesWithBroadcasting) {
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor a = uniform({3, 1, 4}, c.alo, c.ahi, 4).to(dev());
    const Tensor b = uniform({2, 4}, c.blo, c.bhi, 5).to(dev());
    const Tensor y = c.fn(a, b);
    EXPECT_EQ(y.shape(), (Shape{3, 2, 4}));
    EXPECT_TRUE(all_close(y, ref_binary(a, b, c.ref), 1e-12, 1e-12));
    const Tensor af = uniform({4, 3}, c.alo, c.ahi, 6, DType::F32).to(dev()).t();
    const Tensor bf = uniform({3, 8}, c.blo, c.bhi, 7, DType::F32).to(dev()).slice(1, 0, 8, 2);
    EXPECT_TRUE(all_close(c.fn(af, bf), ref_binary(af, bf, c.ref), 1e-5, 1e-5));
  }
}

TEST_P(MathOps, RoundingEdgeCases) {
  // round is half to even, as torch.round; floor/ceil/trunc of exact halves and signs.
  const Tensor x = on_dev(from_vector<float>({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, -0.0f}));
  EXPECT_EQ(round(x).to_vector<float>(), (std::vector<float>{-2, -2, -0, 0, 2, 2, -0}));
  EXPECT_EQ(floor(x).to_vector<float>(), (std::vector<float>{-3, -2, -1, 0, 1, 2, -0}));
  EXPECT_EQ(ceil(x).to_vector<float>(), (std::vector<float>{-2, -1, -0, 1, 2, 3, -0}));
  EXPECT_EQ(trunc(x).to_vector<float>(), (std::vector<float>{-2, -1, -0, 0, 1, 2, -0}));
  EXPECT_EQ(frac(x).to_vector<float>(), (std::vector<float>{-.5f, -.5f, -.5f, .5f, .5f, .5f, 0}));
  // Rounding keeps integer tensors as they are.
  const Tensor i = on_dev(from_vector<int64_t>({-3, 0, 7}));
  for (Tensor r : {floor(i), ceil(i), round(i), trunc(i)}) {
    EXPECT_EQ(r.dtype(), DType::I64);
    EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{-3, 0, 7}));
  }
  // NaN and infinities pass through.
  const Tensor s = on_dev(from_vector<double>({kNaN, kInf, -kInf}));
  EXPECT_TRUE(all_close(floor(s), from_vector<double>({kNaN, kInf, -kInf})));
  EXPECT_TRUE(all_close(round(s), from_vector<double>({kNaN, kInf, -kInf})));
}

TEST_P(MathOps, ModuloSignsAndIntegers) {
  // fmod takes the dividend's sign, remainder the divisor's, on floats and integers.
  const Tensor a = on_dev(from_vector<double>({7, -7, 7, -7, 6}));
  const Tensor b = on_dev(from_vector<double>({3, 3, -3, -3, 3}));
  EXPECT_EQ(fmod(a, b).to_vector<double>(), (std::vector<double>{1, -1, 1, -1, 0}));
  EXPECT_EQ(remainder(a, b).to_vector<double>(), (std::vector<double>{1, 2, -2, -1, 0}));
  EXPECT_EQ(remainder(a, 2.5).to_vector<double>(), (std::vector<double>{2, 0.5, 2, 0.5, 1}));
  const Tensor ai =
      on_dev(from_vector<int64_t>({7, -7, 7, -7, std::numeric_limits<int64_t>::min()}));
  const Tensor bi = on_dev(from_vector<int64_t>({3, 3, -3, -3, -1}));
  EXPECT_EQ(fmod(ai, bi).dtype(), DType::I64);
  EXPECT_EQ(fmod(ai, bi).to_vector<int64_t>(), (std::vector<int64_t>{1, -1, 1, -1, 0}));
  EXPECT_EQ(remainder(ai, bi).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, -2, -1, 0}));
  EXPECT_EQ(remainder(on_dev(from_vector<int32_t>({-1, 5})), 4).to_vector<int32_t>(),
            (std::vector<int32_t>{3, 1}));
  // An integer zero divisor is an error at the call, as integer division.
  const Tensor zero = on_dev(from_vector<int64_t>({1, 0, 2, 3, 4}));
  EXPECT_THROW_MSG(fmod(ai, zero), "fmod: integer division by zero");
  EXPECT_THROW_MSG(remainder(ai, zero), "remainder: integer division by zero");
  // Float zero divisors give NaN, as C's fmod.
  EXPECT_TRUE(std::isnan(fmod(on_dev(from_vector<double>({1})), 0.0).item()));
}

TEST_P(MathOps, PromotionAndSpecialValues) {
  // Integer input of a smooth function gives f32, as torch.sin(int_tensor).
  const Tensor i = on_dev(from_vector<int64_t>({0, 1, 2}));
  const Tensor s = sin(i);
  EXPECT_EQ(s.dtype(), DType::F32);
  EXPECT_TRUE(all_close(s, from_vector<float>({0.f, std::sin(1.f), std::sin(2.f)})));
  EXPECT_EQ(atan2(i, i).dtype(), DType::F32);
  // logaddexp of equal infinities, of a very large and a small value, of -inf and x.
  const Tensor a = on_dev(from_vector<double>({kInf, -kInf, 1000, -kInf}));
  const Tensor b = on_dev(from_vector<double>({kInf, -kInf, 0, 2}));
  EXPECT_TRUE(all_close(logaddexp(a, b), from_vector<double>({kInf, -kInf, 1000, 2})));
  EXPECT_DOUBLE_EQ(
      logaddexp(on_dev(from_vector<double>({0})), on_dev(from_vector<double>({0}))).item(),
      std::log(2.0));
  // hypot does not overflow where the sum of squares would.
  EXPECT_TRUE(
      all_close(hypot(on_dev(from_vector<float>({3e30f})), on_dev(from_vector<float>({4e30f}))),
                from_vector<float>({5e30f})));
  EXPECT_TRUE(all_close(
      lerp(on_dev(from_vector<double>({1, 2})), on_dev(from_vector<double>({3, 6})), 0.25),
      from_vector<double>({1.5, 3})));
}

TEST_P(MathOps, Gradcheck) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    // Rounding: inputs away from the steps, where the derivative (zero) exists.
    const Tensor x = c.smooth ? rand_input({2, 3}, c.lo, c.hi) : rand_input({2, 3}, 0.1, 0.9) + 2.0;
    const Tensor leaf = x.detach().requires_grad_();
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {leaf});
  }
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor a = rand_input({2, 3}, c.alo, c.ahi, 1);
    const Tensor b = rand_input({3}, c.blo, c.bhi, 2);
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); },
                        {a, b});
  }
  const Tensor a = rand_input({2, 3}, -1, 1, 3), b = rand_input({2, 3}, -1, 1, 4);
  const Tensor w = rand_input({3}, 0, 1, 5);
  EXPECT_GRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& in) { return lerp(in[0], in[1], in[2]); }, {a, b, w});
}

TEST_P(MathOps, Gradgradcheck) {
  for (const UnaryCase& c : unary_cases()) {
    if (!c.smooth) continue;
    SCOPED_TRACE(c.name);
    const Tensor x = rand_input({2, 3}, c.lo, c.hi);
    EXPECT_EQ(descent::testing::gradgradcheck_on(
                  dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x}),
              "");
  }
  for (const char* name : {"atan2", "hypot", "logaddexp"}) {
    SCOPED_TRACE(name);
    const BinaryCase& c =
        *std::find_if(binary_cases().begin(), binary_cases().end(),
                      [&](const BinaryCase& k) { return k.name == std::string(name); });
    const Tensor a = rand_input({2, 3}, .3, 2, 1), b = rand_input({2, 3}, .3, 2, 2);
    EXPECT_EQ(descent::testing::gradgradcheck_on(
                  dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); }, {a, b}),
              "");
  }
}

TEST_P(MathOps, Errors) {
  EXPECT_THROW_MSG(sin(Tensor()), "sin: input is an undefined tensor");
  EXPECT_THROW_MSG(atan2(on_dev(ones({2})), Tensor()),
                   "atan2: second operand is an undefined tensor");
  EXPECT_THROW_MSG(fmod(on_dev(ones({2})), on_dev(ones({3}))), "fmod");
  EXPECT_THROW_MSG(floor(on_dev(from_vector<bool>({true}))), "floor is not defined for bool");
  EXPECT_THROW_MSG(frac(on_dev(from_vector<int64_t>({1}))), "frac: expected a floating tensor");
  if (dev().is_cuda()) {
    EXPECT_THROW_MSG(hypot(on_dev(ones({2})), ones({2})), "hypot: expected tensors on one device");
  }
}

INSTANTIATE_PER_DEVICE(MathOps);
