#pragma once
// Host-side helpers shared by the CUDA backend's slot files (cuda/*.cpp, never the .cu
// files: this pulls fmt): the kernels' code of a dtype, the device check of the slots,
// the broadcasting test of copy and the elementwise slots, and cuDNN's data type of a
// dtype (batch norm, LSTM).
#include <cudnn.h>
#include <descent/backends/cuda/kernels.h>
#include <descent/core/cuda.h>
#include <descent/core/error.h>
#include <descent/core/tensor.h>

#include <cstdint>
#include <string_view>

namespace descent::cuda {

// The kernels' dtype codes are core/dtype.h's (kernels.h cannot include it: fmt).
static_assert(uint8_t(KDType::F32) == uint8_t(DType::F32) &&
              uint8_t(KDType::F64) == uint8_t(DType::F64) &&
              uint8_t(KDType::F16) == uint8_t(DType::F16) &&
              uint8_t(KDType::BF16) == uint8_t(DType::BF16) &&
              uint8_t(KDType::I32) == uint8_t(DType::I32) &&
              uint8_t(KDType::I64) == uint8_t(DType::I64) &&
              uint8_t(KDType::Bool) == uint8_t(DType::Bool));

inline KDType kdtype(DType t) { return KDType(uint8_t(t)); }
inline DType dtype_of(KDType t) { return DType(uint8_t(t)); }

inline void check_device(const Device& want, const Tensor& t, std::string_view op) {
  check(t.device() == want, op, "expected tensors on {}, got one on {}", want, t.device());
}

// True when `t`'s shape broadcasts to `shape` (aligned right, size 1 or equal).
inline bool broadcasts_to(const Tensor& t, const Shape& shape) {
  if (t.dim() > shape.size()) return false;
  for (int d = 0; d < t.dim(); ++d) {
    const int64_t s = t.shape()[d], o = shape[d + shape.size() - t.dim()];
    if (s != 1 && s != o) return false;
  }
  return true;
}

// f32 for the dtypes cuDNN has no type of its own for here (its callers accept only
// floating dtypes).
inline cudnnDataType_t cudnn_dtype(DType dt) {
  switch (dt) {
    case DType::F64: return CUDNN_DATA_DOUBLE;
    case DType::F16: return CUDNN_DATA_HALF;
    case DType::BF16: return CUDNN_DATA_BFLOAT16;
    case DType::F32:
    case DType::I32:
    case DType::I64:
    case DType::Bool: return CUDNN_DATA_FLOAT;
  }
  return CUDNN_DATA_FLOAT;
}

// cuDNN's math type for a dtype, PyTorch's choices: tensor ops for f16, TF32 for f32 only
// when cuda::allow_tf32() (exact f32 FMAs otherwise).
inline cudnnMathType_t cudnn_math_type(DType dt) {
  if (dt == DType::F16) return CUDNN_TENSOR_OP_MATH;
  if (dt == DType::F32) return allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  return CUDNN_DEFAULT_MATH;
}

// A byte buffer of this device (cuDNN's workspaces).
inline Tensor raw_bytes(Device device, size_t n) {
  return Tensor::empty({int64_t(n)}, {.dtype = DType::Bool, .device = device});
}

}  // namespace descent::cuda
