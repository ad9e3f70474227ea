#pragma once
// Test helpers: the library's gradient checks, inputs for them, tensor comparisons and
// error-message assertions.
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace descent::testing {

// The library's checks (autograd/gradcheck.h), under the names the tests use.
using Fn = autograd::GradcheckFn;
using autograd::gradcheck;
using autograd::GradcheckOptions;
using autograd::gradgradcheck;

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
