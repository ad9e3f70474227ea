#pragma once
// IDX files (the MNIST / Fashion-MNIST format): a big-endian header
//   0x00 0x00 <type> <ndim> <d0:u32> ... <d(ndim-1):u32>
// followed by d0·d1·… values. Only unsigned bytes (type 0x08) are supported — what the
// image and label files hold. Files may be raw or gzip-compressed (.gz).
//
//   auto train = data::Idx::load("datasets/fashion-mnist", data::Split::Train);
//   // train.inputs(): f32 (N, 784) in [0, 1]; train.targets(): i64 (N)
//
// Every problem — missing file, wrong magic number, unsupported type, truncated data,
// trailing bytes, bad dims, image/label count mismatch — throws descent::Error naming
// the file and what is wrong.
#include <descent/data/dataset.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace descent::data {

enum class Split { Train, Test };

// How images come out: flat rows (N, rows·cols) for MLPs, or (N, 1, rows, cols) for
// convolutions.
enum class ImageLayout { Flat, Image };

struct IdxOptions {
  ImageLayout layout = ImageLayout::Flat;
};

// The decoded contents of one IDX file.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // row-major, dims' product of them
};

// Reads one IDX file (raw or gzip). Throws descent::Error naming `path`.
IdxArray read_idx(const std::string& path);

// Decodes an IDX image held in memory (not compressed) with read_idx's checks; `source`
// stands for the file name in errors.
IdxArray parse_idx(std::span<const uint8_t> bytes, std::string_view source = "<memory>");

// Writes `array` as a raw IDX file of unsigned bytes (used to build data sets and test
// fixtures). Throws descent::Error when the file cannot be written or dims are bad.
void write_idx(const std::string& path, const IdxArray& array);

struct Idx {
  // Loads the image and label files of `split` from `dir`:
  //   Train: train-images-idx3-ubyte, train-labels-idx1-ubyte
  //   Test:  t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte
  // each raw or with a .gz suffix. Images (N, rows, cols) become f32 values / 255;
  // labels (N) become i64.
  static Dataset load(const std::string& dir, Split split, IdxOptions opt = {});

  // The path load() would read for the images or labels of `split`: the raw file if
  // present, else the .gz one. Throws when neither exists.
  static std::string images_path(const std::string& dir, Split split);
  static std::string labels_path(const std::string& dir, Split split);
};

}  // namespace descent::data
