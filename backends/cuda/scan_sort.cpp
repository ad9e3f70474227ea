// Scans and sorting on CUDA: the checks shared with the CPU (slot_helpers.h), then the
// kernels of scan_sort_kernels.cu.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/scan_sort_kernels.h>
#include <descent/backends/slot_helpers.h>

namespace descent::cuda {

void CudaBackend::scan(const ScanArgs& args) {
  activate();
  check_scan(args);
  check(args.x.device() == device() && args.out.device() == device(), "scan",
        "tensors on {} and {}, expected {}", args.x.device(), args.out.device(), device());
  CUDA_CHECK(launch_scan(Launch{stream(), error_flag()}, kdtype(args.x.dtype()),
                         args.op == ScanOp::Prod, args.outer, args.n, args.inner,
                         args.out.raw_data(), args.x.raw_data()));
}

void CudaBackend::sort(const SortArgs& args) {
  activate();
  check_sort(args);
  check(args.x.device() == device() && args.values.device() == device() &&
            args.indices.device() == device(),
        "sort", "tensors on {}, {} and {}, expected {}", args.x.device(), args.values.device(),
        args.indices.device(), device());
  if (args.x.numel() == 0) return;
  Tensor segments = Tensor::empty(args.x.shape(), {.dtype = DType::I64, .device = device()});
  CUDA_CHECK(launch_sort(Launch{stream(), error_flag()}, kdtype(args.x.dtype()), args.descending,
                         args.x.shape()[0], args.x.shape()[1], args.x.raw_data(),
                         args.values.raw_data(), static_cast<int64_t*>(args.indices.raw_data()),
                         static_cast<int64_t*>(segments.raw_data())));
}

}  // namespace descent::cuda
