// Cumulative sums and products along one dim (backend.h's ScanArgs). Each line
// (o, ·, k) is scanned in order by one thread, so results do not depend on the thread
// count; the lines are split among the threads.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>

#include <type_traits>

namespace descent::cpu {

namespace {

// Integers wrap (the arithmetic runs in the unsigned type), as the elementwise ops.
template <class C>
C combine(ScanOp op, C acc, C v) {
  if constexpr (std::is_integral_v<C>) {
    using U = std::make_unsigned_t<C>;
    return op == ScanOp::Sum ? C(U(acc) + U(v)) : C(U(acc) * U(v));
  } else {
    return op == ScanOp::Sum ? acc + v : acc * v;
  }
}

template <class T>
void scan_typed(const ScanArgs& a) {
  // Floating values accumulate in f64 (as PyTorch's CPU scans): a long f32 running sum
  // keeps its precision, and the CUDA kernel, which does the same, gives the same bits.
  using C = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, compute_t<T>>;
  const T* x = a.x.data<T>();
  T* out = a.out.data<T>();
  const int64_t n = a.n, inner = a.inner, lines = a.outer * a.inner;
  const C start = a.op == ScanOp::Sum ? C(0) : C(1);
#pragma omp parallel for if (lines * n >= kParallelThreshold && lines > 1)
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t base = (line / inner) * n * inner + line % inner;
    C acc = start;
    for (int64_t i = 0; i < n; ++i) {
      acc = combine(a.op, acc, C(x[base + i * inner]));
      out[base + i * inner] = T(acc);
    }
  }
}

}  // namespace

void CpuBackend::scan(const ScanArgs& args) {
  check_scan(args);
  if (args.x.numel() == 0) return;
  visit_dtype(args.x.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) scan_typed<T>(args);
  });
}

}  // namespace descent::cpu
