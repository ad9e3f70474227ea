#include <descent/core/error.h>
#include <descent/core/grad_mode.h>
#include <descent/data/dataset.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace descent::data {

namespace {

void check_tensor(const Tensor& t, std::string_view what) {
  check(t.defined(), "Dataset", "{} are undefined", what);
  check(t.dim() >= 1, "Dataset", "{} must have a leading example dim, got a 0-dim tensor", what);
  check(t.device().is_cpu(), "Dataset", "{} must be on the CPU, got {}", what, t.device());
}

// Copies whole rows of a contiguous (N, ...) tensor into a new (rows.size(), ...) one.
Tensor gather_rows(const Tensor& src, std::span<const int64_t> rows) {
  Shape shape = src.shape();
  shape[0] = int64_t(rows.size());
  Tensor out = Tensor::empty(shape, {.dtype = src.dtype()});
  const size_t row_bytes = size_t(src.size(0) ? src.numel() / src.size(0) : 0) * src.element_size();
  const char* from = static_cast<const char*>(src.raw_data());
  char* to = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(to + i * row_bytes, from + size_t(rows[i]) * row_bytes, row_bytes);
  }
  return out;
}

template <class T>
Normalization stats_of(const T* p, int64_t n) {
  // Two passes in f64: the mean first, then squared deviations, which keeps the
  // variance accurate when the mean is large relative to the spread.
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(p[i]);
  const double mean = sum / double(n);
  double sq = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(p[i]) - mean;
    sq += d * d;
  }
  return {.mean = mean, .std = n > 1 ? std::sqrt(sq / double(n - 1)) : 0.0};
}

}  // namespace

Dataset::Dataset(Tensor inputs, Tensor targets) {
  check_tensor(inputs, "inputs");
  check_tensor(targets, "targets");
  check(inputs.size(0) == targets.size(0), "Dataset",
        "inputs have {} rows (shape {}) but targets have {} (shape {}); expected the same",
        inputs.size(0), inputs.shape(), targets.size(0), targets.shape());
  // Detached and contiguous: a data set is not part of any graph, and gather() copies
  // whole rows.
  inputs_ = inputs.detach().contiguous();
  targets_ = targets.detach().contiguous();
}

void Dataset::check_range(int64_t start, int64_t end, std::string_view op) const {
  check(0 <= start && start <= end && end <= size(), op,
        "rows [{}, {}) are out of range for a data set of {} examples", start, end, size());
}

Dataset Dataset::slice(int64_t start, int64_t end) const {
  check_range(start, end, "Dataset::slice");
  Dataset out;
  out.inputs_ = inputs_.narrow(0, start, end - start);
  out.targets_ = targets_.narrow(0, start, end - start);
  return out;
}

std::pair<Dataset, Dataset> Dataset::split(int64_t first) const {
  check(0 <= first && first <= size(), "Dataset::split",
        "got first = {}, expected 0 <= first <= {} (the data set's size)", first, size());
  return {slice(0, first), slice(first, size())};
}

std::pair<Dataset, Dataset> Dataset::random_split(int64_t first, uint64_t seed) const {
  check(0 <= first && first <= size(), "Dataset::random_split",
        "got first = {}, expected 0 <= first <= {} (the data set's size)", first, size());
  Generator gen(seed);
  std::vector<int64_t> order = randperm(size(), &gen).to_vector<int64_t>();
  // Each part keeps the data set's order: a split chooses rows, it does not shuffle.
  std::sort(order.begin(), order.begin() + first);
  std::sort(order.begin() + first, order.end());
  return {subset(std::span(order).first(size_t(first))),
          subset(std::span(order).subspan(size_t(first)))};
}

Dataset Dataset::subset(std::span<const int64_t> rows) const {
  Batch b = gather(rows);
  Dataset out;
  out.inputs_ = b.x;
  out.targets_ = b.y;
  return out;
}

Batch Dataset::gather(std::span<const int64_t> rows) const {
  for (int64_t r : rows) {
    check(0 <= r && r < size(), "Dataset::gather", "row {} is out of range for {} examples", r,
          size());
  }
  return {gather_rows(inputs_, rows), gather_rows(targets_, rows)};
}

Batch Dataset::rows(int64_t start, int64_t end) const {
  check_range(start, end, "Dataset::rows");
  return {inputs_.narrow(0, start, end - start), targets_.narrow(0, start, end - start)};
}

Normalization Dataset::compute_normalization() const {
  check(size() > 0, "Dataset::compute_normalization", "the data set is empty");
  const DType dt = inputs_.dtype();
  check(is_floating(dt), "Dataset::compute_normalization", "inputs must be floating point, got {}",
        dt);
  if (dt == DType::F64) return stats_of(inputs_.data<double>(), inputs_.numel());
  const Tensor f = dt == DType::F32 ? inputs_ : inputs_.to(DType::F32);
  return stats_of(f.data<float>(), f.numel());
}

Dataset Dataset::normalize(Normalization n) const {
  check(is_floating(inputs_.dtype()), "Dataset::normalize", "inputs must be floating point, got {}",
        inputs_.dtype());
  check(n.std > 0.0 && std::isfinite(n.std) && std::isfinite(n.mean), "Dataset::normalize",
        "got mean = {}, std = {}, expected a finite mean and std > 0", n.mean, n.std);
  NoGradGuard no_grad;
  Dataset out;
  out.inputs_ = ((inputs_ - n.mean) * (1.0 / n.std)).contiguous();
  out.targets_ = targets_;
  return out;
}

}  // namespace descent::data
