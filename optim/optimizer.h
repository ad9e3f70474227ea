#pragma once
// The optimizer interface that schedulers, clipping, the loss scaler and checkpoints
// talk to. Concrete optimizers (optim/sgd.h, optim/adam.h, ...) keep typed options per
// parameter group and typed per-parameter state; this base only exposes what every
// optimizer has.
//
//   optim::Adam opt(model.parameters(), {.lr = 1e-3});
//   opt.zero_grad(); loss.backward(); opt.step();
//   opt.set_lr(0.5 * opt.lr());          // group 0; set_lr(v, g) for group g
#include <descent/core/state_dict.h>
#include <descent/core/tensor.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace descent::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // "sgd", "adam", ... (checkpoints check it on load).
  virtual std::string_view name() const = 0;

  // ---- parameter groups ----
  virtual size_t num_groups() const = 0;
  virtual const std::vector<Tensor>& params(size_t group) const = 0;
  // Every parameter of every group, in group order.
  std::vector<Tensor> parameters() const {
    std::vector<Tensor> all;
    for (size_t g = 0; g < num_groups(); ++g) {
      const auto& p = params(g);
      all.insert(all.end(), p.begin(), p.end());
    }
    return all;
  }

  // Learning rate of a group; set_lr without a group sets every group.
  virtual double lr(size_t group = 0) const = 0;
  virtual void set_lr(double lr, size_t group) = 0;
  void set_lr(double lr) {
    for (size_t g = 0; g < num_groups(); ++g) set_lr(lr, g);
  }
  // The coefficient CyclicLR and OneCycleLR cycle: `momentum` for SGD and RMSprop,
  // beta1 for the Adam family. nullopt when the optimizer has none (then cycling it
  // is an error in the scheduler).
  virtual std::optional<double> momentum(size_t /*group*/) const { return std::nullopt; }
  virtual void set_momentum(double /*value*/, size_t /*group*/) {}

  // ---- stepping ----
  // Clears gradients: to undefined (set_to_none, PyTorch's default) or to zeros.
  void zero_grad(bool set_to_none = true) {
    for (size_t g = 0; g < num_groups(); ++g) {
      for (const Tensor& p : params(g)) descent::zero_grad(p, set_to_none);
    }
  }
  // One update from the current .grad() of every parameter (parameters without a
  // gradient are skipped, as in PyTorch).
  virtual void step() = 0;
  // Re-evaluates the loss (the closure runs with gradients enabled, typically
  // zero_grad + forward + backward) and then steps; returns the closure's loss.
  virtual double step(const std::function<double()>& closure) {
    const double loss = closure();
    step();
    return loss;
  }

  // ---- state ----
  // Every per-parameter slot, step count and group hyper-parameter: loading it into
  // an optimizer over the same parameters continues bit-identically.
  virtual StateDict state_dict() const = 0;
  // Throws descent::Error when the dict was made by another optimizer type or for
  // other parameter shapes / group layout.
  virtual void load_state_dict(const StateDict& state) = 0;
};

}  // namespace descent::optim
