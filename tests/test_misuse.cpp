// Misuse that must end in a clear descent::Error, never a crash: undefined tensors,
// graphs deeper than any stack.
#include "testing/gradcheck.h"

using namespace descent;

TEST(UndefinedTensor, AccessorsThrowNamingThemselves) {
  const Tensor t;
  EXPECT_THROW_MSG((void)t.numel(), "numel: tensor is undefined");
  EXPECT_THROW_MSG((void)t.shape(), "shape: tensor is undefined");
  EXPECT_THROW_MSG((void)t.size(0), "size: tensor is undefined");
  EXPECT_THROW_MSG((void)t.stride(0), "stride: tensor is undefined");
  EXPECT_THROW_MSG((void)t.dim(), "dim: tensor is undefined");
  EXPECT_THROW_MSG((void)t.dtype(), "dtype: tensor is undefined");
  EXPECT_THROW_MSG((void)t.device(), "device: tensor is undefined");
  EXPECT_THROW_MSG((void)t.storage(), "storage: tensor is undefined");
  EXPECT_THROW_MSG((void)t.is_contiguous(), "tensor is undefined");
  EXPECT_THROW_MSG((void)t.raw_data(), "raw_data: tensor is undefined");
  EXPECT_THROW_MSG((void)t.requires_grad(), "requires_grad: tensor is undefined");
  EXPECT_THROW_MSG((void)t.is_leaf(), "is_leaf: tensor is undefined");
  EXPECT_THROW_MSG((void)t.item<float>(), "tensor is undefined");
  EXPECT_THROW_MSG((void)t.data<float>(), "data: tensor is undefined");
  Tensor u;
  EXPECT_THROW_MSG(u.set_grad(zeros({1})), "set_grad: tensor is undefined");
  EXPECT_FALSE(u.grad().defined());  // no gradient: undefined, not an error
}

TEST(UndefinedTensor, OpsAndViewsThrow) {
  const Tensor t, x = ones({2});
  EXPECT_THROW(add(t, x), Error);
  EXPECT_THROW(add(x, t), Error);
  EXPECT_THROW(t.reshape({1}), Error);
  EXPECT_THROW(t.transpose(0, 1), Error);
  EXPECT_THROW(t.contiguous(), Error);
  EXPECT_THROW(t.clone(), Error);
  EXPECT_THROW(sum(t), Error);
  EXPECT_THROW(t.backward(), Error);
}

// A chain as long as a recurrence stepped over a long sequence: freeing it must not
// recurse once per node (it overflowed the stack at ~150k nodes).
TEST(DeepGraph, AMillionNodesAreFreedWithoutRecursion) {
  Tensor x = ones({1}, {.requires_grad = true});
  {
    Tensor total = x;
    for (int i = 0; i < 1'000'000; ++i) total = total * 1.0;
    EXPECT_NE(total.grad_fn(), nullptr);
  }  // the whole chain is released here
  EXPECT_TRUE(x.requires_grad());
}

TEST(DeepGraph, BackwardThroughALongChainAndFreeingItAfterwards) {
  Tensor x = full({2}, 1.0, {.dtype = DType::F64, .requires_grad = true});
  Tensor total = zeros({2}, {.dtype = DType::F64});
  for (int i = 0; i < 200'000; ++i) total = total + x;  // also saves nothing: all edges
  sum(total).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{200000, 200000}));
  total = Tensor();
}

// Element counts that overflow int64 are refused where the shape is made, not turned
// into a wrapped-around allocation that a later write overruns.
TEST(ShapeOverflow, FactoriesViewsAndOneHotRefuseIt) {
  const int64_t big = int64_t(1) << 32;
  EXPECT_THROW_MSG(zeros({big, big}), "empty: shape [4294967296, 4294967296] has more elements");
  EXPECT_THROW_MSG(empty({int64_t(1) << 62, 4}), "has more elements than an int64 can count");
  EXPECT_THROW_MSG(empty({int64_t(1) << 61}, {.dtype = DType::F64}), "has more bytes");
  EXPECT_THROW_MSG(ones({4}).expand({int64_t(1) << 62, 4}), "expand: shape");
  EXPECT_THROW_MSG(F::one_hot(from_vector<int64_t>({0, 1, 2}), int64_t(1) << 62), "more elements");
  EXPECT_THROW_MSG(zeros({2, -3}), "negative dimension");
  // Large but countable expands stay views.
  EXPECT_EQ(ones({1}).expand({int64_t(1) << 40}).numel(), int64_t(1) << 40);
}
