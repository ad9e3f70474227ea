#pragma once
// Smith's LR range test ("Cyclical Learning Rates", §3.3; fastai's lr_find): train a
// few steps while the lr grows from start_lr to end_lr, record the loss, and suggest
// the lr where the smoothed loss falls fastest.
//
//   auto r = train::lr_range_test(opt, [&] {
//     Tensor loss = F::mse_loss(model(x), y);
//     loss.backward();
//     return loss.item<double>();
//   }, {.end_lr = 1.0, .csv_path = "lr_range.csv"});
//   opt.set_lr(*r.suggested_lr);
//
// Each step sets every group's lr, calls opt.zero_grad(), runs the closure (forward +
// backward, returns the loss) and calls opt.step(). The loss is smoothed by a
// bias-corrected exponential moving average; the test stops early when the smoothed
// loss exceeds divergence × the best smoothed loss (meant for positive losses), or the
// loss is not finite. With
// restore (the default) the parameters' values and gradients, the optimizer's state,
// its group lrs and `extra_state` tensors (e.g. BatchNorm running stats) are put back
// in place afterwards, also when the closure throws. Throws descent::Error for
// start_lr ≤ 0, end_lr ≤ start_lr, num_steps < 2, smoothing outside [0, 1),
// divergence ≤ 1, or a CSV file that cannot be written.
#include <descent/core/tensor.h>
#include <descent/optim/optimizer.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace descent::train {

enum class LrRangeMode { Exponential, Linear };

struct LrRangeOptions {
  double start_lr = 1e-7;
  double end_lr = 10.0;
  int64_t num_steps = 100;
  LrRangeMode mode = LrRangeMode::Exponential;
  double smoothing = 0.98;  // EMA coefficient; 0 uses the raw loss
  double divergence = 4.0;  // stop when smoothed loss > divergence × best smoothed loss
  bool restore = true;
  std::string csv_path{};             // empty: no file; columns step,lr,loss,smoothed_loss
  std::vector<Tensor> extra_state{};  // more tensors to restore in place
  // Points left out of the suggestion at each end (noisy start, divergent end), as
  // torch-lr-finder; fewer when the curve is short.
  int64_t skip_start = 10;
  int64_t skip_end = 5;
};

struct LrRangeResult {
  std::vector<double> lrs;              // the lr of each step taken
  std::vector<double> losses;           // what the closure returned
  std::vector<double> smoothed_losses;  // bias-corrected EMA of the losses
  bool diverged = false;                // stopped early
  double best_loss = 0;                 // the lowest smoothed loss
  // The lr at the steepest descent of smoothed loss against log(lr); nullopt when
  // fewer than 3 steps were recorded.
  std::optional<double> suggested_lr;
  std::optional<size_t> suggested_index;
};

LrRangeResult lr_range_test(optim::Optimizer& opt, const std::function<double()>& step_closure,
                            const LrRangeOptions& options = {});

}  // namespace descent::train
