// Indexing on CUDA: the checks and strided views of backends/cpu/index.cpp, then the
// gather / scatter-add kernels of index_kernels.cu. The four slots reduce to two:
// - gather and index_select: out[c] = x[c with c[dim] := index[c]], walked over out
//   with a view of x whose `dim` stride is 0 (index_select broadcasts its 1-D index);
// - scatter_add and index_add: out[c with c[dim] := index[c]] += src[c] with atomics,
//   walked over the index's (or src's) shape with a view of out whose `dim` stride is 0.
// The CPU validates indices before writing; here reading them back would stall the
// stream, so the kernels clamp a bad index and raise the device flag instead, which
// the backend reports at its next synchronize() or all_finite().
#include <algorithm>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/index_kernels.h"
#include "backends/geometry.h"

namespace descent::cuda {

static_assert(kIndexOutOfRangeCode == int(DeviceError::IndexOutOfRange));

namespace {

void check_device(const Device& want, const Tensor& t, std::string_view op) {
  check(t.device() == want, op, "expected tensors on {}, got one on {}", want, t.device());
}

// What the host can check without reading the index: its dtype, and that a nonempty
// index has somewhere to point. The range is checked by the kernels.
void check_index(const Tensor& index, int64_t bound, int dim, std::string_view op) {
  check(index.dtype() == DType::I64, op, "index must be i64, got {}", index.dtype());
  check(bound > 0 || index.numel() == 0, op,
        "index is out of range for dim {} of size 0 (valid range [0, 0))", dim);
}

// `t`'s geometry restricted to `shape` (same rank, each size <= t's), with the stride of
// `dim` replaced.
Tensor window(const Tensor& t, const Shape& shape, int dim, int64_t dim_stride) {
  Strides st = t.strides();
  st[dim] = dim_stride;
  return make_view(t, shape, st, t.offset());
}

// The 1-D index viewed with `shape`: its stride along `dim`, 0 elsewhere.
Tensor broadcast_index(const Tensor& index, const Shape& shape, int dim) {
  Strides st = Shape::filled(shape.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.strides()[0];
  return make_view(index, shape, st, index.offset());
}

KDType kdtype(DType t) { return KDType(uint8_t(t)); }

int64_t byte_stride(const Tensor& t, int dim) {
  return t.dim() == 0 ? 0 : t.strides()[dim] * int64_t(t.element_size());
}

// out = x[... index ...] along dim; index has out's shape (possibly a broadcast view).
void gather_loop(CudaBackend& be, const Tensor& x, int dim, const Tensor& index,
                 const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor xw = x.dim() == 0 ? x : window(x, out.shape(), dim, 0);
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
  const Tensor ow = out.dim() == 0 ? out : window(out, shape, dim, 0);
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
  check(a.dim >= 0 && a.dim < a.x.dim(), "index_select", "dim {} is out of range for {} dims",
        a.dim, a.x.dim());
  check(a.index.dim() <= 1, "index_select", "index must be 0-D or 1-D, got shape {}",
        a.index.shape());
  Shape want = a.x.shape();
  want[a.dim] = a.index.numel();
  check(a.out.shape() == want && a.out.dtype() == a.x.dtype(), "index_select",
        "out must be {} {}, got {} {}", a.x.dtype(), want, a.out.dtype(), a.out.shape());
  check_device(device(), a.index, "index_select");
  check_device(device(), a.out, "index_select");
  check_index(a.index, a.x.shape()[a.dim], a.dim, "index_select");
  gather_loop(*this, a.x, a.dim, broadcast_index(a.index, want, a.dim), a.out);
}

void CudaBackend::gather(const GatherArgs& a) {
  activate();
  check_device(device(), a.x, "gather");
  check(a.index.dim() == a.x.dim() && a.out.shape() == a.index.shape(), "gather",
        "index must have x's rank and out's shape, got x {}, index {}, out {}", a.x.shape(),
        a.index.shape(), a.out.shape());
  check(a.dim >= 0 && a.dim < std::max(a.x.dim(), 1), "gather",
        "dim {} is out of range for {} dims", a.dim, a.x.dim());
  check(a.out.dtype() == a.x.dtype(), "gather", "out must be {}, got {}", a.x.dtype(),
        a.out.dtype());
  check_device(device(), a.index, "gather");
  check_device(device(), a.out, "gather");
  if (a.x.dim() == 0) {  // a scalar: the only valid index is 0
    check_index(a.index, 1, 0, "gather");
    gather_loop(*this, a.x, 0, a.index, a.out);
    return;
  }
  for (int d = 0; d < a.x.dim(); ++d) {
    check(d == a.dim || a.index.shape()[d] <= a.x.shape()[d], "gather",
          "index shape {} exceeds x shape {} at dim {}", a.index.shape(), a.x.shape(), d);
  }
  check_index(a.index, a.x.shape()[a.dim], a.dim, "gather");
  gather_loop(*this, a.x, a.dim, a.index, a.out);
}

void CudaBackend::index_add(const IndexAddArgs& a) {
  activate();
  check_device(device(), a.out, "index_add");
  check(a.dim >= 0 && a.dim < a.out.dim(), "index_add", "dim {} is out of range for {} dims", a.dim,
        a.out.dim());
  check(a.index.dim() <= 1, "index_add", "index must be 0-D or 1-D, got shape {}", a.index.shape());
  Shape want = a.out.shape();
  want[a.dim] = a.index.numel();
  check(a.src.shape() == want && a.src.dtype() == a.out.dtype(), "index_add",
        "src must be {} {}, got {} {}", a.out.dtype(), want, a.src.dtype(), a.src.shape());
  check_device(device(), a.index, "index_add");
  check_device(device(), a.src, "index_add");
  check_index(a.index, a.out.shape()[a.dim], a.dim, "index_add");
  scatter_add_loop(*this, a.out, a.dim, broadcast_index(a.index, want, a.dim), a.src);
}

void CudaBackend::scatter_add(const ScatterAddArgs& a) {
  activate();
  check_device(device(), a.out, "scatter_add");
  const int nd = a.out.dim();
  check(a.index.dim() == nd && a.src.dim() == nd && a.src.dtype() == a.out.dtype(), "scatter_add",
        "out, index and src must have one rank (and out, src one dtype), got out {} {}, "
        "index {}, src {} {}",
        a.out.dtype(), a.out.shape(), a.index.shape(), a.src.dtype(), a.src.shape());
  check(a.dim >= 0 && a.dim < std::max(nd, 1), "scatter_add", "dim {} is out of range for {} dims",
        a.dim, nd);
  check_device(device(), a.index, "scatter_add");
  check_device(device(), a.src, "scatter_add");
  if (nd == 0) {  // scalars: out += src when the index is 0
    check_index(a.index, 1, 0, "scatter_add");
    scatter_add_loop(*this, a.out, 0, a.index, a.src);
    return;
  }
  for (int d = 0; d < nd; ++d) {
    check(a.index.shape()[d] <= a.src.shape()[d] &&
              (d == a.dim || a.index.shape()[d] <= a.out.shape()[d]),
          "scatter_add", "index shape {} exceeds src {} or out {} at dim {}", a.index.shape(),
          a.src.shape(), a.out.shape(), d);
  }
  check_index(a.index, a.out.shape()[a.dim], a.dim, "scatter_add");
  scatter_add_loop(*this, a.out, a.dim, a.index,
                   window(a.src, a.index.shape(), a.dim, a.src.strides()[a.dim]));
}

}  // namespace descent::cuda
