#include <descent/core/autocast.h>
#include <descent/core/error.h>
#include <descent/core/tensor.h>

namespace descent::amp {

namespace {
thread_local bool t_enabled = false;
thread_local DType t_dtype = DType::BF16;

}  // namespace

bool autocast_enabled() { return t_enabled; }
DType autocast_dtype() { return t_dtype; }

Autocast::Autocast(DType dtype, bool enabled) : prev_enabled_(t_enabled), prev_dtype_(t_dtype) {
  check(is_16bit(dtype), "autocast", "dtype must be bf16 or f16, got {}", dtype);
  t_enabled = enabled;
  if (enabled) t_dtype = dtype;
}

Autocast::~Autocast() {
  t_enabled = prev_enabled_;
  t_dtype = prev_dtype_;
}

DType lower_precision(DType dt) {
  if (!t_enabled || !(dt == DType::F32 || is_16bit(dt))) return dt;
  return t_dtype;
}

Tensor to_fp32(const Tensor& x) {
  if (!t_enabled || !x.defined() || !is_16bit(x.dtype())) return x;
  return x.to(DType::F32);
}

}  // namespace descent::amp
