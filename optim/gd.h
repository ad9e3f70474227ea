#pragma once
// GD: plain full-batch gradient descent, p -= lr·(g + weight_decay·p). The same update
// as SGD without momentum, for programs that compute the gradient over the whole data
// set each step. Throws descent::Error for lr < 0 or weight_decay < 0.
//
//   optim::GD opt(params, {.lr = 0.1});
#include <descent/optim/param_groups.h>

namespace descent::optim {

struct GDOptions {
  double lr = 1e-3;
  double weight_decay = 0;
  bool maximize = false;
};

struct GDState {
  int64_t step = 0;
};

class GD : public GroupedOptimizer<GD, GDOptions, GDState> {
 public:
  static constexpr std::string_view kName = "gd";
  using GroupedOptimizer::GroupedOptimizer;

  void update(const ParamStep& step, GDState& s, const GDOptions& o);
};

}  // namespace descent::optim
