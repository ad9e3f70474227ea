// Scans, sorting, rearranging, norms and einsum (ops/scan.h, sort.h, rearrange.h,
// norm.h, einsum.h; bmm and outer in linalg.h): values against direct references,
// stability and NaN order, integer dtypes, gradients (f64 finite differences) and
// errors. Every TEST_P runs once per device; PyTorch's values are in test_golden.cpp
// (Golden.TensorOps).
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

class TensorOps : public descent::testing::PerDeviceTest {
 protected:
  void expect_gradcheck(const descent::testing::Fn& f, const std::vector<Tensor>& in) {
    EXPECT_EQ(descent::testing::gradcheck_on(dev(), f, in), "");
  }
};

std::vector<double> values(const Tensor& t) {
  return t.to(Device::CPU).to(DType::F64).contiguous().to_vector<double>();
}

}  // namespace

TEST_P(TensorOps, CumsumAndCumprod) {
  const Tensor x = on_dev(from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(values(cumsum(x, 1)), (std::vector<double>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(values(cumsum(x, 0)), (std::vector<double>{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(values(cumprod(x, -1)), (std::vector<double>{1, 2, 6, 4, 20, 120}));
  // Integers and bools give i64, as torch.
  const Tensor b = on_dev(from_vector<bool>({true, false, true, true}));
  EXPECT_EQ(cumsum(b, 0).dtype(), DType::I64);
  EXPECT_EQ(cumsum(b, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_EQ(cumprod(on_dev(from_vector<int32_t>({2, -3, 4})), 0).to_vector<int64_t>(),
            (std::vector<int64_t>{2, -6, -24}));
  // A long line (above the parallel threshold), f32 against an f64 running sum.
  const Tensor big = on_dev(rand({3, 40000}));
  const std::vector<double> bv = values(big), cs = values(cumsum(big, 1));
  double acc = 0;
  for (int i = 0; i < 40000; ++i) acc += bv[40000 + i];
  EXPECT_EQ(cs[2 * 40000 - 1], double(float(acc)));  // summed in f64, rounded once
  // Gradients, cumprod's also with zeros (one and two in a row).
  expect_gradcheck([](const std::vector<Tensor>& in) { return cumsum(in[0], 1); },
                   {rand_input({2, 4})});
  expect_gradcheck([](const std::vector<Tensor>& in) { return cumprod(in[0], 1); },
                   {rand_input({2, 4})});
  const Tensor z = from_vector<double>({0.5, 0, 2, -1, 0, 0, 3, 1.5}, {2, 4}).requires_grad_();
  expect_gradcheck([](const std::vector<Tensor>& in) { return cumprod(in[0], 1); }, {z});
  EXPECT_EQ(descent::testing::gradgradcheck_on(
                dev(), [](const std::vector<Tensor>& in) { return cumprod(in[0], 0); },
                {rand_input({3, 2})}),
            "");
}

TEST_P(TensorOps, SortIsStableAndPutsNanLast) {
  const Tensor x = on_dev(from_vector<double>({3, 1, kNaN, 1, 2, 3}));
  const ValuesIndices up = sort(x);
  const std::vector<double> v = values(up.values);
  EXPECT_EQ(std::vector<double>(v.begin(), v.begin() + 5), (std::vector<double>{1, 1, 2, 3, 3}));
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_EQ(up.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 4, 0, 5, 2}));
  const ValuesIndices down = sort(x, 0, true);
  EXPECT_EQ(down.indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 5, 4, 1, 3}));
  // Along dim 0 of a matrix, integers, bools and f16.
  const Tensor m = on_dev(from_vector<int64_t>({5, 1, 2, 7, 3, 0}, {3, 2}));
  EXPECT_EQ(sort(m, 0).values.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 3, 1, 5, 7}));
  EXPECT_EQ(argsort(m, 0, true).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(sort(on_dev(from_vector<bool>({true, false, true}))).values.to_vector<bool>(),
            (std::vector<bool>{false, true, true}));
  const Tensor h = on_dev(from_vector<float>({0.5f, -2.f, 1.f})).to(DType::F16);
  EXPECT_EQ(values(sort(h).values), (std::vector<double>{-2, 0.5, 1}));
  // Many rows at once, each sorted against std::sort.
  const Tensor r = on_dev(randn({50, 37}));
  const std::vector<double> rv = values(r), sv = values(sort(r, 1).values);
  for (int row = 0; row < 50; ++row) {
    std::vector<double> want(rv.begin() + row * 37, rv.begin() + (row + 1) * 37);
    std::sort(want.begin(), want.end());
    ASSERT_EQ(std::vector<double>(sv.begin() + row * 37, sv.begin() + (row + 1) * 37), want);
  }
  expect_gradcheck([](const std::vector<Tensor>& in) { return sort(in[0], 0, true).values; },
                   {rand_input({4, 3})});
}

TEST_P(TensorOps, TopkKthvalueMedianUnique) {
  const Tensor x = on_dev(from_vector<double>({4, 9, 1, 7, 3, 8, 2, 6}, {2, 4}));
  const ValuesIndices t = topk(x, 2);
  EXPECT_EQ(values(t.values), (std::vector<double>{9, 7, 8, 6}));
  EXPECT_EQ(t.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 1, 3}));
  EXPECT_EQ(values(topk(x, 1, 0, false).values), (std::vector<double>{3, 8, 1, 6}));
  const ValuesIndices k = kthvalue(x, 3, 1, true);
  EXPECT_EQ(k.values.shape(), (Shape{2, 1}));
  EXPECT_EQ(values(k.values), (std::vector<double>{7, 6}));
  EXPECT_EQ(values(median(x, 1).values), (std::vector<double>{4, 3}));  // the lower median
  EXPECT_EQ(median(x).item(), 4.0);
  const UniqueResult u = unique(on_dev(from_vector<int64_t>({3, 1, 3, 2, 1, 3}, {2, 3})));
  EXPECT_EQ(u.values.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(u.inverse.shape(), (Shape{2, 3}));
  EXPECT_EQ(u.inverse.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 2, 1, 0, 2}));
  EXPECT_EQ(u.counts.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(u.values.device(), dev());
  expect_gradcheck([](const std::vector<Tensor>& in) { return topk(in[0], 2, 1).values; },
                   {rand_input({3, 5})});
  expect_gradcheck([](const std::vector<Tensor>& in) { return median(in[0], 0).values; },
                   {rand_input({5, 2})});
}

TEST_P(TensorOps, Rearranging) {
  const Tensor x = on_dev(from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3}));
  EXPECT_EQ(values(flip(x, {0, 1})), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(values(roll(x, 1, 1)), (std::vector<double>{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(values(roll(x, {-7})), (std::vector<double>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(values(tril(x)), (std::vector<double>{0, 0, 0, 3, 4, 0}));
  EXPECT_EQ(values(triu(x, 1)), (std::vector<double>{0, 1, 2, 0, 0, 5}));
  EXPECT_EQ(values(diag(x)), (std::vector<double>{0, 4}));
  EXPECT_EQ(values(diag(x, 1)), (std::vector<double>{1, 5}));
  EXPECT_EQ(values(diag(x, -1)), (std::vector<double>{3}));
  EXPECT_EQ(values(diag(on_dev(from_vector<double>({7, 8})), 1)),
            (std::vector<double>{0, 7, 0, 0, 0, 8, 0, 0, 0}));
  const Tensor mask = on_dev(from_vector<bool>({true, false, true}));
  EXPECT_EQ(values(masked_fill(x, mask, -1)), (std::vector<double>{-1, 1, -1, -1, 4, -1}));
  const Tensor nz = nonzero(on_dev(from_vector<double>({0, 2, 0, 0, 0, -1}, {2, 3})));
  EXPECT_EQ(nz.shape(), (Shape{2, 2}));
  EXPECT_EQ(nz.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1, 2}));
  EXPECT_EQ(nonzero(on_dev(zeros({3}))).shape(), (Shape{0, 1}));
  // Integer tensors keep their dtype.
  EXPECT_EQ(flip(on_dev(from_vector<int64_t>({1, 2, 3})), {0}).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 2, 1}));
  for (auto f : std::vector<descent::testing::Fn>{
           [](const std::vector<Tensor>& in) { return flip(in[0], {1}); },
           [](const std::vector<Tensor>& in) {
             return roll(in[0], {2, -1}, {0, 1});
           },
           [](const std::vector<Tensor>& in) { return tril(in[0], 1); },
           [](const std::vector<Tensor>& in) { return diag(in[0], -1); },
           [](const std::vector<Tensor>& in) { return diag(in[0].select(0, 0), 2); },
           [](const std::vector<Tensor>& in) { return masked_fill(in[0], in[0] > 0.0, 3.0); }}) {
    expect_gradcheck(f, {rand_input({3, 4})});
  }
}

TEST_P(TensorOps, OuterBmmNormCdist) {
  const Tensor a = on_dev(from_vector<double>({1, 2}));
  const Tensor b = on_dev(from_vector<double>({3, 4, 5}));
  EXPECT_EQ(values(outer(a, b)), (std::vector<double>{3, 4, 5, 6, 8, 10}));
  const Tensor p = on_dev(randn({2, 3, 4}, {.dtype = DType::F64}));
  const Tensor q = on_dev(randn({2, 4, 5}, {.dtype = DType::F64}));
  EXPECT_TRUE(all_close(bmm(p, q), matmul(p, q), 1e-12, 1e-12));
  const Tensor v = on_dev(from_vector<double>({3, -4, 0, 12}, {2, 2}));
  EXPECT_DOUBLE_EQ(norm(v).item(), 13.0);
  EXPECT_EQ(values(norm(v, 1, 1)), (std::vector<double>{7, 12}));
  EXPECT_EQ(values(norm(v, kInf, 0)), (std::vector<double>{3, 12}));
  EXPECT_EQ(values(norm(v, 0, 1)), (std::vector<double>{2, 1}));
  EXPECT_NEAR(norm(v, 3).item(), std::cbrt(27 + 64 + 1728), 1e-12);
  // The gradient at a zero vector is 0, not NaN.
  const Tensor z = on_dev(zeros({3}, {.dtype = DType::F64, .requires_grad = true}));
  norm(z).backward();
  EXPECT_EQ(values(z.grad()), (std::vector<double>{0, 0, 0}));
  const Tensor x1 = on_dev(from_vector<double>({0, 0, 3, 4}, {2, 2}));
  const Tensor x2 = on_dev(from_vector<double>({0, 0}, {1, 2}));
  EXPECT_EQ(values(cdist(x1, x2)), (std::vector<double>{0, 5}));
  EXPECT_EQ(values(cdist(x1, x2, 1)), (std::vector<double>{0, 7}));
  expect_gradcheck([](const std::vector<Tensor>& in) { return norm(in[0], 2, 1); },
                   {rand_input({3, 4})});
  expect_gradcheck([](const std::vector<Tensor>& in) { return norm(in[0], 1.5, {0}, true); },
                   {rand_input({3, 4})});
  expect_gradcheck([](const std::vector<Tensor>& in) { return cdist(in[0], in[1]); },
                   {rand_input({3, 2}, -1, 1, 1), rand_input({4, 2}, -1, 1, 2)});
  EXPECT_EQ(descent::testing::gradgradcheck_on(
                dev(), [](const std::vector<Tensor>& in) { return norm(in[0], 2, 1); },
                {rand_input({2, 3})}),
            "");
}

TEST_P(TensorOps, Einsum) {
  const Tensor a = on_dev(randn({3, 4}, {.dtype = DType::F64}));
  const Tensor b = on_dev(randn({4, 5}, {.dtype = DType::F64}));
  const Tensor c = on_dev(randn({5, 2}, {.dtype = DType::F64}));
  EXPECT_TRUE(all_close(einsum("ij,jk->ik", {a, b}), matmul(a, b), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("ij,jk", {a, b}), matmul(a, b), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("ij,jk,kl->il", {a, b, c}), matmul(matmul(a, b), c), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("ij->ji", {a}), a.t(), 0, 0));
  EXPECT_TRUE(all_close(einsum("ij->", {a}), sum(a), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("ij->j", {a}), sum(a, 0), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("ij,ij->i", {a, a}), sum(a * a, 1), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(einsum("i,j->ij", {a.select(0, 0), b.select(1, 0)}),
                        outer(a.select(0, 0), b.select(1, 0)), 1e-12, 1e-12));
  expect_gradcheck([](const std::vector<Tensor>& in) { return einsum("bi,oij,bj->bo", in); },
                   {rand_input({2, 3}, -1, 1, 1), rand_input({4, 3, 2}, -1, 1, 2),
                    rand_input({2, 2}, -1, 1, 3)});
  EXPECT_THROW_MSG(einsum("ii->i", {on_dev(ones({2, 2}))}), "letter 'i' repeats in operand 0");
  EXPECT_THROW_MSG(einsum("...ij->ij", {a}), "ellipsis (...) is not supported");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {a, a}), "letter 'j' has size 3 in operand 1 but 4 before");
  EXPECT_THROW_MSG(einsum("ijk->i", {a}), "operand 0 has 2 dims but its subscripts \"ijk\" name 3");
  EXPECT_THROW_MSG(einsum("ij->iz", {a}), "output letter 'z' is in no operand");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {a}), "names 2 operands, got 1");
}

TEST_P(TensorOps, Errors) {
  const Tensor x = on_dev(ones({2, 3}));
  EXPECT_THROW_MSG(cumsum(x, 2), "cumsum: dim 2 is out of range");
  EXPECT_THROW_MSG(sort(Tensor()), "sort: input is an undefined tensor");
  EXPECT_THROW_MSG(topk(x, 4), "topk: k = 4 is out of range for a dim of size 3");
  EXPECT_THROW_MSG(kthvalue(x, 0), "k counts from 1");
  EXPECT_THROW_MSG(flip(x, {1, -1}), "flip: dim -1 appears twice");
  EXPECT_THROW_MSG(roll(x, {1, 2}, {0}), "roll: 2 shifts for 1 dims");
  EXPECT_THROW_MSG(tril(on_dev(ones({3}))), "tril: input of shape [3], expected at least 2 dims");
  EXPECT_THROW_MSG(diag(on_dev(ones({2, 2, 2}))), "diag: input of shape [2, 2, 2]");
  EXPECT_THROW_MSG(masked_fill(x, x, 0), "masked_fill: mask of dtype f32, expected bool");
  EXPECT_THROW_MSG(outer(x, x), "outer: operands of shapes");
  EXPECT_THROW_MSG(bmm(on_dev(ones({2, 3, 4})), on_dev(ones({3, 4, 5}))),
                   "bmm: batch sizes 2 and 3 differ");
  EXPECT_THROW_MSG(norm(on_dev(from_vector<int64_t>({1}))), "norm: input of dtype i64");
  EXPECT_THROW_MSG(norm(x, -1), "norm: p = -1");
  EXPECT_THROW_MSG(cdist(x, on_dev(ones({2, 4}))),
                   "cdist: x1 of shape [2, 3] and x2 of shape [2, 4]");
  EXPECT_THROW_MSG(median(on_dev(ones({0}))), "median: input has no elements");
}

INSTANTIATE_PER_DEVICE(TensorOps);
