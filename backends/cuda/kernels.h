#pragma once
// The boundary between the backend's C++ side (cuda/*.cpp: argument checks, shapes,
// library calls) and its device code (cuda/*.cu: kernels and their launchers). The
// .cu files include only this header and the fmt-free ones it names, because nvcc
// cannot compile fmt's consteval format strings; every launcher takes plain data and
// returns the launch's cudaError_t, which the C++ side turns into a descent::Error.
#include <cuda_runtime_api.h>
#include <descent/backends/loop_geometry.h>
#include <descent/backends/op_kinds.h>
#include <descent/backends/op_support.h>

#include <cstdint>

namespace descent::cuda {

// core/dtype.h's DType codes (checked by a static_assert in copy.cpp).
enum class KDType : uint8_t { F32, F64, F16, BF16, I32, I64, Bool };

// op_support.h's family of a dtype, for the launchers' checks against its table.
constexpr DTypeKind dtype_kind(KDType dt) {
  switch (dt) {
    case KDType::F32:
    case KDType::F64:
    case KDType::F16:
    case KDType::BF16: return DTypeKind::Floating;
    case KDType::I32:
    case KDType::I64: return DTypeKind::Integral;
    case KDType::Bool: return DTypeKind::Bool;
  }
  return DTypeKind::Bool;
}

// A launch's stream and, for the index kernels, the device error flag
// (CudaBackend::error_flag).
struct Launch {
  cudaStream_t stream = nullptr;
  int* error_flag = nullptr;
};

}  // namespace descent::cuda
