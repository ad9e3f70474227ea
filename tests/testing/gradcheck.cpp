#include "testing/gradcheck.h"

#include <cmath>

namespace descent::testing {

Tensor rand_input(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  Tensor t = rand(shape, {.dtype = DType::F64}, &gen) * (hi - lo) + lo;
  return t.detach().requires_grad_(true);
}

::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shapes differ: " << fmt::format("{} vs {}", a.shape(), b.shape());
  }
  auto av = a.to(DType::F64).contiguous().to_vector<double>();
  auto bv = b.to(DType::F64).contiguous().to_vector<double>();
  for (size_t i = 0; i < av.size(); ++i) {
    const bool both_nan = std::isnan(av[i]) && std::isnan(bv[i]);
    const bool same = av[i] == bv[i];  // also equal infinities, whose difference is NaN
    if (!both_nan && !same && !(std::abs(av[i] - bv[i]) <= atol + rtol * std::abs(bv[i]))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << av[i] << " vs " << bv[i]
                                           << " (atol " << atol << ", rtol " << rtol << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace descent::testing
