// The fused optimizer updates on the device: one kernel per dtype (f32, f64) runs any of
// the nine rules over a chunk of tensors (optim_kernels.h). The rule is a run-time
// switch and the flags are run-time values, uniform across a block, so the kernel is
// compiled twice rather than once per rule, flag and dtype.
//
// Each rule is the CPU backend's loop body (backends/cpu/optim.cpp) with the same op
// order, and with every product, quotient and square root written as a correctly
// rounded intrinsic: nvcc would otherwise fuse `a + b * c` into one FMA, which rounds
// once where the CPU rounds twice. So a step gives the CPU's result bit for bit, and
// CPU and GPU trajectories agree exactly.
#include "backends/cuda/device_types.cuh"
#include "backends/cuda/optim_kernels.h"

namespace descent::cuda {

namespace {

__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float div(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float root(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double root(double a) { return __dsqrt_rn(a); }
__device__ __forceinline__ float absval(float a) { return fabsf(a); }
__device__ __forceinline__ double absval(double a) { return fabs(a); }

// NaN-propagating max, as torch.maximum / amax (and the CPU backend).
template <class T>
__device__ __forceinline__ T nan_max(T a, T b) {
  return (b > a || b != b) ? b : a;
}

template <class T>
__device__ __forceinline__ T sign_of(T x) {
  return T((x > T(0)) - (x < T(0)));
}

// Every rule updates elements [begin, end) of one tensor, a block's threads striding
// through them. p holds the operands in optim.cpp's pack order; s.v the scalars.
#define DESCENT_SLICE_LOOP(i) for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)

template <class T>
__device__ void sgd(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* buf = p[2];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), lr = T(s.v[1]), m = T(s.v[2]), damp1 = T(s.v[3]);
  const bool has_wd = s.flags & kOptWeightDecay, mom = s.flags & kOptFlag2;
  const bool nesterov = s.flags & kOptFlag3, init = s.flags & kOptFlag4;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    if (mom) {
      const T v = init ? g : mul(m, buf[i]) + mul(damp1, g);
      buf[i] = v;
      g = nesterov ? g + mul(m, v) : v;
    }
    param[i] = param[i] - mul(lr, g);
  }
}

template <class T>
__device__ void rmsprop(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *sq = p[2], *ga = p[3], *buf = p[4];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), lr = T(s.v[1]), alpha = T(s.v[2]), alpha1 = T(s.v[3]);
  const T eps = T(s.v[4]), m = T(s.v[5]);
  const bool has_wd = s.flags & kOptWeightDecay, centered = s.flags & kOptFlag2;
  const bool mom = s.flags & kOptFlag3;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T v = mul(alpha, sq[i]) + mul(mul(alpha1, g), g);
    sq[i] = v;
    T avg;
    if (centered) {
      const T mg = mul(alpha, ga[i]) + mul(alpha1, g);
      ga[i] = mg;
      avg = root(v - mul(mg, mg)) + eps;
    } else {
      avg = root(v) + eps;
    }
    if (mom) {
      const T nb = mul(m, buf[i]) + div(g, avg);
      buf[i] = nb;
      param[i] = param[i] - mul(lr, nb);
    } else {
      param[i] = param[i] - div(mul(lr, g), avg);
    }
  }
}

template <class T>
__device__ void adam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3], *vmax = p[4];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), decay = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]);
  const T b2 = T(s.v[4]), b2c = T(s.v[5]), eps = T(s.v[6]), step = T(s.v[7]), bc2s = T(s.v[8]);
  const bool has_wd = s.flags & kOptWeightDecay, decoupled = s.flags & kOptFlag2;
  const bool ams = s.flags & kOptFlag3;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    T pi = param[i];
    if (has_wd && decoupled) pi = mul(pi, decay);
    if (has_wd && !decoupled) g = g + mul(wd, pi);
    const T mi = mul(b1, m1[i]) + mul(b1c, g);
    T vi = mul(b2, m2[i]) + mul(mul(b2c, g), g);
    m1[i] = mi;
    m2[i] = vi;
    if (ams) {
      vi = nan_max(vmax[i], vi);
      vmax[i] = vi;
    }
    param[i] = pi - div(mul(step, mi), div(root(vi), bc2s) + eps);
  }
}

template <class T>
__device__ void nadam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), b1 = T(s.v[1]), b1c = T(s.v[2]), b2 = T(s.v[3]), b2c = T(s.v[4]);
  const T eps = T(s.v[5]), bc2s = T(s.v[6]), cg = T(s.v[7]), cm = T(s.v[8]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T mi = mul(b1, m1[i]) + mul(b1c, g);
    const T vi = mul(b2, m2[i]) + mul(mul(b2c, g), g);
    m1[i] = mi;
    m2[i] = vi;
    const T d = div(root(vi), bc2s) + eps;
    const T pi = param[i] + div(mul(cg, g), d);
    param[i] = pi + div(mul(cm, mi), d);
  }
}

template <class T>
__device__ void radam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), lr = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]), b2 = T(s.v[4]);
  const T b2c = T(s.v[5]), eps = T(s.v[6]), bc1 = T(s.v[7]), bc2s = T(s.v[8]);
  const T rect = T(s.v[9]);
  const bool has_wd = s.flags & kOptWeightDecay, rectified = s.flags & kOptFlag2;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T mi = mul(b1, m1[i]) + mul(b1c, g);
    const T vi = mul(b2, m2[i]) + mul(mul(b2c, g), g);
    m1[i] = mi;
    m2[i] = vi;
    const T mhat = div(mi, bc1);
    if (rectified) {
      param[i] = param[i] - mul(mul(mul(mhat, lr), div(bc2s, root(vi) + eps)), rect);
    } else {
      param[i] = param[i] - mul(mhat, lr);
    }
  }
}

template <class T>
__device__ void adagrad(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* sum = p[2];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), clr = T(s.v[1]), eps = T(s.v[2]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T si = sum[i] + mul(g, g);
    sum[i] = si;
    param[i] = param[i] - div(mul(clr, g), root(si) + eps);
  }
}

template <class T>
__device__ void adadelta(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *sq = p[2], *acc = p[3];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), lr = T(s.v[1]), rho = T(s.v[2]), rho1 = T(s.v[3]), eps = T(s.v[4]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T v = mul(rho, sq[i]) + mul(mul(rho1, g), g);
    sq[i] = v;
    const T delta = mul(div(root(acc[i] + eps), root(v + eps)), g);
    acc[i] = mul(rho, acc[i]) + mul(mul(rho1, delta), delta);
    param[i] = param[i] - mul(lr, delta);
  }
}

template <class T>
__device__ void adamax(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *u = p[3];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T wd = T(s.v[0]), b1 = T(s.v[1]), b1c = T(s.v[2]), b2 = T(s.v[3]), eps = T(s.v[4]);
  const T clr = T(s.v[5]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    T g = mul(gs, grad[i]);
    if (has_wd) g = g + mul(wd, param[i]);
    const T mi = mul(b1, m1[i]) + mul(b1c, g);
    m1[i] = mi;
    const T ui = nan_max(mul(b2, u[i]), absval(g) + eps);
    u[i] = ui;
    param[i] = param[i] - div(mul(clr, mi), ui);
  }
}

template <class T>
__device__ void lion(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* m1 = p[2];
  const T gs = (s.flags & kOptMaximize) ? T(-1) : T(1);
  const T lr = T(s.v[0]), decay = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]);
  const T b2 = T(s.v[4]), b2c = T(s.v[5]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    const T g = mul(gs, grad[i]);
    T pi = param[i];
    if (has_wd) pi = mul(pi, decay);
    const T c = mul(b1, m1[i]) + mul(b1c, g);
    param[i] = pi - mul(lr, sign_of(c));
    m1[i] = mul(b2, m1[i]) + mul(b2c, g);
  }
}

#undef DESCENT_SLICE_LOOP

// One block per (tensor, slice). __grid_constant__ lets threads index the chunk in
// the parameter space directly instead of copying it to local memory.
template <class T>
__global__ void __launch_bounds__(kOptimThreads)
    optim_kernel(const __grid_constant__ OptimChunk c) {
  const int b = int(blockIdx.x);
  int t = 0;
  while (t + 1 < c.count && b >= c.block_start[t + 1]) ++t;
  const int64_t begin = int64_t(b - c.block_start[t]) * kOptimSlice;
  const int64_t end = begin + kOptimSlice < c.numel[t] ? begin + kOptimSlice : c.numel[t];
  const OptimScalars& s = c.scalars[c.set[t]];
  T* p[kOptimMaxOperands];
  for (int k = 0; k < kOptimMaxOperands; ++k) p[k] = static_cast<T*>(c.ptr[t][k]);
  switch (c.rule) {
    case OptimRule::Sgd: sgd<T>(p, s, begin, end); break;
    case OptimRule::Rmsprop: rmsprop<T>(p, s, begin, end); break;
    case OptimRule::Adam: adam<T>(p, s, begin, end); break;
    case OptimRule::Nadam: nadam<T>(p, s, begin, end); break;
    case OptimRule::Radam: radam<T>(p, s, begin, end); break;
    case OptimRule::Adagrad: adagrad<T>(p, s, begin, end); break;
    case OptimRule::Adadelta: adadelta<T>(p, s, begin, end); break;
    case OptimRule::Adamax: adamax<T>(p, s, begin, end); break;
    case OptimRule::Lion: lion<T>(p, s, begin, end); break;
  }
}

}  // namespace

cudaError_t launch_optim(KDType dt, const OptimChunk& chunk, Launch l) {
  if (chunk.count <= 0) return cudaSuccess;
  const int blocks = chunk.block_start[chunk.count];
  if (blocks <= 0) return cudaSuccess;
  switch (dt) {
    case KDType::F32: optim_kernel<float><<<blocks, kOptimThreads, 0, l.stream>>>(chunk); break;
    case KDType::F64: optim_kernel<double><<<blocks, kOptimThreads, 0, l.stream>>>(chunk); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace descent::cuda
