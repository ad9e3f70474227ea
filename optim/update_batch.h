#pragma once
// Multi-tensor optimizer steps. The optimizers' per-parameter rules hand their fused
// update to detail::submit. Inside an UpdateBatch (GroupedOptimizer::step opens one)
// the updates are collected and run when the batch ends, per device and kind, through
// the backends' *_update_multi slots: a GPU then updates every parameter in a few
// launches instead of one (or several) per parameter. Outside a batch an update runs
// at once. Updates of different parameters are independent, so the order does not
// change any result.
#include <tuple>
#include <vector>

#include "backends/backend.h"

namespace descent::optim {

class UpdateBatch {
 public:
  UpdateBatch();
  // Runs what was collected unless the step is being unwound by an exception.
  ~UpdateBatch() noexcept(false);
  UpdateBatch(const UpdateBatch&) = delete;
  UpdateBatch& operator=(const UpdateBatch&) = delete;

  template <class Args>
  void add(const Args& args) {
    std::get<std::vector<Args>>(pending_).push_back(args);
  }
  // Runs and clears everything collected so far.
  void flush();

  // The innermost batch open on this thread, or null.
  static UpdateBatch* current();

 private:
  std::tuple<
      std::vector<SgdUpdateArgs>, std::vector<RmspropUpdateArgs>, std::vector<AdamUpdateArgs>,
      std::vector<NadamUpdateArgs>, std::vector<RadamUpdateArgs>, std::vector<AdagradUpdateArgs>,
      std::vector<AdadeltaUpdateArgs>, std::vector<AdamaxUpdateArgs>, std::vector<LionUpdateArgs>>
      pending_;
  UpdateBatch* outer_;
  int uncaught_;
};

namespace detail {
// Runs one fused update now, or at the end of the current UpdateBatch.
template <class Args>
void submit(const Args& args) {
  if (UpdateBatch* b = UpdateBatch::current()) {
    b->add(args);
  } else {
    backend_for(args.param).update_multi(std::span<const Args>(&args, 1));
  }
}
}  // namespace detail

}  // namespace descent::optim
