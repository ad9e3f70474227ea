// Dataset: construction checks, views (slice/split) and copies (gather/subset),
// normalisation against descent's own mean/std reductions in f64.
#include <descent/data/dataset.h>

#include <algorithm>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

// Row i holds 3i, 3i+1, 3i+2; its target is i, so a batch names its rows.
data::Dataset numbered(int64_t n) {
  return data::Dataset(arange(double(n * 3)).reshape({n, 3}),
                       arange(double(n), {.dtype = DType::I64}));
}

}  // namespace

TEST(DataDataset, ChecksRowsAndTensors) {
  EXPECT_THROW_MSG(data::Dataset(zeros({4, 2}), zeros({3}, {.dtype = DType::I64})),
                   "inputs have 4 rows (shape [4, 2]) but targets have 3 (shape [3])");
  EXPECT_THROW_MSG(data::Dataset(Tensor(), zeros({3})), "inputs are undefined");
  EXPECT_THROW_MSG(data::Dataset(scalar_tensor(1.0), zeros({1})), "inputs must have a leading");
  EXPECT_EQ(data::Dataset().size(), 0);
}

TEST(DataDataset, StoresDetachedContiguousCopiesOfViews) {
  Tensor x = arange(12.0).reshape({3, 4}).t();  // (4, 3), not contiguous
  x.requires_grad_();
  const data::Dataset ds(x, arange(4.0, {.dtype = DType::I64}));
  EXPECT_TRUE(ds.inputs().is_contiguous());
  EXPECT_FALSE(ds.inputs().requires_grad());
  EXPECT_EQ(ds.inputs().to_vector<float>(), x.detach().contiguous().to_vector<float>());
}

TEST(DataDataset, SliceAndSplitAreViews) {
  const data::Dataset ds = numbered(10);
  const auto [a, b] = ds.split(7);
  EXPECT_EQ(a.size(), 7);
  EXPECT_EQ(b.size(), 3);
  EXPECT_EQ(b.targets().to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(b.inputs().storage(), ds.inputs().storage());
  const data::Dataset s = ds.slice(2, 4);
  EXPECT_EQ(s.inputs().to_vector<float>(), (std::vector<float>{6, 7, 8, 9, 10, 11}));
  EXPECT_THROW_MSG(ds.slice(3, 11), "rows [3, 11) are out of range for a data set of 10");
  EXPECT_THROW_MSG(ds.split(-1), "got first = -1, expected 0 <= first <= 10");
  const data::Batch r = ds.rows(8, 10);
  EXPECT_EQ(r.y.to_vector<int64_t>(), (std::vector<int64_t>{8, 9}));
}

TEST(DataDataset, GatherCopiesRowsInOrder) {
  const data::Dataset ds = numbered(6);
  const std::vector<int64_t> rows = {5, 0, 3, 3};
  data::Batch b = ds.gather(rows);
  EXPECT_EQ(b.x.shape(), (Shape{4, 3}));
  EXPECT_EQ(b.y.to_vector<int64_t>(), (std::vector<int64_t>{5, 0, 3, 3}));
  EXPECT_EQ(b.x.to_vector<float>(),
            (std::vector<float>{15, 16, 17, 0, 1, 2, 9, 10, 11, 9, 10, 11}));
  b.x.fill_(-1.0);  // a copy: the data set is untouched
  EXPECT_EQ(ds.inputs().to_vector<float>()[0], 0.0f);
  const std::vector<int64_t> bad = {1, 6};
  EXPECT_THROW_MSG(ds.gather(bad), "row 6 is out of range for 6 examples");
  const data::Dataset sub = ds.subset(rows);
  EXPECT_EQ(sub.size(), 4);
  EXPECT_EQ(sub.targets().to_vector<int64_t>(), b.y.to_vector<int64_t>());
}

TEST(DataDataset, NormalizationMatchesMeanAndUnbiasedStd) {
  Generator gen(3);
  const Tensor x = rand({200, 7}, {}, &gen) * 4.0 + 10.0;
  const data::Dataset ds(x, zeros({200}, {.dtype = DType::I64}));
  const data::Normalization n = ds.compute_normalization();
  const Tensor x64 = x.to(DType::F64);
  EXPECT_NEAR(n.mean, x64.mean().item(), 1e-12);
  EXPECT_NEAR(n.std, descent::std(x64).item(), 1e-12);  // correction = 1, as torch.std

  const data::Dataset normed = ds.normalize(n);
  EXPECT_EQ(normed.inputs().dtype(), DType::F32);
  EXPECT_TRUE(all_close(normed.inputs(), (x - n.mean) / n.std, 1e-6, 1e-6));
  const data::Normalization after = normed.compute_normalization();
  EXPECT_NEAR(after.mean, 0.0, 1e-6);
  EXPECT_NEAR(after.std, 1.0, 1e-6);
  EXPECT_TRUE(normed.targets().is_same(ds.targets()));
  // Statistics of one split applied to another.
  const auto [train, val] = ds.split(150);
  const data::Dataset v = val.normalize(train.compute_normalization());
  EXPECT_TRUE(all_close(
      v.inputs(),
      (val.inputs() - train.compute_normalization().mean) / train.compute_normalization().std, 1e-6,
      1e-6));
}

TEST(DataDataset, NormalizationErrors) {
  const data::Dataset ints(zeros({3, 2}, {.dtype = DType::I64}), zeros({3}));
  EXPECT_THROW_MSG(ints.compute_normalization(), "inputs must be floating point, got i64");
  EXPECT_THROW_MSG(ints.normalize({}), "inputs must be floating point, got i64");
  const data::Dataset ds = numbered(3);
  EXPECT_THROW_MSG(ds.normalize({.mean = 0.0, .std = 0.0}), "expected a finite mean and std > 0");
  EXPECT_THROW_MSG(ds.slice(0, 0).compute_normalization(), "the data set is empty");
}

TEST(DatasetSplit, RandomSplitIsSeededDisjointAndComplete) {
  const Tensor x = arange(0, 20).reshape({10, 2});
  const Tensor y = arange(0, 10).to(DType::I64);
  const data::Dataset ds(x, y);
  auto [a, b] = ds.random_split(3, 42);
  auto [a2, b2] = ds.random_split(3, 42);
  auto [a3, b3] = ds.random_split(3, 43);
  ASSERT_EQ(a.size(), 3);
  ASSERT_EQ(b.size(), 7);
  std::vector<int64_t> rows = a.targets().to_vector<int64_t>(),
                       rest = b.targets().to_vector<int64_t>();
  EXPECT_EQ(rows, a2.targets().to_vector<int64_t>());     // same seed, same split
  EXPECT_NE(rows, a3.targets().to_vector<int64_t>());     // another seed, another split
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));  // original order kept
  rows.insert(rows.end(), rest.begin(), rest.end());
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // Inputs travel with their targets.
  const std::vector<double> inputs = a.inputs().to_vector<double>();
  for (int64_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(inputs[size_t(2 * i)], 2.0 * double(a.targets().to_vector<int64_t>()[size_t(i)]));
  EXPECT_EQ(ds.random_split(0, 1).first.size(), 0);
  EXPECT_THROW_MSG(ds.random_split(11, 1), "Dataset::random_split: got first = 11");
}
