#include "optim/update_batch.h"

#include <exception>

namespace descent::optim {

namespace {
thread_local UpdateBatch* t_current = nullptr;

// Runs `all` per device, keeping each device's updates in submission order.
template <class Args>
void run(std::vector<Args>& all) {
  auto groups = split_by_device(std::move(all), [](const Args& a) { return a.param.device(); });
  all.clear();
  for (const auto& [dev, here] : groups) backend_for(dev).update_multi(std::span<const Args>(here));
}
}  // namespace

UpdateBatch::UpdateBatch() : outer_(t_current), uncaught_(std::uncaught_exceptions()) {
  t_current = this;
}

UpdateBatch::~UpdateBatch() noexcept(false) {
  t_current = outer_;
  if (std::uncaught_exceptions() > uncaught_) return;  // unwinding: drop the step
  flush();
}

void UpdateBatch::flush() {
  std::apply([](auto&... lists) { (run(lists), ...); }, pending_);
}

UpdateBatch* UpdateBatch::current() { return t_current; }

}  // namespace descent::optim
