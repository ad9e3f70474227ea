// Sorting rows (backend.h's SortArgs): a stable sort of each row's positions by value,
// NaN greatest, as torch.sort(stable=True). Rows are split among the threads.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace descent::cpu {

namespace {

// a before b in ascending order, NaN after every number.
template <class C>
bool less_nan_last(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(b)) return !std::isnan(a);
    if (std::isnan(a)) return false;
  }
  return a < b;
}

template <class T>
void sort_typed(const SortArgs& a) {
  using C = compute_t<T>;
  const int64_t rows = a.x.shape()[0], n = a.x.shape()[1];
  const T* x = a.x.data<T>();
  T* values = a.values.data<T>();
  int64_t* indices = a.indices.data<int64_t>();
  const bool desc = a.descending;
#pragma omp parallel for if (rows * n >= kParallelThreshold && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * n;
    int64_t* idx = indices + r * n;
    std::iota(idx, idx + n, int64_t(0));
    std::stable_sort(idx, idx + n, [row, desc](int64_t i, int64_t j) {
      const C u = C(row[i]), v = C(row[j]);
      return desc ? less_nan_last(v, u) : less_nan_last(u, v);
    });
    for (int64_t i = 0; i < n; ++i) values[r * n + i] = row[idx[i]];
  }
}

}  // namespace

void CpuBackend::sort(const SortArgs& args) {
  check_sort(args);
  if (args.x.numel() == 0) return;
  visit_dtype(args.x.dtype(), [&]<class T>() { sort_typed<T>(args); });
}

}  // namespace descent::cpu
