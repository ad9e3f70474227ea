#pragma once
// Launchers of the reduction and all_finite kernels (reduce_kernels.cu), called by
// reduce.cpp. Plain data only: nvcc compiles the implementation without fmt.
#include <descent/backends/cuda/kernels.h>

#include <cstdint>

namespace descent::cuda {

// How a reduction is spread over the GPU, chosen on the host from the shape alone,
// so that the same input gives the same bits every run (no atomics).
//   Output element o reads x at offset(kept, o) + offset(red, r) for r in [0, r).
//   Its range of r splits into `chunks` parts of `chunk` elements (the last may be
//   shorter); each part is reduced by a group of `lanes` threads (1, 32 or 256),
//   combined in a fixed tree. With chunks > 1 the parts go to scratch and a second
//   kernel folds them in order.
struct ReducePlan {
  LoopGeometry<1> kept;  // x over out's shape (the kept dims, in x's order)
  LoopGeometry<1> red;   // x over the reduced dims, in x's order
  int64_t outputs = 0;   // out.numel(); out is contiguous
  int64_t r = 0;         // elements each output reduces (0: write the op's identity)
  int lanes = 1;
  int64_t chunks = 1;
  int64_t chunk = 0;
};

// The dtype of a reduction's partial values for input dtype dt: f64 for f64, f32 for
// the other floats, i64 for integers and bool.
inline KDType reduce_partial_dtype(KDType dt) {
  switch (dt) {
    case KDType::F64: return KDType::F64;
    case KDType::F32:
    case KDType::F16:
    case KDType::BF16: return KDType::F32;
    case KDType::I32:
    case KDType::I64:
    case KDType::Bool: return KDType::I64;
  }
  return KDType::I64;
}

// out = op over x (dtype dt). Sum/Max/Min write dt, ArgMax/ArgMin i64, All/Any bool.
// With plan.chunks > 1, partial_values holds outputs·chunks values of
// reduce_partial_dtype(dt) and, for ArgMax/ArgMin, partial_indices as many i64.
cudaError_t launch_reduce(ReduceOp op, KDType dt, const void* x, void* out, const ReducePlan& plan,
                          void* partial_values, int64_t* partial_indices, Launch l);

// Sets *flag = 1 when any of the n elements of x (floating dt, strided by g) is NaN or
// ±Inf; leaves it alone otherwise.
cudaError_t launch_nonfinite_strided(KDType dt, const void* x, const LoopGeometry<1>& g, int64_t n,
                                     int* flag, Launch l);

// The same over up to kFiniteBatch contiguous tensors of one dtype in one launch.
inline constexpr int kFiniteBatch = 64;
struct FiniteBatch {
  const void* data[kFiniteBatch] = {};
  int64_t numel[kFiniteBatch] = {};
  int count = 0;
};
cudaError_t launch_nonfinite_batch(KDType dt, const FiniteBatch& batch, int* flag, Launch l);

}  // namespace descent::cuda
