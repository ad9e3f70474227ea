#include <descent/optim/update_batch.h>

namespace descent::optim {

namespace {
// Runs `all` per device, keeping each device's updates in submission order.
template <class Rule>
void run(std::vector<Update<Rule>>& all) {
  if (all.empty()) return;
  auto groups =
      split_by_device(std::move(all), [](const Update<Rule>& u) { return u.param.device(); });
  all.clear();
  for (const auto& [dev, here] : groups) {
    backend_for(dev).optimizer_step(std::span<const Update<Rule>>(here));
    // The parameters and slots changed in place: a graph that saved a parameter before
    // this step can no longer run its backward (Storage::version).
    for (const Update<Rule>& u : here) {
      u.param.storage()->bump_version();
      for (const Tensor& slot : u.slots) {
        if (slot.defined()) slot.storage()->bump_version();
      }
    }
  }
}
}  // namespace

void UpdateBatch::flush() {
  std::apply([](auto&... lists) { (run(lists), ...); }, pending_);
}

}  // namespace descent::optim
