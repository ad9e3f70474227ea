#pragma once
// Watching a model train: every `every` steps, per parameter the gradient norm, the
// weight norm, the update-to-weight ratio ‖Δw‖/‖w‖ of the optimizer step and the
// fraction of non-finite gradient entries; per leaf module the mean and standard
// deviation of its output and the fraction of exact zeros (dead ReLUs); and the global
// gradient norm. Rows go to a CSV (one row per monitored step, one column per
// quantity: "0.weight.grad_norm", "1.act_zero_fraction", ...) and to records().
//
//   train::Monitor monitor(model, {.every = 50, .csv_path = "runs/monitor.csv"});
//   for (...) {
//     monitor.begin_step(step);        // before the forward: arms the activation hooks
//     Tensor loss = ...; loss.backward();
//     monitor.before_update();         // gradients and weights
//     opt.step();
//     monitor.after_update();          // update ratios; writes the row
//   }
//   fmt::print("{}", monitor.summary());
//
// On unmonitored steps the three calls return at once and the hooks do nothing. A layer
// called more than once in a step (shared weights) is recorded at its first call. The
// model must outlive the monitor, which removes its hooks when destroyed. A non-finite
// gradient is reported by name in the record (first_nonfinite) and on stderr once.
#include <descent/nn/module.h>
#include <descent/train/metrics.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace descent::train {

struct MonitorOptions {
  int64_t every = 50;      // monitor steps 0, every, 2·every, ...
  std::string csv_path{};  // empty: records() only
};

struct ParamRecord {
  std::string name;
  double grad_norm = 0, weight_norm = 0;
  double update_ratio = 0;        // ‖w_after - w_before‖ / ‖w_before‖
  double nonfinite_fraction = 0;  // of the gradient's entries
};
struct ActivationRecord {
  std::string name;  // the module's dotted name
  double mean = 0, std = 0, zero_fraction = 0;
};
struct MonitorRecord {
  int64_t step = 0;
  double global_grad_norm = 0;
  std::vector<ParamRecord> params;
  std::vector<ActivationRecord> activations;
  std::string first_nonfinite;  // the first parameter with a NaN/inf gradient, or ""
};

class Monitor {
 public:
  Monitor(nn::Module& model, MonitorOptions options = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  void begin_step(int64_t step);
  void before_update();
  void after_update();

  const std::vector<MonitorRecord>& records() const { return records_; }
  // A table of the last record: one line per parameter and per layer.
  std::string summary() const;

 private:
  nn::Module& model_;
  MonitorOptions options_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::shared_ptr<nn::Module>, nn::HookHandle>> hooks_;
  bool armed_ = false;
  MonitorRecord current_;
  std::vector<Tensor> before_;  // weights before the update
  std::vector<MonitorRecord> records_;
  std::optional<MetricsWriter> csv_;
  bool warned_ = false;
};

}  // namespace descent::train
