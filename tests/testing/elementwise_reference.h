#pragma once
// References for the elementwise op tests (test_elementwise, test_math): a function
// applied one element at a time in f64, and seeded uniform inputs.
#include <descent/descent.h>

#include <functional>
#include <vector>

namespace descent::testing {

// f applied one element at a time, in f64, to x (any layout, any device); on the CPU.
inline Tensor ref_unary(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<double> v = x.to(Device::CPU).to(DType::F64).contiguous().to_vector<double>();
  for (double& e : v) e = f(e);
  return from_vector(v, x.shape());
}

// f over the broadcast of a and b (any device), one element at a time, in f64.
inline Tensor ref_binary(const Tensor& a, const Tensor& b,
                         const std::function<double(double, double)>& f) {
  const Shape s = broadcast_shapes(a.shape(), b.shape(), "test");
  const auto av = a.to(Device::CPU).to(DType::F64).expand(s).contiguous().to_vector<double>();
  const auto bv = b.to(Device::CPU).to(DType::F64).expand(s).contiguous().to_vector<double>();
  std::vector<double> out(av.size());
  for (size_t i = 0; i < av.size(); ++i) out[i] = f(av[i], bv[i]);
  return from_vector(out, s);
}

// Values uniform in [lo, hi), drawn in f64 from `seed`, then converted to dt; on the CPU.
inline Tensor uniform(const Shape& shape, double lo, double hi, uint64_t seed,
                      DType dt = DType::F64) {
  Generator gen(seed);
  return (rand(shape, {.dtype = DType::F64}, &gen) * (hi - lo) + lo).to(dt);
}

}  // namespace descent::testing
