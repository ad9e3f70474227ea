// Tensor core: dtypes, views, copies, factories.
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

TEST(Tensor, FactoriesAndMetadata) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_EQ(z.strides(), Shape({3, 1}));
  EXPECT_EQ(z.dtype(), DType::F32);
  EXPECT_EQ(z.numel(), 6);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(z.storage()->data()) % 64, 0u);
  EXPECT_EQ(full({2}, 7.5, {.dtype = DType::F64}).to_vector<double>(),
            (std::vector<double>{7.5, 7.5}));
  EXPECT_EQ(arange(5).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25, {.dtype = DType::F64}).to_vector<double>(),
            (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(Tensor, DtypeConversions) {
  Tensor x = from_vector<float>({1.5f, -2.25f, 0.0f, 3.0f});
  EXPECT_EQ(x.to(DType::F64).to_vector<double>(), (std::vector<double>{1.5, -2.25, 0, 3}));
  EXPECT_EQ(x.to(DType::I32).to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 0, 3}));
  EXPECT_EQ(x.to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 0, 3}));
  EXPECT_EQ(x.to(DType::Bool).to_vector<bool>(), (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(x.to(DType::F16).to(DType::F32).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(x.to(DType::BF16).to(DType::F32).to_vector<float>(), x.to_vector<float>());
  // Rounding to nearest even in the 16-bit types.
  EXPECT_EQ(float(Half(1.0f + 1.0f / 4096)), 1.0f);
  EXPECT_EQ(float(Half(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(float(Half(70000.0f))));
  EXPECT_EQ(float(Half(5.9604644775390625e-08f)), 5.9604644775390625e-08f);  // smallest subnormal
  EXPECT_EQ(float(BFloat16(1.0f + 1.0f / 256)), 1.0f);
}

TEST(Tensor, PromotionLikePyTorch) {
  EXPECT_EQ(promote_types(DType::I32, DType::F16), DType::F16);
  EXPECT_EQ(promote_types(DType::F16, DType::BF16), DType::F32);
  EXPECT_EQ(promote_types(DType::I32, DType::I64), DType::I64);
  EXPECT_EQ(promote_types(DType::Bool, DType::I32), DType::I32);
  EXPECT_EQ(promote_types(DType::F32, DType::F64), DType::F64);
  Tensor i = from_vector<int64_t>({1, 2});
  EXPECT_EQ((i + 1).dtype(), DType::I64);
  EXPECT_EQ((i + 0.5).dtype(), DType::F32);
  EXPECT_EQ((ones({2}) + scalar_tensor(1.0, {.dtype = DType::F64})).dtype(), DType::F32);
  EXPECT_EQ((i + scalar_tensor(1.0, {.dtype = DType::F64})).dtype(), DType::F64);
}

TEST(Tensor, ViewsShareStorage) {
  Tensor x = arange(6).reshape({2, 3});
  Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.shape(), Shape({3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_EQ(t.contiguous().to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor s = x.slice(1, 1, 3);
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
  Tensor n = x.narrow(0, 1, 1);
  EXPECT_EQ(n.to_vector<float>(), (std::vector<float>{3, 4, 5}));
  Tensor e = from_vector<float>({1, 2}).unsqueeze(1).expand({2, 3});
  EXPECT_EQ(e.strides(), Shape({1, 0}));
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(ones({1, 3, 1}).squeeze().shape(), Shape({3}));
  EXPECT_EQ(ones({3}).unsqueeze(0).shape(), Shape({1, 3}));
  EXPECT_EQ(x.permute({1, 0}).shape(), Shape({3, 2}));
  EXPECT_EQ(x.select(1, 2).to_vector<float>(), (std::vector<float>{2, 5}));
  EXPECT_EQ(x.flatten().shape(), Shape({6}));
  EXPECT_EQ(x.reshape({-1, 2}).shape(), Shape({3, 2}));
  // Writes through a view land in the base.
  {
    NoGradGuard ng;
    x.slice(1, 0, 1).fill_(9);
  }
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{9, 1, 2, 9, 4, 5}));
}

TEST(Tensor, ReshapeOfTransposedCopiesViewDoesNot) {
  Tensor x = arange(6).reshape({2, 3}).t();
  EXPECT_THROW_MSG(x.view({6}), "view: cannot view");
  Tensor r = x.reshape({6});
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW_MSG(x.reshape({4}), "shape [4] is invalid for input of size 6");
}

TEST(Tensor, CloneCopyAndItem) {
  Tensor x = from_vector<double>({1, 2, 3});
  Tensor c = x.clone();
  EXPECT_NE(c.storage(), x.storage());
  Tensor d = zeros({2, 3}, {.dtype = DType::F64});
  d.copy_(x);  // broadcast
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(x.sum().item<double>(), 6.0);
  EXPECT_THROW_MSG(x.item(), "expected a tensor with one element");
  EXPECT_THROW_MSG(x.data<float>(), "asked for f32");
}

TEST(Tensor, RandomIsSeedableAndRestorable) {
  Generator g(42);
  GeneratorState s = g.state();
  Tensor a = randn({1000}, {}, &g);
  g.set_state(s);
  Tensor b = randn({1000}, {}, &g);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  Tensor c = randn({1000}, {}, &g);
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  Tensor big = randn({200000}, {.dtype = DType::F64}, &g);
  EXPECT_NEAR(big.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(descent::sqrt((big * big).mean()).item<double>(), 1.0, 0.01);
  Tensor u = rand({200000}, {}, &g);
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 0.01);
  Tensor r = randint(3, 7, {10000}, {.dtype = DType::I64}, &g);
  auto rv = r.to_vector<int64_t>();
  EXPECT_EQ(*std::min_element(rv.begin(), rv.end()), 3);
  EXPECT_EQ(*std::max_element(rv.begin(), rv.end()), 6);
}

TEST(Tensor, CudaIsAClearErrorWithoutCuda) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(zeros({2}, {.device = Device::CUDA}), Error);
}
