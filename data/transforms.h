#pragma once
// Random image augmentation for DataLoader batches, as torchvision's RandomCrop(padding)
// and RandomHorizontalFlip, plus Normalize. Batches hold images as rows (B, C·H·W) or
// as (B, C, H, W), f32 on the CPU; the result keeps the input's shape.
//
//   data::ImageAugment aug({.shape = {1, 28, 28}, .crop_padding = 2, .horizontal_flip = true,
//                           .seed = 0});
//   data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .augment = aug});
//
// Seeded and resumable: the draws of a batch come from a Generator seeded by (seed,
// epoch, batch index), so they depend on where the batch is in the run, not on how
// many batches came before in this process — a resumed run augments exactly as the
// uninterrupted one. Runs on the loader's prefetch thread.
#include <descent/data/dataset.h>

#include <cstdint>
#include <optional>

namespace descent::data {

// Where a batch is in its run: the loader's epoch and the batch's index in it.
struct BatchPosition {
  int64_t epoch = 0;
  int64_t index = 0;
};

struct ImageShape {
  int64_t channels = 1, height = 0, width = 0;
};

struct AugmentOptions {
  ImageShape shape;
  // Pad every side by this many pixels of `pad_value`, then cut a random H×W window
  // (0: no crop).
  int64_t crop_padding = 0;
  double pad_value = 0.0;
  bool horizontal_flip = false;                           // mirror each image with probability 1/2
  std::optional<Normalization> normalize = std::nullopt;  // applied last, to every pixel
  uint64_t seed = 0;
};

class ImageAugment {
 public:
  // Throws for non-positive image sizes or a negative padding.
  explicit ImageAugment(AugmentOptions options);
  // Throws when the batch is not f32 on the CPU or its rows are not C·H·W pixels.
  Batch operator()(Batch batch, BatchPosition position) const;
  const AugmentOptions& options() const { return opt_; }

 private:
  AugmentOptions opt_;
};

}  // namespace descent::data
