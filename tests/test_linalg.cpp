// matmul and linear: values against a naive f64 reference for every shape case
// (1-D, 2-D, batched with broadcasting, transposed and sliced views), f32/bf16/f16
// against f64, gradients (gradcheck and gradgradcheck) and argument errors. Every TEST_P
// runs once per device (cpu, cuda); the rest are CPU-only, each says why.
#include <functional>

#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

// Naive torch.matmul in f64 for operands of any dtype and device, 1-D included.
Tensor ref_matmul(const Tensor& a_in, const Tensor& b_in) {
  const bool a1 = a_in.dim() == 1, b1 = b_in.dim() == 1;
  Tensor a = a1 ? a_in.reshape({1, a_in.size(0)}) : a_in;
  Tensor b = b1 ? b_in.reshape({b_in.size(0), 1}) : b_in;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Shape ba = a.shape(), bb = b.shape();
  ba.resize(a.dim() - 2);
  bb.resize(b.dim() - 2);
  const Shape batch = broadcast_shapes(ba, bb, "ref");
  const auto av = a.detach().to_vector<double>(), bv = b.detach().to_vector<double>();
  // Row-major linear index of the broadcast operand's batch entry for out batch `i`.
  const auto operand_index = [&batch](const Shape& s, int64_t i) {
    int64_t idx = 0, mul = 1;
    for (int d = batch.size() - 1; d >= 0; --d) {
      const int64_t coord = i % batch[d];
      i /= batch[d];
      const int sd = d - (batch.size() - s.size());
      if (sd >= 0) {
        if (s[sd] != 1) idx += coord * mul;
        mul *= s[sd];
      }
    }
    return idx;
  };
  std::vector<double> out(size_t(batch.numel() * M * N), 0.0);
  for (int64_t i = 0; i < batch.numel(); ++i) {
    const double* pa = av.data() + operand_index(ba, i) * M * K;
    const double* pb = bv.data() + operand_index(bb, i) * K * N;
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += pa[m * K + k] * pb[k * N + n];
        out[size_t((i * M + m) * N + n)] = s;
      }
    }
  }
  Shape shape = batch;
  if (!a1) shape.push_back(M);
  if (!b1) shape.push_back(N);
  return from_vector<double>(out, shape);
}

Tensor randn_f64(const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return randn(s, {.dtype = DType::F64}, &gen);
}

struct ShapeCase {
  Shape a, b, out;
};

const std::vector<ShapeCase> kShapeCases = {
    {{3, 4}, {4, 5}, {3, 5}},
    {{4}, {4}, {}},
    {{4}, {4, 5}, {5}},
    {{3, 4}, {4}, {3}},
    {{2, 3, 4}, {4, 5}, {2, 3, 5}},
    {{3, 4}, {2, 4, 5}, {2, 3, 5}},
    {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},
    {{1, 3, 4}, {2, 4, 5}, {2, 3, 5}},
    {{2, 3, 4}, {1, 4, 5}, {2, 3, 5}},
    {{2, 1, 3, 4}, {3, 4, 5}, {2, 3, 3, 5}},
    {{4}, {2, 4, 5}, {2, 5}},
    {{2, 3, 4}, {4}, {2, 3}},
};

// The fixture of every per-device suite below. References are computed on the CPU from
// the same f64 draws that as() converts and moves to dev().
class LinalgTest : public descent::testing::PerDeviceTest {
 protected:
  Tensor as(const Tensor& t, DType dt) const { return on_dev(t.to(dt)); }
};
class Matmul : public LinalgTest {};
class Linear : public LinalgTest {};
class MatmulGrad : public LinalgTest {};
class LinearGrad : public LinalgTest {};

}  // namespace

TEST_P(Matmul, HandComputed2D) {
  Tensor a = on_dev(from_vector<float>({1, 2, 3, 4}, {2, 2}));
  Tensor b = on_dev(from_vector<float>({5, 6, 7, 8}, {2, 2}));
  EXPECT_TRUE(all_close(matmul(a, b), from_vector<float>({19, 22, 43, 50}, {2, 2}), 0, 0));
  EXPECT_TRUE(all_close(a.matmul(b.t()), from_vector<float>({17, 23, 39, 53}, {2, 2}), 0, 0));
  // 1-D · 1-D is a dot product with a 0-dim result.
  Tensor d = matmul(on_dev(from_vector<double>({1, 2, 3})), on_dev(from_vector<double>({4, 5, 6})));
  EXPECT_EQ(d.dim(), 0);
  EXPECT_EQ(d.item<double>(), 32.0);
}

TEST_P(Matmul, AllShapeCasesMatchReference) {
  for (DType dt : {DType::F64, DType::F32}) {
    uint64_t seed = 1;
    for (const auto& c : kShapeCases) {
      Tensor a = randn_f64(c.a, seed++), b = randn_f64(c.b, seed++);
      Tensor out = matmul(as(a, dt), as(b, dt));
      SCOPED_TRACE(fmt::format("{} · {} in {}", c.a, c.b, dt));
      EXPECT_EQ(out.shape(), c.out);
      EXPECT_EQ(out.dtype(), dt);
      const double tol = dt == DType::F64 ? 1e-12 : 1e-5;
      EXPECT_TRUE(all_close(out, ref_matmul(a, b), tol, tol));
    }
  }
}

TEST_P(Matmul, StridedViewsMatchReference) {
  // Each case makes its views after the dtype conversion, so the kernels see them:
  // transposed, batch-transposed, sliced rows (unit inner stride), sliced columns (no
  // unit stride: copied), batch expanded with stride 0, inner dim expanded with
  // stride 0, a batch slice, a narrowed inner dim.
  using View = std::function<Tensor(const Tensor&)>;
  struct Case {
    const char* name;
    Tensor a, b;
    View va, vb;
  };
  const View id = [](const Tensor& t) { return t; };
  const View t2 = [](const Tensor& t) { return t.t(); };
  const View t12 = [](const Tensor& t) { return t.transpose(1, 2); };
  const std::vector<Case> cases = {
      {"a.t()", randn_f64({4, 3}, 1), randn_f64({4, 5}, 2), t2, id},
      {"b.t()", randn_f64({3, 4}, 1), randn_f64({5, 4}, 2), id, t2},
      {"both .t()", randn_f64({4, 3}, 1), randn_f64({5, 4}, 2), t2, t2},
      {"batched transpose", randn_f64({2, 4, 3}, 1), randn_f64({2, 5, 4}, 2), t12, t12},
      {"broadcast transpose", randn_f64({1, 4, 3}, 1), randn_f64({3, 5, 4}, 2), t12, t12},
      {"batch-major permute", randn_f64({3, 2, 4}, 1), randn_f64({2, 4, 5}, 2),
       [](const Tensor& t) {
         return t.permute({1, 0, 2});
       },
       id},
      {"row slice", randn_f64({6, 8}, 3), randn_f64({8, 5}, 2),
       [](const Tensor& t) { return t.slice(0, 0, 6, 2); }, id},
      {"column slice", randn_f64({6, 8}, 3), randn_f64({4, 5}, 2),
       [](const Tensor& t) { return t.slice(1, 0, 8, 2); }, id},
      {"expanded batch", randn_f64({1, 3, 4}, 1), randn_f64({3, 4, 5}, 2),
       [](const Tensor& t) {
         return t.expand({3, 3, 4});
       },
       id},
      {"expanded columns", randn_f64({3, 1}, 1), randn_f64({4, 5}, 2),
       [](const Tensor& t) {
         return t.expand({3, 4});
       },
       id},
      {"expanded rows of b", randn_f64({3, 4}, 1), randn_f64({1, 5}, 2), id,
       [](const Tensor& t) {
         return t.expand({4, 5});
       }},
      {"batch slice", randn_f64({4, 3, 5}, 4), randn_f64({2, 5, 2}, 2),
       [](const Tensor& t) { return t.slice(0, 0, 4, 2); }, id},
      {"narrowed inner", randn_f64({4, 3, 5}, 4), randn_f64({3, 2}, 2),
       [](const Tensor& t) { return t.narrow(2, 1, 3); }, id},
      {"narrowed b columns", randn_f64({4, 3, 5}, 4), randn_f64({5, 6}, 2), id,
       [](const Tensor& t) { return t.narrow(1, 2, 3); }},
  };
  for (const auto& c : cases) {
    const Tensor expect = ref_matmul(c.va(c.a), c.vb(c.b));
    for (DType dt : {DType::F64, DType::F32, DType::BF16}) {
      SCOPED_TRACE(fmt::format("{} in {}", c.name, dt));
      const Tensor a = c.va(as(c.a, dt)), b = c.vb(as(c.b, dt));
      const double tol = dt == DType::F64 ? 1e-12 : dt == DType::F32 ? 1e-5 : 0.05;
      EXPECT_TRUE(all_close(matmul(a, b), expect, tol, tol));
    }
  }
}

TEST_P(Matmul, F32AgreesWithF64OnBlockedSizes) {
  // Larger than the f64 loop's blocks (K > 128, N > 256) and oneDNN's small-shape paths.
  Tensor a = on_dev(randn_f64({70, 300}, 5)), b = on_dev(randn_f64({300, 260}, 6));
  Tensor r64 = matmul(a, b);
  Tensor r32 = matmul(a.to(DType::F32), b.to(DType::F32));
  EXPECT_TRUE(all_close(r64, ref_matmul(a, b), 1e-10, 1e-10));
  EXPECT_TRUE(all_close(r32, r64, 1e-3, 1e-4));
  // Batched with a broadcast first operand (oneDNN src broadcast) and folded batch.
  Tensor x = on_dev(randn_f64({1, 33, 40}, 7)), y = on_dev(randn_f64({3, 40, 17}, 8));
  EXPECT_TRUE(all_close(matmul(x.to(DType::F32), y.to(DType::F32)), ref_matmul(x, y), 1e-4, 1e-4));
  // The f64 loop over several batches with broadcasting and multiple row blocks.
  Tensor p = on_dev(randn_f64({3, 70, 50}, 10)), q = on_dev(randn_f64({1, 50, 300}, 11));
  EXPECT_TRUE(all_close(matmul(p, q), ref_matmul(p, q), 1e-10, 1e-10));
  EXPECT_TRUE(all_close(matmul(q.transpose(1, 2), p.transpose(1, 2)),
                        ref_matmul(q.transpose(1, 2), p.transpose(1, 2)), 1e-10, 1e-10));
  Tensor z = on_dev(randn_f64({3, 5, 33, 40}, 9));
  EXPECT_TRUE(all_close(matmul(z.to(DType::F32), y.select(0, 1).to(DType::F32)),
                        ref_matmul(z, y.select(0, 1)), 1e-4, 1e-4));
}

TEST_P(Matmul, Bf16AndF16WithinTheirPrecision) {
  Tensor a = on_dev(randn_f64({3, 40, 64}, 11)), b = on_dev(randn_f64({64, 48}, 12));
  for (DType dt : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(fmt::format("{}", dt));
    Tensor a16 = a.to(dt), b16 = b.to(dt);
    Tensor out = matmul(a16, b16);
    EXPECT_EQ(out.dtype(), dt);
    // Reference on the rounded inputs; the result is rounded once more (8 or 11 bits).
    const double rtol = dt == DType::BF16 ? 1.0 / 128 : 1.0 / 1024;
    EXPECT_TRUE(all_close(out, ref_matmul(a16, b16), 0.02, rtol));
    Tensor t = matmul(b16.t(), a16.transpose(1, 2));  // transposed bf16 operands
    EXPECT_TRUE(all_close(t, ref_matmul(b16.t(), a16.transpose(1, 2)), 0.02, rtol));
  }
}

TEST_P(Matmul, IntegersAndPromotion) {
  Tensor a = on_dev(from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3}));
  Tensor b = on_dev(from_vector<int64_t>({1, 0, -1, 2, 3, 1}, {3, 2}));
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::I64);
  EXPECT_EQ(c.to_vector<int64_t>(), (std::vector<int64_t>{8, 7, 17, 16}));
  Tensor m = matmul(a.to(DType::F32), b.to(DType::F64));
  EXPECT_EQ(m.dtype(), DType::F64);
  EXPECT_TRUE(all_close(m, from_vector<double>({8, 7, 17, 16}, {2, 2}), 0, 0));
  EXPECT_EQ(matmul(a.to(DType::I32), b).dtype(), DType::I64);
}

TEST_P(Matmul, EmptyDimensions) {
  Tensor z = matmul(ones({2, 0}, {.device = dev()}), ones({0, 3}, {.device = dev()}));  // empty sum
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_TRUE(all_close(z, zeros({2, 3}), 0, 0));
  EXPECT_EQ(matmul(ones({0, 4}, {.device = dev()}), ones({4, 3}, {.device = dev()})).shape(),
            Shape({0, 3}));
  EXPECT_EQ(matmul(ones({2, 0, 4}, {.device = dev()}), ones({4, 3}, {.device = dev()})).shape(),
            Shape({2, 0, 3}));
  Tensor y = F::linear(ones({2, 0}, {.device = dev()}), ones({3, 0}, {.device = dev()}),
                       on_dev(from_vector<float>({1, 2, 3})));
  EXPECT_TRUE(all_close(y, from_vector<float>({1, 2, 3, 1, 2, 3}, {2, 3}), 0, 0));
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(MatmulCpu, Errors) {
  EXPECT_THROW_MSG(matmul(ones({2, 3}), ones({4, 5})),
                   "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4");
  EXPECT_THROW_MSG(matmul(ones({3}), ones({4})), "shapes [3] and [4] cannot be multiplied");
  EXPECT_THROW_MSG(matmul(ones({}), ones({4})),
                   "matmul: both arguments need at least 1 dimension, got shapes [] and [4]");
  EXPECT_THROW_MSG(matmul(ones({2, 2}, {.dtype = DType::Bool}), ones({2, 2})),
                   "matmul: first operand has dtype bool");
  EXPECT_THROW_MSG(matmul(ones({2, 3, 4}), ones({5, 4, 2})),
                   "matmul: shapes [2, 3, 4] and [5, 4, 2] cannot be multiplied: batch dims [2] "
                   "and [5] do not broadcast");
  EXPECT_THROW_MSG(matmul(Tensor(), ones({2})), "matmul: first operand is an undefined tensor");
}

TEST_P(Linear, MatchesReferenceWithAndWithoutBias) {
  Tensor x = randn_f64({2, 3, 5}, 1), w = randn_f64({4, 5}, 2), b = randn_f64({4}, 3);
  Tensor expect = ref_matmul(x, w.t()) + b;
  for (DType dt : {DType::F64, DType::F32, DType::BF16}) {
    SCOPED_TRACE(fmt::format("{}", dt));
    const double tol = dt == DType::F64 ? 1e-12 : dt == DType::F32 ? 1e-5 : 0.05;
    Tensor y = F::linear(as(x, dt), as(w, dt), as(b, dt));
    EXPECT_EQ(y.shape(), Shape({2, 3, 4}));
    EXPECT_EQ(y.dtype(), dt);
    EXPECT_TRUE(all_close(y, expect, tol, tol));
    EXPECT_TRUE(all_close(F::linear(as(x, dt), as(w, dt)), ref_matmul(x, w.t()), tol, tol));
  }
  // 1-D input, transposed (non-contiguous) 3-D input, bias promotion.
  Tensor x1 = randn_f64({5}, 4);
  EXPECT_EQ(F::linear(on_dev(x1), on_dev(w), on_dev(b)).shape(), Shape({4}));
  EXPECT_TRUE(
      all_close(F::linear(on_dev(x1), on_dev(w), on_dev(b)), ref_matmul(w, x1) + b, 1e-12, 1e-12));
  Tensor xt = randn_f64({3, 2, 5}, 5).transpose(0, 1);
  const Tensor xt32 = as(randn_f64({3, 2, 5}, 5), DType::F32).transpose(0, 1);  // on dev()
  EXPECT_TRUE(all_close(F::linear(xt32, as(w, DType::F32), as(b, DType::F32)),
                        ref_matmul(xt, w.t()) + b, 1e-5, 1e-5));
  EXPECT_EQ(F::linear(as(x, DType::F32), as(w, DType::F32), on_dev(b)).dtype(), DType::F64);
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(LinearCpu, Errors) {
  EXPECT_THROW_MSG(F::linear(ones({2, 3}), ones({4, 5})),
                   "linear: input shape [2, 3] has 3 features but weight shape [4, 5] expects 5");
  EXPECT_THROW_MSG(F::linear(ones({2, 3}), ones({3})), "linear: weight must be 2-D");
  EXPECT_THROW_MSG(F::linear(ones({2, 3}), ones({4, 3}), ones({3})),
                   "linear: bias must have shape [4] to match weight shape [4, 3], got [3]");
  EXPECT_THROW_MSG(F::linear(ones({}), ones({4, 3})), "linear: input must have at least 1");
}

TEST_P(MatmulGrad, GradcheckEveryShapeCase) {
  uint64_t seed = 20;
  for (const auto& c : kShapeCases) {
    SCOPED_TRACE(fmt::format("{} · {}", c.a, c.b));
    Tensor a = rand_input(c.a, -1, 1, seed++), b = rand_input(c.b, -1, 1, seed++);
    EXPECT_GRADCHECK_ON(
        dev(), [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
        (std::vector<Tensor>{a, b}));
  }
}

TEST_P(MatmulGrad, GradcheckTransposedAndBroadcast) {
  Tensor a = rand_input({4, 3}, -1, 1, 1), b = rand_input({5, 4}, -1, 1, 2);
  EXPECT_GRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& v) { return matmul(v[0].t(), v[1].t()); },
      (std::vector<Tensor>{a, b}));
  Tensor x = rand_input({2, 4, 3}, -1, 1, 3), y = rand_input({1, 5, 4}, -1, 1, 4);
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        return matmul(v[0].transpose(1, 2), v[1].transpose(1, 2));
      },
      (std::vector<Tensor>{x, y}));
  // Only one operand needs a gradient.
  Tensor c = rand_input({3, 4}, -1, 1, 5).detach();
  EXPECT_GRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
      (std::vector<Tensor>{c, b.t().contiguous().detach().requires_grad_()}));
}

TEST_P(MatmulGrad, BroadcastBatchGradientHasInputShape) {
  Tensor a = ones({3, 2, 4}, {.dtype = DType::F64, .device = dev(), .requires_grad = true});
  Tensor b = ones({4, 5}, {.dtype = DType::F64, .device = dev(), .requires_grad = true});
  matmul(a, b).sum().backward();
  EXPECT_EQ(b.grad().shape(), Shape({4, 5}));
  EXPECT_TRUE(all_close(b.grad(), full({4, 5}, 6.0, {.dtype = DType::F64}), 0, 0));
  EXPECT_TRUE(all_close(a.grad(), full({3, 2, 4}, 5.0, {.dtype = DType::F64}), 0, 0));
  Tensor c = ones({1, 2, 4}, {.device = dev(), .requires_grad = true});
  Tensor d = ones({3, 4, 5}, {.device = dev(), .requires_grad = true});
  matmul(c, d).sum().backward();
  EXPECT_EQ(c.grad().shape(), Shape({1, 2, 4}));
  EXPECT_TRUE(all_close(c.grad(), full({1, 2, 4}, 15.0), 0, 0));
  EXPECT_TRUE(all_close(d.grad(), full({3, 4, 5}, 2.0), 0, 0));
}

TEST_P(MatmulGrad, Gradgradcheck) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 2}}, {{4}, {4, 3}}, {{2, 3, 4}, {4, 2}}, {{1, 2, 3}, {2, 3, 2}}};
  uint64_t seed = 40;
  for (const auto& [sa, sb] : shapes) {
    SCOPED_TRACE(fmt::format("{} · {}", sa, sb));
    Tensor a = rand_input(sa, -1, 1, seed++), b = rand_input(sb, -1, 1, seed++);
    EXPECT_GRADGRADCHECK_ON(
        dev(), [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
        (std::vector<Tensor>{a, b}));
  }
}

TEST_P(LinearGrad, Gradcheck) {
  Tensor w = rand_input({4, 5}, -1, 1, 2), b = rand_input({4}, -1, 1, 3);
  for (const Shape& xs : {Shape{3, 5}, Shape{2, 3, 5}, Shape{5}}) {
    SCOPED_TRACE(fmt::format("x {}", xs));
    Tensor x = rand_input(xs, -1, 1, 1);
    EXPECT_GRADCHECK_ON(
        dev(), [](const std::vector<Tensor>& v) { return F::linear(v[0], v[1], v[2]); },
        (std::vector<Tensor>{x, w, b}));
    EXPECT_GRADCHECK_ON(
        dev(), [](const std::vector<Tensor>& v) { return F::linear(v[0], v[1]); },
        (std::vector<Tensor>{x, w}));
  }
  // Transposed (non-contiguous) input.
  Tensor xt = rand_input({3, 2, 5}, -1, 1, 4);
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) { return F::linear(v[0].transpose(0, 1), v[1], v[2]); },
      (std::vector<Tensor>{xt, w, b}));
  Tensor x = rand_input({2, 3, 5}, -1, 1, 5);
  EXPECT_GRADGRADCHECK_ON(
      dev(), [](const std::vector<Tensor>& v) { return F::linear(v[0], v[1], v[2]); },
      (std::vector<Tensor>{x, w, b}));
}

TEST_P(LinearGrad, HandComputedGradients) {
  // y = x·Wᵀ + b, L = y.sum(): gx = 1·W, gW = 1ᵀ·x, gb = rows.
  Tensor x = on_dev(from_vector<float>({1, 2, 3, 4}, {2, 2})).requires_grad_();
  Tensor w = on_dev(from_vector<float>({1, 0, 2, 1, -1, 1}, {3, 2})).requires_grad_();
  Tensor b = zeros({3}, {.device = dev(), .requires_grad = true});
  F::linear(x, w, b).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), from_vector<float>({2, 2, 2, 2}, {2, 2}), 0, 0));
  EXPECT_TRUE(all_close(w.grad(), from_vector<float>({4, 6, 4, 6, 4, 6}, {3, 2}), 0, 0));
  EXPECT_TRUE(all_close(b.grad(), from_vector<float>({2, 2, 2}), 0, 0));
}

// CPU-only: drives the CPU backend's matmul directly (strided out and bias).
TEST(MatmulBackend, StridedOutputStridedBiasAndErrors) {
  Backend& be = backend_for(Device::CPU);
  Tensor a = randn_f64({3, 4}, 1), b = randn_f64({4, 5}, 2), bias = randn_f64({10}, 3);
  Tensor bias_view = bias.slice(0, 0, 10, 2);  // stride 2
  Tensor expect = ref_matmul(a, b) + bias_view;
  for (DType dt : {DType::F64, DType::F32, DType::F16, DType::BF16}) {
    SCOPED_TRACE(fmt::format("{}", dt));
    Tensor out_t = empty({5, 3}, {.dtype = dt});
    Tensor out = out_t.t();  // (3, 5), column-major
    be.matmul({.a = a.to(dt), .b = b.to(dt), .bias = bias.to(dt).slice(0, 0, 10, 2), .out = out});
    const double tol = dt == DType::F64 ? 1e-12 : dt == DType::F32 ? 1e-5 : 0.05;
    EXPECT_TRUE(all_close(out, expect, tol, tol));
  }
  Tensor bad = empty({2, 3, 5});
  EXPECT_THROW_MSG(
      be.matmul({.a = randn({2, 3, 4}), .b = randn({3, 4, 5}), .bias = {}, .out = bad}),
      "matmul: b has shape [3, 4, 5]: batch dim 0 is 3, expected 2 or 1");
  EXPECT_THROW_MSG(
      be.matmul({.a = randn({3, 4}), .b = randn({5, 5}), .bias = {}, .out = empty({3, 5})}),
      "matmul: shapes do not fit");
  EXPECT_THROW_MSG(be.matmul({.a = randn({3, 4}),
                              .b = randn({4, 5}, {.dtype = DType::F64}),
                              .bias = {},
                              .out = empty({3, 5})}),
                   "matmul: operands must share out's dtype f32");
}

INSTANTIATE_PER_DEVICE(Matmul);
INSTANTIATE_PER_DEVICE(Linear);
INSTANTIATE_PER_DEVICE(MatmulGrad);
INSTANTIATE_PER_DEVICE(LinearGrad);
