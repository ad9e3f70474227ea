// Fused optimizer updates on the CPU (backend.h, "fused optimizer updates"). One loop
// serves every rule of backends/optim_rules.h: the rule's switches become compile-time
// constants, so the `omp simd` loop over its element function has no branches, and
// ranges above kParallelThreshold elements are split among the OpenMP threads. Results
// do not depend on the thread count (pure elementwise maps).
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>
#include <omp.h>

#include <algorithm>
#include <type_traits>

namespace descent::cpu {

namespace {

// body(begin, end) over [0, n). Large ranges go to the threads in blocks handed out
// dynamically: on a busy machine a descheduled thread then delays the step by one
// block, not by its whole static share. Blocks are multiples of 16 elements, so each
// starts vector-aligned.
constexpr int64_t kBlock = 1 << 16;

template <class F>
void parallel_range(int64_t n, F&& body) {
  if (n < kParallelThreshold || omp_get_max_threads() == 1) {
    body(int64_t(0), n);
    return;
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < blocks; ++k) {
    body(k * kBlock, std::min(n, (k + 1) * kBlock));
  }
}

// Calls f(std::integral_constant<unsigned, on>) for the run-time switch set `on`
// (a subset of kAll), one instantiation per subset: the loop body then tests constants.
template <unsigned kAll, unsigned kFixed = 0, class F>
void dispatch_switches(unsigned on, F&& f) {
  if constexpr (kAll == 0) {
    f(std::integral_constant<unsigned, kFixed>{});
  } else {
    constexpr unsigned bit = kAll & (~kAll + 1);  // the lowest switch left
    if (on & bit) {
      dispatch_switches<kAll & ~bit, kFixed | bit>(on, f);
    } else {
      dispatch_switches<kAll & ~bit, kFixed>(on, f);
    }
  }
}

template <class Rule, class T>
void run_update(const Update<Rule>& u) {
  const auto c = u.rule.template consts<T>();
  T* __restrict p = u.param.template data<T>();
  const T* __restrict g = u.grad.template data<T>();
  T* slot[Rule::kSlots];
  for (int k = 0; k < Rule::kSlots; ++k) {
    slot[k] = u.rule.uses_slot(k) ? u.slots[k].template data<T>() : nullptr;
  }
  dispatch_switches<Rule::kAllSwitches>(u.rule.switches(), [&](auto on) {
    parallel_range(u.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) Rule::step(c, on, i, p, g, slot);
    });
  });
}

template <class Rule>
void run_updates(std::span<const Update<Rule>> updates) {
  for (const Update<Rule>& u : updates) check_update(u, Device::CPU);
  for (const Update<Rule>& u : updates) {
    if (u.param.dtype() == DType::F64) {
      run_update<Rule, double>(u);
    } else {
      run_update<Rule, float>(u);
    }
  }
}

}  // namespace

void CpuBackend::optimizer_step(UpdateSpan updates) {
  std::visit([](auto span) { run_updates(span); }, updates);
}

}  // namespace descent::cpu
