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
  }
}
}  // namespace

void UpdateBatch::flush() {
  std::apply([](auto&... lists) { (run(lists), ...); }, pending_);
}

}  // namespace descent::optim
