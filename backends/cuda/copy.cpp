// The CUDA backend's copy family: copy (on the device, host → device, device → host;
// converting dtype, broadcasting, strided on either side), fill and arange. Value rules
// are backends/cpu/copy.cpp's; the kernels are in copy_kernels.cu. Every transfer and
// kernel is queued on the backend's stream; only copies to the host wait for it (the
// host reads the result next).
#include <descent/backends/cuda/copy_kernels.h>
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/geometry.h>

#include <cstring>
#include <type_traits>

namespace descent::cuda {

static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);

namespace {

size_t nbytes(const Tensor& t) { return size_t(t.numel()) * t.element_size(); }

// True when src and dst hold the same elements in the same dense order, so one memcpy
// copies src to dst. src broadcasts to dst, so equal counts mean no dim repeats.
bool plain_copy(const Tensor& src, const Tensor& dst) {
  return src.dtype() == dst.dtype() && src.numel() == dst.numel() && src.is_contiguous() &&
         dst.is_contiguous();
}

// `t` with its broadcast dims (stride 0, size > 1) narrowed to size 1: it still
// broadcasts to the same shape, and a transfer moves each stored element once.
Tensor compact(const Tensor& t) {
  Shape s = t.shape();
  bool narrowed = false;
  for (int d = 0; d < t.dim(); ++d) {
    if (t.strides()[d] == 0 && s[d] > 1) {
      s[d] = 1;
      narrowed = true;
    }
  }
  return narrowed ? make_view(t, s, t.strides(), t.offset()) : t;
}

// Both tensors on this device.
void copy_on_device(CudaBackend& be, const Tensor& src, const Tensor& dst) {
  if (plain_copy(src, dst)) {
    if (src.raw_data() != dst.raw_data()) {
      CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes(dst),
                                 cudaMemcpyDeviceToDevice, be.stream()));
    }
    return;
  }
  const LoopGeometry<2> g = make_geometry<2>(dst.shape(), {&dst, &src});
  CUDA_CHECK(launch_convert(Launch{be.stream(), be.error_flag()}, kdtype(dst.dtype()),
                            kdtype(src.dtype()), g, dst.numel(), dst.raw_data(), src.raw_data()));
}

// src on the host, dst on this device. The host buffer is pageable memory (the CPU
// allocator's), which cudaMemcpyAsync stages before it returns, so it may be freed or
// overwritten right after and the host need not wait.
void copy_to_device(CudaBackend& be, const Tensor& src, const Tensor& dst) {
  Tensor host = compact(src);
  if (!host.is_contiguous()) {
    Tensor dense = Tensor::empty(host.shape(), {.dtype = host.dtype(), .device = Device::CPU});
    backend_for(Device::CPU).copy(host, dense);
    host = dense;
  }
  if (plain_copy(host, dst)) {
    CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), host.raw_data(), nbytes(host),
                               cudaMemcpyHostToDevice, be.stream()));
    return;
  }
  // Move the source as it is, then convert / broadcast / scatter on the device.
  Tensor staged = Tensor::empty(host.shape(), {.dtype = host.dtype(), .device = be.device()});
  CUDA_CHECK(cudaMemcpyAsync(staged.raw_data(), host.raw_data(), nbytes(host),
                             cudaMemcpyHostToDevice, be.stream()));
  copy_on_device(be, staged, dst);
}

// src on this device, dst on the host: gather and convert on the device into dst's
// dtype and shape, transfer, wait, then scatter on the host if dst is strided.
void copy_to_host(CudaBackend& be, const Tensor& src, const Tensor& dst) {
  Tensor dev = src;
  if (!(src.is_contiguous() && src.dtype() == dst.dtype() && src.numel() == dst.numel())) {
    dev = Tensor::empty(dst.shape(), {.dtype = dst.dtype(), .device = be.device()});
    copy_on_device(be, src, dev);
  }
  const bool direct = dst.is_contiguous();
  const Tensor host =
      direct ? dst : Tensor::empty(dst.shape(), {.dtype = dst.dtype(), .device = Device::CPU});
  CUDA_CHECK(cudaMemcpyAsync(host.raw_data(), dev.raw_data(), nbytes(dst), cudaMemcpyDeviceToHost,
                             be.stream()));
  CUDA_CHECK(cudaStreamSynchronize(be.stream()));
  if (!direct) backend_for(Device::CPU).copy(host, dst);
}

// The value's bytes in dtype `t`, converted as the CPU backend converts a double.
uint64_t value_bits(DType t, double value) {
  uint64_t bits = 0;
  visit_dtype(t, [&]<class D>() {
    D v;
    if constexpr (std::is_same_v<D, bool>) {
      v = value != 0;
    } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
      v = D(float(value));
    } else {
      v = D(value);
    }
    std::memcpy(&bits, &v, sizeof(D));
  });
  return bits;
}

}  // namespace

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  activate();
  const Device here = device();
  const auto elsewhere = [&](const Tensor& t) {
    return t.device().is_cuda() && t.device() != here;
  };
  check(!elsewhere(src) && !elsewhere(dst), "copy",
        "copies between CUDA devices are not supported, got {} → {} on the {} backend",
        src.device(), dst.device(), here);
  check(broadcasts_to(src, dst.shape()), "copy",
        "source shape {} does not broadcast to destination shape {}", src.shape(), dst.shape());
  if (src.device().is_cpu() && dst.device().is_cpu()) {
    backend_for(Device::CPU).copy(src, dst);
    return;
  }
  if (dst.numel() == 0) return;
  if (src.device().is_cpu()) {
    copy_to_device(*this, src, dst);
  } else if (dst.device().is_cpu()) {
    copy_to_host(*this, src, dst);
  } else {
    copy_on_device(*this, src, dst);
  }
}

void CudaBackend::fill(const Tensor& dst, double value) {
  activate();
  check(dst.device() == device(), "fill", "tensor is on {}, expected {}", dst.device(), device());
  if (dst.numel() == 0) return;
  const uint64_t bits = value_bits(dst.dtype(), value);
  if (bits == 0 && dst.is_contiguous()) {  // zeros: a memset, the common case
    CUDA_CHECK(cudaMemsetAsync(dst.raw_data(), 0, nbytes(dst), stream()));
    return;
  }
  const LoopGeometry<1> g = make_geometry<1>(dst.shape(), {&dst});
  CUDA_CHECK(launch_fill(Launch{stream(), error_flag()}, int(dst.element_size()), bits, g,
                         dst.numel(), dst.raw_data()));
}

void CudaBackend::arange(const Tensor& out, double start, double step) {
  activate();
  check(out.device() == device(), "arange", "output is on {}, expected {}", out.device(), device());
  check(out.is_contiguous(), "arange", "the output must be contiguous");
  CUDA_CHECK(launch_arange(Launch{stream(), error_flag()}, kdtype(out.dtype()), out.numel(),
                           out.raw_data(), start, step));
}

}  // namespace descent::cuda
