// Indexing on CUDA: the checks and strided views shared with backends/cpu/index.cpp
// (slot_helpers.h), then the gather / scatter-add kernels of index_kernels.cu. The four
// slots reduce to two:
// - gather and index_select: out[c] = x[c with c[dim] := index[c]], walked over out
//   with a view of x whose `dim` stride is 0 (index_select broadcasts its 1-D index);
// - scatter_add and index_add: out[c with c[dim] := index[c]] += src[c] with atomics,
//   walked over the index's (or src's) shape with a view of out whose `dim` stride is 0.
// The CPU validates indices before writing; here reading them back would stall the
// stream, so the kernels clamp a bad index and raise the device flag instead, which
// the backend reports at its next synchronize() or all_finite().
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/cuda/index_kernels.h>
#include <descent/backends/geometry.h>
#include <descent/backends/slot_helpers.h>

namespace descent::cuda {

static_assert(kIndexOutOfRangeCode == int(DeviceError::IndexOutOfRange));

namespace {

// What the host can check without reading the index: its dtype, and that a nonempty
// index has somewhere to point. The range is checked by the kernels.
void check_index(const Tensor& index, int64_t bound, int dim, std::string_view op) {
  check(index.dtype() == DType::I64, op, "index must be i64, got {}", index.dtype());
  check(bound > 0 || index.numel() == 0, op,
        "index is out of range for dim {} of size 0 (valid range [0, 0))", dim);
}

int64_t byte_stride(const Tensor& t, int dim) {
  return t.dim() == 0 ? 0 : t.strides()[dim] * int64_t(t.element_size());
}

// out = x[... index ...] along dim; index has out's shape (possibly a broadcast view).
void gather_loop(CudaBackend& be, const Tensor& x, int dim, const Tensor& index,
                 const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor xw = x.dim() == 0 ? x : index_window(x, out.shape(), dim, 0);
  const LoopGeometry<3> g = make_geometry<3>(out.shape(), {&out, &index, &xw});
  const int64_t bound = x.dim() == 0 ? 1 : x.shape()[dim];
  CUDA_CHECK(launch_gather(int(x.element_size()), g, n, out.raw_data(), index.raw_data(),
                           xw.raw_data(), byte_stride(x, dim), bound,
                           Launch{be.stream(), be.error_flag()}));
}

// out[... index ...] += src along dim, over index's shape; src is a view of that shape.
void scatter_add_loop(CudaBackend& be, const Tensor& out, int dim, const Tensor& index,
                      const Tensor& src) {
  const Shape& shape = index.shape();
  const int64_t n = shape.numel();
  if (n == 0) return;
  const Tensor ow = out.dim() == 0 ? out : index_window(out, shape, dim, 0);
  const LoopGeometry<3> g = make_geometry<3>(shape, {&ow, &index, &src});
  const int64_t bound = out.dim() == 0 ? 1 : out.shape()[dim];
  CUDA_CHECK(launch_scatter_add(kdtype(out.dtype()), g, n, ow.raw_data(), index.raw_data(),
                                src.raw_data(), byte_stride(out, dim), bound,
                                Launch{be.stream(), be.error_flag()}));
}

}  // namespace

void CudaBackend::index_select(const IndexSelectArgs& a) {
  activate();
  check_device(device(), a.x, "index_select");
  const Shape want = check_index_select(a);
  check_device(device(), a.index, "index_select");
  check_device(device(), a.out, "index_select");
  check_index(a.index, a.x.shape()[a.dim], a.dim, "index_select");
  gather_loop(*this, a.x, a.dim, broadcast_index(a.index, want, a.dim), a.out);
}

void CudaBackend::gather(const GatherArgs& a) {
  activate();
  check_device(device(), a.x, "gather");
  check_gather(a);
  check(a.out.dtype() == a.x.dtype(), "gather", "out must be {}, got {}", a.x.dtype(),
        a.out.dtype());
  check_device(device(), a.index, "gather");
  check_device(device(), a.out, "gather");
  if (a.x.dim() == 0) {  // a scalar: the only valid index is 0
    check_index(a.index, 1, 0, "gather");
    gather_loop(*this, a.x, 0, a.index, a.out);
    return;
  }
  check_index(a.index, a.x.shape()[a.dim], a.dim, "gather");
  gather_loop(*this, a.x, a.dim, a.index, a.out);
}

void CudaBackend::index_add(const IndexAddArgs& a) {
  activate();
  check_device(device(), a.out, "index_add");
  const Shape want = check_index_add(a);
  check_device(device(), a.index, "index_add");
  check_device(device(), a.src, "index_add");
  check_index(a.index, a.out.shape()[a.dim], a.dim, "index_add");
  scatter_add_loop(*this, a.out, a.dim, broadcast_index(a.index, want, a.dim), a.src);
}

void CudaBackend::scatter_add(const ScatterAddArgs& a) {
  activate();
  check_device(device(), a.out, "scatter_add");
  check_scatter_add(a);
  check_device(device(), a.index, "scatter_add");
  check_device(device(), a.src, "scatter_add");
  if (a.out.dim() == 0) {  // scalars: out += src when the index is 0
    check_index(a.index, 1, 0, "scatter_add");
    scatter_add_loop(*this, a.out, 0, a.index, a.src);
    return;
  }
  check_index(a.index, a.out.shape()[a.dim], a.dim, "scatter_add");
  scatter_add_loop(*this, a.out, a.dim, a.index,
                   index_window(a.src, a.index.shape(), a.dim, a.src.strides()[a.dim]));
}

}  // namespace descent::cuda
