#include <descent/core/grad_mode.h>

#include <atomic>

namespace descent {

namespace {
thread_local bool grad_enabled = true;
std::atomic<bool> anomaly{false};
}  // namespace

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool on) { grad_enabled = on; }

namespace autograd {
bool anomaly_enabled() { return anomaly.load(std::memory_order_relaxed); }
void set_detect_anomaly(bool on) { anomaly.store(on); }
}  // namespace autograd

}  // namespace descent
