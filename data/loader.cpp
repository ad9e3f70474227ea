#include <descent/core/error.h>
#include <descent/core/random.h>
#include <descent/data/loader.h>
#include <descent/ops/factory.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>
#include <variant>

namespace descent::data {

namespace {

// Batches built ahead of the consumer: one being handed out, one more being built
// keeps the step and the gather overlapped without holding many batches in memory.
constexpr size_t kPrefetchDepth = 2;

}  // namespace

// One epoch's iteration: the row order, and either a synchronous cursor or a worker
// thread feeding a bounded queue.
struct DataLoader::Run {
  using Item = std::variant<Batch, std::exception_ptr>;

  const Dataset& data;
  const LoaderOptions& opt;
  const int64_t epoch;
  const std::vector<int64_t> order;
  const int64_t num_batches;
  int64_t next = 0;  // the next batch to build

  std::thread worker;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  bool stop = false;

  Run(const Dataset& d, const LoaderOptions& o, int64_t ep, std::vector<int64_t> ord,
      int64_t batches, int64_t first)
      : data(d), opt(o), epoch(ep), order(std::move(ord)), num_batches(batches), next(first) {
    if (opt.prefetch && next < num_batches) worker = std::thread([this] { work(); });
  }

  ~Run() {
    if (!worker.joinable()) return;
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    worker.join();
  }

  Batch build(int64_t i) const {
    const int64_t start = i * opt.batch_size;
    const int64_t end = std::min<int64_t>(start + opt.batch_size, int64_t(order.size()));
    Batch b = data.gather(std::span(order).subspan(size_t(start), size_t(end - start)));
    if (opt.transform) b = opt.transform(std::move(b));
    if (opt.augment) b = opt.augment(std::move(b), BatchPosition{epoch, i});
    return b;
  }

  void work() {
    for (int64_t i = next; i < num_batches; ++i) {
      Item item;
      try {
        item = build(i);
      } catch (...) {
        item = std::current_exception();
      }
      const bool failed = item.index() == 1;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || queue.size() < kPrefetchDepth; });
        if (stop) return;
        queue.push_back(std::move(item));
      }
      cv.notify_all();
      if (failed) return;  // the consumer rethrows it; nothing after it is wanted
    }
  }

  Batch take() {
    if (!worker.joinable()) return build(next++);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !queue.empty(); });
    Item item = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    cv.notify_all();
    if (auto* e = std::get_if<std::exception_ptr>(&item)) std::rethrow_exception(*e);
    return std::get<Batch>(std::move(item));
  }
};

DataLoader::DataLoader(Dataset data, LoaderOptions opt) : data_(std::move(data)), opt_(opt) {
  check(opt_.batch_size >= 1, "DataLoader", "got batch_size = {}, expected >= 1", opt_.batch_size);
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::size() const {
  const int64_t n = data_.size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  const int64_t n = data_.size();
  if (!opt_.shuffle) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
  }
  // (seed, epoch) mixed into the generator seed: neighbouring epochs and seeds give
  // unrelated permutations.
  Generator gen(splitmix64(opt_.seed ^ splitmix64(uint64_t(epoch))));
  return randperm(n, &gen).to_vector<int64_t>();
}

void DataLoader::set_epoch(int64_t epoch) {
  check(!run_, "DataLoader::set_epoch", "called during an iteration; expected between epochs");
  check(epoch >= 0, "DataLoader::set_epoch", "got epoch {}, expected >= 0", epoch);
  epoch_ = epoch;
  batch_ = 0;
}

DataLoader::Iterator DataLoader::begin() {
  check(!run_, "DataLoader::begin",
        "another iteration over this loader is still running; expected one at a time");
  // A state saved on the last batch of an epoch resumes at the next epoch.
  if (batch_ > 0 && batch_ >= size()) {
    ++epoch_;
    batch_ = 0;
  }
  run_ = std::make_unique<Run>(data_, opt_, epoch_, order(epoch_), size(), batch_);
  Iterator it(nullptr);
  if (fetch(it.current_)) it.loader_ = this;
  return it;
}

bool DataLoader::fetch(Batch& out) {
  if (batch_ >= size()) {
    finish_run();
    return false;
  }
  try {
    out = run_->take();
  } catch (...) {
    finish_run();
    throw;
  }
  ++batch_;
  return true;
}

void DataLoader::finish_run() {
  run_.reset();  // stops and joins the worker
  ++epoch_;
  batch_ = 0;
}

DataLoader::Iterator::Iterator(Iterator&& o) noexcept
    : loader_(std::exchange(o.loader_, nullptr)), current_(std::move(o.current_)) {}

DataLoader::Iterator::~Iterator() {
  // Still attached: the loop was left early. That epoch counts as finished.
  if (loader_) loader_->finish_run();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  check(loader_ != nullptr, "DataLoader::Iterator", "incremented past the end of the epoch");
  // Detached while fetching, so an exception leaves the loader's bookkeeping to fetch.
  DataLoader* loader = std::exchange(loader_, nullptr);
  if (loader->fetch(current_)) {
    loader_ = loader;
  } else {
    current_ = {};
  }
  return *this;
}

StateDict DataLoader::state_dict() const {
  StateDict s;
  s.numbers["epoch"] = double(epoch_);
  s.numbers["batch"] = double(batch_);
  s.numbers["batch_size"] = double(opt_.batch_size);
  s.numbers["size"] = double(data_.size());
  // 64-bit seeds do not fit a double exactly; keep the bits in an i64 tensor.
  const int64_t seed_bits = std::bit_cast<int64_t>(opt_.seed);
  s.tensors["seed"] = from_vector<int64_t>({seed_bits}, {1});
  return s;
}

void DataLoader::load_state_dict(const StateDict& state) {
  constexpr std::string_view who = "DataLoader::load_state_dict";
  check(!run_, who, "called during an iteration; expected between epochs");
  const double batch_size = state.number("batch_size", who);
  const double n = state.number("size", who);
  check(batch_size == double(opt_.batch_size), who,
        "state is for batch_size {}, this loader has batch_size {}", batch_size, opt_.batch_size);
  check(n == double(data_.size()), who, "state is for a data set of {} examples, this one has {}",
        n, data_.size());
  const int64_t epoch = state.integer("epoch", who);
  const int64_t batch = state.integer("batch", who, 0, int64_t(size()));
  const Tensor& seed = state.tensor("seed", who);
  check(seed.dtype() == DType::I64 && seed.numel() == 1, who,
        "seed must be one i64 value, got {} of shape {}", seed.dtype(), seed.shape());
  opt_.seed = std::bit_cast<uint64_t>(seed.item<int64_t>());
  epoch_ = epoch;
  batch_ = batch;
}

}  // namespace descent::data
