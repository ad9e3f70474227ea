// uniform / normal on CUDA: the host reserves the Philox counters exactly as the CPU
// backend does (backends/cpu/random.cpp), and random_kernels.cu draws the same numbers
// from them, so a generator state gives the same tensor on either device.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/random_kernels.h>

namespace descent::cuda {

namespace {

void check_output(std::string_view op, const Tensor& out, Device dev) {
  check(out.defined(), op, "output is undefined");
  check(out.device() == dev, op, "output is on {}, expected {}", out.device(), dev);
  check(out.is_contiguous(), op, "output must be contiguous");
}

}  // namespace

void CudaBackend::uniform(const Tensor& out, double lo, double hi, Generator& gen) {
  check_output("uniform", out, device());
  const DType dt = out.dtype();
  if (dt == DType::Bool) {
    fail("uniform", "cannot draw random bool values; compare a rand() tensor instead");
  }
  const int64_t n = out.numel();
  // f32 and the 16-bit floats take 4 numbers per counter, f64 and integers 2.
  const int64_t per_counter = (dt == DType::F32 || is_16bit(dt)) ? 4 : 2;
  const uint64_t first = gen.advance(uint64_t((n + per_counter - 1) / per_counter));
  if (n == 0) return;
  activate();
  CUDA_CHECK(launch_uniform(out.raw_data(), kdtype(dt), n, gen.seed(), first, lo, hi,
                            Launch{stream(), error_flag()}));
}

void CudaBackend::normal(const Tensor& out, double mean, double std, Generator& gen) {
  check_output("normal", out, device());
  const DType dt = out.dtype();
  check(is_floating(dt), "normal", "expected a floating dtype (f32, f64, f16, bf16), got {}", dt);
  const int64_t n = out.numel();
  // One Box–Muller pair per counter, whatever the dtype.
  const uint64_t first = gen.advance(uint64_t((n + 1) / 2));
  if (n == 0) return;
  activate();
  CUDA_CHECK(launch_normal(out.raw_data(), kdtype(dt), n, gen.seed(), first, mean, std,
                           Launch{stream(), error_flag()}));
}

}  // namespace descent::cuda
