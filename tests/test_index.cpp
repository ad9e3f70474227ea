// Joining, splitting and indexing: values, gradients (f64 finite differences) and errors.
// Every TEST_P runs once per device (cpu, cuda); the error messages and the direct CPU
// backend calls are CPU-only.
#include "testing/devices.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector<double>(v, s); }
Tensor i64(const std::vector<int64_t>& v, const Shape& s) { return from_vector<int64_t>(v, s); }
Tensor i64(const std::vector<int64_t>& v) { return i64(v, {int64_t(v.size())}); }
// 0, 1, 2, ... as f64 of `shape`.
Tensor iota(const Shape& s) { return arange(double(s.numel()), {.dtype = DType::F64}).reshape(s); }

// The fixture of every per-device suite below: its members shadow the helpers above with
// tensors on dev() (the CPU-only tests use the CPU ones).
class IndexTest : public descent::testing::PerDeviceTest {
 protected:
  Tensor f64(const std::vector<double>& v, const Shape& s) const { return on_dev(::f64(v, s)); }
  Tensor i64(const std::vector<int64_t>& v, const Shape& s) const { return on_dev(::i64(v, s)); }
  Tensor i64(const std::vector<int64_t>& v) const { return on_dev(::i64(v)); }
  Tensor iota(const Shape& s) const { return on_dev(::iota(s)); }
};
class Cat : public IndexTest {};
class Stack : public IndexTest {};
class Split : public IndexTest {};
class Chunk : public IndexTest {};
class IndexSelect : public IndexTest {};
class Gather : public IndexTest {};
class ScatterAdd : public IndexTest {};
class Embedding : public IndexTest {};
class OneHot : public IndexTest {};
class Index : public IndexTest {};

}  // namespace

// ---- cat / stack ------------------------------------------------------------------------

TEST_P(Cat, ValuesAlongEachDim) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {1, 2}), c = f64({7, 8}, {2, 1});
  EXPECT_TRUE(all_close(cat({a, b}, 0), f64({1, 2, 3, 4, 5, 6}, {3, 2})));
  EXPECT_TRUE(all_close(cat({a, c}, 1), f64({1, 2, 7, 3, 4, 8}, {2, 3})));
  EXPECT_TRUE(all_close(cat({a, c, a}, -1), f64({1, 2, 7, 1, 2, 3, 4, 8, 3, 4}, {2, 5})));
}

TEST_P(Cat, ThreeDimsNonContiguousAndPromotion) {
  Tensor x = iota({2, 3, 2});
  Tensor t = iota({2, 2, 3}).transpose(1, 2);  // (2, 3, 2), strided
  Tensor y = cat({x, t.narrow(2, 0, 1)}, 2);
  ASSERT_EQ(y.shape(), Shape({2, 3, 3}));
  EXPECT_TRUE(
      all_close(y, f64({0, 1, 0, 2, 3, 1, 4, 5, 2, 6, 7, 6, 8, 9, 7, 10, 11, 8}, {2, 3, 3})));
  Tensor z = cat({i64({1, 2}), on_dev(from_vector<float>({0.5f}))});
  EXPECT_EQ(z.dtype(), DType::F32);
  EXPECT_TRUE(all_close(z, from_vector<float>({1, 2, 0.5f})));
  // Legacy torch behaviour: 1-D empty tensors are skipped.
  Tensor e = cat({zeros({0}, {.dtype = DType::F64, .device = dev()}), x}, 1);
  EXPECT_TRUE(all_close(e, x));
}

TEST_P(Cat, Gradcheck) {
  auto in = std::vector<Tensor>{rand_input({2, 3}, -1, 1, 1), rand_input({1, 3}, -1, 1, 2),
                                rand_input({3, 3}, -1, 1, 3)};
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        return cat({v[0], v[1], v[2]}, 0);
      },
      in);
  auto in1 = std::vector<Tensor>{rand_input({2, 3}, -1, 1, 1), rand_input({2, 1}, -1, 1, 2),
                                 rand_input({4, 2}, -1, 1, 3)};
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        return cat({v[0], v[1], v[2].t()}, 1) * v[1];
      },
      in1);
  EXPECT_GRADGRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        return cat({v[0], v[1], v[2].t()}, 1) * v[1];
      },
      in1);
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(CatCpu, Errors) {
  EXPECT_THROW_MSG(cat({}), "cat: expected a non-empty list of tensors");
  EXPECT_THROW_MSG(cat({zeros({2, 3}), zeros({2, 4})}, 0),
                   "cat: sizes must match except in dim 0: tensor 0 has shape [2, 3], tensor 1 "
                   "has shape [2, 4]");
  EXPECT_THROW_MSG(cat({zeros({2, 3}), zeros({3})}, 0), "cat: tensors must have the same number");
  EXPECT_THROW_MSG(cat({zeros({}), zeros({})}, 0), "zero-dimensional");
  EXPECT_THROW_MSG(cat({zeros({2}), zeros({2})}, 1), "dim 1 is out of range");
}

TEST_P(Stack, ValuesAndNegativeDim) {
  Tensor a = f64({1, 2, 3}, {3}), b = f64({4, 5, 6}, {3});
  EXPECT_TRUE(all_close(stack({a, b}), f64({1, 2, 3, 4, 5, 6}, {2, 3})));
  EXPECT_TRUE(all_close(stack({a, b}, -1), f64({1, 4, 2, 5, 3, 6}, {3, 2})));
  Tensor m = iota({2, 2});
  Tensor s = stack({m, m.t()}, 1);  // (2, 2, 2)
  EXPECT_TRUE(all_close(s, f64({0, 1, 0, 2, 2, 3, 1, 3}, {2, 2, 2})));
  EXPECT_THROW_MSG(stack({zeros({2, 3}), zeros({2, 2})}),
                   "stack: expects tensors of equal shape, got [2, 3] (tensor 0) and [2, 2]");
  EXPECT_THROW_MSG(stack({}), "stack: expected a non-empty list");
}

TEST_P(Stack, Gradcheck) {
  auto in = std::vector<Tensor>{rand_input({2, 3}, -1, 1, 4), rand_input({3, 2}, -1, 1, 5)};
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        return stack({v[0], v[1].t(), v[0]}, 1);
      },
      in);
}

// ---- split / chunk ----------------------------------------------------------------------

TEST_P(Split, BySizeAndBySizes) {
  Tensor x = iota({5, 2});
  auto p = split(x, 2);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_TRUE(all_close(p[0], f64({0, 1, 2, 3}, {2, 2})));
  EXPECT_TRUE(all_close(p[2], f64({8, 9}, {1, 2})));
  EXPECT_EQ(p[1].storage(), x.storage());  // views, not copies
  auto q = split(x, std::vector<int64_t>{1, 0, 4}, 0);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].shape(), Shape({0, 2}));
  EXPECT_TRUE(all_close(q[2], iota({5, 2}).narrow(0, 1, 4)));
  auto r = split(x, 1, -1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(all_close(r[1], f64({1, 3, 5, 7, 9}, {5, 1})));
  EXPECT_EQ(split(x, 7).size(), 1u);
  EXPECT_THROW_MSG(split(x, std::vector<int64_t>{1, 2}),
                   "split sizes [1, 2] sum to 3 but dim 0 has size 5");
  EXPECT_THROW_MSG(split(x, 0), "split_size must be positive");
}

TEST_P(Split, GradcheckUsingSomePieces) {
  auto in = std::vector<Tensor>{rand_input({7, 3}, -1, 1, 6)};
  // Only pieces 0 and 2 feed the output: the rows of piece 1 and 3 get zero gradient.
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        auto p = split(v[0], 2);
        return cat({p[0] * p[0], p[2]}, 0);
      },
      in);
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        auto p = split(v[0].t(), std::vector<int64_t>{3, 1, 3}, 1);
        return p[2] * 2.0 + p[0];
      },
      in);
  Tensor x = on_dev(rand_input({5, 2}));
  auto p = split(x, 2);
  (p[1] * 3.0).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), f64({0, 0, 0, 0, 3, 3, 3, 3, 0, 0}, {5, 2})));
}

TEST_P(Chunk, ValuesAndGradcheck) {
  auto c = chunk(arange(5.0, {.dtype = DType::F64, .device = dev()}), 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(all_close(c[2], f64({4}, {1})));
  EXPECT_EQ(chunk(zeros({6}, {.device = dev()}), 4).size(), 3u);  // pieces of 2, as torch.chunk
  EXPECT_EQ(chunk(zeros({0}, {.device = dev()}), 3).size(), 3u);
  auto d = chunk(iota({2, 4}), 2, -1);
  EXPECT_TRUE(all_close(d[1], f64({2, 3, 6, 7}, {2, 2})));
  EXPECT_THROW_MSG(chunk(zeros({4}), 0), "chunk: expected chunks > 0, got 0");
  auto in = std::vector<Tensor>{rand_input({3, 5}, -1, 1, 8)};
  EXPECT_GRADCHECK_ON(
      dev(),
      [](const std::vector<Tensor>& v) {
        auto p = chunk(v[0], 3, 1);
        return p[0] * p[1] + p[2].sum();
      },
      in);
}

// ---- index_select -----------------------------------------------------------------------

TEST_P(IndexSelect, Values) {
  Tensor x = iota({3, 4});
  EXPECT_TRUE(all_close(index_select(x, 0, i64({2, 0, 2})),
                        f64({8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}, {3, 4})));
  EXPECT_TRUE(all_close(index_select(x, -1, i64({3, 1})), f64({3, 1, 7, 5, 11, 9}, {3, 2})));
  // i32 indices, a 0-D index, a transposed input, a 3-D input along its middle dim.
  Tensor i32 = on_dev(from_vector<int32_t>({1}));
  EXPECT_TRUE(all_close(index_select(x, 1, i32), f64({1, 5, 9}, {3, 1})));
  EXPECT_TRUE(
      all_close(index_select(x, 0, scalar_tensor(1, {.dtype = DType::I64, .device = dev()})),
                f64({4, 5, 6, 7}, {1, 4})));
  EXPECT_TRUE(all_close(index_select(x.t(), 1, i64({2})), f64({8, 9, 10, 11}, {4, 1})));
  Tensor y = index_select(iota({2, 3, 2}), 1, i64({2, 2, 0}));
  EXPECT_TRUE(all_close(y, f64({4, 5, 4, 5, 0, 1, 10, 11, 10, 11, 6, 7}, {2, 3, 2})));
  EXPECT_EQ(index_select(x, 0, i64({})).shape(), Shape({0, 4}));
}

TEST_P(IndexSelect, EveryDtype) {
  Tensor idx = i64({1, 1, 0});
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::Bool}) {
    Tensor x = on_dev(from_vector<double>({0, 1, 2, 3}, {2, 2}).to(dt));
    Tensor y = index_select(x, 0, idx);
    EXPECT_EQ(y.dtype(), dt);
    EXPECT_TRUE(all_close(y.to(DType::F64), f64({2, 3, 2, 3, 0, 1}, {3, 2}).to(dt).to(DType::F64)))
        << dtype_name(dt);
  }
}

TEST_P(IndexSelect, GradcheckWithRepeatedIndices) {
  auto in = std::vector<Tensor>{rand_input({4, 3}, -1, 1, 9)};
  for (int64_t dim : {0, 1, -1}) {
    Tensor idx = i64({2, 0, 2, 2});
    if (dim != 0) idx = i64({1, 1, 0, 2, 1});
    auto f = [dim, idx](const std::vector<Tensor>& v) { return index_select(v[0], dim, idx); };
    EXPECT_GRADCHECK_ON(dev(), f, in);
    EXPECT_GRADGRADCHECK_ON(
        dev(), [f](const std::vector<Tensor>& v) { return f(v) * f(v); }, in);
  }
  Tensor x = on_dev(rand_input({3, 2}));
  index_select(x, 0, i64({1, 1, 1, 2})).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), f64({0, 0, 3, 3, 1, 1}, {3, 2})));
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(IndexSelectCpu, Errors) {
  Tensor x = zeros({3, 2});
  EXPECT_THROW_MSG(
      index_select(x, 0, i64({0, 3})),
      "index_select: index 3 is out of range for dim 0 of size 3 (valid range [0, 3))");
  EXPECT_THROW_MSG(index_select(x, 1, i64({-1})), "index -1 is out of range for dim 1 of size 2");
  EXPECT_THROW_MSG(index_select(x, 0, from_vector<float>({0.f})),
                   "index_select: index must be an integer tensor (i32 or i64), got f32");
  EXPECT_THROW_MSG(index_select(x, 0, i64({0, 1}, {1, 2})), "index must be 0-D or 1-D");
  EXPECT_THROW_MSG(index_select(x, 2, i64({0})), "dim 2 is out of range");
}

// A large case (on the CPU, the OpenMP path); compare with a plain loop.
TEST_P(IndexSelect, LargeMatchesReference) {
  const int64_t n = 300, d = 257, m = 500;
  Tensor x = randn({n, d}, {.dtype = DType::F32}).to(dev());
  Tensor idx = randint(0, n, {m}).to(dev());
  Tensor y = index_select(x, 0, idx);
  Tensor z = index_select(x.t(), 1, idx);  // (d, m): strided gathers along the last dim
  auto xv = x.to_vector<float>();
  auto iv = idx.to_vector<int64_t>();
  auto yv = y.to_vector<float>();
  auto zv = z.to_vector<float>();
  bool ok = true;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      const float want = xv[size_t(iv[size_t(i)] * d + j)];
      ok = ok && yv[size_t(i * d + j)] == want && zv[size_t(j * m + i)] == want;
    }
  }
  EXPECT_TRUE(ok);
}

// ---- gather / scatter_add ---------------------------------------------------------------

TEST_P(Gather, Values) {
  Tensor x = iota({2, 3});
  EXPECT_TRUE(all_close(gather(x, 1, i64({2, 0, 1, 1}, {2, 2})), f64({2, 0, 4, 4}, {2, 2})));
  EXPECT_TRUE(all_close(gather(x, 0, i64({1, 0, 1}, {1, 3})), f64({3, 1, 5}, {1, 3})));
  // The index may be smaller than x in the other dims, and larger along dim.
  EXPECT_TRUE(all_close(gather(x, -1, i64({0, 0, 2, 2}, {1, 4})), f64({0, 0, 2, 2}, {1, 4})));
  // 3-D, transposed input.
  Tensor t = iota({2, 2, 3}).transpose(0, 2);  // (3, 2, 2): t[i][j][k] = 6k + 3j + i
  Tensor g = gather(t, 2, i64({1, 0, 0, 0}, {1, 2, 2}));
  EXPECT_TRUE(all_close(g, f64({6, 0, 3, 3}, {1, 2, 2})));
}

TEST_P(Gather, Gradcheck) {
  auto in = std::vector<Tensor>{rand_input({3, 4}, -1, 1, 10)};
  Tensor idx = i64({0, 0, 3, 1, 2, 2, 2, 2}, {2, 4});
  auto f = [idx](const std::vector<Tensor>& v) { return gather(v[0], 1, idx); };
  auto ft = [idx](const std::vector<Tensor>& v) { return gather(v[0].t(), 0, idx.t()); };
  EXPECT_GRADCHECK_ON(dev(), f, in);
  EXPECT_GRADCHECK_ON(dev(), ft, in);
  EXPECT_GRADGRADCHECK_ON(
      dev(), [f](const std::vector<Tensor>& v) { return f(v) * f(v); }, in);
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(GatherCpu, Errors) {
  Tensor x = zeros({2, 3});
  EXPECT_THROW_MSG(gather(x, 1, i64({0, 5}, {1, 2})),
                   "gather: index 5 is out of range for dim 1 of size 3 (valid range [0, 3))");
  EXPECT_THROW_MSG(gather(x, 1, i64({0, 1})), "index must have as many dims as x");
  EXPECT_THROW_MSG(gather(x, 1, i64({0, 0, 0}, {3, 1})), "is larger than x shape");
}

TEST_P(ScatterAdd, Values) {
  Tensor x = ones({2, 3}, {.dtype = DType::F64, .device = dev()});
  Tensor src = iota({2, 3});
  Tensor y = scatter_add(x, 0, i64({1, 0, 1, 1, 1, 0}, {2, 3}), src);
  EXPECT_TRUE(all_close(y, f64({1, 2, 6, 4, 5, 3}, {2, 3})));
  EXPECT_TRUE(all_close(x, ones({2, 3}, {.dtype = DType::F64})));  // out of place
  // Along the last dim with an index smaller than src, into a transposed x.
  Tensor xt = zeros({3, 2}, {.dtype = DType::F64, .device = dev()}).t();
  Tensor z = scatter_add(xt, -1, i64({2, 2, 0, 1}, {2, 2}), src);
  EXPECT_TRUE(all_close(z, f64({0, 0, 1, 3, 4, 0}, {2, 3})));
  Tensor w = scatter_add(zeros({3}, {.dtype = DType::I64, .device = dev()}), 0, i64({2, 2, 0}),
                         i64({1, 2, 3}));
  EXPECT_TRUE(all_close(w, i64({3, 0, 3})));
}

TEST_P(ScatterAdd, GradcheckBothInputs) {
  auto in = std::vector<Tensor>{rand_input({3, 4}, -1, 1, 11), rand_input({2, 5}, -1, 1, 12)};
  Tensor idx = i64({2, 0, 2, 1, 0, 0, 0, 2}, {2, 4});  // smaller than src in dim 1
  auto f = [idx](const std::vector<Tensor>& v) { return scatter_add(v[0], 0, idx, v[1]) * v[0]; };
  EXPECT_GRADCHECK_ON(dev(), f, in);
  EXPECT_GRADGRADCHECK_ON(dev(), f, in);
  const Tensor idx_t = i64({2, 2, 0}, {3, 1});
  auto g = [idx_t](const std::vector<Tensor>& v) {
    return scatter_add(v[0].t(), 1, idx_t, v[1].narrow(1, 0, 3).t());
  };
  EXPECT_GRADCHECK_ON(dev(), g, in);
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(ScatterAddCpu, Errors) {
  Tensor x = zeros({2, 3});
  EXPECT_THROW_MSG(scatter_add(x, 0, i64({0, 2}, {1, 2}), zeros({1, 2})),
                   "scatter_add: index 2 is out of range for dim 0 of size 2 (valid range [0, 2))");
  EXPECT_THROW_MSG(scatter_add(x, 0, i64({0}, {1, 1}), zeros({1, 1}, {.dtype = DType::F64})),
                   "scatter_add: x and src must have one dtype, got f32 and f64");
  EXPECT_THROW_MSG(scatter_add(x, 0, i64({0, 0}, {1, 2}), zeros({1, 1})),
                   "must not exceed src shape");
}

// CPU-only: these call the CPU backend directly.
// index_add and scatter_add accumulate repeated indices; a large case takes the parallel
// path, whose result must equal a serial f64 reference for every thread count.
TEST(IndexKernels, IndexAddLargeIsDeterministic) {
  const int64_t rows = 40, cols = 3000, m = 200;
  Tensor src = randn({m, cols});
  Tensor idx = randint(0, rows, {m});
  Tensor out = zeros({rows, cols});
  backend_for(out).index_add({.out = out, .dim = 0, .index = idx, .src = src});
  Tensor out2 = zeros({cols, rows});  // along the last dim, into a strided view
  backend_for(out2).index_add({.out = out2.t(), .dim = 0, .index = idx, .src = src});
  auto sv = src.to_vector<float>();
  auto iv = idx.to_vector<int64_t>();
  std::vector<float> ref(size_t(rows * cols), 0.f);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < cols; ++j)
      ref[size_t(iv[size_t(i)] * cols + j)] += sv[size_t(i * cols + j)];
  }
  EXPECT_EQ(out.to_vector<float>(), ref);  // bitwise: same order of additions
  EXPECT_EQ(out2.t().contiguous().to_vector<float>(), ref);
}

TEST(IndexKernels, ScatterAddOtherDtypes) {
  Tensor idx = i64({1, 1, 0}, {3, 1});
  Tensor b = zeros({2, 1}, {.dtype = DType::Bool});
  backend_for(b).scatter_add(
      {.out = b, .dim = 0, .index = idx, .src = from_vector<bool>({false, true, false}, {3, 1})});
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{false, true}));
  Tensor h = zeros({2, 1}, {.dtype = DType::BF16});
  backend_for(h).scatter_add(
      {.out = h, .dim = 0, .index = idx, .src = f64({0.5, 0.25, 2}, {3, 1}).to(DType::BF16)});
  EXPECT_TRUE(all_close(h.to(DType::F64), f64({2, 0.75}, {2, 1})));
  Tensor x = zeros({2});
  EXPECT_THROW_MSG(
      backend_for(x).index_add({.out = x, .dim = 0, .index = i64({0, 2}), .src = zeros({2})}),
      "index_add: index 2 is out of range for dim 0 of size 2");
  EXPECT_TRUE(all_close(x, zeros({2})));  // nothing written before the check
  EXPECT_THROW_MSG(backend_for(x).index_select(
                       {.x = x, .dim = 0, .index = from_vector<int32_t>({0}), .out = zeros({1})}),
                   "index_select: index must be i64, got i32");
}

// ---- embedding / one_hot ----------------------------------------------------------------

TEST_P(Embedding, Values) {
  Tensor w = iota({4, 2});
  Tensor y = F::embedding(i64({3, 0, 3, 1, 1, 2}, {2, 3}), w);
  ASSERT_EQ(y.shape(), Shape({2, 3, 2}));
  EXPECT_TRUE(all_close(y, f64({6, 7, 0, 1, 6, 7, 2, 3, 2, 3, 4, 5}, {2, 3, 2})));
  EXPECT_TRUE(all_close(F::embedding(on_dev(from_vector<int32_t>({2})), w.t().contiguous().t()),
                        f64({4, 5}, {1, 2})));
  EXPECT_EQ(F::embedding(scalar_tensor(1, {.dtype = DType::I64, .device = dev()}), w).shape(),
            Shape({2}));
}

TEST_P(Embedding, GradientsWithPadding) {
  Tensor idx = i64({1, 3, 1, 0, 1, 3}, {3, 2});
  auto in = std::vector<Tensor>{rand_input({4, 3}, -1, 1, 13)};
  auto f = [idx](const std::vector<Tensor>& v) { return F::embedding(idx, v[0]); };
  EXPECT_GRADCHECK_ON(dev(), f, in);
  EXPECT_GRADGRADCHECK_ON(
      dev(), [f](const std::vector<Tensor>& v) { return f(v) * f(v); }, in);
  // With a padding row its gradient is zero by design, so finite differences check the
  // other rows, with the padding row held constant.
  auto parts = std::vector<Tensor>{rand_input({1, 3}, -1, 1, 14), rand_input({2, 3}, -1, 1, 15)};
  const Tensor pad_row = on_dev(rand_input({1, 3}, -1, 1, 16).detach());
  for (int64_t pad : {1, -3}) {
    auto fp = [idx, pad, pad_row](const std::vector<Tensor>& v) {
      return F::embedding(idx, cat({v[0], pad_row, v[1]}), pad);
    };
    EXPECT_GRADCHECK_ON(dev(), fp, parts);
    EXPECT_GRADGRADCHECK_ON(
        dev(), [fp](const std::vector<Tensor>& v) { return fp(v) * fp(v); }, parts);
  }
  // Row 1 is the padding row: the forward still reads it, the gradient skips it.
  Tensor w = on_dev(rand_input({4, 2}));
  Tensor y = F::embedding(idx, w, 1);
  EXPECT_TRUE(all_close(y.select(0, 0).select(0, 0), w.select(0, 1)));
  y.sum().backward();
  EXPECT_TRUE(all_close(w.grad(), f64({1, 1, 0, 0, 0, 0, 2, 2}, {4, 2})));
  Tensor w2 = on_dev(rand_input({4, 2}));
  F::embedding(idx, w2, -1).sum().backward();  // -1: the last row is padding
  EXPECT_TRUE(all_close(w2.grad(), f64({1, 1, 3, 3, 0, 0, 0, 0}, {4, 2})));
  Tensor w3 = on_dev(rand_input({4, 2}));
  F::embedding(idx, w3).sum().backward();  // no padding row
  EXPECT_TRUE(all_close(w3.grad(), f64({1, 1, 3, 3, 0, 0, 2, 2}, {4, 2})));
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(EmbeddingCpu, Errors) {
  Tensor w = zeros({4, 2});
  EXPECT_THROW_MSG(F::embedding(from_vector<float>({1.f}), w),
                   "embedding: indices must be an integer tensor (i32 or i64), got f32");
  EXPECT_THROW_MSG(F::embedding(i64({4}), w),
                   "embedding: index_select: index 4 is out of range for dim 0 of size 4");
  EXPECT_THROW_MSG(F::embedding(i64({0}), zeros({4})), "weight must be 2-D");
  EXPECT_THROW_MSG(F::embedding(i64({0}), w, 4), "padding_idx 4 is out of range for 4 embeddings");
}

TEST_P(OneHot, Values) {
  Tensor y = F::one_hot(i64({2, 0, 1, 2}, {2, 2}));
  EXPECT_EQ(y.dtype(), DType::I64);
  EXPECT_EQ(y.shape(), Shape({2, 2, 3}));
  EXPECT_EQ(y.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor z = F::one_hot(on_dev(from_vector<int32_t>({1})), 4);
  EXPECT_EQ(z.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 0}));
  EXPECT_EQ(F::one_hot(i64({}), 5).shape(), Shape({0, 5}));
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(OneHotCpu, Errors) {
  EXPECT_THROW_MSG(F::one_hot(i64({0, -1})), "one_hot: class values must be non-negative, got -1");
  EXPECT_THROW_MSG(F::one_hot(i64({0, 3}), 3),
                   "one_hot: class value 3 is out of range for num_classes 3");
  EXPECT_THROW_MSG(F::one_hot(i64({})), "cannot infer num_classes from an empty tensor");
  EXPECT_THROW_MSG(F::one_hot(from_vector<double>({1.0})), "must be an integer tensor");
}

TEST_P(Index, ZeroDimInputsAndI32Indices) {
  Tensor s = scalar_tensor(5.0, {.dtype = DType::F64, .device = dev()}).requires_grad_();
  Tensor zero = scalar_tensor(0, {.dtype = DType::I64, .device = dev()});
  EXPECT_EQ(index_select(s, 0, i64({0})).shape(), Shape({}));
  Tensor g = gather(s, 0, zero);
  EXPECT_EQ(g.item<double>(), 5.0);
  (g * 3.0).backward();
  EXPECT_EQ(s.grad().item<double>(), 3.0);
  EXPECT_EQ(scatter_add(s, 0, zero, s).item<double>(), 10.0);
  EXPECT_TRUE(all_close(stack({s, s * 2.0}), f64({5, 10}, {2})));
  Tensor x = iota({2, 3});
  Tensor i32 = on_dev(from_vector<int32_t>({2, 1}, {2, 1}));
  EXPECT_TRUE(all_close(gather(x, 1, i32), f64({2, 4}, {2, 1})));
  EXPECT_TRUE(
      all_close(scatter_add(x, 1, i32, ones({2, 1}, {.dtype = DType::F64, .device = dev()})),
                f64({0, 1, 3, 3, 5, 5}, {2, 3})));
}

// CPU-only: argument errors, checked before dispatch or by the CPU kernels.
TEST(IndexCpu, ZeroDimIndexOutOfRange) {
  Tensor s = scalar_tensor(5.0, {.dtype = DType::F64}).requires_grad_();
  EXPECT_THROW_MSG(gather(s, 0, scalar_tensor(1, {.dtype = DType::I64})),
                   "index 1 is out of range for dim 0 of size 1");
}

INSTANTIATE_PER_DEVICE(Cat);
INSTANTIATE_PER_DEVICE(Stack);
INSTANTIATE_PER_DEVICE(Split);
INSTANTIATE_PER_DEVICE(Chunk);
INSTANTIATE_PER_DEVICE(IndexSelect);
INSTANTIATE_PER_DEVICE(Gather);
INSTANTIATE_PER_DEVICE(ScatterAdd);
INSTANTIATE_PER_DEVICE(Embedding);
INSTANTIATE_PER_DEVICE(OneHot);
INSTANTIATE_PER_DEVICE(Index);
