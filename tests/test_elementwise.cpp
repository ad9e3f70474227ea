// Elementwise ops: values against per-element references (small and above the
// parallel threshold, contiguous, broadcast and strided), dtype promotion, gradients
// (first and second order) and errors. Every TEST_P runs once per device (cpu, cuda);
// the rest are CPU-only, each says why.
#include <descent/backends/op_support.h>

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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using UFn = std::function<Tensor(const Tensor&)>;
using BFn = std::function<Tensor(const Tensor&, const Tensor&)>;
using URef = std::function<double(double)>;
using BRef = std::function<double(double, double)>;

struct UnaryCase {
  const char* name;
  UFn fn;
  URef ref;
  double lo, hi;  // a domain where the op is smooth
};

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, [](double v) { return -v; }, -2, 2},
      {"-x", [](const Tensor& x) { return -x; }, [](double v) { return -v; }, -2, 2},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double v) { return std::exp(v); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, [](double v) { return std::log(v); }, .1, 3},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double v) { return std::log1p(v); },
       -.9, 3},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double v) { return std::sqrt(v); }, .1,
       3},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double v) { return 1 / std::sqrt(v); },
       .1, 3},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double v) { return std::abs(v); }, -2, 2},
      {"square", [](const Tensor& x) { return square(x); }, [](double v) { return v * v; }, -2, 2},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double v) { return 1 / v; },
       .5, 3},
      {"clamp", [](const Tensor& x) { return clamp(x, -.5, .5); },
       [](double v) { return std::clamp(v, -.5, .5); }, -2, 2},
      {"clamp_min", [](const Tensor& x) { return clamp_min(x, .2); },
       [](double v) { return std::max(v, .2); }, -2, 2},
      {"clamp_max", [](const Tensor& x) { return clamp_max(x, -.1); },
       [](double v) { return std::min(v, -.1); }, -2, 2},
      {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }, [](double v) { return v * v * v; }, -2,
       2},
      {"pow 2 (int)", [](const Tensor& x) { return pow(x, 2); }, [](double v) { return v * v; }, -2,
       2},
      {"pow .5", [](const Tensor& x) { return pow(x, 0.5); }, [](double v) { return std::sqrt(v); },
       .1, 3},
      {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5); },
       [](double v) { return std::pow(v, -1.5); }, .1, 3},
      {"x + 2.5", [](const Tensor& x) { return x + 2.5; }, [](double v) { return v + 2.5; }, -2, 2},
      {"2 - x", [](const Tensor& x) { return 2 - x; }, [](double v) { return 2 - v; }, -2, 2},
      {"x - 1", [](const Tensor& x) { return x - 1; }, [](double v) { return v - 1; }, -2, 2},
      {"3 * x", [](const Tensor& x) { return 3 * x; }, [](double v) { return 3 * v; }, -2, 2},
      {"x * .5", [](const Tensor& x) { return x * .5; }, [](double v) { return v * .5; }, -2, 2},
      {"x / 4", [](const Tensor& x) { return x / 4.0; }, [](double v) { return v / 4; }, -2, 2},
      {"1 / x", [](const Tensor& x) { return 1.0 / x; }, [](double v) { return 1 / v; }, .5, 3},
      {"3 + x", [](const Tensor& x) { return 3 + x; }, [](double v) { return 3 + v; }, -2, 2},
  };
  return cases;
}

struct BinaryCase {
  const char* name;
  BFn fn;
  BRef ref;
  double alo, ahi, blo, bhi;
};

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); },
       [](double a, double b) { return a + b; }, -2, 2, -2, 2},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); },
       [](double a, double b) { return a - b; }, -2, 2, -2, 2},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); },
       [](double a, double b) { return a * b; }, -2, 2, -2, 2},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); },
       [](double a, double b) { return a / b; }, -2, 2, .5, 2},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); },
       [](double a, double b) { return std::pow(a, b); }, .5, 2, -1, 2},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); },
       [](double a, double b) { return std::min(a, b); }, -2, 2, -2, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); },
       [](double a, double b) { return std::max(a, b); }, -2, 2, -2, 2},
      {"a + b", [](const Tensor& a, const Tensor& b) { return a + b; },
       [](double a, double b) { return a + b; }, -2, 2, -2, 2},
      {"a - b", [](const Tensor& a, const Tensor& b) { return a - b; },
       [](double a, double b) { return a - b; }, -2, 2, -2, 2},
      {"a * b", [](const Tensor& a, const Tensor& b) { return a * b; },
       [](double a, double b) { return a * b; }, -2, 2, -2, 2},
      {"a / b", [](const Tensor& a, const Tensor& b) { return a / b; },
       [](double a, double b) { return a / b; }, -2, 2, .5, 2},
  };
  return cases;
}

// (a shape, b shape) pairs: broadcasting both ways, and 0-dim operands.
const std::vector<std::pair<Shape, Shape>> kBroadcasts = {
    {{3, 1, 4}, {2, 4}}, {{2, 4}, {3, 1, 4}}, {{2, 3}, {}}, {{}, {2, 3}}, {{}, {}}, {{4}, {4}}};

class Elementwise : public descent::testing::PerDeviceTest {};

}  // namespace

TEST_P(Elementwise, UnaryValues) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    for (DType dt : {DType::F32, DType::F64}) {
      const Tensor x = uniform({3, 5}, c.lo, c.hi, 1, dt).to(dev());
      const Tensor y = c.fn(x);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_EQ(y.device(), dev());
      EXPECT_TRUE(all_close(y, ref_unary(x, c.ref), 1e-6, 1e-6));
      // Strided inputs: transposed, and sliced with a step.
      const Tensor xt = uniform({5, 3}, c.lo, c.hi, 2, dt).to(dev()).t();
      EXPECT_TRUE(all_close(c.fn(xt), ref_unary(xt, c.ref), 1e-6, 1e-6));
      const Tensor xs = uniform({3, 10}, c.lo, c.hi, 3, dt).to(dev()).slice(1, 1, 10, 3);
      EXPECT_TRUE(all_close(c.fn(xs), ref_unary(xs, c.ref), 1e-6, 1e-6));
    }
  }
  EXPECT_EQ(sign(on_dev(from_vector<float>({-2.5f, 0.0f, 3.0f}))).to_vector<float>(),
            (std::vector<float>{-1, 0, 1}));
  EXPECT_EQ(sign(on_dev(from_vector<int64_t>({-7, 0, 4}))).to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 0, 1}));
  // NaN passes through clamp, min/max propagate it.
  const Tensor n = on_dev(from_vector<double>({kNaN, 5, -5}));
  const Tensor z = zeros({3}, {.dtype = DType::F64, .device = dev()});
  EXPECT_TRUE(all_close(clamp(n, 0, 1), from_vector<double>({kNaN, 1, 0})));
  EXPECT_TRUE(all_close(maximum(n, z), from_vector<double>({kNaN, 5, 0})));
  EXPECT_TRUE(all_close(minimum(z, n), from_vector<double>({kNaN, 0, -5})));
}

TEST_P(Elementwise, BinaryValuesWithBroadcasting) {
  for (const BinaryCase& c : binary_cases()) {
    for (const auto& [sa, sb] : kBroadcasts) {
      SCOPED_TRACE(fmt::format("{} {} {}", c.name, sa, sb));
      const Tensor a = uniform(sa, c.alo, c.ahi, 4).to(dev());
      const Tensor b = uniform(sb, c.blo, c.bhi, 5).to(dev());
      const Tensor y = c.fn(a, b);
      EXPECT_EQ(y.shape(), broadcast_shapes(sa, sb, "test"));
      EXPECT_EQ(y.device(), dev());
      EXPECT_TRUE(all_close(y, ref_binary(a, b, c.ref), 1e-12, 1e-12));
    }
    SCOPED_TRACE(c.name);
    // Strided operands: transposed with a step-sliced one, in f32.
    const Tensor a = uniform({4, 3}, c.alo, c.ahi, 6, DType::F32).to(dev()).t();
    const Tensor b = uniform({3, 8}, c.blo, c.bhi, 7, DType::F32).to(dev()).slice(1, 0, 8, 2);
    EXPECT_TRUE(all_close(c.fn(a, b), ref_binary(a, b, c.ref), 1e-6, 1e-6));
  }
}

TEST_P(Elementwise, IntegerArithmetic) {
  const Tensor a = on_dev(from_vector<int64_t>({7, -7, 6, 0}));
  const Tensor b = on_dev(from_vector<int64_t>({2, 2, -4, 3}));
  EXPECT_EQ((a + b).to_vector<int64_t>(), (std::vector<int64_t>{9, -5, 2, 3}));
  EXPECT_EQ((a - b).to_vector<int64_t>(), (std::vector<int64_t>{5, -9, 10, -3}));
  EXPECT_EQ((a * b).to_vector<int64_t>(), (std::vector<int64_t>{14, -14, -24, 0}));
  // `/` on integers is true division into f32, as torch.
  EXPECT_EQ((a / b).dtype(), DType::F32);
  EXPECT_EQ((a / b).to_vector<float>(), (std::vector<float>{3.5f, -3.5f, -1.5f, 0.0f}));
  EXPECT_EQ(maximum(a, b).to_vector<int64_t>(), (std::vector<int64_t>{7, 2, 6, 3}));
  EXPECT_EQ(abs(a).to_vector<int64_t>(), (std::vector<int64_t>{7, 7, 6, 0}));
  EXPECT_EQ(pow(on_dev(from_vector<int32_t>({2, 3})), 3).to_vector<int32_t>(),
            (std::vector<int32_t>{8, 27}));
  EXPECT_EQ(clamp(a, -1, 3).to_vector<int64_t>(), (std::vector<int64_t>{3, -1, 3, 0}));
  EXPECT_EQ((a * 2).dtype(), DType::I64);
}

TEST_P(Elementwise, ComparisonsAndLogic) {
  const Tensor a = on_dev(from_vector<double>({1, 2, 3, kNaN}));
  const Tensor b = on_dev(from_vector<double>({3, 2, 1, kNaN}));
  using V = std::vector<bool>;
  EXPECT_EQ(eq(a, b).to_vector<bool>(), (V{false, true, false, false}));
  EXPECT_EQ(ne(a, b).to_vector<bool>(), (V{true, false, true, true}));
  EXPECT_EQ(lt(a, b).to_vector<bool>(), (V{true, false, false, false}));
  EXPECT_EQ(le(a, b).to_vector<bool>(), (V{true, true, false, false}));
  EXPECT_EQ(gt(a, b).to_vector<bool>(), (V{false, false, true, false}));
  EXPECT_EQ(ge(a, b).to_vector<bool>(), (V{false, true, true, false}));
  EXPECT_EQ((a == b).to_vector<bool>(), eq(a, b).to_vector<bool>());
  EXPECT_EQ((a != b).to_vector<bool>(), ne(a, b).to_vector<bool>());
  EXPECT_EQ((a < b).to_vector<bool>(), lt(a, b).to_vector<bool>());
  EXPECT_EQ((a <= b).to_vector<bool>(), le(a, b).to_vector<bool>());
  EXPECT_EQ((a > b).to_vector<bool>(), gt(a, b).to_vector<bool>());
  EXPECT_EQ((a >= b).to_vector<bool>(), ge(a, b).to_vector<bool>());
  EXPECT_EQ(gt(a, b).dtype(), DType::Bool);
  // With scalars, and across dtypes (i64 compared with 1.5 in f32).
  EXPECT_EQ((a > 1.5).to_vector<bool>(), (V{false, true, true, false}));
  EXPECT_EQ((a <= 2).to_vector<bool>(), (V{true, true, false, false}));
  EXPECT_EQ((a == 3).to_vector<bool>(), (V{false, false, true, false}));
  EXPECT_EQ((a != 3).to_vector<bool>(), (V{true, true, false, true}));
  EXPECT_EQ((a >= 2.0).to_vector<bool>(), (V{false, true, true, false}));
  EXPECT_EQ((a < 2).to_vector<bool>(), (V{true, false, false, false}));
  const Tensor i = on_dev(from_vector<int64_t>({1, 2}));
  EXPECT_EQ((i > 1.5).to_vector<bool>(), (V{false, true}));
  EXPECT_EQ(eq(i, on_dev(from_vector<float>({1.0f, 2.5f}))).to_vector<bool>(), (V{true, false}));
  // Broadcast comparison.
  EXPECT_EQ(
      lt(on_dev(from_vector<float>({1, 2}, {2, 1})), on_dev(from_vector<float>({1.5f, 2.5f, 0.5f})))
          .to_vector<bool>(),
      (V{true, true, false, false, true, false}));

  const Tensor p = on_dev(from_vector<bool>({true, true, false, false}));
  const Tensor q = on_dev(from_vector<bool>({true, false, true, false}));
  EXPECT_EQ(logical_and(p, q).to_vector<bool>(), (V{true, false, false, false}));
  EXPECT_EQ(logical_or(p, q).to_vector<bool>(), (V{true, true, true, false}));
  EXPECT_EQ(logical_not(p).to_vector<bool>(), (V{false, false, true, true}));
  // Numbers are true when nonzero (NaN included).
  const Tensor f = on_dev(from_vector<double>({0, 2, kNaN, -0.0}));
  EXPECT_EQ(logical_not(f).to_vector<bool>(), (V{true, false, false, true}));
  EXPECT_EQ(logical_and(f, on_dev(from_vector<int64_t>({1, 1, 1, 1}))).to_vector<bool>(),
            (V{false, true, true, false}));
  EXPECT_EQ(logical_or(f, zeros({4}, {.device = dev()})).to_vector<bool>(),
            (V{false, true, true, false}));
  EXPECT_EQ(isfinite(on_dev(from_vector<double>({1, kInf, -kInf, kNaN}))).to_vector<bool>(),
            (V{true, false, false, false}));
  EXPECT_EQ(isfinite(on_dev(from_vector<int32_t>({1, -5}))).to_vector<bool>(), (V{true, true}));
  EXPECT_EQ(isfinite(full({2}, 70000.0, {.dtype = DType::F16, .device = dev()})).to_vector<bool>(),
            (V{false, false}));  // overflows f16
}

TEST_P(Elementwise, Where) {
  const Tensor c = on_dev(from_vector<bool>({true, false}, {2, 1}));
  const Tensor a = on_dev(from_vector<float>({1, 2, 3}, {1, 3}));
  Tensor y = where(c, a, on_dev(scalar_tensor(-1.0f)));
  EXPECT_EQ(y.shape(), Shape({2, 3}));
  EXPECT_EQ(y.device(), dev());
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 3, -1, -1, -1}));
  EXPECT_EQ(where(c, a, -1).to_vector<float>(), y.to_vector<float>());
  EXPECT_EQ(where(c, a, on_dev(from_vector<double>({9}))).dtype(), DType::F64);
  EXPECT_EQ(where(c.t(), on_dev(from_vector<int64_t>({5, 6})), 0).to_vector<int64_t>(),
            (std::vector<int64_t>{5, 0}));
  const Tensor x = uniform({2, 6}, -1, 1, 8, DType::F32).to(dev()).slice(1, 0, 6, 2);
  const Tensor pos = gt(x, on_dev(scalar_tensor(0.0f)));
  EXPECT_TRUE(all_close(where(pos, x, 0.0), ref_unary(x, [](double v) { return v > 0 ? v : 0; })));
}

// CPU-only: the promotion rules are decided before dispatch, the same for every device.
TEST(ElementwiseCpu, DtypePromotion) {
  auto sum_dtype = [](DType a, DType b) {
    return add(ones({2}, {.dtype = a}), ones({2}, {.dtype = b})).dtype();
  };
  EXPECT_EQ(sum_dtype(DType::I32, DType::I64), DType::I64);
  EXPECT_EQ(sum_dtype(DType::F16, DType::BF16), DType::F32);
  EXPECT_EQ(sum_dtype(DType::F32, DType::F64), DType::F64);
  EXPECT_EQ(sum_dtype(DType::I64, DType::F16), DType::F16);
  EXPECT_EQ(sum_dtype(DType::Bool, DType::I32), DType::I32);
  EXPECT_EQ(sum_dtype(DType::Bool, DType::Bool), DType::Bool);
  EXPECT_EQ(mul(ones({2}, {.dtype = DType::I32}), ones({2}, {.dtype = DType::F32})).dtype(),
            DType::F32);
  // bool + bool is logical or, as in torch.
  EXPECT_EQ((from_vector<bool>({true, true, false}) + from_vector<bool>({true, false, false}))
                .to_vector<bool>(),
            (std::vector<bool>{true, true, false}));
  // Scalars: integral ones keep an integer dtype, floating ones make it f32.
  const Tensor i32 = from_vector<int32_t>({1, 2});
  EXPECT_EQ((i32 + 2.5).dtype(), DType::F32);
  EXPECT_EQ((i32 + 2.5).to_vector<float>(), (std::vector<float>{3.5f, 4.5f}));
  EXPECT_EQ((i32 + 2).dtype(), DType::I32);
  EXPECT_EQ((2.5 * i32).dtype(), DType::F32);
  EXPECT_EQ((from_vector<bool>({true}) + 2).dtype(), DType::I64);
  EXPECT_EQ((from_vector<bool>({true}) * 2.5).dtype(), DType::F32);
  EXPECT_EQ((ones({2}, {.dtype = DType::F16}) * 2.5).dtype(), DType::F16);
  EXPECT_EQ((ones({2}, {.dtype = DType::F64}) * 2.5).dtype(), DType::F64);
  EXPECT_EQ(result_type(i32, Scalar(2.5)), DType::F32);
  EXPECT_EQ(result_type(i32, Scalar(int64_t(2))), DType::I32);
  // 0-dim tensors decide only when of a higher category.
  const Tensor f64_0 = scalar_tensor(1.5, {.dtype = DType::F64});
  EXPECT_EQ((ones({2}) + f64_0).dtype(), DType::F32);
  EXPECT_EQ((f64_0 + ones({2})).dtype(), DType::F32);
  EXPECT_EQ((from_vector<int64_t>({1, 2}) + f64_0).dtype(), DType::F64);
  EXPECT_EQ((i32 + scalar_tensor(1, {.dtype = DType::I64})).dtype(), DType::I32);
  EXPECT_EQ((scalar_tensor(1) + f64_0).dtype(), DType::F64);  // both 0-dim: promote
  EXPECT_EQ(result_type(ones({2}, {.dtype = DType::F16}), scalar_tensor(1.0)), DType::F16);
  EXPECT_EQ(maximum(i32, from_vector<float>({1.5f, 1.5f})).to_vector<float>(),
            (std::vector<float>{1.5f, 2.0f}));
}

TEST_P(Elementwise, Gradcheck) {
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                        {rand_input({3, 4}, c.lo, c.hi, 11)});
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0].t()); },
                        {rand_input({4, 3}, c.lo, c.hi, 12)});
    EXPECT_GRADCHECK_ON(
        dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0].slice(1, 0, 6, 2)); },
        {rand_input({2, 6}, c.lo, c.hi, 13)});
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                        {rand_input({}, c.lo, c.hi, 14)});
  }
  for (const BinaryCase& c : binary_cases()) {
    auto f = [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); };
    for (const auto& [sa, sb] : kBroadcasts) {
      SCOPED_TRACE(fmt::format("{} {} {}", c.name, sa, sb));
      EXPECT_GRADCHECK_ON(dev(), f,
                          {rand_input(sa, c.alo, c.ahi, 15), rand_input(sb, c.blo, c.bhi, 16)});
    }
    SCOPED_TRACE(c.name);
    EXPECT_GRADCHECK_ON(
        dev(),
        [&](const std::vector<Tensor>& in) { return c.fn(in[0].t(), in[1].slice(1, 0, 8, 2)); },
        {rand_input({4, 3}, c.alo, c.ahi, 17), rand_input({3, 8}, c.blo, c.bhi, 18)});
    // Only one operand requires grad.
    const Tensor fixed = on_dev(rand_input({3, 4}, c.blo, c.bhi, 19).detach());
    EXPECT_GRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return c.fn(in[0], fixed); },
                        {rand_input({3, 4}, c.alo, c.ahi, 20)});
  }
  // where: gradients flow to the chosen side, with broadcasting.
  const Tensor cond = on_dev(from_vector<bool>({true, false, false, true, true, false}, {2, 3}));
  EXPECT_GRADCHECK_ON(dev(),
                      [&](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
                      {rand_input({1, 3}), rand_input({2, 1})});
  EXPECT_GRADCHECK_ON(
      dev(), [&](const std::vector<Tensor>& in) { return where(cond.t(), in[0].t(), 2.0); },
      {rand_input({2, 3})});
}

TEST_P(Elementwise, Gradgradcheck) {
  const Tensor a = rand_input({3, 1, 4}, .5, 2, 21), b = rand_input({2, 4}, .5, 2, 22);
  auto check2 = [&](const char* name, const BFn& fn) {
    SCOPED_TRACE(name);
    EXPECT_GRADGRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return fn(in[0], in[1]); },
                            {a, b});
  };
  check2("mul", [](const Tensor& x, const Tensor& y) { return mul(x, y); });
  check2("div", [](const Tensor& x, const Tensor& y) { return div(x, y); });
  check2("pow", [](const Tensor& x, const Tensor& y) { return pow(x, y); });
  const Tensor x = rand_input({3, 4}, .5, 2, 23);
  const std::vector<std::pair<const char*, UFn>> unary = {
      {"pow 3", [](const Tensor& t) { return pow(t, 3.0); }},
      {"pow -.5", [](const Tensor& t) { return pow(t, -0.5); }},
      {"exp", [](const Tensor& t) { return exp(t); }},
      {"log", [](const Tensor& t) { return log(t); }},
      {"sqrt", [](const Tensor& t) { return sqrt(t); }},
      {"rsqrt", [](const Tensor& t) { return rsqrt(t); }},
      {"reciprocal", [](const Tensor& t) { return reciprocal(t); }},
  };
  for (const auto& [name, fn] : unary) {
    SCOPED_TRACE(name);
    EXPECT_GRADGRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return fn(in[0]); }, {x});
    EXPECT_GRADGRADCHECK_ON(dev(), [&](const std::vector<Tensor>& in) { return fn(in[0].t()); },
                            {x});
  }
}

TEST_P(Elementwise, MinMaxTiesSplitTheGradient) {
  Tensor a = on_dev(from_vector<double>({1, 2})).requires_grad_();
  Tensor b = on_dev(from_vector<double>({1, 3})).requires_grad_();
  maximum(a, b).sum().backward();
  EXPECT_TRUE(all_close(a.grad(), from_vector<double>({0.5, 0})));
  EXPECT_TRUE(all_close(b.grad(), from_vector<double>({0.5, 1})));
  // Comparisons and sign carry no gradient.
  EXPECT_FALSE(gt(a, b).requires_grad());
  EXPECT_FALSE(sign(a).requires_grad());
  EXPECT_FALSE(isfinite(a).requires_grad());
}

TEST_P(Elementwise, LargeTensorsMatchPerElementReference) {
  // 60000 elements: above cpu::kParallelThreshold, so on the CPU the OpenMP split runs.
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = uniform({200, 300}, c.lo, c.hi, 31, DType::F32).to(dev());
    EXPECT_TRUE(all_close(c.fn(x), ref_unary(x, c.ref), 1e-6, 1e-5));
    const Tensor xt = uniform({300, 200}, c.lo, c.hi, 32, DType::F32).to(dev()).t();
    EXPECT_TRUE(all_close(c.fn(xt), ref_unary(xt, c.ref), 1e-6, 1e-5));
  }
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor a = uniform({200, 300}, c.alo, c.ahi, 33, DType::F32).to(dev());
    for (const Tensor& b : {uniform({300}, c.blo, c.bhi, 34, DType::F32).to(dev()),
                            uniform({200, 1}, c.blo, c.bhi, 35, DType::F32).to(dev()),
                            uniform({300, 200}, c.blo, c.bhi, 36, DType::F32).to(dev()).t()}) {
      EXPECT_TRUE(all_close(c.fn(a, b), ref_binary(a, b, c.ref), 1e-6, 1e-5));
      EXPECT_TRUE(all_close(c.fn(b, a), ref_binary(b, a, c.ref), 1e-6, 1e-5));
    }
  }
  const Tensor a = uniform({200, 300}, -1, 1, 37, DType::F32).to(dev());
  const Tensor b = uniform({300}, -1, 1, 38, DType::F32).to(dev());
  EXPECT_EQ(gt(a, b).to_vector<bool>(),
            ref_binary(a, b, [](double x, double y) { return double(x > y); })
                .to(DType::Bool)
                .to_vector<bool>());
  const Tensor w = where(gt(a, b), a, b);
  EXPECT_TRUE(all_close(w, ref_binary(a, b, [](double x, double y) { return std::max(x, y); })));
  // Integer division is true division: dividing by zero gives inf, in the parallel path too.
  Tensor den = ones({200, 300}, {.dtype = DType::I64, .device = dev()});
  {
    NoGradGuard ng;
    den.select(0, 150).select(0, 7).fill_(0);
  }
  Tensor q = div(ones({200, 300}, {.dtype = DType::I64, .device = dev()}), den);
  EXPECT_TRUE(std::isinf(q.select(0, 150).select(0, 7).item<float>()));
  EXPECT_EQ(q.select(0, 150).select(0, 8).item<float>(), 1.0f);
}

TEST_P(Elementwise, InPlaceUpdates) {
  Tensor a = on_dev(from_vector<float>({1, 2, 3}));
  add_(a, on_dev(from_vector<float>({1, 1, 1})), 2.0);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{3, 4, 5}));
  add_(a, on_dev(scalar_tensor(1.0f)));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{4, 5, 6}));
  mul_(a, 0.5);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{2, 2.5, 3}));
  EXPECT_EQ(a.device(), dev());
  Tensor p = ones({2}, {.device = dev(), .requires_grad = true});
  EXPECT_THROW_MSG(add_(p, ones({2}, {.device = dev()})),
                   "add_: in-place update of a tensor that requires grad");
  EXPECT_THROW_MSG(mul_(p, 2), "mul_: in-place update of a tensor that requires grad");
}

// CPU-only: these are argument checks made before dispatch, the same for every device.
TEST(ElementwiseCpu, Errors) {
  EXPECT_THROW_MSG(add(zeros({2, 3}), zeros({4})),
                   "add: shapes [2, 3] and [4] cannot be broadcast together");
  EXPECT_THROW_MSG(zeros({3, 1, 4}) * zeros({2, 3}),
                   "mul: shapes [3, 1, 4] and [2, 3] cannot be broadcast");
  EXPECT_THROW_MSG(lt(zeros({2}), zeros({3})), "lt: shapes [2] and [3] cannot be broadcast");
  EXPECT_THROW_MSG(where(from_vector<bool>({true, false}), zeros({3}), 0.0),
                   "where: shapes [2] and [3] cannot be broadcast");
  EXPECT_THROW_MSG(where(zeros({2}), zeros({2}), zeros({2})),
                   "where: condition must be bool, got f32");
  EXPECT_THROW_MSG(clamp(zeros({2}), 2, 1), "clamp: min 2 is greater than max 1");
  EXPECT_THROW_MSG(pow(Tensor(), 2.0), "pow: input is an undefined tensor");
  EXPECT_THROW_MSG(sign(Tensor()), "sign: input is an undefined tensor");
  EXPECT_THROW_MSG(where(Tensor(), zeros({2}), zeros({2})),
                   "where: condition is an undefined tensor");
  EXPECT_THROW_MSG(sub(from_vector<bool>({true}), from_vector<bool>({false})),
                   "binary: sub is not defined for bool tensors");
  // ops/ rejects an op the dtype lacks before any kernel runs, with what it expects.
  EXPECT_THROW_MSG(exp(zeros({2}, {.dtype = DType::I64})),
                   "unary: exp is not defined for dtype i64, expected a floating dtype");
  EXPECT_THROW_MSG(neg(from_vector<bool>({true})), "unary: neg is not defined for bool tensors");
  EXPECT_THROW_MSG(zeros({2}, {.dtype = DType::I64}).requires_grad_(),
                   "only floating tensors can require gradients");
  // Floating division by zero is IEEE, not an error.
  EXPECT_EQ((from_vector<float>({1, -1}) / 0.0).to_vector<float>(),
            (std::vector<float>{float(kInf), -float(kInf)}));
}

// backends/op_support.h: the one table of which dtypes each op accepts.
static_assert(supports(UnaryOp::Neg, DTypeKind::Integral) &&
              !supports(UnaryOp::Neg, DTypeKind::Bool));
static_assert(supports(UnaryOp::Abs, DTypeKind::Bool) &&
              !supports(UnaryOp::Exp, DTypeKind::Integral));
static_assert(supports(BinaryOp::Maximum, DTypeKind::Bool) &&
              !supports(BinaryOp::Lt, DTypeKind::Bool));
static_assert(!supports(ReduceOp::Sum, DTypeKind::Bool) &&
              supports(ReduceOp::Any, DTypeKind::Bool));

// Needs both devices at once, so not per device.
TEST(ElementwiseAcrossDevices, DifferentDevicesThrow) {
  if (!cuda_available()) GTEST_SKIP() << "needs a CUDA device";
  EXPECT_THROW_MSG(add(zeros({2}), zeros({2}, {.device = Device::CUDA})),
                   "add: expected tensors on one device");
}

// clamp_min and clamp_max keep integers integral (no round trip through floating).
TEST_P(Elementwise, OneSidedClampOfIntegers) {
  const Tensor i = on_dev(from_vector<int64_t>({1, 5, -3}));
  EXPECT_EQ(clamp_min(i, 2).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 2}));
  EXPECT_EQ(clamp_max(i, 2).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, -3}));
}

// add_ rejects a source that does not broadcast to the destination's shape.
TEST_P(Elementwise, InPlaceAddChecksShapes) {
  Tensor a = zeros({3}, {.device = dev()});
  EXPECT_THROW_MSG(add_(a, zeros({2}, {.device = dev()})),
                   "add_: shapes [3] and [2] cannot be broadcast");
  EXPECT_THROW_MSG(add_(a, zeros({2, 3}, {.device = dev()})), "add_");
}

// square of integers stays integer; an integer to a negative power is an error.
TEST_P(Elementwise, SquareOfIntegersStaysInteger) {
  const Tensor sq = square(on_dev(from_vector<int64_t>({-3, 4})));
  EXPECT_EQ(sq.dtype(), DType::I64);
  EXPECT_EQ(sq.to_vector<int64_t>(), (std::vector<int64_t>{9, 16}));
  EXPECT_THROW_MSG(pow(on_dev(from_vector<int64_t>({2})), -1), "negative");
}

// An undefined operand is a descent::Error naming the op and the operand. CPU-only: an
// undefined tensor has no device.
TEST(ElementwiseCpu, UndefinedOperandsThrow) {
  const Tensor x = zeros({2});
  EXPECT_THROW_MSG(add(Tensor(), x), "add: first operand is an undefined tensor");
  EXPECT_THROW_MSG(mul(x, Tensor()), "mul: second operand is an undefined tensor");
  EXPECT_THROW_MSG(eq(Tensor(), x), "eq: first operand is an undefined tensor");
  EXPECT_THROW_MSG(Tensor() + 2.0, "tensor operand is an undefined tensor");
  EXPECT_THROW_MSG(neg(Tensor()), "neg: input is an undefined tensor");
  EXPECT_THROW_MSG(exp(Tensor()), "exp: input is an undefined tensor");
  EXPECT_THROW_MSG(clamp(Tensor(), 0, 1), "clamp: input is an undefined tensor");
}

INSTANTIATE_PER_DEVICE(Elementwise);
