#pragma once
// Helpers for running tests on every device.
//
// The op tests (test_elementwise, test_activation, test_reduce, test_linalg, test_loss,
// test_index, test_batchnorm, test_lstm and test_optim .cpp) derive from PerDeviceTest and
// are instantiated with INSTANTIATE_PER_DEVICE: each body runs once per device, as
// Suite.Test/cpu and Suite.Test/cuda, against the same references and gradchecks.
//
// The CPU-vs-GPU tests (tests/test_devices*.cpp) compare test_device() with the CPU as
// the reference, 16-bit dtypes, modules, optimizers and checkpoints included. They derive
// from DeviceTest or CudaOnlyTest (needs a real GPU: allocator, streams, device errors).
//
// Skipping lives here and only here: SetUp() reports a CUDA test as SKIPPED with the
// reason when no CUDA device is usable, so every test body is written once and runs for
// real wherever a GPU is present.
//
// DESCENT_TEST_DEVICE=cpu makes the CPU stand in for the GPU in DeviceTest bodies: an API
// smoke check of test_devices*.cpp by hand on a machine without a GPU (CPU against CPU
// finds no numerical bug, so ctest does not run it). CudaOnlyTest then skips.
#include <descent/core/cuda.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "testing/gradcheck.h"

namespace descent::testing {

// True when DESCENT_TEST_DEVICE=cpu asks for the CPU to stand in for the GPU.
inline bool cpu_stands_in() {
  const char* v = std::getenv("DESCENT_TEST_DEVICE");
  return v != nullptr && std::string_view(v) == "cpu";
}

// The device under test: CUDA, or the CPU when it stands in.
inline Device test_device() { return cpu_stands_in() ? Device::CPU : Device::CUDA; }

// Tests that compare the subject device with the CPU reference.
class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_stands_in() && !cuda::is_available()) {
      GTEST_SKIP() << "no CUDA device: cuda::is_available() is false (set "
                      "DESCENT_TEST_DEVICE=cpu to run the test bodies CPU against CPU)";
    }
  }
  // Kernels run asynchronously; waiting here makes a device-side error fail the test
  // that queued it rather than a later one.
  void TearDown() override {
    if (!cpu_stands_in() && cuda::is_available()) cuda::synchronize();
  }
  static Device dev() { return test_device(); }
};

// Tests of CUDA-only behaviour; they need a real GPU.
class CudaOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::is_available()) {
      GTEST_SKIP() << "no CUDA device: cuda::is_available() is false";
    }
    if (cpu_stands_in()) GTEST_SKIP() << "DESCENT_TEST_DEVICE=cpu: a CUDA-only test";
  }
  void TearDown() override {
    if (!cpu_stands_in() && cuda::is_available()) cuda::synchronize();
  }
};

// ---- one test body per device ----------------------------------------------------------

// The devices every op test runs on; CUDA instances skip without a GPU.
inline const std::vector<Device>& all_devices() {
  static const std::vector<Device> devices = {Device::CPU, Device::CUDA};
  return devices;
}
// "cpu" / "cuda": the suffix of an instance's name.
inline std::string device_test_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cpu() ? "cpu" : "cuda";
}

// Fixture of the op tests: dev() is the device the body runs on.
class PerDeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (dev().is_cuda() && !cuda::is_available()) {
      GTEST_SKIP() << "no CUDA device: cuda::is_available() is false";
    }
  }
  // As DeviceTest: a device-side error fails the test that queued it.
  void TearDown() override {
    if (dev().is_cuda() && cuda::is_available()) cuda::synchronize();
  }
  Device dev() const { return GetParam(); }
  // A copy of `t` on dev() (`t` itself on the CPU), a leaf requiring grad when `t` does.
  Tensor on_dev(const Tensor& t) const {
    if (!t.defined() || t.device() == dev()) return t;
    Tensor d = t.detach().to(dev());
    if (t.requires_grad()) d.requires_grad_();
    return d;
  }
};

// Runs every TEST_P of `Suite` (a PerDeviceTest) once per device.
#define INSTANTIATE_PER_DEVICE(Suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(, Suite, ::testing::ValuesIn(::descent::testing::all_devices()), \
                           ::descent::testing::device_test_name)

// gradcheck / gradgradcheck with f evaluated on `d`. The checks perturb their inputs in
// place through CPU pointers, so the inputs stay on the CPU (f64) and f moves them over;
// the .to(Device) copies are differentiable, so the analytic gradient is the device's
// backward. On the CPU the moves are no-ops and these are gradcheck and gradgradcheck.
// Return "" on success, as gradcheck does.
inline Fn evaluated_on(Device d, const Fn& f, bool& on_d) {
  return [d, f, &on_d](const std::vector<Tensor>& in) {
    std::vector<Tensor> moved;
    for (const Tensor& t : in) moved.push_back(t.defined() ? t.to(d) : t);
    const Tensor y = f(moved);
    on_d = on_d && y.device() == d;
    return y.to(Device::CPU);
  };
}
inline std::string gradcheck_on(Device d, const Fn& f, const std::vector<Tensor>& inputs,
                                GradcheckOptions opt = {}) {
  bool on_d = true;
  const std::string r = gradcheck(evaluated_on(d, f, on_d), inputs, opt);
  return on_d ? r : fmt::format("f did not compute on {}", d);
}
inline std::string gradgradcheck_on(Device d, const Fn& f, const std::vector<Tensor>& inputs,
                                    GradcheckOptions opt = {}) {
  bool on_d = true;
  const std::string r = gradgradcheck(evaluated_on(d, f, on_d), inputs, opt);
  return on_d ? r : fmt::format("f did not compute on {}", d);
}

#define EXPECT_GRADCHECK_ON(d, f, inputs, ...) \
  EXPECT_EQ(::descent::testing::gradcheck_on(d, f, inputs, ##__VA_ARGS__), "")
#define EXPECT_GRADGRADCHECK_ON(d, f, inputs, ...) \
  EXPECT_EQ(::descent::testing::gradgradcheck_on(d, f, inputs, ##__VA_ARGS__), "")

// ---- tolerances ---------------------------------------------------------------------

struct Tolerance {
  double atol = 0;
  double rtol = 0;
};
// Forward results: f64 1e-10, f32 1e-5, 16-bit 1e-2 (one ulp of bf16 is 2^-8 relative);
// integers and bools exactly.
inline Tolerance tolerance(DType dt) {
  switch (dt) {
    case DType::F64: return {1e-10, 1e-10};
    case DType::F32: return {1e-5, 1e-5};
    case DType::F16:
    case DType::BF16: return {1e-2, 1e-2};
    case DType::I32:
    case DType::I64:
    case DType::Bool: return {0, 0};
  }
  return {};
}
// Gradients chain several rounded ops; in 16 bits each may cost an ulp.
inline Tolerance grad_tolerance(DType dt) {
  return is_16bit(dt) ? Tolerance{2e-2, 2e-2} : tolerance(dt);
}
inline constexpr Tolerance kExact{0, 0};

// ---- moving and comparing ---------------------------------------------------------------

// A copy on the subject device: a leaf that requires grad when `t` does.
inline Tensor on_device(const Tensor& t) {
  if (!t.defined()) return t;
  // A clone when the CPU stands in, so that in-place updates never reach `t`.
  Tensor d = t.device() == test_device() ? t.detach().clone() : t.detach().to(test_device());
  if (t.requires_grad()) d.requires_grad_();
  return d;
}
inline std::vector<Tensor> on_device(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(on_device(t));
  return out;
}

// `got` (computed on the subject device) matches the CPU reference `want`: same shape and
// dtype, on the subject device, values within tol (NaNs and infinities must coincide).
inline ::testing::AssertionResult matches(const Tensor& got, const Tensor& want, Tolerance tol) {
  if (!got.defined() || !want.defined()) {
    if (got.defined() == want.defined()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << (got.defined() ? "the reference" : "the device result") << " is undefined";
  }
  if (got.device() != test_device()) {
    return ::testing::AssertionFailure()
           << fmt::format("result is on {}, expected {}", got.device(), test_device());
  }
  if (got.dtype() != want.dtype()) {
    return ::testing::AssertionFailure()
           << fmt::format("dtype {} on the device vs {} on the CPU", got.dtype(), want.dtype());
  }
  return all_close(got.detach().to(Device::CPU), want.detach(), tol.atol, tol.rtol);
}
inline ::testing::AssertionResult matches(const Tensor& got, const Tensor& want) {
  return matches(got, want, tolerance(want.dtype()));
}

// max |a - b| / max |b| over all elements (a may live on any device).
inline double max_rel_err(const Tensor& a, const Tensor& b) {
  NoGradGuard ng;
  const Tensor a64 = a.detach().to(Device::CPU).to(DType::F64);
  const Tensor b64 = b.detach().to(Device::CPU).to(DType::F64);
  return max((a64 - b64).abs()).item<double>() / max(b64.abs()).item<double>();
}

// Runs f on `inputs` (CPU) and on copies of them on the subject device, and checks the
// outputs match within `tol`. When the output requires grad, also backpropagates one
// fixed random cotangent through both and checks every input's gradient within
// `grad_tol`. Inputs that require grad must be leaves; their .grad() is reset first.
inline void expect_same_on_device(const Fn& f, const std::vector<Tensor>& inputs, Tolerance tol,
                                  Tolerance grad_tol) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) t.impl()->grad.reset();
  }
  const std::vector<Tensor> dev_inputs = on_device(inputs);
  const Tensor want = f(inputs);
  const Tensor got = f(dev_inputs);
  ASSERT_TRUE(matches(got, want, tol));
  if (!want.requires_grad()) return;
  ASSERT_TRUE(got.requires_grad()) << "the device result is not part of a graph";
  Generator gen(4321);
  const Tensor v = randn(want.shape(), {.dtype = DType::F32}, &gen).to(want.dtype());
  want.backward(v);
  got.backward(v.to(test_device()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    SCOPED_TRACE(fmt::format("gradient of input {}", i));
    EXPECT_TRUE(matches(dev_inputs[i].grad(), inputs[i].grad(), grad_tol));
  }
}
inline void expect_same_on_device(const Fn& f, const std::vector<Tensor>& inputs) {
  DType dt = DType::F32;
  for (const Tensor& t : inputs) {
    if (t.defined() && is_floating(t.dtype())) {
      dt = t.dtype();
      break;
    }
  }
  expect_same_on_device(f, inputs, tolerance(dt), grad_tolerance(dt));
}

// gradcheck with f evaluated on the subject device (see gradcheck_on).
inline std::string device_gradcheck(const Fn& f, const std::vector<Tensor>& inputs,
                                    GradcheckOptions opt = {}) {
  return gradcheck_on(test_device(), f, inputs, opt);
}

// Restores cuda::allow_tf32() at scope exit.
class Tf32Guard {
 public:
  explicit Tf32Guard(bool on) : prev_(cuda::allow_tf32()) { cuda::set_allow_tf32(on); }
  ~Tf32Guard() { cuda::set_allow_tf32(prev_); }
  Tf32Guard(const Tf32Guard&) = delete;
  Tf32Guard& operator=(const Tf32Guard&) = delete;

 private:
  bool prev_;
};

}  // namespace descent::testing
