#pragma once
// DataLoader: batches of a Dataset, optionally shuffled, built ahead on a background
// thread while the training step runs.
//
//   data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
//   for (int e = 0; e < epochs; ++e)
//     for (auto [x, y] : loader) { ... }          // x: (B, ...) y: (B, ...)
//
// Each range-for is one epoch. With shuffle, epoch e visits the rows in the order
// randperm(N) drawn from a Generator seeded by (seed, e), so the order depends only on
// the seed and the epoch number. Batches are fresh tensors (never views of the data
// set). The last batch is smaller unless drop_last.
//
// State: state_dict() holds the epoch, how many batches of it were handed out, the
// seed, batch size and data set size. Loading it into a loader over the same data makes
// the next range-for continue exactly where the saved one was (mid-epoch included),
// with the same order. An epoch left early (break, exception) counts as finished: the
// next range-for starts the following epoch.
//
// Prefetch: the next batches (two at most) are gathered — and `transform` and `augment`
// run — on a
// worker thread. The worker is stopped and joined when the loop ends, breaks, or
// throws; an exception thrown while building a batch reaches the consumer at that
// batch. One iteration at a time: begin() during another throws descent::Error.
#include <descent/core/state_dict.h>
#include <descent/data/dataset.h>
#include <descent/data/transforms.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace descent::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;
  bool prefetch = true;
  // Applied to every batch before it is handed out (augmentation, dtype changes). With
  // prefetch it runs on the worker thread, so it should touch only its batch.
  std::function<Batch(Batch)> transform = {};
  // Random augmentation (data::ImageAugment, or any function of the batch and its
  // position), applied after `transform`. It gets the epoch and batch index so that its
  // draws can depend on them alone: a resumed run then sees the same batches.
  std::function<Batch(Batch, BatchPosition)> augment = {};
};

class DataLoader {
 public:
  struct Sentinel {};
  // Move-only input iterator; `*it` is the current batch.
  class Iterator {
   public:
    Iterator(Iterator&& o) noexcept;
    Iterator& operator=(Iterator&&) = delete;
    ~Iterator();
    const Batch& operator*() const { return current_; }
    Iterator& operator++();
    bool operator==(Sentinel) const { return loader_ == nullptr; }

   private:
    friend class DataLoader;
    explicit Iterator(DataLoader* loader) : loader_(loader) {}
    DataLoader* loader_;  // null once the epoch is over
    Batch current_;
  };

  // Throws for batch_size < 1.
  DataLoader(Dataset data, LoaderOptions opt = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  Iterator begin();
  Sentinel end() const { return {}; }

  // Batches per epoch: ceil(N / batch_size), or floor with drop_last.
  int64_t size() const;
  const Dataset& dataset() const { return data_; }
  const LoaderOptions& options() const { return opt_; }
  // The epoch the next (or the running) range-for visits; set_epoch restarts at its
  // first batch.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch);
  // The row order of an epoch (0..N-1 without shuffle).
  std::vector<int64_t> order(int64_t epoch) const;

  StateDict state_dict() const;
  // Throws when the state comes from a loader with another batch size or data set size.
  void load_state_dict(const StateDict& state);

 private:
  struct Run;
  bool fetch(Batch& out);  // false at the end of the epoch
  void finish_run();

  Dataset data_;
  LoaderOptions opt_;
  int64_t epoch_ = 0;
  int64_t batch_ = 0;  // batches of epoch_ handed out
  std::unique_ptr<Run> run_;
};

}  // namespace descent::data
