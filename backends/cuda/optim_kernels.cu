// The fused optimizer updates on the device: one kernel per dtype (f32, f64) runs any of
// the nine rules over a chunk of tensors (optim_kernels.h). The rule is a run-time
// switch and the flags are run-time values, uniform across a block, so the kernel is
// compiled twice rather than once per rule, flag and dtype.
//
// Each rule is the CPU backend's loop body (backends/cpu/optim.cpp) with the same op
// order, and with every product, quotient and square root written as a correctly
// rounded intrinsic (mul_rn, div_rn, sqrt_rn: device_math.cuh): nvcc would otherwise
// fuse `a + b * c` into one FMA, which rounds once where the CPU rounds twice. So a step
// gives the CPU's result bit for bit, and CPU and GPU trajectories agree exactly. The
// parts the rules have in common (the step's gradient, moving averages, Adam's moments)
// are written once below.
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/device_types.cuh"
#include "backends/cuda/optim_kernels.h"

namespace descent::cuda {

namespace {

// NaN-propagating max, as torch.maximum / amax (and the CPU backend).
template <class T>
__device__ __forceinline__ T nan_max(T a, T b) {
  return (b > a || b != b) ? b : a;
}

template <class T>
__device__ __forceinline__ T sign_of(T x) {
  return T((x > T(0)) - (x < T(0)));
}

// The gradient a rule steps along: grad negated for maximize, plus weight_decay·param
// (weight_decay is s.v[0]) when `l2` (L2 weight decay, folded into the gradient).
template <class T>
struct StepGrad {
  T sign, wd;
  bool l2;
  __device__ __forceinline__ T operator()(const T* grad, const T* param, int64_t i) const {
    T g = mul_rn(sign, grad[i]);
    if (l2) g = g + mul_rn(wd, param[i]);
    return g;
  }
};
template <class T>
__device__ __forceinline__ StepGrad<T> step_grad(const OptimScalars& s, bool l2) {
  return {(s.flags & kOptMaximize) ? T(-1) : T(1), T(s.v[0]), l2};
}

// The moving averages: b·m + c·g, and b·v + c·g·g for squares (as (c·g)·g, the CPU's
// order); c is 1 - b, rounded on the host.
template <class T>
__device__ __forceinline__ T ema(T b, T m, T c, T g) {
  return mul_rn(b, m) + mul_rn(c, g);
}
template <class T>
__device__ __forceinline__ T ema_sq(T b, T v, T c, T g) {
  return mul_rn(b, v) + mul_rn(mul_rn(c, g), g);
}

// Adam's first and second moments of g, stored back into m1 and m2.
template <class T>
struct Moments {
  T m, v;
};
template <class T>
__device__ __forceinline__ Moments<T> update_moments(T* m1, T* m2, int64_t i, T g, T b1, T b1c,
                                                     T b2, T b2c) {
  const Moments<T> r{ema(b1, m1[i], b1c, g), ema_sq(b2, m2[i], b2c, g)};
  m1[i] = r.m;
  m2[i] = r.v;
  return r;
}

// Every rule updates elements [begin, end) of one tensor, a block's threads striding
// through them. p holds the operands in optim.cpp's pack order; s.v the scalars.
#define DESCENT_SLICE_LOOP(i) for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)

template <class T>
__device__ void sgd(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* buf = p[2];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T lr = T(s.v[1]), m = T(s.v[2]), damp1 = T(s.v[3]);
  const bool mom = s.flags & kOptFlag2, nesterov = s.flags & kOptFlag3;
  const bool init = s.flags & kOptFlag4;
  DESCENT_SLICE_LOOP(i) {
    T g = step(grad, param, i);
    if (mom) {
      const T v = init ? g : ema(m, buf[i], damp1, g);
      buf[i] = v;
      g = nesterov ? g + mul_rn(m, v) : v;
    }
    param[i] = param[i] - mul_rn(lr, g);
  }
}

template <class T>
__device__ void rmsprop(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *sq = p[2], *ga = p[3], *buf = p[4];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T lr = T(s.v[1]), alpha = T(s.v[2]), alpha1 = T(s.v[3]), eps = T(s.v[4]);
  const T m = T(s.v[5]);
  const bool centered = s.flags & kOptFlag2, mom = s.flags & kOptFlag3;
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const T v = ema_sq(alpha, sq[i], alpha1, g);
    sq[i] = v;
    T avg;
    if (centered) {
      const T mg = ema(alpha, ga[i], alpha1, g);
      ga[i] = mg;
      avg = sqrt_rn(v - mul_rn(mg, mg)) + eps;
    } else {
      avg = sqrt_rn(v) + eps;
    }
    if (mom) {
      const T nb = mul_rn(m, buf[i]) + div_rn(g, avg);
      buf[i] = nb;
      param[i] = param[i] - mul_rn(lr, nb);
    } else {
      param[i] = param[i] - div_rn(mul_rn(lr, g), avg);
    }
  }
}

// flags: 2 decoupled weight decay (param *= decay), 3 amsgrad.
template <class T>
__device__ void adam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3], *vmax = p[4];
  const bool has_wd = s.flags & kOptWeightDecay, decoupled = s.flags & kOptFlag2;
  const bool ams = s.flags & kOptFlag3;
  const StepGrad<T> step = step_grad<T>(s, has_wd && !decoupled);
  const T decay = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]), b2 = T(s.v[4]), b2c = T(s.v[5]);
  const T eps = T(s.v[6]), step_size = T(s.v[7]), bc2s = T(s.v[8]);
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    T pi = param[i];
    if (has_wd && decoupled) pi = mul_rn(pi, decay);
    Moments<T> mo = update_moments(m1, m2, i, g, b1, b1c, b2, b2c);
    if (ams) {
      mo.v = nan_max(vmax[i], mo.v);
      vmax[i] = mo.v;
    }
    param[i] = pi - div_rn(mul_rn(step_size, mo.m), div_rn(sqrt_rn(mo.v), bc2s) + eps);
  }
}

template <class T>
__device__ void nadam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T b1 = T(s.v[1]), b1c = T(s.v[2]), b2 = T(s.v[3]), b2c = T(s.v[4]), eps = T(s.v[5]);
  const T bc2s = T(s.v[6]), cg = T(s.v[7]), cm = T(s.v[8]);
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const Moments<T> mo = update_moments(m1, m2, i, g, b1, b1c, b2, b2c);
    const T d = div_rn(sqrt_rn(mo.v), bc2s) + eps;
    const T pi = param[i] + div_rn(mul_rn(cg, g), d);
    param[i] = pi + div_rn(mul_rn(cm, mo.m), d);
  }
}

// flags: 2 rectified.
template <class T>
__device__ void radam(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *m2 = p[3];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T lr = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]), b2 = T(s.v[4]), b2c = T(s.v[5]);
  const T eps = T(s.v[6]), bc1 = T(s.v[7]), bc2s = T(s.v[8]), rect = T(s.v[9]);
  const bool rectified = s.flags & kOptFlag2;
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const Moments<T> mo = update_moments(m1, m2, i, g, b1, b1c, b2, b2c);
    const T mhat = div_rn(mo.m, bc1);
    if (rectified) {
      param[i] =
          param[i] - mul_rn(mul_rn(mul_rn(mhat, lr), div_rn(bc2s, sqrt_rn(mo.v) + eps)), rect);
    } else {
      param[i] = param[i] - mul_rn(mhat, lr);
    }
  }
}

template <class T>
__device__ void adagrad(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* sum = p[2];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T clr = T(s.v[1]), eps = T(s.v[2]);
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const T si = sum[i] + mul_rn(g, g);
    sum[i] = si;
    param[i] = param[i] - div_rn(mul_rn(clr, g), sqrt_rn(si) + eps);
  }
}

template <class T>
__device__ void adadelta(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *sq = p[2], *acc = p[3];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T lr = T(s.v[1]), rho = T(s.v[2]), rho1 = T(s.v[3]), eps = T(s.v[4]);
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const T v = ema_sq(rho, sq[i], rho1, g);
    sq[i] = v;
    const T delta = mul_rn(div_rn(sqrt_rn(acc[i] + eps), sqrt_rn(v + eps)), g);
    acc[i] = ema_sq(rho, acc[i], rho1, delta);
    param[i] = param[i] - mul_rn(lr, delta);
  }
}

template <class T>
__device__ void adamax(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T *m1 = p[2], *u = p[3];
  const StepGrad<T> step = step_grad<T>(s, s.flags & kOptWeightDecay);
  const T b1 = T(s.v[1]), b1c = T(s.v[2]), b2 = T(s.v[3]), eps = T(s.v[4]), clr = T(s.v[5]);
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    const T mi = ema(b1, m1[i], b1c, g);
    m1[i] = mi;
    const T ui = nan_max(mul_rn(b2, u[i]), m_fabs(g) + eps);
    u[i] = ui;
    param[i] = param[i] - div_rn(mul_rn(clr, mi), ui);
  }
}

// Decoupled decay only (s.v[0] is lr here): the weight decay flag selects param *= decay.
template <class T>
__device__ void lion(T* const* p, const OptimScalars& s, int64_t begin, int64_t end) {
  T* param = p[0];
  const T* grad = p[1];
  T* m1 = p[2];
  const StepGrad<T> step = step_grad<T>(s, false);
  const T lr = T(s.v[0]), decay = T(s.v[1]), b1 = T(s.v[2]), b1c = T(s.v[3]);
  const T b2 = T(s.v[4]), b2c = T(s.v[5]);
  const bool has_wd = s.flags & kOptWeightDecay;
  DESCENT_SLICE_LOOP(i) {
    const T g = step(grad, param, i);
    T pi = param[i];
    if (has_wd) pi = mul_rn(pi, decay);
    param[i] = pi - mul_rn(lr, sign_of(ema(b1, m1[i], b1c, g)));
    m1[i] = ema(b2, m1[i], b2c, g);
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
