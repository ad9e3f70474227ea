#pragma once
// Finite-difference gradient checks for your own ops (autograd::Function) and modules,
// as torch.autograd.gradcheck / gradgradcheck.
//
//   auto f = [](const std::vector<Tensor>& in) { return my_op(in[0], in[1]); };
//   Tensor a = randn({3, 4}, {.dtype = DType::F64}).requires_grad_();
//   std::string worst = autograd::gradcheck(f, {a, b});   // "" when every gradient matches
//
// The analytic gradient of <f(inputs), v> for a random cotangent v is compared with
// central differences, element by element of every input that requires grad. Inputs
// must be f64 and contiguous (the check perturbs them in place and puts them back);
// f must not keep state between calls. Returns an empty string on success, else the
// worst mismatch ("input 1 element 5: numerical 0.25 vs analytical 0.5"). Throws
// descent::Error for an input that is not f64 or not contiguous.
#include <descent/core/tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace descent::autograd {

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;  // central-difference step
  double atol = 1e-7;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the random output cotangent
};

std::string gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                      GradcheckOptions opt = {});

// The same for the gradient of the gradient: checks d/dx <grad_x <f, v>, w>.
std::string gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions opt = {});

}  // namespace descent::autograd
