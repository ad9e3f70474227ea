// data::ImageAugment: crops of the padded image and flips move pixels where torchvision's
// RandomCrop(padding) and RandomHorizontalFlip put them, the draws depend only on (seed,
// epoch, batch) — so a loader resumed mid-epoch augments exactly as the uninterrupted
// one — normalisation, and argument errors. Also nn::Unflatten.
#include <descent/data/loader.h>
#include <descent/data/transforms.h>
#include <descent/nn/flatten.h>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

// n images of 1×4×5 whose pixel (h, w) of image i holds 100·i + 10·h + w + 1 (never 0,
// the pad value).
data::Dataset images(int64_t n) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t w = 0; w < 5; ++w) v.push_back(float(100 * i + 10 * h + w + 1));
  return data::Dataset(from_vector(v, {n, 20}), arange(double(n), {.dtype = DType::I64}));
}

}  // namespace

// Every output image is the input shifted by at most `padding` in each direction (zeros
// coming in at the borders), possibly mirrored; over many draws every shift and both
// flips occur.
TEST(ImageAugment, CropsAndFlipsAreShiftedMirrors) {
  const data::Dataset ds = images(64);
  data::ImageAugment aug({.shape = {1, 4, 5}, .crop_padding = 1, .horizontal_flip = true});
  const data::Batch b = aug(ds.gather(std::vector<int64_t>{0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                                                           10, 11, 12, 13, 14, 15, 16, 17, 18, 19}),
                            {.epoch = 0, .index = 0});
  EXPECT_EQ(b.x.shape(), Shape({20, 20}));
  const auto in = ds.inputs().to_vector<float>(), out = b.x.to_vector<float>();
  std::set<std::tuple<int, int, bool>> seen;
  for (int64_t i = 0; i < 20; ++i) {
    bool found = false;
    for (int dy = -1; dy <= 1 && !found; ++dy)
      for (int dx = -1; dx <= 1 && !found; ++dx)
        for (bool flip : {false, true}) {
          bool match = true;
          for (int h = 0; h < 4 && match; ++h)
            for (int w = 0; w < 5 && match; ++w) {
              const int ww = flip ? 4 - w : w;
              const int sh = h + dy, sw = ww + dx;
              const float want =
                  sh >= 0 && sh < 4 && sw >= 0 && sw < 5 ? in[size_t(i * 20 + sh * 5 + sw)] : 0.f;
              match = out[size_t(i * 20 + h * 5 + w)] == want;
            }
          if (match) {
            found = true;
            seen.insert({dy, dx, flip});
            break;
          }
        }
    EXPECT_TRUE(found) << "image " << i << " is no shifted or mirrored copy";
  }
  EXPECT_GT(seen.size(), 5u);  // the draws vary
}

TEST(ImageAugment, NormalizesAndKeepsImageShape) {
  data::ImageAugment aug({.shape = {1, 4, 5}, .normalize = data::Normalization{1.0, 2.0}});
  const data::Batch b = aug({images(2).inputs().reshape({2, 1, 4, 5}), {}}, {});
  EXPECT_EQ(b.x.shape(), Shape({2, 1, 4, 5}));
  EXPECT_FLOAT_EQ(b.x.to_vector<float>()[0], 0.f);   // (1 - 1) / 2
  EXPECT_FLOAT_EQ(b.x.to_vector<float>()[1], 0.5f);  // (2 - 1) / 2
}

// The same (seed, epoch, batch) gives the same batch; a loader resumed mid-epoch from
// its state dict hands out exactly the batches the uninterrupted one did.
TEST(ImageAugment, ResumableThroughTheLoader) {
  const data::Dataset ds = images(24);
  data::ImageAugment aug(
      {.shape = {1, 4, 5}, .crop_padding = 2, .horizontal_flip = true, .seed = 7});
  const data::LoaderOptions opt{.batch_size = 5, .shuffle = true, .seed = 3, .augment = aug};
  std::vector<std::vector<float>> full;
  data::DataLoader a(ds, opt);
  for (int e = 0; e < 2; ++e)
    for (auto [x, y] : a) full.push_back(x.to_vector<float>());

  data::DataLoader b(ds, opt);
  std::vector<std::vector<float>> resumed;
  StateDict saved;
  int n = 0;
  for (auto [x, y] : b) {
    resumed.push_back(x.to_vector<float>());
    if (++n == 3) {
      saved = b.state_dict();
      break;
    }
  }
  data::DataLoader c(ds, opt);
  c.load_state_dict(saved);
  for (auto [x, y] : c) resumed.push_back(x.to_vector<float>());
  for (auto [x, y] : c) resumed.push_back(x.to_vector<float>());
  EXPECT_EQ(resumed, full);
  // Another epoch draws other crops.
  EXPECT_NE(full[0], full[5]);
}

TEST(ImageAugment, Errors) {
  EXPECT_THROW_MSG(data::ImageAugment({.shape = {1, 0, 5}}), "expected positive sizes");
  EXPECT_THROW_MSG(data::ImageAugment({.shape = {1, 4, 5}, .crop_padding = -1}), "non-negative");
  data::ImageAugment aug({.shape = {1, 4, 4}});
  EXPECT_THROW_MSG(aug(images(2).gather(std::vector<int64_t>{0, 1}), {}), "does not hold images");
  EXPECT_THROW_MSG(aug({zeros({2, 16}, {.dtype = DType::F64}), {}}, {}), "expected an f32 CPU");
}

TEST(Unflatten, SplitsOneDim) {
  nn::Unflatten u(1, {1, 4, 5});
  EXPECT_EQ(u(zeros({3, 20})).shape(), Shape({3, 1, 4, 5}));
  EXPECT_EQ(nn::Unflatten(-1, {2, 2})(zeros({3, 4})).shape(), Shape({3, 2, 2}));
  EXPECT_THROW_MSG(u(zeros({3, 21})), "expected the product");
}
