// Reductions: values against a direct reference over many dim combinations, layouts
// and dtypes; NaN and tie semantics; gradients; errors; and the no-copy fast paths.
// Every TEST_P runs once per device (cpu, cuda); the rest are CPU-only, each says why.
#include <array>
#include <cmath>
#include <limits>

#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

enum class R { Sum, Mean, Max, Min, ArgMax, ArgMin, Var, Std, LogSumExp };

constexpr int kNumOps = 9;

// Every reduction computed element by element in f64, groups visited in logical order
// (so "first" index ties match). Returns the keepdim=false values, indexed by R.
std::array<std::vector<double>, kNumOps> reference_all(const Tensor& x, const Shape& dims) {
  const std::vector<double> v = x.to(DType::F64).contiguous().to_vector<double>();
  const Shape& s = x.shape();
  uint32_t mask = 0;
  for (int64_t d : dims) mask |= 1u << (d < 0 ? d + s.size() : d);
  if (dims.empty()) mask = (1u << s.size()) - 1;
  int64_t groups = 1;
  for (int d = 0; d < s.size(); ++d) groups *= (mask >> d & 1u) ? 1 : s[d];
  std::vector<std::vector<double>> g(static_cast<size_t>(groups));
  for (int64_t i = 0; i < int64_t(v.size()); ++i) {
    int64_t rem = i, out = 0, scale = 1;
    for (int d = s.size() - 1; d >= 0; --d) {
      const int64_t c = rem % s[d];
      rem /= s[d];
      if (!(mask >> d & 1u)) {
        out += c * scale;
        scale *= s[d];
      }
    }
    g[size_t(out)].push_back(v[size_t(i)]);
  }
  std::array<std::vector<double>, kNumOps> res;
  for (const auto& e : g) {
    const double n = double(e.size());
    double sum = 0, mx = -kInf, mn = kInf;
    int64_t amx = 0, amn = 0;
    for (size_t k = 0; k < e.size(); ++k) {
      sum += e[k];
      if (e[k] > mx) mx = e[k], amx = int64_t(k);
      if (e[k] < mn) mn = e[k], amn = int64_t(k);
    }
    double ss = 0, lse = 0;
    for (double val : e) ss += (val - sum / n) * (val - sum / n), lse += std::exp(val - mx);
    const double values[kNumOps] = {sum,
                                    sum / n,
                                    mx,
                                    mn,
                                    double(amx),
                                    double(amn),
                                    ss / (n - 1),
                                    std::sqrt(ss / (n - 1)),
                                    mx + std::log(lse)};
    for (int k = 0; k < kNumOps; ++k) res[size_t(k)].push_back(values[k]);
  }
  return res;
}

std::vector<double> reference(const Tensor& x, const Shape& dims, R op) {
  return reference_all(x, dims)[size_t(op)];
}

Tensor run(const Tensor& x, const Shape& dims, R op, bool keepdim) {
  switch (op) {
    case R::Sum: return sum(x, dims, keepdim);
    case R::Mean: return mean(x, dims, keepdim);
    case R::Max: return amax(x, dims, keepdim);
    case R::Min: return amin(x, dims, keepdim);
    case R::ArgMax: return dims.empty() ? argmax(x) : argmax(x, dims[0], keepdim);
    case R::ArgMin: return dims.empty() ? argmin(x) : argmin(x, dims[0], keepdim);
    case R::Var: return var(x, dims, 1, keepdim);
    case R::Std: return descent::std(x, dims, 1, keepdim);
    case R::LogSumExp: return logsumexp(x, dims, keepdim);
  }
  return {};
}

Shape expected_shape(const Shape& s, const Shape& dims, bool keepdim) {
  Shape out;
  for (int d = 0; d < s.size(); ++d) {
    bool red = dims.empty();
    for (int64_t r : dims) red |= (r < 0 ? r + s.size() : r) == d;
    if (!red)
      out.push_back(s[d]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

// Checks every op (and keepdim both ways) on x against the reference.
void check_all_ops(const Tensor& x, const std::vector<Shape>& dim_sets, double tol,
                   const std::string& what) {
  for (const Shape& dims : dim_sets) {
    const auto refs = reference_all(x, dims);
    for (R op :
         {R::Sum, R::Mean, R::Max, R::Min, R::ArgMax, R::ArgMin, R::Var, R::Std, R::LogSumExp}) {
      if ((op == R::ArgMax || op == R::ArgMin) && dims.size() > 1) continue;
      for (bool keepdim : {false, true}) {
        if ((op == R::ArgMax || op == R::ArgMin) && dims.empty() && keepdim) continue;
        SCOPED_TRACE(fmt::format("{} dims {} op {} keepdim {}", what, dims, int(op), keepdim));
        const Tensor y = run(x, dims, op, keepdim);
        const Shape want = (op == R::ArgMax || op == R::ArgMin) && dims.empty()
                               ? Shape{}
                               : expected_shape(x.shape(), dims, keepdim);
        EXPECT_EQ(y.shape(), want);
        const DType dt = op == R::ArgMax || op == R::ArgMin ? DType::I64 : x.dtype();
        EXPECT_EQ(y.dtype(), dt);
        const Tensor ref = from_vector(refs[size_t(op)], want);
        EXPECT_TRUE(all_close(y, ref, tol, tol));
      }
    }
  }
}

const std::vector<Shape> kDims3 = {{},     {0},    {1},    {2},    {-1},     {-3},
                                   {0, 1}, {0, 2}, {1, 2}, {2, 0}, {0, 1, 2}};

// Uniform in [-1, 1), drawn on the CPU (the same numbers for every device), then moved to d.
Tensor randu(const Shape& shape, DType dt, uint64_t seed, Device d = Device::CPU) {
  Generator gen(seed);
  return (rand(shape, {.dtype = DType::F64}, &gen) * 2.0 - 1.0).to(dt).to(d);
}

class Reduce : public descent::testing::PerDeviceTest {};

}  // namespace

TEST_P(Reduce, AllOpsMatchReferenceOnEveryLayout) {
  for (DType dt : {DType::F32, DType::F64}) {
    const double tol = dt == DType::F32 ? 1e-5 : 1e-12;
    const Tensor base = randu({3, 4, 5}, dt, 1, dev());
    check_all_ops(base, kDims3, tol, "contiguous");
    // Dense but permuted: the kernels reorder dims by stride instead of copying.
    check_all_ops(randu({5, 3, 4}, dt, 2, dev()).permute({1, 2, 0}), kDims3, tol, "permuted");
    check_all_ops(randu({5, 4, 3}, dt, 3, dev()).transpose(0, 2), kDims3, tol, "transposed");
    // Not dense: sliced with a step, expanded (stride 0), offset.
    check_all_ops(randu({3, 8, 5}, dt, 4, dev()).slice(1, 0, 8, 2), kDims3, tol, "step slice");
    check_all_ops(randu({3, 1, 5}, dt, 5, dev()).expand({3, 4, 5}), kDims3, tol, "expanded");
    check_all_ops(randu({4, 4, 5}, dt, 6, dev()).slice(0, 1, 4), kDims3, tol, "offset");
  }
}

TEST_P(Reduce, SixteenBitFloats) {
  for (DType dt : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    check_all_ops(randu({3, 4, 5}, dt, 15, dev()), kDims3, 3e-2, "contiguous");
    check_all_ops(randu({5, 3, 4}, dt, 16, dev()).permute({1, 2, 0}), kDims3, 3e-2, "permuted");
  }
}

TEST_P(Reduce, SizeOneDimsAndScalars) {
  const Tensor x = randu({3, 1, 4, 1}, DType::F64, 9, dev());
  check_all_ops(x, {{}, {1}, {3}, {1, 3}, {0, 1}, {2, 3}, {-2}}, 1e-12, "size-1");
  // Size-1 dims in a permuted view: kept dims leave in stride order and are scattered back.
  check_all_ops(randu({4, 1, 3}, DType::F64, 10, dev()).permute({2, 1, 0}), {{1}, {0, 1}, {2}},
                1e-12, "size-1 permuted");
  const Tensor s = scalar_tensor(2.5, {.dtype = DType::F64, .device = dev()});
  EXPECT_EQ(sum(s).item(), 2.5);
  EXPECT_EQ(amax(s, {0}).item(), 2.5);
  EXPECT_EQ(max(s, -1).item(), 2.5);
  EXPECT_EQ(argmax(s).item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(var(s).item()));
}

TEST_P(Reduce, LiteralValues) {
  const Tensor x = on_dev(from_vector<double>({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4}));
  EXPECT_TRUE(all_close(sum(x, {0}), from_vector<double>({3, 6, 9, 12})));
  EXPECT_TRUE(all_close(sum(x, {-1}, true), from_vector<double>({10, 20}, {2, 1})));
  EXPECT_TRUE(all_close(mean(x), scalar_tensor(3.75, {.dtype = DType::F64})));
  EXPECT_TRUE(all_close(var(x, {1}), from_vector<double>({5.0 / 3, 20.0 / 3})));
  EXPECT_TRUE(all_close(var(x, {1}, 0), from_vector<double>({1.25, 5})));
  EXPECT_TRUE(all_close(var(x), scalar_tensor(37.5 / 7, {.dtype = DType::F64})));
  EXPECT_TRUE(all_close(descent::std(x, {1}, 0, true),
                        from_vector<double>({std::sqrt(1.25), std::sqrt(5.0)}, {2, 1})));
  // correction ≥ N divides by 0, as torch: inf, or nan for a zero sum of squares.
  EXPECT_EQ(var(x, {0}, 2).to_vector<double>(), std::vector<double>(4, kInf));
  EXPECT_TRUE(std::isnan(var(on_dev(from_vector<double>({7}))).item()));
  EXPECT_TRUE(all_close(max(x, 1), from_vector<double>({4, 8})));
  EXPECT_TRUE(all_close(min(x, 0, true), from_vector<double>({1, 2, 3, 4}, {1, 4})));
  EXPECT_EQ(max(x).item(), 8);
  EXPECT_EQ(min(x).item(), 1);
  EXPECT_EQ(argmax(x).item<int64_t>(), 7);
  EXPECT_EQ(argmin(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));

  EXPECT_NEAR(logsumexp(on_dev(from_vector<double>({1, 2, 3})), {0}).item(), 3.4076059644443806,
              1e-12);
  // Stable for large values; ±inf as torch.
  EXPECT_NEAR(logsumexp(on_dev(from_vector<double>({1000, 1000})), {0}).item(), 1000.6931471805599,
              1e-9);
  EXPECT_EQ(logsumexp(on_dev(from_vector<double>({-kInf, -kInf})), {0}).item(), -kInf);
  EXPECT_EQ(logsumexp(on_dev(from_vector<double>({kInf, 1})), {0}).item(), kInf);
  EXPECT_TRUE(
      all_close(logsumexp(on_dev(from_vector<float>({0, 0, 0, 0, 0, 0}, {2, 3})), {1}, true),
                full({2, 1}, std::log(3.0))));
}

TEST_P(Reduce, IntegerAndBoolInputs) {
  const Tensor x = on_dev(from_vector<int64_t>({3, 9, 9, -2, 0, 7}, {2, 3}));
  EXPECT_EQ(max(x).dtype(), DType::I64);
  EXPECT_EQ(max(x).item<int64_t>(), 9);
  EXPECT_EQ(min(x).item<int64_t>(), -2);
  EXPECT_EQ(argmax(x).item<int64_t>(), 1);  // first of the tied 9s
  EXPECT_EQ(max(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{9, 7}));
  EXPECT_EQ(argmin(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(amin(x, {0, 1}, true).to_vector<int64_t>(), (std::vector<int64_t>{-2}));
  EXPECT_EQ(sum(x, {1}).to_vector<int64_t>(), (std::vector<int64_t>{21, 5}));
  const Tensor i32 = on_dev(from_vector<int32_t>({2000000000, 2000000000}));
  EXPECT_EQ(sum(i32).dtype(), DType::I64);  // and no overflow
  EXPECT_EQ(sum(i32).item<int64_t>(), 4000000000);
  EXPECT_EQ(max(x.t(), 0).to_vector<int64_t>(), (std::vector<int64_t>{9, 7}));
  EXPECT_EQ(argmax(x.t()).item<int64_t>(), 2);  // flattened in the view's order

  const Tensor b = on_dev(from_vector<bool>({false, true, false}));
  EXPECT_TRUE(any(b).item<bool>());
  EXPECT_FALSE(all(b).item<bool>());
  EXPECT_EQ(all(b).dtype(), DType::Bool);
  EXPECT_EQ(all(b).dim(), 0);
  EXPECT_TRUE(max(b).item<bool>());
  EXPECT_FALSE(min(b).item<bool>());
  EXPECT_EQ(sum(b).item<int64_t>(), 1);
  EXPECT_TRUE(all(ones({2, 3}, {.dtype = DType::I32, .device = dev()})).item<bool>());
  EXPECT_FALSE(any(zeros({2, 3}, {.device = dev()})).item<bool>());
  EXPECT_TRUE(all(on_dev(from_vector<double>({kNaN, 1}))).item<bool>());  // NaN is nonzero
  EXPECT_FALSE(all(on_dev(from_vector<double>({kNaN, 0}))).item<bool>());
}

TEST_P(Reduce, NanPropagatesAndArgPointsAtFirstNan) {
  const Tensor row = on_dev(from_vector<double>({1, kNaN, 3, kNaN}));
  EXPECT_TRUE(std::isnan(max(row).item()));
  EXPECT_TRUE(std::isnan(min(row).item()));
  EXPECT_EQ(argmax(row).item<int64_t>(), 1);
  EXPECT_EQ(argmin(row).item<int64_t>(), 1);
  // Column path (reduce dim 0 of a contiguous matrix).
  const Tensor m = on_dev(from_vector<float>({1, 2, float(kNaN), 5, 7, float(kNaN)}, {3, 2}));
  const auto mx = amax(m, {0}).to_vector<float>();
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  const auto mn = min(m, 0).to_vector<float>();
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(argmax(m, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(argmin(m, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  // Long rows split into blocks: the first NaN still wins across blocks.
  std::vector<float> big(40000, 0.5f);
  big[30000] = float(kNaN);
  big[35000] = float(kNaN);
  big[100] = 2.0f;
  const Tensor b = on_dev(from_vector(big));
  EXPECT_TRUE(std::isnan(max(b).item()));
  EXPECT_EQ(argmax(b).item<int64_t>(), 30000);
  EXPECT_EQ(argmin(b).item<int64_t>(), 30000);
  big[30000] = big[35000] = 0.5f;
  big[39000] = 2.0f;
  EXPECT_EQ(argmax(on_dev(from_vector(big))).item<int64_t>(), 100);  // first of the tied maxima
  // A NaN makes logsumexp NaN.
  EXPECT_TRUE(std::isnan(logsumexp(row, {0}).item()));
}

TEST_P(Reduce, LargeTensorsTakeParallelPathsAndMatchReference) {
  // (outer, R, inner) shapes that reach each kernel path above the parallel threshold.
  const Tensor cols = randu({300, 200}, DType::F32, 11, dev());
  check_all_ops(cols, {{0}, {1}, {}}, 2e-4, "300x200");
  check_all_ops(randu({3, 50000}, DType::F32, 12, dev()), {{1}, {0}}, 2e-4, "long rows");
  check_all_ops(randu({500, 130}, DType::F32, 13, dev()).t(), {{0}, {1}}, 2e-4, "transposed");
  const Tensor nchw = randu({8, 16, 32, 32}, DType::F32, 14, dev());
  check_all_ops(nchw, {{0, 2, 3}, {1, 3}, {0, 1}, {2}}, 2e-4, "nchw");
  check_all_ops(nchw.permute({0, 2, 3, 1}), {{0, 1, 2}, {3}}, 2e-4, "nhwc view");
  // f64 integer-valued data sums exactly whatever the blocking.
  Generator gen(3);
  const Tensor ints =
      randint(-50, 50, {7, 9000, 3}, {.dtype = DType::I64}, &gen).to(DType::F64).to(dev());
  for (const Shape& dims : std::vector<Shape>{{}, {1}, {0, 2}, {0, 1}}) {
    EXPECT_TRUE(all_close(
        sum(ints, dims),
        from_vector(reference(ints, dims, R::Sum), expected_shape(ints.shape(), dims, false)), 0,
        0));
  }
  // Bool all/any along a column path, and i64 max over a transposed view.
  const Tensor mask = gt(cols, on_dev(scalar_tensor(0.99f)));
  EXPECT_TRUE(any(mask).item<bool>());
  EXPECT_FALSE(all(mask).item<bool>());
  const Tensor li = randint(-1000, 1000, {400, 300}, {.dtype = DType::I64}, &gen).to(dev());
  EXPECT_TRUE(all_close(amax(li.t(), {1}), from_vector(reference(li.t(), {1}, R::Max)), 0, 0));
}

TEST_P(Reduce, HalfPrecisionSumsAccumulateInF32) {
  // Ones summed over two separate dims take two passes. bf16 has 8 significant bits:
  // a bf16 partial of 257 would round to 256 (3·256 = 768); f32 partials give 771,
  // which rounds to 772 as in torch.
  const Tensor x = full({3, 3, 257}, 1.0, {.dtype = DType::BF16, .device = dev()});
  EXPECT_EQ(sum(x, {0, 2}).to_vector<float>(), (std::vector<float>(3, 772.0f)));
  EXPECT_EQ(sum(x, {0, 2}).dtype(), DType::BF16);
  // 5000 × f16(0.1) = 499.88, which f16 holds as 500 (not a saturated running sum).
  const Tensor h = full({5000}, 0.1, {.dtype = DType::F16, .device = dev()});
  EXPECT_EQ(sum(h).item(), 500.0);
}

TEST_P(Reduce, EmptyInputs) {
  EXPECT_TRUE(all_close(sum(zeros({3, 0}, {.device = dev()}), {1}), zeros({3}, {.device = dev()})));
  EXPECT_TRUE(all(zeros({0}, {.device = dev()})).item<bool>());
  EXPECT_FALSE(any(zeros({0}, {.device = dev()})).item<bool>());
  EXPECT_EQ(logsumexp(zeros({3, 0}, {.device = dev()}), {1}).to_vector<float>(),
            std::vector<float>(3, -float(kInf)));
  EXPECT_TRUE(std::isnan(mean(zeros({0}, {.device = dev()})).item()));
  EXPECT_EQ(max(zeros({0, 3}, {.device = dev()}), 1).shape(),
            Shape({0}));  // nothing reduced over an empty dim
  EXPECT_THROW_MSG(max(zeros({0, 3}, {.device = dev()})),
                   "max: cannot reduce a tensor with no elements");
  EXPECT_THROW_MSG(max(zeros({0, 3}, {.device = dev()}), 0),
                   "max: cannot reduce over dim 0 of size 0");
  EXPECT_THROW_MSG(amin(zeros({3, 0}, {.device = dev()}), {1}),
                   "amin: cannot reduce over dim 1 of size 0");
  EXPECT_THROW_MSG(argmax(zeros({0}, {.device = dev()})),
                   "argmax: cannot reduce a tensor with no elements");
  EXPECT_THROW_MSG(argmin(zeros({2, 0}, {.device = dev()}), 1),
                   "argmin: cannot reduce over dim 1 of size 0");
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(ReduceCpu, Errors) {
  const Tensor x = zeros({2, 3});
  EXPECT_THROW_MSG(sum(x, {2}), "sum: dim 2 is out of range for a tensor with 2 dims");
  EXPECT_THROW_MSG(amax(x, {-3}), "amax: dim -3 is out of range");
  EXPECT_THROW_MSG(argmax(x, 5), "argmax: dim 5 is out of range");
  EXPECT_THROW_MSG(logsumexp(x, {0, 7}), "logsumexp: dim 7 is out of range");
  EXPECT_THROW_MSG(sum(x, {1, -1}), "sum: dim -1 appears more than once in [1, -1]");
  EXPECT_THROW_MSG(var(x, {0, 0}), "var: dim 0 appears more than once");
  const Tensor i = zeros({2, 3}, {.dtype = DType::I64});
  EXPECT_THROW_MSG(mean(i), "mean: expected a floating tensor (f32, f64, f16, bf16), got i64");
  EXPECT_THROW_MSG(var(i), "var: expected a floating tensor");
  EXPECT_THROW_MSG(descent::std(i, {0}), "std: expected a floating tensor");
  EXPECT_THROW_MSG(logsumexp(i, {1}), "logsumexp: expected a floating tensor");
  EXPECT_THROW_MSG(sum(Tensor()), "sum: input is an undefined tensor");
}

TEST_P(Reduce, Gradcheck) {
  using Fn = std::function<Tensor(const Tensor&, const Shape&, bool)>;
  const std::vector<std::pair<const char*, Fn>> fns = {
      {"sum", [](const Tensor& x, const Shape& d, bool k) { return sum(x, d, k); }},
      {"mean", [](const Tensor& x, const Shape& d, bool k) { return mean(x, d, k); }},
      {"var", [](const Tensor& x, const Shape& d, bool k) { return var(x, d, 1, k); }},
      {"var0", [](const Tensor& x, const Shape& d, bool k) { return var(x, d, 0, k); }},
      {"std", [](const Tensor& x, const Shape& d, bool k) { return descent::std(x, d, 1, k); }},
      {"amax", [](const Tensor& x, const Shape& d, bool k) { return amax(x, d, k); }},
      {"amin", [](const Tensor& x, const Shape& d, bool k) { return amin(x, d, k); }},
      {"logsumexp", [](const Tensor& x, const Shape& d, bool k) { return logsumexp(x, d, k); }},
  };
  const Tensor x = rand_input({3, 4, 5});
  for (const auto& [name, f] : fns) {
    for (const Shape& dims : std::vector<Shape>{{}, {1}, {-1}, {0, 2}}) {
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(fmt::format("{} dims {} keepdim {}", name, dims, keepdim));
        EXPECT_GRADCHECK_ON(
            dev(), [&](const std::vector<Tensor>& in) { return f(in[0], dims, keepdim); }, {x});
        // Non-contiguous views of the input.
        EXPECT_GRADCHECK_ON(
            dev(),
            [&](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 2), dims, keepdim); },
            {x});
        EXPECT_GRADCHECK_ON(dev(),
                            [&](const std::vector<Tensor>& in) {
                              return f(in[0].slice(1, 0, 4, 2), dims, keepdim);
                            },
                            {x});
      }
    }
  }
  for (bool keepdim : {false, true}) {
    EXPECT_GRADCHECK_ON(dev(),
                        [&](const std::vector<Tensor>& in) { return max(in[0], 1, keepdim); }, {x});
    EXPECT_GRADCHECK_ON(
        dev(), [&](const std::vector<Tensor>& in) { return min(in[0], -1, keepdim); }, {x});
  }
  EXPECT_GRADCHECK_ON(dev(), [](const std::vector<Tensor>& in) { return max(in[0]); }, {x});
  EXPECT_GRADCHECK_ON(dev(), [](const std::vector<Tensor>& in) { return min(in[0].t()); },
                      {rand_input({4, 6})});
}

TEST_P(Reduce, Gradgradcheck) {
  const Tensor x = rand_input({3, 4});
  for (bool keepdim : {false, true}) {
    for (const Shape& dims : std::vector<Shape>{{}, {1}, {0}}) {
      SCOPED_TRACE(fmt::format("dims {} keepdim {}", dims, keepdim));
      EXPECT_GRADGRADCHECK_ON(
          dev(), [&](const std::vector<Tensor>& in) { return var(in[0], dims, 1, keepdim); }, {x});
      EXPECT_GRADGRADCHECK_ON(
          dev(), [&](const std::vector<Tensor>& in) { return logsumexp(in[0], dims, keepdim); },
          {x});
      EXPECT_GRADGRADCHECK_ON(
          dev(),
          [&](const std::vector<Tensor>& in) { return descent::std(in[0], dims, 1, keepdim); },
          {x});
      EXPECT_GRADGRADCHECK_ON(
          dev(),
          [&](const std::vector<Tensor>& in) { return amax(in[0], dims, keepdim) * in[0].sum(); },
          {x});
    }
  }
}

TEST_P(Reduce, TiesShareTheGradientEvenly) {
  Tensor x = on_dev(from_vector<double>({1, 3, 3, 2, 2, 0}, {2, 3})).requires_grad_();
  amax(x, {1}).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({0, .5, .5, .5, .5, 0}, {2, 3})));
  x.set_grad({});
  max(x).backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({0, .5, .5, 0, 0, 0}, {2, 3})));
  x.set_grad({});
  min(x, 0).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<double>({1, 0, 0, 0, 1, 1}, {2, 3})));
  Tensor y = on_dev(from_vector<double>({4, 4, 4, 4})).requires_grad_();
  amin(y, {0}).backward();
  EXPECT_TRUE(all_close(y.grad(), full({4}, 0.25, {.dtype = DType::F64})));
  // std of a constant: gradient 0 (not 0·∞ = NaN), as torch.
  Tensor c = on_dev(from_vector<double>({2, 2})).requires_grad_();
  descent::std(c).backward();
  EXPECT_TRUE(all_close(c.grad(), zeros({2}, {.dtype = DType::F64})));
  // logsumexp's gradient is the softmax.
  Tensor l = on_dev(from_vector<double>({0, std::log(3.0)})).requires_grad_();
  logsumexp(l, {0}).backward();
  EXPECT_TRUE(all_close(l.grad(), from_vector<double>({0.25, 0.75})));
}

TEST_P(Reduce, IndicesCarryNoGradient) {
  Tensor x = on_dev(rand_input({3, 4}));
  const Tensor i = argmax(x, 1);
  EXPECT_EQ(i.dtype(), DType::I64);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_FALSE(all(x).requires_grad());
}

// CPU-only: memory_stats() counts the CPU allocator, and the no-copy paths are the CPU
// kernels'.
TEST(ReduceCpu, ContiguousAndTransposedInputsAreNotCopied) {
  // Sum over dim 0 of a contiguous (N, C), and over either dim of a transposed view,
  // allocate only the output.
  const Tensor x = randu({512, 256}, DType::F32, 21);
  for (const auto& [t, d] :
       std::vector<std::pair<Tensor, int64_t>>{{x, 0}, {x, 1}, {x.t(), 0}, {x.t(), 1}}) {
    const size_t before = memory_stats().allocations;
    const Tensor s = sum(t, {d});
    EXPECT_EQ(memory_stats().allocations - before, 1u) << "dim " << d;
  }
  // NCHW → per-channel stats: one small intermediate, never a copy of the input.
  const Tensor nchw = randu({16, 8, 32, 32}, DType::F32, 22);
  const size_t live = memory_stats().allocated_bytes;
  reset_peak_memory();
  const Tensor m = amax(nchw, {0, 2, 3});
  EXPECT_LE(memory_stats().peak_bytes - live, size_t(16 * 8 * 4 + 8 * 4 + 1024));
}

INSTANTIATE_PER_DEVICE(Reduce);

// One dim may be a plain integer, as in PyTorch; a braced list is still a Shape.
TEST(ReduceDims, AnIntegerDimMeansThatOneDim) {
  const Tensor x = arange(0, 24).reshape({2, 3, 4});
  auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && all_close(a, b, 0, 0);
  };
  EXPECT_TRUE(same(sum(x, 1), sum(x, {1})));
  EXPECT_TRUE(same(x.sum(1), x.sum({1})));
  EXPECT_TRUE(same(x.sum(-1, true), x.sum({2}, true)));
  EXPECT_EQ(x.sum(-1, true).shape(), (Shape{2, 3, 1}));
  EXPECT_TRUE(same(x.mean(0), mean(x, {0})));
  EXPECT_TRUE(same(mean(x, 2), x.mean({2})));
  EXPECT_TRUE(same(mean(x, {0, 1}), x.mean({0, 1})));
  EXPECT_TRUE(same(var(x, 1), var(x, {1})));
  EXPECT_TRUE(same(descent::std(x, 1, 0), descent::std(x, {1}, 0)));
  EXPECT_TRUE(same(amax(x, 1), amax(x, {1})));
  EXPECT_TRUE(same(amin(x, 0, true), amin(x, {0}, true)));
  EXPECT_TRUE(same(logsumexp(x, 2), logsumexp(x, {2})));
  EXPECT_TRUE(same(max(x, 1), amax(x, {1})));
  EXPECT_TRUE(same(x.sum(size_t(0)), x.sum({0})));
  EXPECT_THROW_MSG(x.sum(3), "sum");
}
