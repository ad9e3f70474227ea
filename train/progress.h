#pragma once
// ProgressBar: one epoch's progress — epoch, batch i/N, running loss (the mean over
// the epoch's examples so far), samples/s and ETA.
//
//   train::ProgressBar bar({.total = loader.size(), .epoch = e + 1, .epochs = epochs});
//   for (auto [x, y] : loader) { ...; bar.update(loss.item(), x.size(0)); }
//   bar.finish();
//
// On a terminal it redraws one line in place (at most every `redraw_s`, and on the
// last batch). Otherwise (a log file, a pipe) it prints a plain line whenever another
// 10% of the batches are done or `plain_interval_s` passed since the last line, so logs
// stay short. Throws descent::Error for total < 0 or samples < 0.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace descent::train {

enum class ProgressMode {
  Auto,      // Terminal when `out` is std::cout / std::cerr and that is a terminal
  Terminal,  // one line redrawn with '\r'
  Plain,     // periodic lines
};

struct ProgressOptions {
  int64_t total = 0;            // batches in the epoch (0: unknown, no ETA)
  int64_t epoch = 0;            // shown as is ("epoch 3/10"); 0 hides the epoch
  int64_t epochs = 0;           // 0 hides the "/10"
  std::ostream* out = nullptr;  // null: std::cout
  ProgressMode mode = ProgressMode::Auto;
  double plain_interval_s = 30.0;
  double redraw_s = 0.1;
  int bar_width = 24;
  // Seconds since any fixed point; null: std::chrono::steady_clock. Tests inject one.
  std::function<double()> clock = {};
};

class ProgressBar {
 public:
  explicit ProgressBar(ProgressOptions opt = {});
  ~ProgressBar();  // finish() if not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // One batch done: its mean loss over `samples` examples.
  void update(double loss, int64_t samples);
  // Prints the final state (and ends the terminal line). Idempotent.
  void finish();

  bool terminal() const { return terminal_; }
  int64_t batches() const { return batches_; }
  double mean_loss() const;
  // The text of the current state, without line control characters.
  std::string line() const;

 private:
  void print();
  double now() const;

  ProgressOptions opt_;
  std::ostream* out_;
  bool terminal_;
  bool finished_ = false;
  double start_;
  double last_print_;
  int64_t batches_ = 0, samples_ = 0;
  int64_t printed_batches_ = -1;  // batches at the last line printed
  int64_t next_decile_ = 1;       // plain mode: print when batches reach this tenth
  double loss_sum_ = 0.0;         // Σ loss·samples
};

}  // namespace descent::train
