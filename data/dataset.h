#pragma once
// Dataset: an in-memory set of examples, inputs (N, ...) paired row by row with
// targets (N, ...), both CPU tensors of any dtype, stored contiguous.
//
//   data::Dataset ds(x, y);                       // x: (N, 784) f32, y: (N) i64
//   auto [train, val] = ds.split(50000);          // views, no copy
//   auto stats = train.compute_normalization();   // mean / std of every input value
//   train = train.normalize(stats); val = val.normalize(stats);
//
// Throws descent::Error ("Dataset...") for undefined or non-CPU tensors, row-count
// mismatches, out-of-range rows, and normalising non-float inputs or by std <= 0.
#include <descent/core/tensor.h>

#include <cstdint>
#include <span>
#include <utility>

namespace descent::data {

// One batch: inputs (B, ...) and targets (B, ...). `for (auto [x, y] : loader)`.
struct Batch {
  Tensor x;
  Tensor y;
};

// A scalar affine normalisation x → (x - mean) / std, as torchvision's Normalize with
// one channel.
struct Normalization {
  double mean = 0.0;
  double std = 1.0;
};

class Dataset {
 public:
  Dataset() = default;
  Dataset(Tensor inputs, Tensor targets);

  int64_t size() const { return inputs_.defined() ? inputs_.size(0) : 0; }
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

  // Rows [start, end) sharing storage with this dataset.
  Dataset slice(int64_t start, int64_t end) const;
  // The first `first` rows and the rest (views): a train / validation split.
  std::pair<Dataset, Dataset> split(int64_t first) const;
  // `first` rows drawn at random and the rest (copies, each in its original order),
  // as torch.utils.data.random_split with a seeded generator: the same seed gives the
  // same split on every machine and thread count.
  std::pair<Dataset, Dataset> random_split(int64_t first, uint64_t seed) const;
  // A copy holding the given rows, in that order.
  Dataset subset(std::span<const int64_t> rows) const;
  // The given rows as a fresh batch. Copies bytes only (no ops, no OpenMP), so a
  // background thread may call it while the main thread runs the model.
  Batch gather(std::span<const int64_t> rows) const;
  // Rows [start, end) as a batch (views).
  Batch rows(int64_t start, int64_t end) const;

  // Mean and std (unbiased, as torch.std) of every input value, computed in f64.
  Normalization compute_normalization() const;
  // A dataset with inputs (x - mean) / std in the inputs' float dtype; targets shared.
  Dataset normalize(Normalization n) const;

 private:
  void check_range(int64_t start, int64_t end, std::string_view op) const;
  Tensor inputs_;
  Tensor targets_;
};

}  // namespace descent::data
