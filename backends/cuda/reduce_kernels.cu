// Reduction and all_finite kernels. One kernel per input dtype serves every ReduceOp
// (the op is a runtime switch): each group of lanes folds a strided range of its
// output's elements into a State (value, index), then the group combines its lanes in
// a fixed shuffle tree. No atomics, so the result depends on the shape only.
//
// Combination rules (those of backends/cpu/reduce.cpp):
//   Sum accumulates in f32 (f32, f16, bf16), f64 or i64 (integers);
//   Max/Min: NaN wins over everything; ArgMax/ArgMin: the extreme with the smallest
//   index, or the first NaN. Ranks by index make the tree order irrelevant to ties.
#include <cuda_runtime.h>
#include <descent/backends/cuda/reduce_kernels.h>

#include <cmath>
#include <descent/backends/cuda/device_types.cuh>
#include <limits>

namespace descent::cuda {

namespace {

template <class T>
using acc_t = std::conditional_t<
    std::is_same_v<T, double>, double,
    std::conditional_t<std::is_integral_v<T> || std::is_same_v<T, bool>, int64_t, float>>;

template <class A>
struct State {
  A v;
  int64_t i;
};

template <class A>
__device__ __forceinline__ bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>) {
    return v != v;
  } else {
    return false;
  }
}

__device__ __forceinline__ bool is_max(ReduceOp op) {
  return op == ReduceOp::Max || op == ReduceOp::ArgMax;
}

// The identity of op: what a lane without elements contributes. An index of INT64_MAX
// loses every tie against a real element.
template <class A>
__device__ __forceinline__ State<A> identity(ReduceOp op) {
  constexpr int64_t kNoIndex = std::numeric_limits<int64_t>::max();
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Any: return {A(0), 0};
    case ReduceOp::All: return {A(1), 0};
    case ReduceOp::Max:
    case ReduceOp::Min:
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin: break;  // the extreme value of A, below
  }
  if constexpr (std::is_floating_point_v<A>) {
    const A inf = std::numeric_limits<A>::infinity();
    return {is_max(op) ? -inf : inf, kNoIndex};
  } else {
    return {is_max(op) ? std::numeric_limits<A>::lowest() : std::numeric_limits<A>::max(),
            kNoIndex};
  }
}

// a ⊕ b. Associative and commutative (Sum up to rounding), so any tree of it gives the
// CPU's result.
template <class A>
__device__ __forceinline__ State<A> combine(ReduceOp op, const State<A>& a, const State<A>& b) {
  switch (op) {
    case ReduceOp::Sum: return {A(a.v + b.v), 0};
    case ReduceOp::All: return {A(a.v != A(0) && b.v != A(0)), 0};
    case ReduceOp::Any: return {A(a.v != A(0) || b.v != A(0)), 0};
    case ReduceOp::Max:
    case ReduceOp::Min: {
      if (is_nan(a.v)) return a;
      if (is_nan(b.v)) return b;
      const bool take_b = op == ReduceOp::Max ? b.v > a.v : b.v < a.v;
      return take_b ? b : a;
    }
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin: {
      const bool an = is_nan(a.v), bn = is_nan(b.v);
      bool take_b;
      if (an || bn) {
        take_b = an && bn ? b.i < a.i : bn;
      } else {
        const bool better = op == ReduceOp::ArgMax ? b.v > a.v : b.v < a.v;
        take_b = better || (b.v == a.v && b.i < a.i);
      }
      return take_b ? b : a;
    }
  }
  return a;
}

// The state of one element x at reduced index r.
template <class T, class A>
__device__ __forceinline__ State<A> element(ReduceOp op, const T* p, int64_t r) {
  const compute_t<T> c = load(p);
  switch (op) {
    case ReduceOp::All:
    case ReduceOp::Any: return {A(c != compute_t<T>(0)), 0};
    case ReduceOp::Sum:
    case ReduceOp::Max:
    case ReduceOp::Min:
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin: return {A(c), r};
  }
  return {A(c), r};
}

template <class A>
__device__ __forceinline__ State<A> shfl_down(const State<A>& s, int off) {
  return {__shfl_down_sync(0xffffffffu, s.v, off), __shfl_down_sync(0xffffffffu, s.i, off)};
}

// Combines the states of a group of `lanes` threads (1, 32 or the whole block of
// 256); the result is valid in the group's lane 0. Every thread of the block must
// call it when lanes == 256, every thread of the warp when lanes == 32.
template <class A>
__device__ __forceinline__ State<A> group_reduce(ReduceOp op, State<A> s, int lanes) {
  if (lanes == 1) return s;
  for (int off = 16; off > 0; off >>= 1) s = combine(op, s, shfl_down(s, off));
  if (lanes == 32) return s;
  __shared__ State<A> warp_part[kThreads / 32];
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  if (lane == 0) warp_part[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < kThreads / 32 ? warp_part[lane] : identity<A>(op);
    for (int off = 16; off > 0; off >>= 1) s = combine(op, s, shfl_down(s, off));
  }
  __syncthreads();  // warp_part is reused by the next output
  return s;
}

template <class T, class A>
__device__ __forceinline__ void write_result(ReduceOp op, void* out, int64_t o, const State<A>& s) {
  switch (op) {
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin: static_cast<int64_t*>(out)[o] = s.i; return;
    case ReduceOp::All:
    case ReduceOp::Any: static_cast<bool*>(out)[o] = s.v != A(0); return;
    case ReduceOp::Sum:
    case ReduceOp::Max:
    case ReduceOp::Min: static_cast<T*>(out)[o] = convert<T>(s.v); return;
  }
}

// Group g = (output o, part c), with o = g % outputs: neighbouring threads of a
// one-lane plan (column reductions) read neighbouring columns. Part c of output o is
// stored at o·chunks + c. Launched with kThreads threads per block.
template <class T>
__global__ void reduce_kernel(ReduceOp op, const char* x, void* out, ReducePlan p, acc_t<T>* part_v,
                              int64_t* part_i) {
  using A = acc_t<T>;
  const int lanes = p.lanes;
  const int lane = int(threadIdx.x) % lanes;
  DESCENT_GROUP_STRIDE(g, p.outputs * p.chunks, lanes) {
    const int64_t o = g % p.outputs, c = g / p.outputs;
    const char* base = x + offset_of(p.kept, o, p.outputs);
    const int64_t r0 = c * p.chunk;
    const int64_t r1 = r0 + p.chunk < p.r ? r0 + p.chunk : p.r;
    State<A> s = identity<A>(op);
    for (int64_t r = r0 + lane; r < r1; r += lanes) {
      s = combine(
          op, s, element<T, A>(op, reinterpret_cast<const T*>(base + offset_of(p.red, r, p.r)), r));
    }
    s = group_reduce(op, s, lanes);
    if (lane != 0) continue;
    if (p.chunks == 1) {
      write_result<T, A>(op, out, o, s);
    } else {
      part_v[o * p.chunks + c] = s.v;
      if (part_i) part_i[o * p.chunks + c] = s.i;
    }
  }
}

// Folds each output's parts in order.
template <class T>
__global__ void reduce_finish_kernel(ReduceOp op, void* out, int64_t outputs, int64_t chunks,
                                     const acc_t<T>* part_v, const int64_t* part_i) {
  using A = acc_t<T>;
  DESCENT_GRID_STRIDE(o, outputs) {
    const int64_t b = o * chunks;
    State<A> s{part_v[b], part_i ? part_i[b] : 0};
    for (int64_t c = 1; c < chunks; ++c) {
      s = combine(op, s, State<A>{part_v[b + c], part_i ? part_i[b + c] : 0});
    }
    write_result<T, A>(op, out, o, s);
  }
}

// ---- all_finite -----------------------------------------------------------------------

template <class T>
__device__ __forceinline__ bool finite(const T* p) {
  return isfinite(load(p));
}

template <class T>
__global__ void nonfinite_strided_kernel(const char* x, LoopGeometry<1> g, int64_t n, int* flag) {
  bool bad = false;
  DESCENT_GRID_STRIDE(i, n) { bad |= !finite(reinterpret_cast<const T*>(x + offset_of(g, i, n))); }
  if (bad) atomicExch(flag, 1);
}

// blockIdx.y picks the tensor.
template <class T>
__global__ void nonfinite_batch_kernel(FiniteBatch b, int* flag) {
  const T* x = static_cast<const T*>(b.data[blockIdx.y]);
  const int64_t n = b.numel[blockIdx.y];
  bool bad = false;
  DESCENT_GRID_STRIDE(i, n) { bad |= !finite(x + i); }
  if (bad) atomicExch(flag, 1);
}

}  // namespace

cudaError_t launch_reduce(ReduceOp op, KDType dt, const void* x, void* out, const ReducePlan& plan,
                          void* partial_values, int64_t* partial_indices, Launch l) {
  if (!supports(op, dtype_kind(dt))) return cudaErrorInvalidValue;  // op_support.h
  if (plan.outputs == 0) return cudaSuccess;
  return visit(dt, [&]<class T>() {
    using A = acc_t<T>;
    if (plan.lanes != 1 && plan.lanes != 32 && plan.lanes != kThreads) return cudaErrorInvalidValue;
    const unsigned blocks = blocks_for_groups(plan.outputs * plan.chunks, plan.lanes);
    A* pv = plan.chunks > 1 ? static_cast<A*>(partial_values) : nullptr;
    int64_t* pi = plan.chunks > 1 ? partial_indices : nullptr;
    reduce_kernel<T>
        <<<blocks, kThreads, 0, l.stream>>>(op, static_cast<const char*>(x), out, plan, pv, pi);
    if (plan.chunks > 1) {
      const cudaError_t e = cudaGetLastError();
      if (e != cudaSuccess) return e;
      reduce_finish_kernel<T><<<blocks_for(plan.outputs), kThreads, 0, l.stream>>>(
          op, out, plan.outputs, plan.chunks, pv, pi);
    }
    return cudaGetLastError();
  });
}

cudaError_t launch_nonfinite_strided(KDType dt, const void* x, const LoopGeometry<1>& g, int64_t n,
                                     int* flag, Launch l) {
  if (n == 0) return cudaSuccess;
  return visit_floating(dt, [&]<class T>() {
    nonfinite_strided_kernel<T>
        <<<blocks_for(n), kThreads, 0, l.stream>>>(static_cast<const char*>(x), g, n, flag);
    return cudaGetLastError();
  });
}

cudaError_t launch_nonfinite_batch(KDType dt, const FiniteBatch& batch, int* flag, Launch l) {
  if (batch.count <= 0) return cudaSuccess;
  if (batch.count > kFiniteBatch) return cudaErrorInvalidValue;
  int64_t longest = 0;
  for (int k = 0; k < batch.count; ++k)
    longest = batch.numel[k] > longest ? batch.numel[k] : longest;
  if (longest == 0) return cudaSuccess;
  // A few blocks per SM per tensor; the grid-stride loop covers the rest.
  const unsigned bx = blocks_for(longest) < 1024u ? blocks_for(longest) : 1024u;
  const dim3 grid(bx, unsigned(batch.count));
  return visit_floating(dt, [&]<class T>() {
    nonfinite_batch_kernel<T><<<grid, kThreads, 0, l.stream>>>(batch, flag);
    return cudaGetLastError();
  });
}

}  // namespace descent::cuda
