#pragma once
// Test helpers: finite-difference gradient checks and tensor comparisons.
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace descent::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;  // central-difference step
  double atol = 1e-7;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the random output cotangent
};

// Checks the gradients of f with respect to every input that requires grad against
// central differences of <f(inputs), v> for a random cotangent v. Inputs should be f64.
// Returns an empty string on success, else a description of the worst mismatch.
std::string gradcheck(const Fn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt = {});

// Like gradcheck, for the gradient of the gradient: checks d/dx <grad_x <f, v>, w>.
std::string gradgradcheck(const Fn& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions opt = {});

// f64 random tensor in [lo, hi) requiring grad.
Tensor rand_input(const Shape& shape, double lo = -1.0, double hi = 1.0, uint64_t seed = 7);

// Max |a - b| / (atol + rtol·|b|) ≤ 1, with a readable failure.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol = 1e-5,
                                     double rtol = 1e-4);

}  // namespace descent::testing

#define EXPECT_GRADCHECK(f, inputs, ...) \
  EXPECT_EQ(::descent::testing::gradcheck(f, inputs, ##__VA_ARGS__), "")
#define EXPECT_GRADGRADCHECK(f, inputs, ...) \
  EXPECT_EQ(::descent::testing::gradgradcheck(f, inputs, ##__VA_ARGS__), "")
#define EXPECT_THROW_MSG(stmt, substr)                                            \
  do {                                                                            \
    try {                                                                         \
      stmt;                                                                       \
      ADD_FAILURE() << "expected descent::Error containing \"" << substr << "\""; \
    } catch (const ::descent::Error& e) {                                         \
      EXPECT_NE(std::string(e.what()).find(substr), std::string::npos)            \
          << "message was: " << e.what();                                         \
    }                                                                             \
  } while (0)
