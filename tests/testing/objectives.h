#pragma once
// Objectives shared by the optimizer tests (CPU and device).
#include <descent/descent.h>

#include <vector>

namespace descent::testing {

// A smooth objective over any number of parameters: sum over p of
// ((p·a - 0.5)² + tanh(p)), with a different scale `a` per parameter. Runs backward
// and returns the loss.
inline double smooth_loss_and_grad(const std::vector<Tensor>& params) {
  Tensor total;
  for (size_t i = 0; i < params.size(); ++i) {
    const double a = 0.5 + 0.25 * double(i);
    Tensor l = ((params[i] * a - 0.5).pow(2) + tanh(params[i])).sum();
    total = total.defined() ? total + l : l;
  }
  total.backward();
  return total.item<double>();
}

}  // namespace descent::testing
