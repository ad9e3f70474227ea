#pragma once
// Thread-local switches of the autograd engine.
namespace descent {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool on);
};

// Within its scope no op records a graph (evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Re-enables recording inside a NoGradGuard (used by create_graph backward).
class EnableGradGuard {
 public:
  explicit EnableGradGuard(bool on = true) : prev_(GradMode::is_enabled()) {
    GradMode::set_enabled(on);
  }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {
// Anomaly mode: when on, the first NaN or Inf produced by an op's forward or backward
// throws an Error naming that op. Costs a scan of every output: debugging only.
bool anomaly_enabled();
void set_detect_anomaly(bool on);

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : prev_(anomaly_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(prev_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool prev_;
};
}  // namespace autograd

}  // namespace descent
