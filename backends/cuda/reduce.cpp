// Reductions and all_finite on CUDA: the argument checks shared with
// backends/cpu/reduce.cpp (slot_helpers.h), then a ReducePlan for reduce_kernels.cu. x is
// read in place through its strides (two LoopGeometry's: kept dims and reduced dims, both
// in x's order, so ArgMax/ArgMin indices count like the CPU's), one group of threads per
// output.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/reduce_kernels.h>
#include <descent/backends/geometry.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>

namespace descent::cuda {

namespace {

// Enough threads to fill an H100/H200 a few times over; an output's range is split
// into parts only while the GPU would otherwise idle, and never into parts of fewer
// than kMinPerLane elements per thread.
constexpr int64_t kTargetThreads = int64_t(1) << 18;
constexpr int64_t kMinPerLane = 16;
constexpr int64_t kMaxChunks = 1024;
constexpr int kBlockThreads = 256;  // device_types.cuh's kThreads

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Lanes per output: one thread per output when the reduced elements are not adjacent
// in memory (neighbouring threads then read neighbouring columns) or few; a warp or
// a block reading a contiguous row otherwise.
ReducePlan plan_for(const Tensor& x, uint32_t dims) {
  Shape keep = x.shape(), red = x.shape();
  for (int k = 0; k < x.dim(); ++k) (dims >> k & 1u ? keep : red)[k] = 1;
  ReducePlan p;
  p.kept = make_geometry<1>(keep, {&x});
  p.red = make_geometry<1>(red, {&x});
  p.outputs = keep.numel();
  p.r = red.numel();
  const bool row = p.red.ndim > 0 && p.red.strides[0][p.red.ndim - 1] == int64_t(x.element_size());
  p.lanes = !row || p.r < 64 ? 1 : p.r >= 4096 ? kBlockThreads : 32;
  p.chunks = 1;
  const int64_t want_groups = ceil_div(kTargetThreads, p.lanes);
  if (p.outputs < want_groups && p.r > p.lanes * kMinPerLane) {
    p.chunks = std::min(
        {ceil_div(want_groups, p.outputs), ceil_div(p.r, p.lanes * kMinPerLane), kMaxChunks});
  }
  p.chunk = ceil_div(p.r, p.chunks);
  p.chunks = p.r == 0 ? 1 : ceil_div(p.r, p.chunk);  // no empty parts
  return p;
}

}  // namespace

void CudaBackend::reduce(const ReduceArgs& a) {
  activate();
  const Tensor& x = a.x;
  const Tensor& out = a.out;
  check_device(device(), x, "reduce");
  check_device(device(), out, "reduce");
  check_supported(a.op, x.dtype());
  const bool is_arg = a.op == ReduceOp::ArgMax || a.op == ReduceOp::ArgMin;
  const uint32_t dims = check_reduce(a);
  // An empty reduced dim falls through: a plan with r == 0 writes the op's identity (0,
  // true, false).
  if (x.numel() == 0 && !empty_reduce_writes_identity(a, dims)) return;  // nothing to write
  const ReducePlan plan = plan_for(x, dims);
  if (plan.outputs == 0) return;
  Tensor part_v, part_i;
  if (plan.chunks > 1) {
    const int64_t n = plan.outputs * plan.chunks;
    part_v = Tensor::empty(
        {n}, {.dtype = dtype_of(reduce_partial_dtype(kdtype(x.dtype()))), .device = device()});
    if (is_arg) part_i = Tensor::empty({n}, {.dtype = DType::I64, .device = device()});
  }
  // The scratch is freed when this returns; the caching allocator hands it out again
  // only to work queued later on the same stream.
  CUDA_CHECK(launch_reduce(a.op, kdtype(x.dtype()), x.raw_data(), out.raw_data(), plan,
                           part_v.defined() ? part_v.raw_data() : nullptr,
                           part_i.defined() ? static_cast<int64_t*>(part_i.raw_data()) : nullptr,
                           Launch{stream(), error_flag()}));
}

bool CudaBackend::all_finite(const Tensor& x) { return all_finite_multi(std::span(&x, 1)); }

// One device flag for all tensors: contiguous tensors of a dtype share launches, the
// others get one strided launch each; then a single read of the flag.
bool CudaBackend::all_finite_multi(std::span<const Tensor> xs) {
  activate();
  for (const Tensor& x : xs) check_device(device(), x, "all_finite");
  const Launch l{stream(), error_flag()};
  Tensor flag = Tensor::empty({1}, {.dtype = DType::I32, .device = device()});
  int* f = static_cast<int*>(flag.raw_data());
  CUDA_CHECK(cudaMemsetAsync(f, 0, sizeof(int), stream()));
  for (const DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    FiniteBatch batch;
    for (const Tensor& x : xs) {
      if (x.dtype() != dt || x.numel() == 0) continue;
      if (!x.is_contiguous()) {
        const LoopGeometry<1> g = make_geometry<1>(x.shape(), {&x});
        CUDA_CHECK(launch_nonfinite_strided(kdtype(dt), x.raw_data(), g, x.numel(), f, l));
        continue;
      }
      batch.data[batch.count] = x.raw_data();
      batch.numel[batch.count] = x.numel();
      if (++batch.count == kFiniteBatch) {
        CUDA_CHECK(launch_nonfinite_batch(kdtype(dt), batch, f, l));
        batch = FiniteBatch{};
      }
    }
    CUDA_CHECK(launch_nonfinite_batch(kdtype(dt), batch, f, l));
  }
  int host = 0;
  CUDA_CHECK(cudaMemcpyAsync(&host, f, sizeof(int), cudaMemcpyDeviceToHost, stream()));
  // Waits for the copy and raises the errors earlier index kernels flagged.
  synchronize();
  return host == 0;
}

}  // namespace descent::cuda
