// The CUDA device against the CPU reference, part 1: availability and its errors, the
// device registry, mixed-device errors, the caching allocator, deferred index errors,
// copies and dtype conversions, views, factories, random numbers and dropout masks.
// Ops are in test_devices_ops.cpp, nn and checkpoints in test_devices_nn.cpp,
// optimizers in test_devices_optim.cpp. Without a GPU every test here but the first
// reports SKIPPED (tests/testing/devices.h).
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "testing/devices.h"

using namespace descent;
using descent::testing::CudaOnlyTest;
using descent::testing::DeviceTest;
using descent::testing::kExact;
using descent::testing::matches;
using descent::testing::on_device;

namespace {

const DType kAllDtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                            DType::I32, DType::I64, DType::Bool};

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  const Tensor ac = a.to(Device::CPU).contiguous(), bc = b.to(Device::CPU).contiguous();
  return ac.shape() == bc.shape() && ac.dtype() == bc.dtype() &&
         std::memcmp(ac.raw_data(), bc.raw_data(), size_t(ac.numel()) * ac.element_size()) == 0;
}

// A CPU tensor of `dt` holding representative values: for floats ±0, a bf16/f16
// rounding tie, NaN and ±inf included; in range for every integer type.
Tensor sample(DType dt) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (is_floating(dt)) {
    return from_vector<double>({-3.7, -1.5, -0.0, 0.0, 0.25, 1.00390625, 1.00048828125, 2.5, 100.9,
                                300.3, inf, -inf, std::nan("")},
                               {13})
        .to(dt);
  }
  return from_vector<double>({-120, -3, -1, 0, 1, 2, 7, 64, 127}, {9}).to(dt);
}

// Values convertible to every dtype without undefined behaviour (no NaN/inf to ints).
Tensor finite_sample(DType dt) {
  return from_vector<double>({-3.7, -1.5, -0.5, 0.0, 0.25, 1.00390625, 2.5, 100.9, 300.3}, {9})
      .to(dt);
}

// A request for CUDA without a GPU must be a descent::Error saying why: a CPU-only
// build, no usable device (no driver), or no device with that index.
void expect_no_cuda_error(const std::function<void()>& fn, std::string_view what) {
  SCOPED_TRACE(std::string(what));
  try {
    fn();
    ADD_FAILURE() << "expected a descent::Error";
  } catch (const Error& e) {
    // A CPU-only build says so; a CUDA build on a machine without a GPU says that.
    const std::string m = e.what();
    if (cuda::is_built()) {
      EXPECT_TRUE(m.find("no usable CUDA device") != std::string::npos ||
                  m.find("no such device") != std::string::npos)
          << "message was: " << m;
    } else {
      EXPECT_NE(m.find("built without CUDA"), std::string::npos) << "message was: " << m;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-descent exception: " << e.what();
  }
}

// Suite names of this file (the fixtures skip without a GPU).
class Devices : public DeviceTest {};
class DevicesCuda : public CudaOnlyTest {};

}  // namespace

// The one test here that runs without a GPU.
TEST(DevicesWithoutGpu, CudaRequestsThrowAClearError) {
  if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(cuda_available());
  EXPECT_EQ(cuda::device_count(), 0);
  expect_no_cuda_error([] { zeros({2, 3}, {.device = Device::CUDA}); }, "zeros on cuda");
  expect_no_cuda_error([] { Tensor::empty({4}, {.device = Device::cuda(1)}); }, "empty on cuda:1");
  expect_no_cuda_error([] { randn({4}).to(Device::CUDA); }, "to(cuda)");
  expect_no_cuda_error([] { memory_stats(Device::CUDA); }, "memory_stats");
  expect_no_cuda_error([] { cuda::synchronize(); }, "synchronize");
  // A failed move leaves the module whole and usable on the CPU.
  nn::Linear fc(3, 2);
  expect_no_cuda_error([&] { fc.to(Device::CUDA); }, "Module::to(cuda)");
  EXPECT_TRUE(fc.weight().device().is_cpu());
  EXPECT_EQ(fc(ones({1, 3})).shape(), Shape({1, 2}));
}

TEST_F(DevicesCuda, DeviceCountAndNoSuchDevice) {
  EXPECT_TRUE(cuda_available());
  const int n = cuda::device_count();
  EXPECT_GE(n, 1);
  EXPECT_THROW_MSG(zeros({2}, {.device = Device::cuda(99)}), "no such device");
  EXPECT_THROW_MSG(ones({2}).to(Device::cuda(n)), "no such device");
  EXPECT_THROW_MSG(zeros({2}, {.device = Device::cuda(-1)}), "no such device");
  // The errors leave the valid devices usable.
  EXPECT_EQ(ones({5}, {.device = Device::CUDA}).sum().item<double>(), 5.0);
}

TEST_F(DevicesCuda, MixingDevicesThrows) {
  const Device G = Device::CUDA;
  const Tensor a = randn({3, 4}), ag = a.to(G);
  const Tensor idx = from_vector<int64_t>({0, 2}), idxg = idx.to(G);
  EXPECT_THROW_MSG(add(a, ag), "add: expected tensors on one device, got cpu and cuda:0");
  EXPECT_THROW_MSG(ag * a, "expected tensors on one device");
  EXPECT_THROW_MSG(matmul(ag, a.t()), "expected tensors on one device");
  EXPECT_THROW_MSG(F::linear(ag, a), "expected tensors on one device");
  EXPECT_THROW_MSG(F::linear(ag, ag, zeros({3})), "expected tensors on one device");
  EXPECT_THROW_MSG(where(a > 0, ag, ag), "expected tensors on one device");
  EXPECT_THROW_MSG(index_select(ag, 0, idx), "expected tensors on one device");
  EXPECT_THROW_MSG(gather(a, 0, idxg.reshape({2, 1})), "expected tensors on one device");
  EXPECT_THROW_MSG(scatter_add(ag, 0, idxg.reshape({2, 1}), a.narrow(0, 0, 2).narrow(1, 0, 1)),
                   "expected tensors on one device");
  EXPECT_THROW_MSG(F::embedding(idx, ag), "expected tensors on one device");
  EXPECT_THROW_MSG(cat({a, ag}), "expected tensors on one device");
  EXPECT_THROW_MSG(F::cross_entropy(ag, from_vector<int64_t>({0, 1, 2})),
                   "expected tensors on one device");
  EXPECT_THROW_MSG(F::mse_loss(ag, a), "expected tensors on one device");
  EXPECT_THROW_MSG(F::batch_norm(ag, zeros({4}), ones({4}), {}, {}, false),
                   "expected tensors on one device");
  const F::LstmLayerWeights w{zeros({8, 4}), zeros({8, 2}), {}, {}};
  EXPECT_THROW_MSG(F::lstm(ag.reshape({3, 1, 4}), {w}), "expected tensors on one device");
  Tensor acc = zeros({3, 4}, {.device = G});
  EXPECT_THROW_MSG(add_(acc, a), "expected tensors on one device");
}

// memory_stats counts the tensors' bytes; freed blocks go to the cache, are handed out
// again for the next request of that size, and empty_cache() returns them.
TEST_F(DevicesCuda, MemoryStatsAndTheCachingAllocator) {
  const Device G = Device::CUDA;
  cuda::synchronize();
  const MemoryStats before = memory_stats(G);
  const size_t nbytes = size_t(1000) * 257 * 4;
  size_t cached_after_free = 0;
  {
    Tensor t = Tensor::empty({1000, 257}, {.device = G});
    const MemoryStats during = memory_stats(G);
    EXPECT_EQ(during.allocated_bytes, before.allocated_bytes + nbytes);
    EXPECT_EQ(during.allocations, before.allocations + 1);
    EXPECT_GE(during.peak_bytes, during.allocated_bytes);
  }
  EXPECT_EQ(memory_stats(G).allocated_bytes, before.allocated_bytes);
  cached_after_free = cuda::cached_bytes();
  EXPECT_GE(cached_after_free, nbytes);
  {
    Tensor again = Tensor::empty({1000, 257}, {.device = G});
    EXPECT_LT(cuda::cached_bytes(), cached_after_free) << "the cached block was not reused";
  }
  // A live tensor survives empty_cache with its values.
  Tensor keep = arange(1000.0, {.device = G});
  cuda::empty_cache();
  EXPECT_EQ(cuda::cached_bytes(), 0u);
  EXPECT_EQ(memory_stats(G).allocated_bytes, before.allocated_bytes + 1000 * 4);
  EXPECT_TRUE(matches(keep, arange(1000.0), kExact));
  reset_peak_memory(G);
  EXPECT_EQ(memory_stats(G).peak_bytes, memory_stats(G).allocated_bytes);
}

// Device kernels clamp a bad index and raise a flag; the error surfaces at the next
// synchronize, once.
TEST_F(DevicesCuda, OutOfRangeIndexRaisesAtSynchronize) {
  const Device G = Device::CUDA;
  const Tensor x = randn({4, 3}).to(G);
  cuda::synchronize();
  Tensor y;
  EXPECT_NO_THROW(y = index_select(x, 0, from_vector<int64_t>({0, 7}).to(G)));
  EXPECT_THROW_MSG(cuda::synchronize(), "out of range");
  EXPECT_NO_THROW(cuda::synchronize());
  EXPECT_NO_THROW(y = gather(x, 1, from_vector<int64_t>({0, 1, 2, 3, 1, 0}, {2, 3}).to(G)));
  EXPECT_THROW_MSG(cuda::synchronize(), "out of range");
  // The device stays usable.
  EXPECT_TRUE(matches(index_select(x, 0, from_vector<int64_t>({3, 0}).to(G)),
                      index_select(x.to(Device::CPU), 0, from_vector<int64_t>({3, 0})), kExact));
}

TEST_F(Devices, CopyRoundTripsEveryDtypeBitForBit) {
  for (DType dt : kAllDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = sample(dt);
    const Tensor d = x.to(dev());
    EXPECT_EQ(d.device(), dev());
    EXPECT_EQ(d.dtype(), dt);
    EXPECT_TRUE(bitwise_equal(d.to(Device::CPU), x));
    EXPECT_TRUE(bitwise_equal(d.clone(), x));  // a device-to-device copy
  }
}

// Every (source, destination) dtype pair converts as on the CPU: float → int truncates,
// → bf16/f16 rounds to nearest even, → bool tests nonzero.
TEST_F(Devices, DtypeConversionsMatchTheCpu) {
  for (DType from : kAllDtypes) {
    const Tensor x = finite_sample(from), d = x.to(dev());
    for (DType to : kAllDtypes) {
      SCOPED_TRACE(fmt::format("{} -> {}", from, to));
      EXPECT_TRUE(matches(d.to(to), x.to(to), kExact));
    }
  }
  // Special values between float types (NaN and infinities included).
  for (DType from : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    const Tensor x = sample(from), d = x.to(dev());
    for (DType to : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::Bool}) {
      SCOPED_TRACE(fmt::format("{} -> {} (special values)", from, to));
      // Not bitwise: a NaN's payload may differ after conversion (CUDA's is canonical).
      EXPECT_TRUE(matches(d.to(to), x.to(to), kExact));
    }
  }
}

// copy_ across devices converts, broadcasts and writes through strided destinations.
TEST_F(Devices, CrossDeviceCopyIntoStridedAndBroadcastDestinations) {
  const Tensor src = randn({3});  // broadcasts over rows
  Tensor want = zeros({4, 3}, {.dtype = DType::F64});
  want.copy_(src);
  Tensor got = zeros({4, 3}, {.dtype = DType::F64, .device = dev()});
  got.copy_(src);  // host → device, f32 → f64
  EXPECT_TRUE(matches(got, want, kExact));

  // Into a transposed (strided) view of a device tensor, from a device source.
  const Tensor m = randn({3, 4});
  Tensor base_c = zeros({4, 3}), base_d = zeros({4, 3}, {.device = dev()});
  base_c.t().copy_(m);
  base_d.t().copy_(m.to(dev()));
  EXPECT_TRUE(matches(base_d, base_c, kExact));

  // Device → host into a strided CPU view, converting to bf16.
  Tensor host = zeros({3, 8}, {.dtype = DType::BF16});
  host.slice(1, 0, 8, 2).copy_(m.to(dev()));
  Tensor ref = zeros({3, 8}, {.dtype = DType::BF16});
  ref.slice(1, 0, 8, 2).copy_(m);
  EXPECT_TRUE(bitwise_equal(host, ref));
}

TEST_F(Devices, ViewsReadTheSameElements) {
  const Tensor x = randn({4, 6, 5});
  const Tensor d = x.to(dev());
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> views = {
      {"transpose", [](const Tensor& t) { return t.transpose(0, 2); }},
      {"permute",
       [](const Tensor& t) {
         return t.permute({1, 2, 0});
       }},
      {"slice step 2", [](const Tensor& t) { return t.slice(1, 1, 6, 2); }},
      {"narrow", [](const Tensor& t) { return t.narrow(2, 1, 3); }},
      {"select", [](const Tensor& t) { return t.select(1, 3); }},
      {"expand",
       [](const Tensor& t) {
         return t.select(2, 0).unsqueeze(1).expand({4, 3, 6});
       }},
      {"reshape",
       [](const Tensor& t) {
         return t.reshape({24, 5});
       }},
      {"slice of transpose", [](const Tensor& t) { return t.transpose(0, 1).slice(0, 0, 6, 3); }},
  };
  for (const auto& [name, view] : views) {
    SCOPED_TRACE(name);
    const Tensor want = view(x), got = view(d);
    EXPECT_EQ(got.strides(), want.strides());
    EXPECT_TRUE(matches(got.contiguous(), want.contiguous(), kExact));
    EXPECT_TRUE(matches(got.to(Device::CPU).to(dev()), want, kExact));  // strided transfer
    // Elementwise math reads strided and broadcast operands.
    EXPECT_TRUE(matches(got * 2.0 + got, want * 2.0 + want));
  }
  // Writing through a strided device view changes the base.
  Tensor xc = x.clone(), dc = d.clone();
  xc.slice(1, 0, 6, 3).fill_(7.0);
  dc.slice(1, 0, 6, 3).fill_(7.0);
  EXPECT_TRUE(matches(dc, xc, kExact));
}

TEST_F(Devices, FactoriesMatchTheCpu) {
  const TensorOptions d{.device = dev()};
  for (DType dt : kAllDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const TensorOptions c{.dtype = dt}, g{.dtype = dt, .device = dev()};
    EXPECT_TRUE(matches(zeros({3, 5}, g), zeros({3, 5}, c), kExact));
    EXPECT_TRUE(matches(ones({7}, g), ones({7}, c), kExact));
    EXPECT_TRUE(matches(full({2, 2}, 3.5, g), full({2, 2}, 3.5, c), kExact));
    EXPECT_TRUE(matches(eye(4, 6, g), eye(4, 6, c), kExact));
    if (dt != DType::Bool) {
      EXPECT_TRUE(matches(arange(-4.0, 12.0, 0.5, g), arange(-4.0, 12.0, 0.5, c), kExact));
      EXPECT_TRUE(matches(arange(37.0, g), arange(37.0, c), kExact));
    }
  }
  for (DType dt : {DType::F32, DType::F64}) {
    const TensorOptions c{.dtype = dt}, g{.dtype = dt, .device = dev()};
    EXPECT_TRUE(matches(linspace(-1.0, 2.0, 13, g), linspace(-1.0, 2.0, 13, c)));
  }
  EXPECT_TRUE(matches(scalar_tensor(2.25, d), scalar_tensor(2.25), kExact));
  // The *_like factories keep the device.
  const Tensor like = randn({2, 3}).to(dev());
  EXPECT_EQ(zeros_like(like).device(), dev());
  EXPECT_EQ(full_like(like, 1.0).device(), dev());
  EXPECT_EQ(options_of(like).device, dev());
}

// Philox is counter-based: the same generator state gives the same numbers on any
// device. Uniforms are exact; normals go through log/sqrt/sin/cos, within 1e-6.
TEST_F(Devices, RandomNumbersMatchTheCpuGenerator) {
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    Generator gc(2024), gg(2024);
    for (int64_t n : {1, 7, 1001, 1 << 16}) {  // odd sizes end mid-counter
      SCOPED_TRACE(n);
      const Tensor want = rand({n}, {.dtype = dt}, &gc);
      EXPECT_TRUE(matches(rand({n}, {.dtype = dt, .device = dev()}, &gg), want, kExact));
      EXPECT_EQ(gg.state(), gc.state());
    }
    // 16-bit normals round once more: one ulp apart at worst.
    const descent::testing::Tolerance normal_tol =
        is_16bit(dt) ? descent::testing::tolerance(dt) : descent::testing::Tolerance{1e-6, 1e-6};
    for (int64_t n : {3, 1000, 1 << 16}) {
      const Tensor want = randn({n}, {.dtype = dt}, &gc);
      EXPECT_TRUE(matches(randn({n}, {.dtype = dt, .device = dev()}, &gg), want, normal_tol));
      EXPECT_EQ(gg.state(), gc.state());
    }
  }
  Generator gc(5), gg(5);
  EXPECT_TRUE(matches(randint(-3, 11, {500}, {.dtype = DType::I64, .device = dev()}, &gg),
                      randint(-3, 11, {500}, {.dtype = DType::I64}, &gc), kExact));
  EXPECT_TRUE(matches(randint(0, 1000, {77}, {.dtype = DType::I32, .device = dev()}, &gg),
                      randint(0, 1000, {77}, {.dtype = DType::I32}, &gc), kExact));
  // The default generator too.
  manual_seed(11);
  const Tensor want = rand({100});
  manual_seed(11);
  EXPECT_TRUE(matches(rand({100}, {.device = dev()}), want, kExact));
  EXPECT_EQ(rand_like(want.to(dev())).device(), dev());
}

// Dropout draws its mask with rand(): the same generator gives the CPU's mask, and the
// gradient is that mask.
TEST_F(Devices, DropoutDrawsTheCpuMask) {
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = randn({37, 29}).to(dt).requires_grad_();
    const Tensor xd = on_device(x);
    Generator gc(8), gg(8);
    const Tensor want = F::dropout(x, 0.3, true, &gc), got = F::dropout(xd, 0.3, true, &gg);
    EXPECT_TRUE(matches(got, want, kExact));
    want.sum().backward();
    got.sum().backward();
    EXPECT_TRUE(matches(xd.grad(), x.grad(), kExact));
    // A strided input gets the mask of its logical order.
    Generator tc(9), tg(9);
    EXPECT_TRUE(matches(F::dropout(xd.detach().t(), 0.5, true, &tg),
                        F::dropout(x.detach().t(), 0.5, true, &tc), kExact));
  }
  Generator mc(3), mg(3);
  nn::Dropout cpu_drop(0.4, &mc), dev_drop(0.4, &mg);
  const Tensor x = randn({64, 8});
  EXPECT_TRUE(matches(dev_drop(x.to(dev())), cpu_drop(x), kExact));
}

// .to(Device) is differentiable: the gradient goes back to the source device.
TEST_F(Devices, ToDeviceIsDifferentiable) {
  const Tensor x = randn({3, 4}, {.dtype = DType::F64}).requires_grad_();
  const Tensor y = (x.to(dev()).exp() * 2.0).to(Device::CPU).sum();
  y.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().device().is_cpu());
  EXPECT_TRUE(descent::testing::all_close(x.grad(), x.detach().exp() * 2.0, 1e-12, 1e-12));

  const Tensor leaf = on_device(x);
  (leaf.to(Device::CPU) * 3.0).sum().backward();
  EXPECT_TRUE(matches(leaf.grad(), full({3, 4}, 3.0, {.dtype = DType::F64}), kExact));
}
