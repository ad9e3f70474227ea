#pragma once
// Dynamic loss scaling for mixed-precision training (torch.cuda.amp.GradScaler's rules):
// the loss is multiplied by `scale` before backward so small 16-bit gradients do not
// flush to zero; unscale_ divides the gradients back; step looks for inf/NaN and skips
// the update when it finds any; update backs the scale off after such a step and grows
// it after `growth_interval` finite steps in a row.
//
// Neither unscale_ nor clipping rewrites the gradients: 1/scale joins each gradient's
// pending scale, which the optimizer's fused update applies (core/tensor.h, "deferred
// gradient scaling"). The inf check is one read of the gradients, skipped for those
// clip_grad_norm_ already found finite; so a step reads them twice in all.
//
//   scaler.scale(loss).backward();
//   scaler.unscale_(opt);                          // optional: before clipping
//   nn::utils::clip_grad_norm_(params, 1.0);
//   scaler.step(opt);                              // skipped on inf/NaN
//   scaler.update();
#include <descent/core/state_dict.h>
#include <descent/optim/optimizer.h>

#include <cstdint>
#include <map>

namespace descent::amp {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  // The scale never backs off below this (torch's has no floor, so a run whose gradients
  // are never finite halves it to 0 and then skips every step without a word).
  double min_scale = 1.0 / 65536;  // 2^-16
  // After this many skipped steps in a row, update() writes one warning to stderr per
  // streak: the model or the loss itself is producing inf/NaN. 0: never.
  int64_t warn_after_skipped = 100;
  bool enabled = true;  // a disabled scaler is a no-op: scale() returns the loss as is
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions opt = {});

  // loss · scale (a differentiable op); the loss itself when disabled.
  Tensor scale(const Tensor& loss) const;
  // Divides every gradient of `opt` by the scale (deferred: grad() shows it divided).
  // Calling it twice for one optimizer before update() is an error.
  void unscale_(optim::Optimizer& opt);
  // unscale_ (unless already done), then opt.step() unless a gradient is not finite.
  // Returns whether the optimizer stepped. Calling it twice before update() is an error.
  bool step(optim::Optimizer& opt);
  // Adjusts the scale from this iteration's inf checks and resets them; needs at least
  // one step() (or unscale_) since the last update when enabled.
  void update();

  double get_scale() const { return enabled() ? scale_ : 1.0; }
  bool enabled() const { return opt_.enabled; }
  int64_t growth_tracker() const { return growth_tracker_; }
  // Updates in a row whose iteration found inf/NaN (0 after a finite one).
  int64_t consecutive_skipped() const { return consecutive_skipped_; }
  // Whether `opt`'s gradients hold an inf/NaN this iteration (after unscale_ or step(); a
  // skipped step).
  bool found_inf(const optim::Optimizer& opt) const;

  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  struct PerOptimizer {
    bool unscaled = false;
    bool stepped = false;
    bool checked = false;  // found_inf is known (checked once, at step() or update())
    bool found_inf = false;
  };
  // The inf check of `opt`'s gradients, run once per iteration.
  static bool check_inf(const optim::Optimizer& opt, PerOptimizer& st);
  GradScalerOptions opt_;
  double scale_;
  int64_t growth_tracker_ = 0;
  int64_t consecutive_skipped_ = 0;
  std::map<const optim::Optimizer*, PerOptimizer> per_opt_;
};

}  // namespace descent::amp
