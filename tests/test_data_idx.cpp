// IDX reader: values and shapes of the small files written by
// tests/data/idx/make_fixtures.py (raw and gzip), one test per kind of bad file, a
// write/read round trip, and — when scripts/get-data has run — the real data sets.
#include <descent/data/idx.h>

#include <filesystem>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::test_data_path;

namespace {

std::string idx_dir(std::string_view name) {
  return test_data_path(std::string("idx/") + std::string(name));
}

// The bytes make_fixtures.py writes into good/train-images-idx3-ubyte.
std::vector<int> train_pixels() {
  std::vector<int> v;
  for (int i = 0; i < 4; ++i) {
    for (int p = 0; p < 6; ++p) v.push_back((i * 6 + p) * 10 % 256);
  }
  v.front() = 0;
  v.back() = 255;
  return v;
}

// datasets/<name> at the repository root (where scripts/get-data puts the data sets).
std::string downloaded(std::string_view name) {
  return (std::filesystem::path(DESCENT_DATASETS_DIR) / name).string();
}

}  // namespace

TEST(DataIdx, LoadsRawTrainFilesAsUnitFloatsAndI64Labels) {
  const data::Dataset ds = data::Idx::load(idx_dir("good"), data::Split::Train);
  ASSERT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.inputs().shape(), (Shape{4, 6}));
  EXPECT_EQ(ds.inputs().dtype(), DType::F32);
  EXPECT_EQ(ds.targets().shape(), (Shape{4}));
  EXPECT_EQ(ds.targets().dtype(), DType::I64);
  const auto x = ds.inputs().to_vector<float>();
  const auto want = train_pixels();
  ASSERT_EQ(x.size(), want.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], float(want[i]) / 255.0f) << i;
  EXPECT_EQ(x.front(), 0.0f);
  EXPECT_EQ(x.back(), 1.0f);
  EXPECT_EQ(ds.targets().to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 9, 1}));
}

TEST(DataIdx, LoadsGzipTestFilesAndImageLayout) {
  const data::Dataset ds =
      data::Idx::load(idx_dir("good"), data::Split::Test, {.layout = data::ImageLayout::Image});
  EXPECT_EQ(ds.inputs().shape(), (Shape{2, 1, 2, 3}));
  EXPECT_EQ(ds.targets().to_vector<int64_t>(), (std::vector<int64_t>{7, 2}));
  const auto x = ds.inputs().to_vector<float>();
  const auto px = train_pixels();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], float(255 - px[i]) / 255.0f) << i;
  EXPECT_NE(data::Idx::images_path(idx_dir("good"), data::Split::Test).find(".gz"),
            std::string::npos);
}

TEST(DataIdx, ReadIdxGivesDimsAndBytes) {
  const data::IdxArray a = data::read_idx(idx_dir("good") + "/train-images-idx3-ubyte");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{4, 2, 3}));
  const auto want = train_pixels();
  ASSERT_EQ(a.values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(int(a.values[i]), want[i]);
}

TEST(DataIdx, WriteThenReadRoundTrips) {
  const auto path = (std::filesystem::temp_directory_path() / "descent_idx_roundtrip").string();
  const data::IdxArray a{.dims = {2, 1, 3}, .values = {1, 2, 3, 250, 251, 252}};
  data::write_idx(path, a);
  const data::IdxArray b = data::read_idx(path);
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.values, a.values);
  std::filesystem::remove(path);
  EXPECT_THROW_MSG(data::write_idx(path, {.dims = {2, 2}, .values = {1, 2, 3}}),
                   "dims 2x2 need 4 values, got 3");
  EXPECT_THROW_MSG(data::write_idx(path, {.dims = {}, .values = {}}), "got 0 dims");
}

TEST(DataIdx, MissingFileNamesThePath) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("missing"), data::Split::Train),
                   "train-images-idx3-ubyte: no such file");
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("nowhere"), data::Split::Test),
                   "t10k-images-idx3-ubyte: no such file");
  EXPECT_THROW_MSG(data::read_idx(idx_dir("missing") + "/none"), "none: no such file");
}

TEST(DataIdx, WrongMagicNumber) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("bad_magic"), data::Split::Train),
                   "bad_magic/train-images-idx3-ubyte: wrong magic number 0x08030803");
}

TEST(DataIdx, UnsupportedType) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("bad_type"), data::Split::Train),
                   "train-images-idx3-ubyte: unsupported data type 0x0d, expected 0x08");
}

TEST(DataIdx, TruncatedData) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("truncated"), data::Split::Train),
                   "truncated/train-images-idx3-ubyte: truncated data: dims 4x2x3 need 24 bytes, "
                   "file has 19");
}

TEST(DataIdx, TrailingBytes) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("trailing"), data::Split::Train),
                   "trailing/train-images-idx3-ubyte: 3 bytes after the data of dims 4x2x3");
}

TEST(DataIdx, ImageLabelCountMismatch) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("mismatch"), data::Split::Train),
                   "train-labels-idx1-ubyte holds 3 labels but");
}

TEST(DataIdx, BadDims) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("bad_dims"), data::Split::Train),
                   "images have dims 4x6, expected 3 (count, rows, cols)");
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("zero_cols"), data::Split::Train),
                   "images are 2x0 pixels, expected rows and cols > 0");
}

TEST(DataIdx, CorruptGzip) {
  EXPECT_THROW_MSG(data::Idx::load(idx_dir("bad_gz"), data::Split::Train),
                   "bad_gz/train-images-idx3-ubyte.gz: corrupt compressed data");
}

TEST(DataIdx, TooShortForHeader) {
  const auto dir = std::filesystem::temp_directory_path() / "descent_idx_short";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& bytes) {
    std::FILE* f = std::fopen((dir / "f").c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  };
  write(std::string("\0\0", 2));
  EXPECT_THROW_MSG(data::read_idx((dir / "f").string()), "file has 2 bytes, too short");
  write(std::string("\0\0\x08\x03\0\0\0\x04", 8));
  EXPECT_THROW_MSG(data::read_idx((dir / "f").string()), "truncated header: 8 bytes, expected 16");
  write(std::string("\0\0\x08\x05", 4));
  EXPECT_THROW_MSG(data::read_idx((dir / "f").string()), "got 5 dims, expected 1 to 4");
  std::filesystem::remove_all(dir);
}

// The real data sets, present after scripts/get-data (skipped visibly otherwise).
TEST(DataIdx, RealFashionMnist) {
  const std::string dir = downloaded("fashion-mnist");
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " missing: run scripts/get-data";
  const data::Dataset train = data::Idx::load(dir, data::Split::Train);
  const data::Dataset test = data::Idx::load(dir, data::Split::Test);
  EXPECT_EQ(train.inputs().shape(), (Shape{60000, 784}));
  EXPECT_EQ(test.inputs().shape(), (Shape{10000, 784}));
  // Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class.
  std::vector<int64_t> counts(10, 0);
  for (int64_t c : train.targets().to_vector<int64_t>()) {
    ASSERT_TRUE(0 <= c && c < 10);
    ++counts[size_t(c)];
  }
  EXPECT_EQ(counts, std::vector<int64_t>(10, 6000));
  const data::Normalization n = train.compute_normalization();
  EXPECT_NEAR(n.mean, 0.2860, 1e-3);  // the figures torchvision users quote
  EXPECT_NEAR(n.std, 0.3530, 1e-3);
}

TEST(DataIdx, RealMnistDigits) {
  const std::string dir = downloaded("mnist");
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " missing: run scripts/get-data";
  const data::Dataset train = data::Idx::load(dir, data::Split::Train);
  const data::Dataset test = data::Idx::load(dir, data::Split::Test);
  EXPECT_EQ(train.inputs().shape(), (Shape{8000, 784}));
  EXPECT_EQ(test.inputs().shape(), (Shape{2000, 784}));
  // The split is stratified: each digit gives a fifth of its images (±1) to test.
  std::vector<int64_t> n_train(10, 0), n_test(10, 0);
  for (int64_t c : train.targets().to_vector<int64_t>()) {
    ASSERT_TRUE(0 <= c && c < 10);
    ++n_train[size_t(c)];
  }
  for (int64_t c : test.targets().to_vector<int64_t>()) {
    ASSERT_TRUE(0 <= c && c < 10);
    ++n_test[size_t(c)];
  }
  for (size_t d = 0; d < 10; ++d) {
    EXPECT_NEAR(double(n_test[d]), double(n_train[d] + n_test[d]) / 5.0, 1.0) << "digit " << d;
  }
  // Interleaved: the first ten training images are the digits 0..9.
  EXPECT_EQ(train.targets().narrow(0, 0, 10).to_vector<int64_t>(),
            arange(10.0, {.dtype = DType::I64}).to_vector<int64_t>());
  const data::Normalization n = train.compute_normalization();
  EXPECT_NEAR(n.mean, 0.13, 0.02);  // MNIST's usual 0.1307 / 0.3081
  EXPECT_NEAR(n.std, 0.31, 0.02);
}
