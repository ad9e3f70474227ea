// Fused optimizer updates (backend.h, "fused optimizer updates"): one pass over param,
// grad and state per step. Each rule is written once as a scalar body over restrict
// pointers; the loop is `omp simd` and split among the OpenMP threads above
// kParallelThreshold elements. Results do not depend on the thread count (pure
// elementwise maps). The arithmetic follows torch.optim's op order so f64 trajectories
// agree to rounding.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/loops.h"
#include "backends/slot_helpers.h"

namespace descent::cpu {

namespace {

// body(begin, end) over [0, n). Large ranges go to the threads in blocks handed out
// dynamically: on a busy machine a descheduled thread then delays the step by one
// block, not by its whole static share. Blocks are multiples of 16 elements, so each
// starts vector-aligned.
constexpr int64_t kBlock = 1 << 16;

template <class F>
void parallel_range(int64_t n, F&& body) {
  if (n < kParallelThreshold || omp_get_max_threads() == 1) {
    body(int64_t(0), n);
    return;
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < blocks; ++k) {
    body(k * kBlock, std::min(n, (k + 1) * kBlock));
  }
}

// Calls f.template operator()<T>() for the param's floating dtype.
template <class F>
void dispatch_float(const Tensor& param, F&& f) {
  if (param.dtype() == DType::F64) {
    f.template operator()<double>();
  } else {
    f.template operator()<float>();
  }
}

// Turns a runtime flag into a compile-time one so the hot loop has no branches.
template <class F>
void dispatch_bool(bool b, F&& f) {
  if (b) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

// NaN-propagating max, as torch.maximum / amax.
template <class T>
inline T nan_max(T a, T b) {
  return (b > a || b != b) ? b : a;
}

template <class T>
inline T sign_of(T x) {
  return T((x > T(0)) - (x < T(0)));
}

}  // namespace

void CpuBackend::sgd_update(const SgdUpdateArgs& a) {
  const bool mom = a.momentum != 0;
  if (mom) {
    check_optim_operands("sgd_update", a.param, {&a.grad, &a.momentum_buffer});
  } else {
    check_optim_operands("sgd_update", a.param, {&a.grad});
  }
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict buf = mom ? a.momentum_buffer.data<T>() : nullptr;
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), lr = T(a.lr);
    const T m = T(a.momentum), damp1 = T(1 - a.dampening);
    // Every flag is a template parameter: run-time branches in the loop body keep it
    // from vectorizing.
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      dispatch_bool(a.nesterov, [&](auto kNesterov) {
        dispatch_bool(a.init_buffer, [&](auto kInit) {
          parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
            if (!mom) {
#pragma omp simd
              for (int64_t i = b; i < e; ++i) {
                T g = gs * gr[i];
                if constexpr (kWd) g = g + wd * p[i];
                p[i] = p[i] - lr * g;
              }
              return;
            }
#pragma omp simd
            for (int64_t i = b; i < e; ++i) {
              T g = gs * gr[i];
              if constexpr (kWd) g = g + wd * p[i];
              T v;
              if constexpr (kInit) {
                v = g;
              } else {
                v = m * buf[i] + damp1 * g;
              }
              buf[i] = v;
              if constexpr (kNesterov) {
                g = g + m * v;
              } else {
                g = v;
              }
              p[i] = p[i] - lr * g;
            }
          });
        });
      });
    });
  });
}

void CpuBackend::rmsprop_update(const RmspropUpdateArgs& a) {
  const bool mom = a.momentum > 0;
  std::vector<const Tensor*> ops = {&a.grad, &a.square_avg};
  if (a.centered) ops.push_back(&a.grad_avg);
  if (mom) ops.push_back(&a.momentum_buffer);
  check_optim_operands("rmsprop_update", a.param, {});
  for (const Tensor* t : ops) check_optim_operands("rmsprop_update", a.param, {t});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict sq = a.square_avg.data<T>();
    T* __restrict ga = a.centered ? a.grad_avg.data<T>() : nullptr;
    T* __restrict buf = mom ? a.momentum_buffer.data<T>() : nullptr;
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), lr = T(a.lr);
    const T alpha = T(a.alpha), alpha1 = T(1 - a.alpha), eps = T(a.eps), m = T(a.momentum);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      dispatch_bool(a.centered, [&](auto kCentered) {
        dispatch_bool(mom, [&](auto kMom) {
          parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
            for (int64_t i = b; i < e; ++i) {
              T g = gs * gr[i];
              if constexpr (kWd) g = g + wd * p[i];
              const T v = alpha * sq[i] + alpha1 * g * g;
              sq[i] = v;
              T avg;
              if constexpr (kCentered) {
                const T mg = alpha * ga[i] + alpha1 * g;
                ga[i] = mg;
                avg = std::sqrt(v - mg * mg) + eps;
              } else {
                avg = std::sqrt(v) + eps;
              }
              if constexpr (kMom) {
                const T nb = m * buf[i] + g / avg;
                buf[i] = nb;
                p[i] = p[i] - lr * nb;
              } else {
                p[i] = p[i] - lr * g / avg;
              }
            }
          });
        });
      });
    });
  });
}

void CpuBackend::adam_update(const AdamUpdateArgs& a) {
  if (a.amsgrad) {
    check_optim_operands("adam_update", a.param,
                         {&a.grad, &a.exp_avg, &a.exp_avg_sq, &a.max_exp_avg_sq});
  } else {
    check_optim_operands("adam_update", a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq});
  }
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict m1 = a.exp_avg.data<T>();
    T* __restrict m2 = a.exp_avg_sq.data<T>();
    T* __restrict vmax = a.amsgrad ? a.max_exp_avg_sq.data<T>() : nullptr;
    const bool decoupled = a.decoupled_weight_decay;
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
    const T decay = T(1 - a.lr * a.weight_decay);
    const T b1 = T(a.beta1), b1c = T(1 - a.beta1), b2 = T(a.beta2), b2c = T(1 - a.beta2);
    const T eps = T(a.eps), step = T(a.step_size), bc2s = T(a.bias_correction2_sqrt);
    // The decay mode is a template parameter too: a run-time branch in the loop keeps
    // it from vectorizing (AdamW ran 3x slower than Adam).
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      dispatch_bool(decoupled, [&](auto kDecoupled) {
        dispatch_bool(a.amsgrad, [&](auto kAms) {
          parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
            for (int64_t i = b; i < e; ++i) {
              T g = gs * gr[i];
              T pi = p[i];
              if constexpr (kWd && kDecoupled) pi = pi * decay;
              if constexpr (kWd && !kDecoupled) g = g + wd * pi;
              const T mi = b1 * m1[i] + b1c * g;
              T vi = b2 * m2[i] + b2c * g * g;
              m1[i] = mi;
              m2[i] = vi;
              if constexpr (kAms) {
                vi = nan_max(vmax[i], vi);
                vmax[i] = vi;
              }
              p[i] = pi - step * mi / (std::sqrt(vi) / bc2s + eps);
            }
          });
        });
      });
    });
  });
}

void CpuBackend::nadam_update(const NadamUpdateArgs& a) {
  check_optim_operands("nadam_update", a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict m1 = a.exp_avg.data<T>();
    T* __restrict m2 = a.exp_avg_sq.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
    const T b1 = T(a.beta1), b1c = T(1 - a.beta1), b2 = T(a.beta2), b2c = T(1 - a.beta2);
    const T eps = T(a.eps), bc2s = T(a.bias_correction2_sqrt);
    const T cg = T(a.grad_coef), cm = T(a.exp_avg_coef);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          T g = gs * gr[i];
          if constexpr (kWd) g = g + wd * p[i];
          const T mi = b1 * m1[i] + b1c * g;
          const T vi = b2 * m2[i] + b2c * g * g;
          m1[i] = mi;
          m2[i] = vi;
          const T d = std::sqrt(vi) / bc2s + eps;
          const T pi = p[i] + cg * g / d;
          p[i] = pi + cm * mi / d;
        }
      });
    });
  });
}

void CpuBackend::radam_update(const RadamUpdateArgs& a) {
  check_optim_operands("radam_update", a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict m1 = a.exp_avg.data<T>();
    T* __restrict m2 = a.exp_avg_sq.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), lr = T(a.lr);
    const T b1 = T(a.beta1), b1c = T(1 - a.beta1), b2 = T(a.beta2), b2c = T(1 - a.beta2);
    const T eps = T(a.eps), bc1 = T(a.bias_correction1), bc2s = T(a.bias_correction2_sqrt);
    const T rect = T(a.rect);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      dispatch_bool(a.rectified, [&](auto kRect) {
        parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) {
            T g = gs * gr[i];
            if constexpr (kWd) g = g + wd * p[i];
            const T mi = b1 * m1[i] + b1c * g;
            const T vi = b2 * m2[i] + b2c * g * g;
            m1[i] = mi;
            m2[i] = vi;
            const T mhat = mi / bc1;
            if constexpr (kRect) {
              p[i] = p[i] - mhat * lr * (bc2s / (std::sqrt(vi) + eps)) * rect;
            } else {
              p[i] = p[i] - mhat * lr;
            }
          }
        });
      });
    });
  });
}

void CpuBackend::adagrad_update(const AdagradUpdateArgs& a) {
  check_optim_operands("adagrad_update", a.param, {&a.grad, &a.sum});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict s = a.sum.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
    const T clr = T(a.clr), eps = T(a.eps);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          T g = gs * gr[i];
          if constexpr (kWd) g = g + wd * p[i];
          const T si = s[i] + g * g;
          s[i] = si;
          p[i] = p[i] - clr * g / (std::sqrt(si) + eps);
        }
      });
    });
  });
}

void CpuBackend::adadelta_update(const AdadeltaUpdateArgs& a) {
  check_optim_operands("adadelta_update", a.param, {&a.grad, &a.square_avg, &a.acc_delta});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict sq = a.square_avg.data<T>();
    T* __restrict acc = a.acc_delta.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), lr = T(a.lr);
    const T rho = T(a.rho), rho1 = T(1 - a.rho), eps = T(a.eps);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          T g = gs * gr[i];
          if constexpr (kWd) g = g + wd * p[i];
          const T v = rho * sq[i] + rho1 * g * g;
          sq[i] = v;
          const T delta = std::sqrt(acc[i] + eps) / std::sqrt(v + eps) * g;
          acc[i] = rho * acc[i] + rho1 * delta * delta;
          p[i] = p[i] - lr * delta;
        }
      });
    });
  });
}

void CpuBackend::adamax_update(const AdamaxUpdateArgs& a) {
  check_optim_operands("adamax_update", a.param, {&a.grad, &a.exp_avg, &a.exp_inf});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict m1 = a.exp_avg.data<T>();
    T* __restrict u = a.exp_inf.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
    const T b1 = T(a.beta1), b1c = T(1 - a.beta1), b2 = T(a.beta2), eps = T(a.eps);
    const T clr = T(a.clr);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          T g = gs * gr[i];
          if constexpr (kWd) g = g + wd * p[i];
          const T mi = b1 * m1[i] + b1c * g;
          m1[i] = mi;
          const T ui = nan_max(b2 * u[i], std::abs(g) + eps);
          u[i] = ui;
          p[i] = p[i] - clr * mi / ui;
        }
      });
    });
  });
}

void CpuBackend::lion_update(const LionUpdateArgs& a) {
  check_optim_operands("lion_update", a.param, {&a.grad, &a.exp_avg});
  dispatch_float(a.param, [&]<class T>() {
    T* __restrict p = a.param.data<T>();
    const T* __restrict gr = a.grad.data<T>();
    T* __restrict m1 = a.exp_avg.data<T>();
    const T gs = a.maximize ? T(-1) : T(1), lr = T(a.lr);
    const T decay = T(1 - a.lr * a.weight_decay);
    const T b1 = T(a.beta1), b1c = T(1 - a.beta1), b2 = T(a.beta2), b2c = T(1 - a.beta2);
    dispatch_bool(a.weight_decay != 0, [&](auto kWd) {
      parallel_range(a.param.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          const T g = gs * gr[i];
          T pi = p[i];
          if constexpr (kWd) pi = pi * decay;
          const T c = b1 * m1[i] + b1c * g;
          p[i] = pi - lr * sign_of(c);
          m1[i] = b2 * m1[i] + b2c * g;
        }
      });
    });
  });
}

}  // namespace descent::cpu
