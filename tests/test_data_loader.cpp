// DataLoader: batching and drop_last, seeded per-epoch shuffles, exact resume from a
// state dict (mid-epoch included), early break, the prefetch thread (it builds ahead,
// stops on break, passes exceptions to the consumer) and argument errors.
#include <descent/data/loader.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

// Row i holds 2i, 2i+1; its target is i, so a batch's targets name its rows.
data::Dataset numbered(int64_t n) {
  return data::Dataset(arange(double(n * 2)).reshape({n, 2}),
                       arange(double(n), {.dtype = DType::I64}));
}

// The targets of every batch of one epoch.
std::vector<std::vector<int64_t>> epoch_rows(data::DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (auto [x, y] : loader) out.push_back(y.to_vector<int64_t>());
  return out;
}

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& v) {
  std::vector<int64_t> out;
  for (const auto& b : v) out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Waits up to 10 s for `pred`; the slack only matters on a badly overloaded machine.
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

TEST(DataLoader, SequentialBatchesAndLastPartialBatch) {
  for (bool prefetch : {false, true}) {
    data::DataLoader loader(numbered(10), {.batch_size = 4, .prefetch = prefetch});
    EXPECT_EQ(loader.size(), 3);
    std::vector<Shape> shapes;
    std::vector<float> xs;
    for (auto [x, y] : loader) {
      shapes.push_back(x.shape());
      const auto v = x.to_vector<float>();
      xs.insert(xs.end(), v.begin(), v.end());
      EXPECT_EQ(y.dtype(), DType::I64);
    }
    EXPECT_EQ(shapes, (std::vector<Shape>{{4, 2}, {4, 2}, {2, 2}}));
    EXPECT_EQ(xs, arange(20.0).to_vector<float>());
    EXPECT_EQ(loader.epoch(), 1);
  }
}

TEST(DataLoader, DropLast) {
  data::DataLoader loader(numbered(10), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(loader.size(), 2);
  const auto rows = epoch_rows(loader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(flat(rows), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  data::DataLoader small(numbered(3), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(small.size(), 0);
  EXPECT_TRUE(epoch_rows(small).empty());
  data::DataLoader empty(data::Dataset(zeros({0, 2}), zeros({0})), {.batch_size = 2});
  EXPECT_TRUE(epoch_rows(empty).empty());
}

TEST(DataLoader, BatchesAreCopies) {
  const data::Dataset ds = numbered(4);
  data::DataLoader loader(ds, {.batch_size = 2});
  for (auto [x, y] : loader) x.fill_(-1.0);
  EXPECT_EQ(ds.inputs().to_vector<float>(), arange(8.0).to_vector<float>());
}

TEST(DataLoader, ShuffleIsAPermutationPerEpochAndReproducible) {
  const int64_t n = 103;
  data::DataLoader a(numbered(n), {.batch_size = 10, .shuffle = true, .seed = 42});
  data::DataLoader b(numbered(n), {.batch_size = 10, .shuffle = true, .seed = 42});
  data::DataLoader c(numbered(n), {.batch_size = 10, .shuffle = true, .seed = 43});
  std::vector<std::vector<int64_t>> epochs_a;
  for (int e = 0; e < 3; ++e) {
    const auto ra = flat(epoch_rows(a));
    EXPECT_EQ(ra, flat(epoch_rows(b))) << "epoch " << e;
    EXPECT_NE(ra, flat(epoch_rows(c))) << "epoch " << e;
    EXPECT_EQ(ra, a.order(e));
    auto sorted = ra;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, arange(double(n), {.dtype = DType::I64}).to_vector<int64_t>());
    epochs_a.push_back(ra);
  }
  EXPECT_NE(epochs_a[0], epochs_a[1]);
  EXPECT_NE(epochs_a[1], epochs_a[2]);
  // The order is a function of (seed, epoch) only.
  data::DataLoader d(numbered(n), {.batch_size = 7, .shuffle = true, .seed = 42});
  d.set_epoch(2);
  EXPECT_EQ(flat(epoch_rows(d)), epochs_a[2]);
}

TEST(DataLoader, PrefetchDoesNotChangeTheBatches) {
  data::DataLoader on(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 5});
  data::DataLoader off(numbered(50),
                       {.batch_size = 8, .shuffle = true, .seed = 5, .prefetch = false});
  for (int e = 0; e < 2; ++e) EXPECT_EQ(epoch_rows(on), epoch_rows(off));
}

TEST(DataLoader, ResumesMidEpochFromStateDict) {
  const auto opts = data::LoaderOptions{.batch_size = 6, .shuffle = true, .seed = 9};
  // Reference: three uninterrupted epochs.
  data::DataLoader full(numbered(40), opts);
  std::vector<std::vector<int64_t>> want;
  for (int e = 0; e < 3; ++e) {
    for (const auto& b : epoch_rows(full)) want.push_back(b);
  }
  // A run that saves its state after batch 3 of epoch 1 and stops there.
  data::DataLoader first(numbered(40), opts);
  std::vector<std::vector<int64_t>> got = epoch_rows(first);
  StateDict saved;
  int i = 0;
  for (auto [x, y] : first) {
    got.push_back(y.to_vector<int64_t>());
    if (++i == 3) {
      saved = first.state_dict();
      break;
    }
  }
  EXPECT_EQ(saved.numbers.at("epoch"), 1.0);
  EXPECT_EQ(saved.numbers.at("batch"), 3.0);
  // A fresh loader (another seed in its options: the state's seed wins) continues.
  data::DataLoader resumed(numbered(40), {.batch_size = 6, .shuffle = true, .seed = 1234});
  resumed.load_state_dict(saved);
  EXPECT_EQ(resumed.epoch(), 1);
  for (int e = 0; e < 2; ++e) {
    for (const auto& b : epoch_rows(resumed)) got.push_back(b);
  }
  EXPECT_EQ(got, want);
}

TEST(DataLoader, StateSavedOnTheLastBatchResumesAtTheNextEpoch) {
  const auto opts = data::LoaderOptions{.batch_size = 5, .shuffle = true, .seed = 2};
  data::DataLoader a(numbered(10), opts);
  StateDict saved;
  for (auto [x, y] : a) saved = a.state_dict();
  EXPECT_EQ(saved.numbers.at("batch"), 2.0);
  data::DataLoader b(numbered(10), opts);
  b.load_state_dict(saved);
  EXPECT_EQ(flat(epoch_rows(b)), a.order(1));
  EXPECT_EQ(b.epoch(), 2);
}

TEST(DataLoader, LoadStateDictChecksItFits) {
  data::DataLoader a(numbered(10), {.batch_size = 5});
  const StateDict s = a.state_dict();
  data::DataLoader other_batch(numbered(10), {.batch_size = 4});
  EXPECT_THROW_MSG(other_batch.load_state_dict(s),
                   "state is for batch_size 5, this loader has batch_size 4");
  data::DataLoader other_size(numbered(11), {.batch_size = 5});
  EXPECT_THROW_MSG(other_size.load_state_dict(s), "state is for a data set of 10 examples");
  StateDict broken = s;
  broken.numbers.erase("epoch");
  EXPECT_THROW_MSG(a.load_state_dict(broken), "state dict has no number 'epoch'");
  broken = s;
  broken.numbers["batch"] = 3;
  EXPECT_THROW_MSG(a.load_state_dict(broken), "'batch' is 3, expected a whole number in [0, 2]");
  broken.numbers["batch"] = 1;
  broken.numbers["epoch"] = std::nan("");
  EXPECT_THROW_MSG(a.load_state_dict(broken), "'epoch' is nan");
}

TEST(DataLoader, SeedKeepsAll64Bits) {
  const uint64_t seed = 0xFEDCBA9876543210ull;
  data::DataLoader a(numbered(20), {.batch_size = 4, .shuffle = true, .seed = seed});
  data::DataLoader b(numbered(20), {.batch_size = 4, .shuffle = true});
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(b.options().seed, seed);
  EXPECT_EQ(flat(epoch_rows(b)), a.order(0));
}

TEST(DataLoader, BreakEndsTheEpoch) {
  for (bool prefetch : {false, true}) {
    data::DataLoader loader(numbered(100),
                            {.batch_size = 2, .shuffle = true, .seed = 1, .prefetch = prefetch});
    for (auto [x, y] : loader) {
      (void)x;
      break;
    }
    EXPECT_EQ(loader.epoch(), 1);
    // The next loop is a whole epoch 1, from its first batch.
    EXPECT_EQ(flat(epoch_rows(loader)), loader.order(1));
    EXPECT_EQ(loader.epoch(), 2);
  }
}

TEST(DataLoader, PrefetchBuildsTheNextBatchWhileTheStepRuns) {
  std::atomic<int> built{0};
  std::atomic<bool> other_thread{false};
  const auto main_id = std::this_thread::get_id();
  auto transform = [&](data::Batch b) {
    if (std::this_thread::get_id() != main_id) other_thread = true;
    ++built;
    return b;
  };
  data::DataLoader loader(numbered(12), {.batch_size = 2, .transform = transform});
  int k = 0;
  for (auto [x, y] : loader) {
    // While batch k is being used, batch k+1 gets built without the consumer asking.
    if (k + 1 < loader.size()) {
      EXPECT_TRUE(eventually([&] { return built >= k + 2; })) << k;
    }
    ++k;
  }
  EXPECT_EQ(built, 6);
  EXPECT_TRUE(other_thread);

  built = 0;
  other_thread = false;
  data::DataLoader sync(numbered(12), {.batch_size = 2, .prefetch = false, .transform = transform});
  k = 0;
  for (auto [x, y] : sync) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(built, k + 1);  // nothing is built ahead
    ++k;
  }
  EXPECT_FALSE(other_thread);
}

TEST(DataLoader, BreakStopsAWorkerBlockedOnAFullQueue) {
  std::atomic<int> built{0};
  data::DataLoader loader(numbered(1000), {.batch_size = 1, .transform = [&](data::Batch b) {
                                             ++built;
                                             return b;
                                           }});
  for (auto [x, y] : loader) {
    // Let the worker fill its queue and block.
    EXPECT_TRUE(eventually([&] { return built >= 3; }));
    break;
  }
  // Joined: nothing is built after the loop, and far fewer than 1000 batches were.
  const int after = built;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(built, after);
  EXPECT_LE(after, 4);
}

TEST(DataLoader, ExceptionsReachTheConsumerAtTheirBatch) {
  for (bool prefetch : {false, true}) {
    auto transform = [](data::Batch b) {
      check(b.y.to_vector<int64_t>()[0] != 6, "augment", "bad batch starting at row {}", 6);
      return b;
    };
    data::DataLoader loader(numbered(10),
                            {.batch_size = 2, .prefetch = prefetch, .transform = transform});
    std::vector<int64_t> seen;
    auto consume = [&] {
      for (auto [x, y] : loader) {
        const auto v = y.to_vector<int64_t>();
        seen.insert(seen.end(), v.begin(), v.end());
      }
    };
    EXPECT_THROW_MSG(consume(), "augment: bad batch starting at row 6");
    EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5})) << "prefetch " << prefetch;
    // The failed epoch is over; the loader still works.
    EXPECT_EQ(loader.epoch(), 1);
    EXPECT_THROW_MSG(epoch_rows(loader), "bad batch");
  }
  // A failure in the very first batch comes out of begin().
  data::DataLoader first(
      numbered(4), {.batch_size = 2,
                    .transform = [](data::Batch) -> data::Batch { fail("augment", "always"); }});
  EXPECT_THROW_MSG(first.begin(), "augment: always");
  EXPECT_EQ(first.epoch(), 1);
}

TEST(DataLoader, TransformChangesBatches) {
  data::DataLoader loader(numbered(4), {.batch_size = 2, .transform = [](data::Batch b) {
                                          return data::Batch{b.x * 2.0, b.y};
                                        }});
  std::vector<float> xs;
  for (auto [x, y] : loader) {
    for (float v : x.to_vector<float>()) xs.push_back(v);
  }
  EXPECT_EQ(xs, (std::vector<float>{0, 2, 4, 6, 8, 10, 12, 14}));
}

TEST(DataLoader, Errors) {
  EXPECT_THROW_MSG(data::DataLoader(numbered(4), {.batch_size = 0}),
                   "DataLoader: got batch_size = 0, expected >= 1");
  data::DataLoader loader(numbered(4), {.batch_size = 2});
  auto it = loader.begin();
  EXPECT_THROW_MSG(loader.begin(), "another iteration over this loader is still running");
  EXPECT_THROW_MSG(loader.set_epoch(3), "called during an iteration");
  EXPECT_THROW_MSG(loader.load_state_dict(loader.state_dict()), "called during an iteration");
  ++it;
  ++it;
  EXPECT_TRUE(it == loader.end());
  EXPECT_THROW_MSG(++it, "incremented past the end of the epoch");
  EXPECT_THROW_MSG(loader.set_epoch(-1), "got epoch -1, expected >= 0");
}
