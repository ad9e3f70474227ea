#include <descent/core/random.h>
#include <descent/data/transforms.h>
#include <descent/ops/factory.h>

#include <vector>

namespace descent::data {

namespace {

constexpr std::string_view kOp = "ImageAugment";

}  // namespace

ImageAugment::ImageAugment(AugmentOptions options) : opt_(options) {
  const ImageShape& s = opt_.shape;
  check(s.channels > 0 && s.height > 0 && s.width > 0, kOp,
        "got image shape ({}, {}, {}), expected positive sizes", s.channels, s.height, s.width);
  check(opt_.crop_padding >= 0, kOp, "crop_padding must be non-negative, got {}",
        opt_.crop_padding);
  if (opt_.normalize)
    check(opt_.normalize->std > 0, kOp, "normalize.std must be positive, got {}",
          opt_.normalize->std);
}

Batch ImageAugment::operator()(Batch batch, BatchPosition pos) const {
  const ImageShape& s = opt_.shape;
  const int64_t C = s.channels, H = s.height, W = s.width, pixels = C * H * W;
  const Tensor& x = batch.x;
  check(x.defined() && x.device().is_cpu() && x.dtype() == DType::F32, kOp,
        "expected an f32 CPU batch, got {}",
        x.defined() ? fmt::format("{} on {}", x.dtype(), x.device()) : std::string("none"));
  check(x.dim() >= 1 && x.numel() == x.size(0) * pixels, kOp,
        "batch of shape {} does not hold images of ({}, {}, {})", x.shape(), C, H, W);
  const int64_t B = x.size(0);
  // (seed, epoch, batch) mixed as the loader mixes (seed, epoch) for its shuffles.
  Generator gen(
      splitmix64(opt_.seed ^ splitmix64(uint64_t(pos.epoch) ^ splitmix64(uint64_t(pos.index)))));
  const int64_t P = opt_.crop_padding;
  // Per image: the window's offset in the padded image and the flip, drawn in this order.
  std::vector<int64_t> dy(size_t(B), P), dx(size_t(B), P), flip(size_t(B), 0);
  if (P > 0) {
    dy = randint(0, 2 * P + 1, {B}, {.dtype = DType::I64}, &gen).to_vector<int64_t>();
    dx = randint(0, 2 * P + 1, {B}, {.dtype = DType::I64}, &gen).to_vector<int64_t>();
  }
  if (opt_.horizontal_flip)
    flip = randint(0, 2, {B}, {.dtype = DType::I64}, &gen).to_vector<int64_t>();

  const Tensor src = x.contiguous();
  Tensor out = Tensor::empty(x.shape());
  const float* in = src.data<float>();
  float* o = out.data<float>();
  const float pad = float(opt_.pad_value);
  const double mean = opt_.normalize ? opt_.normalize->mean : 0.0;
  const double inv_std = opt_.normalize ? 1.0 / opt_.normalize->std : 1.0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          // Output (h, w) shows padded (h + dy, w' + dx), w' the mirrored column if flipped.
          const int64_t ww = flip[size_t(b)] ? W - 1 - w : w;
          const int64_t sh = h + dy[size_t(b)] - P, sw = ww + dx[size_t(b)] - P;
          const float v =
              sh >= 0 && sh < H && sw >= 0 && sw < W ? in[b * pixels + (c * H + sh) * W + sw] : pad;
          o[b * pixels + (c * H + h) * W + w] = float((v - mean) * inv_std);
        }
  batch.x = out;
  return batch;
}

}  // namespace descent::data
