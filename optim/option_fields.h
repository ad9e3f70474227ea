#pragma once
// The fields of an optimizer's options as the state dict and validation see them: a
// name, a reference and the range of values it accepts. An option's name means one thing
// in every optimizer, so the options most of them share (lr, betas, eps, weight_decay,
// maximize) are listed once, here, with their ranges (torch.optim's checks).
#include <descent/core/error.h>

#include <string_view>

namespace descent::optim {

// The two exponential decay rates of the Adam family (PyTorch's `betas` tuple).
struct Betas {
  double beta1 = 0.9;
  double beta2 = 0.999;
};

// What values an option accepts.
enum class Range {
  Any,          // booleans, and numbers without a constraint
  NonNegative,  // >= 0
  Positive,     // > 0
  UnitOpen,     // [0, 1)
  UnitClosed,   // [0, 1]
};

// Throws descent::Error naming `who`, the field, the value and the range it is outside.
inline void check_range(std::string_view who, std::string_view field, double v, Range range) {
  switch (range) {
    case Range::Any: return;
    case Range::NonNegative:
      check(v >= 0, who, "invalid {}: got {}, expected a value >= 0", field, v);
      return;
    case Range::Positive:
      check(v > 0, who, "invalid {}: got {}, expected a value > 0", field, v);
      return;
    case Range::UnitOpen:
      check(v >= 0 && v < 1, who, "invalid {}: got {}, expected a value in [0, 1)", field, v);
      return;
    case Range::UnitClosed:
      check(v >= 0 && v <= 1, who, "invalid {}: got {}, expected a value in [0, 1]", field, v);
      return;
  }
}

// Calls f(name, field, Range) for each shared option the struct `o` has. The state-dict
// names of `betas` are "beta1" and "beta2".
template <class O, class F>
void visit_common_options(O& o, F&& f) {
  if constexpr (requires { o.lr; }) f("lr", o.lr, Range::NonNegative);
  if constexpr (requires { o.betas; }) {
    f("beta1", o.betas.beta1, Range::UnitOpen);
    f("beta2", o.betas.beta2, Range::UnitOpen);
  }
  if constexpr (requires { o.eps; }) f("eps", o.eps, Range::Positive);
  if constexpr (requires { o.weight_decay; }) f("weight_decay", o.weight_decay, Range::NonNegative);
  if constexpr (requires { o.maximize; }) f("maximize", o.maximize, Range::Any);
}

}  // namespace descent::optim
