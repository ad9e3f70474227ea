// The CUDA device against the CPU reference, part 2: every elementwise op (unary,
// binary with broadcasting and promotion, comparisons and logic, where, the fused
// activation backwards) forward and backward in every float dtype, reductions, and
// matmul/linear (f32, f64, bf16, f16; batched, broadcast, transposed; TF32 on and off).
// Without a GPU every test reports SKIPPED (tests/testing/devices.h).
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "testing/devices.h"

using namespace descent;
using descent::testing::CudaOnlyTest;
using descent::testing::DeviceTest;
using descent::testing::expect_same_on_device;
using descent::testing::Fn;
using descent::testing::kExact;
using descent::testing::matches;
using descent::testing::on_device;
using descent::testing::Tf32Guard;
using descent::testing::Tolerance;
using descent::testing::tolerance;

namespace {

class DevicesOps : public DeviceTest {};
class DevicesOpsCuda : public CudaOnlyTest {};

const DType kFloatDtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

using Unary = std::function<Tensor(const Tensor&)>;
using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

// A leaf of `dt` drawn in f32: N(0, scale²), or U[0.1, 2.1) when positive.
Tensor input(const Shape& s, DType dt, uint64_t seed, bool positive = false, double scale = 1.5) {
  Generator gen(seed);
  Tensor x = positive ? rand(s, {}, &gen) * 2.0 + 0.1 : randn(s, {}, &gen) * scale;
  return x.to(dt).detach().requires_grad_(is_floating(dt));
}

Fn unary_fn(const Unary& f) {
  return [f](const std::vector<Tensor>& in) { return f(in[0]); };
}
Fn binary_fn(const Binary& f) {
  return [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); };
}

struct UnaryCase {
  std::string name;
  Unary f;
  bool positive = false;  // needs inputs > 0
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }, true},
      {"log1p", [](const Tensor& x) { return log1p(x); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, true},
      {"abs", [](const Tensor& x) { return abs(x); }},
      {"sign", [](const Tensor& x) { return sign(x); }},
      {"square", [](const Tensor& x) { return square(x); }},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, true},
      {"relu", [](const Tensor& x) { return F::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return F::leaky_relu(x, 0.1); }},
      {"elu", [](const Tensor& x) { return F::elu(x, 0.7); }},
      {"gelu", [](const Tensor& x) { return F::gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return F::gelu(x, F::GeluApprox::Tanh); }},
      {"silu", [](const Tensor& x) { return F::silu(x); }},
      {"sigmoid", [](const Tensor& x) { return F::sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return F::tanh(x); }},
      // beta·x crosses the threshold for some inputs: both branches.
      {"softplus", [](const Tensor& x) { return F::softplus(x, 2.0, 3.0); }},
      {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5); }, true},
      {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5); }, true},
      {"pow 3", [](const Tensor& x) { return pow(x, 3); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }},
      {"clamp_min", [](const Tensor& x) { return clamp_min(x, -0.2); }},
      {"clamp_max", [](const Tensor& x) { return clamp_max(x, 0.3); }},
  };
}

struct BinaryCase {
  std::string name;
  Binary f;
  bool positive_a = false, positive_b = false;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, false, true},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, true},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"scalar ops", [](const Tensor& a, const Tensor& b) { return (a * 2.5 - 1) / 4 + 3 * b; }},
      {"scalar on the left",
       [](const Tensor& a, const Tensor& b) { return 2.0 / b - (1.5 - a) * 0.5; }, false, true},
  };
}

}  // namespace

TEST_F(DevicesOps, UnaryOpsForwardAndBackward) {
  uint64_t seed = 1;
  for (const UnaryCase& c : unary_cases()) {
    for (DType dt : kFloatDtypes) {
      SCOPED_TRACE(fmt::format("{} {}", c.name, dt));
      const Tensor x = input({6, 7}, dt, seed++, c.positive);
      expect_same_on_device(unary_fn(c.f), {x});
      // A transposed (strided) operand.
      expect_same_on_device([&](const std::vector<Tensor>& in) { return c.f(in[0].t()); }, {x});
    }
  }
}

TEST_F(DevicesOps, IntegerUnaryOps) {
  for (DType dt : {DType::I32, DType::I64}) {
    const Tensor x = randint(-50, 50, {40}, {.dtype = dt});
    for (const UnaryCase& c : unary_cases()) {
      if (c.name != "neg" && c.name != "abs" && c.name != "sign" && c.name != "square" &&
          c.name != "relu") {
        continue;
      }
      SCOPED_TRACE(fmt::format("{} {}", c.name, dt));
      EXPECT_TRUE(matches(c.f(on_device(x)), c.f(x), kExact));
    }
  }
}

TEST_F(DevicesOps, BinaryOpsWithBroadcastingForwardAndBackward) {
  uint64_t seed = 100;
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{5, 6}, {5, 6}}, {{4, 1, 5}, {3, 1}}, {{6}, {2, 3, 6}}, {{}, {4, 3}}};
  for (const BinaryCase& c : binary_cases()) {
    for (DType dt : kFloatDtypes) {
      for (const auto& [sa, sb] : shapes) {
        SCOPED_TRACE(fmt::format("{} {} {} {}", c.name, dt, sa, sb));
        const Tensor a = input(sa, dt, seed++, c.positive_a);
        const Tensor b = input(sb, dt, seed++, c.positive_b);
        expect_same_on_device(binary_fn(c.f), {a, b});
      }
    }
  }
}

// PyTorch's promotion picks the result dtype on the device as on the CPU.
TEST_F(DevicesOps, MixedDtypesPromoteAsOnTheCpu) {
  const std::vector<std::pair<DType, DType>> pairs = {
      {DType::F32, DType::F64},  {DType::BF16, DType::F16}, {DType::I64, DType::F32},
      {DType::I32, DType::I64},  {DType::Bool, DType::I32}, {DType::F16, DType::F32},
      {DType::Bool, DType::BF16}};
  for (const auto& [da, db] : pairs) {
    SCOPED_TRACE(fmt::format("{} with {}", da, db));
    const Tensor a = randint(-3, 4, {4, 5}, {.dtype = DType::I64}).to(da);
    const Tensor b = randint(1, 5, {5}, {.dtype = DType::I64}).to(db);
    const Tensor ad = on_device(a), bd = on_device(b);
    for (const BinaryCase& c : binary_cases()) {
      if (c.name == "pow" || c.name.starts_with("scalar")) continue;
      SCOPED_TRACE(c.name);
      const Tensor want = c.f(a, b);
      EXPECT_TRUE(matches(c.f(ad, bd), want, tolerance(want.dtype())));
    }
    // A 0-dim operand only promotes across categories.
    const Tensor s = scalar_tensor(2.0, {.dtype = DType::F64});
    EXPECT_TRUE(matches(ad * on_device(s), a * s, kExact));  // small integers times 2
  }
  // Integer arithmetic is exact, and integer division is true division.
  const Tensor i = randint(-100, 100, {30}, {.dtype = DType::I64});
  const Tensor j = randint(1, 9, {30}, {.dtype = DType::I64});
  const Tensor id = on_device(i), jd = on_device(j);
  EXPECT_TRUE(matches(id * jd - id + jd, i * j - i + j, kExact));
  EXPECT_TRUE(matches(id / jd, i / j));
  EXPECT_TRUE(matches(pow(jd, 3), pow(j, 3), kExact));
  EXPECT_TRUE(matches(minimum(id, jd), minimum(i, j), kExact));
}

TEST_F(DevicesOps, ComparisonsLogicAndIsfinite) {
  for (DType dt : {DType::F32, DType::F64, DType::BF16, DType::F16, DType::I32, DType::I64}) {
    SCOPED_TRACE(dtype_name(dt));
    // Small integers: plenty of equal pairs.
    const Tensor a = randint(-2, 3, {5, 6}, {.dtype = DType::I64}).to(dt);
    const Tensor b = randint(-2, 3, {6}, {.dtype = DType::I64}).to(dt);
    const Tensor ad = on_device(a), bd = on_device(b);
    EXPECT_TRUE(matches(eq(ad, bd), eq(a, b), kExact));
    EXPECT_TRUE(matches(ne(ad, bd), ne(a, b), kExact));
    EXPECT_TRUE(matches(lt(ad, bd), lt(a, b), kExact));
    EXPECT_TRUE(matches(le(ad, bd), le(a, b), kExact));
    EXPECT_TRUE(matches(gt(ad, bd), gt(a, b), kExact));
    EXPECT_TRUE(matches(ge(ad, bd), ge(a, b), kExact));
    EXPECT_TRUE(matches(ad > 0.5, a > 0.5, kExact));
    EXPECT_TRUE(matches(ad == 1, a == 1, kExact));
    EXPECT_TRUE(matches(logical_and(ad, bd), logical_and(a, b), kExact));
    EXPECT_TRUE(matches(logical_or(ad, bd.t().t()), logical_or(a, b), kExact));
    EXPECT_TRUE(matches(logical_not(ad.t()), logical_not(a.t()), kExact));
  }
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (DType dt : kFloatDtypes) {
    const Tensor x = from_vector<double>({1.0, -inf, 0.0, inf, std::nan(""), -2.5}).to(dt);
    EXPECT_TRUE(matches(isfinite(on_device(x)), isfinite(x), kExact));
  }
}

TEST_F(DevicesOps, WhereForwardAndBackward) {
  uint64_t seed = 300;
  for (DType dt : kFloatDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor cond = randn({5, 1}) > 0.0;  // broadcast over columns
    const Tensor a = input({5, 6}, dt, seed++), b = input({6}, dt, seed++);
    expect_same_on_device([](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); },
                          {cond, a, b});
    expect_same_on_device([](const std::vector<Tensor>& in) { return where(in[0], in[1], -0.5); },
                          {cond, a});
  }
}

// The fused backward kernels (ReluBackward, SigmoidBackward, TanhBackward) on sizes that
// are no multiple of a vector width, contiguous and transposed.
TEST_F(DevicesOps, FusedActivationBackwards) {
  const std::vector<std::pair<std::string, Unary>> acts = {
      {"relu", [](const Tensor& x) { return F::relu(x); }},
      {"sigmoid", [](const Tensor& x) { return F::sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return F::tanh(x); }}};
  uint64_t seed = 400;
  for (const auto& [name, f] : acts) {
    for (DType dt : kFloatDtypes) {
      SCOPED_TRACE(fmt::format("{} {}", name, dt));
      const Tensor x = input({257, 129}, dt, seed++);
      expect_same_on_device(unary_fn(f), {x});
      expect_same_on_device([&](const std::vector<Tensor>& in) { return f(in[0].t()) * 2.0; }, {x});
    }
  }
}

TEST_F(DevicesOps, ReductionsOverDimsAndAll) {
  const std::vector<std::pair<std::string, Unary>> cases = {
      {"sum", [](const Tensor& x) { return sum(x); }},
      {"sum 0", [](const Tensor& x) { return sum(x, {0}); }},
      {"sum 1 2",
       [](const Tensor& x) {
         return sum(x, {1, 2});
       }},
      {"sum -1 keepdim", [](const Tensor& x) { return sum(x, {-1}, true); }},
      {"sum 0 2 keepdim",
       [](const Tensor& x) {
         return sum(x, {0, 2}, true);
       }},
      {"mean", [](const Tensor& x) { return mean(x); }},
      {"mean 1", [](const Tensor& x) { return mean(x, {1}); }},
      {"mean 0 2 keepdim",
       [](const Tensor& x) {
         return mean(x, {0, 2}, true);
       }},
      {"var 1", [](const Tensor& x) { return var(x, {1}); }},
      {"var all biased", [](const Tensor& x) { return var(x, {}, 0); }},
      {"std 0 2",
       [](const Tensor& x) {
         return descent::std(x, {0, 2});
       }},
      {"max", [](const Tensor& x) { return max(x); }},
      {"max 1", [](const Tensor& x) { return max(x, 1); }},
      {"max -1 keepdim", [](const Tensor& x) { return max(x, -1, true); }},
      {"min", [](const Tensor& x) { return min(x); }},
      {"min 0", [](const Tensor& x) { return min(x, 0); }},
      {"amax 0 2",
       [](const Tensor& x) {
         return amax(x, {0, 2});
       }},
      {"amin 1", [](const Tensor& x) { return amin(x, {1}); }},
      {"logsumexp 2", [](const Tensor& x) { return logsumexp(x, {2}); }},
      {"logsumexp 0 1 keepdim",
       [](const Tensor& x) {
         return logsumexp(x, {0, 1}, true);
       }},
      {"argmax", [](const Tensor& x) { return argmax(x); }},
      {"argmax 1", [](const Tensor& x) { return argmax(x, 1); }},
      {"argmin 2 keepdim", [](const Tensor& x) { return argmin(x, 2, true); }},
      {"argmin", [](const Tensor& x) { return argmin(x); }},
  };
  uint64_t seed = 500;
  for (DType dt : kFloatDtypes) {
    // 16-bit values repeat often: ties check "the first index" and evenly shared gradients.
    const Tensor x = input({5, 6, 7}, dt, seed++);
    for (const auto& [name, f] : cases) {
      SCOPED_TRACE(fmt::format("{} {}", name, dt));
      expect_same_on_device(unary_fn(f), {x});
      expect_same_on_device([&](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 2)); },
                            {x});
    }
  }
  // Exact ties in f32: max shares the gradient, argmax takes the first.
  const Tensor tie = from_vector<float>({1, 3, 3, 2, 3, 0}, {2, 3}).requires_grad_();
  expect_same_on_device([](const std::vector<Tensor>& in) { return max(in[0]); }, {tie});
  expect_same_on_device([](const std::vector<Tensor>& in) { return max(in[0], 0); }, {tie});
  EXPECT_TRUE(matches(argmax(on_device(tie)), argmax(tie), kExact));
}

TEST_F(DevicesOps, IntegerBoolAndLargeReductions) {
  for (DType dt : {DType::I32, DType::I64}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = randint(-1000, 1000, {17, 33}, {.dtype = dt}), xd = on_device(x);
    EXPECT_TRUE(matches(sum(xd), sum(x), kExact));
    EXPECT_TRUE(matches(sum(xd, {0}), sum(x, {0}), kExact));
    EXPECT_TRUE(matches(max(xd, 1), max(x, 1), kExact));
    EXPECT_TRUE(matches(amin(xd, {0}), amin(x, {0}), kExact));
    EXPECT_TRUE(matches(argmax(xd, 0), argmax(x, 0), kExact));
  }
  // all / any: every pattern, on sizes that span many GPU blocks.
  for (int64_t n : {int64_t(5), int64_t(1) << 20}) {
    SCOPED_TRACE(n);
    const Tensor t = ones({n}, {.dtype = DType::Bool}), f = zeros({n}, {.dtype = DType::Bool});
    Tensor one_false = t.clone(), one_true = f.clone();
    one_false.narrow(0, n - 1, 1).fill_(0.0);
    one_true.narrow(0, n / 2, 1).fill_(1.0);
    for (const Tensor& m : {t, f, one_false, one_true}) {
      EXPECT_TRUE(matches(all(on_device(m)), all(m), kExact));
      EXPECT_TRUE(matches(any(on_device(m)), any(m), kExact));
    }
    const Tensor floats = one_false.to(DType::F32) * 0.5;  // nonzero is true
    EXPECT_TRUE(matches(all(on_device(floats)), all(floats), kExact));
    EXPECT_TRUE(matches(any(on_device(floats)), any(floats), kExact));
  }
  // Long rows and long columns.
  for (DType dt : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dt));
    Generator gen(9);
    const Tensor big = rand({1 << 20}, {.dtype = dt}, &gen), bd = on_device(big);
    EXPECT_TRUE(matches(sum(bd), sum(big)));
    EXPECT_TRUE(matches(mean(bd), mean(big)));
    EXPECT_TRUE(matches(max(bd), max(big), kExact));
    EXPECT_TRUE(matches(argmin(bd), argmin(big), kExact));
    const Tensor m = big.reshape({1024, 1024}), md = bd.reshape({1024, 1024});
    EXPECT_TRUE(matches(sum(md, {0}), sum(m, {0})));
    EXPECT_TRUE(matches(sum(md, {1}), sum(m, {1})));
  }
}

TEST_F(DevicesOps, MatmulEveryLayoutAndDtype) {
  struct Case {
    std::string name;
    Shape a, b;
    std::function<Tensor(const Tensor&)> va = [](const Tensor& t) { return t; };
    std::function<Tensor(const Tensor&)> vb = [](const Tensor& t) { return t; };
  };
  const auto t2 = [](const Tensor& t) { return t.transpose(-1, -2); };
  const std::vector<Case> cases = {
      {"2-D", {17, 33}, {33, 9}},
      {"1-D by 2-D", {33}, {33, 9}},
      {"2-D by 1-D", {17, 33}, {33}},
      {"dot", {33}, {33}},
      {"batched", {3, 17, 33}, {3, 33, 9}},
      {"broadcast batch", {2, 1, 17, 33}, {3, 33, 9}},
      {"2-D by batched", {17, 33}, {4, 33, 9}},
      {"transposed a", {33, 17}, {33, 9}, t2},
      {"transposed b", {17, 33}, {9, 33}, [](const Tensor& t) { return t; }, t2},
      {"both transposed, batched", {3, 33, 17}, {3, 9, 33}, t2, t2},
  };
  uint64_t seed = 600;
  for (const Case& c : cases) {
    for (DType dt : kFloatDtypes) {
      SCOPED_TRACE(fmt::format("{} {}", c.name, dt));
      const Tensor a = input(c.a, dt, seed++, false, 1.0), b = input(c.b, dt, seed++, false, 1.0);
      expect_same_on_device(
          [&](const std::vector<Tensor>& in) { return matmul(c.va(in[0]), c.vb(in[1])); }, {a, b});
    }
  }
}

TEST_F(DevicesOps, LinearWithAndWithoutBias) {
  uint64_t seed = 700;
  for (DType dt : kFloatDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = input({4, 5, 33}, dt, seed++, false, 1.0);
    const Tensor w = input({9, 33}, dt, seed++, false, 0.2), b = input({9}, dt, seed++);
    expect_same_on_device(
        [](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2]); }, {x, w, b});
    expect_same_on_device([](const std::vector<Tensor>& in) { return F::linear(in[0], in[1]); },
                          {x, w});
    expect_same_on_device(
        [](const std::vector<Tensor>& in) { return F::linear(in[0].select(0, 1), in[1], in[2]); },
        {x, w, b});
    // A transposed weight view and a 1-D input.
    const Tensor wt = input({33, 9}, dt, seed++, false, 0.2);
    expect_same_on_device(
        [](const std::vector<Tensor>& in) { return F::linear(in[0], in[1].t(), in[2]); },
        {input({33}, dt, seed++), wt, b});
  }
}

// TF32 (off by default) rounds f32 GEMM inputs to a 10-bit mantissa: with it off the
// product is f32-accurate; with it on it is visibly less accurate, but close.
TEST_F(DevicesOpsCuda, Tf32SwitchesF32MatmulPrecision) {
  EXPECT_FALSE(cuda::allow_tf32());
  const Tensor a = input({64, 256}, DType::F32, 800, false, 1.0).detach();
  const Tensor b = input({256, 64}, DType::F32, 801, false, 1.0).detach();
  const Tensor exact = matmul(a.to(DType::F64), b.to(DType::F64));
  const Tensor ad = a.to(Device::CUDA), bd = b.to(Device::CUDA);
  const auto max_err = [&](const Tensor& y) {
    return max((y.to(Device::CPU).to(DType::F64) - exact).abs()).item<double>();
  };
  {
    Tf32Guard off(false);
    const Tensor y = matmul(ad, bd);
    EXPECT_TRUE(matches(y, matmul(a, b)));
    EXPECT_LT(max_err(y), 1e-4);
  }
  {
    Tf32Guard on(true);
    EXPECT_TRUE(cuda::allow_tf32());
    const double err = max_err(matmul(ad, bd));
    EXPECT_GT(err, 1e-4) << "TF32 was allowed but the product is f32-exact";
    EXPECT_LT(err, 0.1);
    // f64 never uses TF32.
    EXPECT_TRUE(matches(matmul(ad.to(DType::F64), bd.to(DType::F64)), exact));
  }
  EXPECT_FALSE(cuda::allow_tf32());
}

// Linear layers of a training step under TF32: within TF32's accuracy of the CPU.
TEST_F(DevicesOpsCuda, Tf32LinearForwardAndBackward) {
  Tf32Guard on(true);
  const Tensor x = input({32, 128}, DType::F32, 810, false, 1.0);
  const Tensor w = input({16, 128}, DType::F32, 811, false, 0.1), b = input({16}, DType::F32, 812);
  expect_same_on_device(
      [](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2]); }, {x, w, b},
      {5e-2, 1e-2}, {5e-2, 1e-2});
}
