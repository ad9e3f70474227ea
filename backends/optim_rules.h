#pragma once
// The fused optimizer update rules: one source for the CPU loop and the CUDA kernel.
//
// Each rule is a plain struct of the scalars one step of one parameter needs (computed
// on the host by optim/, in double, with torch.optim's formulas) and one element
// function, `step`, that both devices call: backends/cpu/optim.cpp in a vectorised
// loop, backends/cuda/optim_kernels.cu in a multi-tensor kernel. One formula, two loops.
//
// Shared by every rule:
// - `g` is grad·grad_scale, negated when `maximize`. grad_scale folds the loss scaler's
//   1/scale and the clipping coefficient into the update (1 when neither applies), so
//   the gradients are not rewritten before the step.
// - Then, for rules with coupled decay, g += weight_decay·param.
// - Scalars are rounded once to the parameter's dtype (Consts), e.g. T(1 - beta1), as
//   torch.optim's foreach kernels do; the element function works in that dtype.
// - `Switches` are the choices that change which operations run (weight decay, amsgrad,
//   momentum…). The CPU turns each into a compile-time constant, so its loop has no
//   branches and vectorises; the GPU reads them at run time (uniform per block).
// - Slots are the rule's state tensors, in the order of kSlotNames; uses_slot says which
//   of them a step touches (the others may be absent). kOptionalSlots (a bit per slot,
//   none when not declared) marks those a saved state may lack.
//
// Bit-identity between devices: every operation is an IEEE add, multiply, divide or
// square root in the parameter's dtype, in the order written here. The CPU build does
// not contract a·b + c into an FMA (no -mfma), and the CUDA file is compiled with
// --fmad=false, so both round every operation the same way.
//
// Adding a rule: a struct below with the members of the others, and its name in
// OptimRules at the end of this file. Nothing else in backends/ changes.
#include <descent/core/host_device.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace descent {

namespace rule_math {
DESCENT_HD_INLINE float sqrt(float x) { return ::sqrtf(x); }
DESCENT_HD_INLINE double sqrt(double x) { return ::sqrt(x); }
DESCENT_HD_INLINE float abs(float x) { return ::fabsf(x); }
DESCENT_HD_INLINE double abs(double x) { return ::fabs(x); }
// NaN-propagating max, as torch.maximum / amax.
template <class T>
DESCENT_HD_INLINE T nan_max(T a, T b) {
  return (b > a || b != b) ? b : a;
}
template <class T>
DESCENT_HD_INLINE T sign(T x) {
  return T((x > T(0)) - (x < T(0)));
}
}  // namespace rule_math

// g = grad·(±grad_scale): one product, exactly (−x)·y = −(x·y), so maximize costs
// nothing, and a scale of 1 gives the gradient bit for bit.
template <class T>
struct ScaledGrad {
  T scale;
  DESCENT_HD_INLINE T operator()(const T* grad, int64_t i) const { return grad[i] * scale; }
};
template <class T>
DESCENT_HD_INLINE ScaledGrad<T> scaled_grad(double grad_scale, bool maximize) {
  return {T(maximize ? -grad_scale : grad_scale)};
}

// ---- SGD / GD (torch.optim.SGD) ----------------------------------------------------
// With momentum: buf = momentum·buf + (1 - dampening)·g (buf = g on its first step),
// g = nesterov ? g + momentum·buf : buf. Then p -= lr·g.
struct SgdRule {
  static constexpr const char* kOp = "sgd_update";
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"momentum_buffer"};
  static constexpr unsigned kOptionalSlots = 1;  // momentum_buffer: only with momentum
  enum Switch : unsigned { kWeightDecay = 1, kMomentum = 2, kNesterov = 4, kInitBuffer = 8 };
  static constexpr unsigned kAllSwitches = 15;

  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  double grad_scale = 1;
  bool nesterov = false, maximize = false;
  bool init_buffer = false;  // the buffer's first step: buf = g

  DESCENT_HD_INLINE unsigned switches() const {
    return (weight_decay != 0 ? kWeightDecay : 0u) | (momentum != 0 ? kMomentum : 0u) |
           (nesterov ? kNesterov : 0u) | (init_buffer ? kInitBuffer : 0u);
  }
  DESCENT_HD_INLINE bool uses_slot(int) const { return momentum != 0; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, lr, m, damp1;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize), T(weight_decay), T(lr), T(momentum),
            T(1 - dampening)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    if (on & kMomentum) {
      T* buf = slot[0];
      const T v = (on & kInitBuffer) ? g : c.m * buf[i] + c.damp1 * g;
      buf[i] = v;
      g = (on & kNesterov) ? g + c.m * v : v;
    }
    p[i] = p[i] - c.lr * g;
  }
};

// ---- RMSprop ---------------------------------------------------------------------------
// v = alpha·v + (1-alpha)·g²; centered: ga = alpha·ga + (1-alpha)·g, avg = sqrt(v - ga²)
// + eps, else sqrt(v) + eps; momentum > 0: buf = momentum·buf + g/avg, p -= lr·buf;
// else p -= lr·g/avg.
struct RmspropRule {
  static constexpr const char* kOp = "rmsprop_update";
  static constexpr int kSlots = 3;
  static constexpr const char* kSlotNames[kSlots] = {"square_avg", "grad_avg", "momentum_buffer"};
  static constexpr unsigned kOptionalSlots = 6;  // grad_avg (centered), momentum_buffer (momentum)
  enum Switch : unsigned { kWeightDecay = 1, kCentered = 2, kMomentum = 4 };
  static constexpr unsigned kAllSwitches = 7;

  double lr = 0, alpha = 0, eps = 0, weight_decay = 0, momentum = 0;
  double grad_scale = 1;
  bool centered = false, maximize = false;

  DESCENT_HD_INLINE unsigned switches() const {
    return (weight_decay != 0 ? kWeightDecay : 0u) | (centered ? kCentered : 0u) |
           (momentum > 0 ? kMomentum : 0u);
  }
  DESCENT_HD_INLINE bool uses_slot(int k) const {
    return k == 0 || (k == 1 && centered) || (k == 2 && momentum > 0);
  }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, lr, alpha, alpha1, eps, m;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(weight_decay),
            T(lr),
            T(alpha),
            T(1 - alpha),
            T(eps),
            T(momentum)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    T* sq = slot[0];
    const T v = c.alpha * sq[i] + c.alpha1 * g * g;
    sq[i] = v;
    T avg;
    if (on & kCentered) {
      T* ga = slot[1];
      const T mg = c.alpha * ga[i] + c.alpha1 * g;
      ga[i] = mg;
      avg = rule_math::sqrt(v - mg * mg) + c.eps;
    } else {
      avg = rule_math::sqrt(v) + c.eps;
    }
    if (on & kMomentum) {
      T* buf = slot[2];
      const T nb = c.m * buf[i] + g / avg;
      buf[i] = nb;
      p[i] = p[i] - c.lr * nb;
    } else {
      p[i] = p[i] - c.lr * g / avg;
    }
  }
};

// ---- Adam / AdamW / AMSGrad --------------------------------------------------------------
// decoupled: p *= 1 - lr·weight_decay (and no coupled decay); m = beta1·m + (1-beta1)·g;
// v = beta2·v + (1-beta2)·g²; amsgrad: vmax = max(vmax, v) and v := vmax below;
// p -= step_size·m / (sqrt(v)/bias_correction2_sqrt + eps).
struct AdamRule {
  static constexpr const char* kOp = "adam_update";
  static constexpr int kSlots = 3;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  static constexpr unsigned kOptionalSlots = 4;  // max_exp_avg_sq: only with amsgrad
  enum Switch : unsigned { kCoupledDecay = 1, kDecoupledDecay = 2, kAmsgrad = 4 };
  static constexpr unsigned kAllSwitches = 7;

  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double step_size = 0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 0;  // sqrt(1 - beta2^t)
  double grad_scale = 1;
  bool amsgrad = false, decoupled_weight_decay = false, maximize = false;

  DESCENT_HD_INLINE unsigned switches() const {
    const bool wd = weight_decay != 0;
    return (wd && !decoupled_weight_decay ? kCoupledDecay : 0u) |
           (wd && decoupled_weight_decay ? kDecoupledDecay : 0u) | (amsgrad ? kAmsgrad : 0u);
  }
  DESCENT_HD_INLINE bool uses_slot(int k) const { return k < 2 || amsgrad; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, decay, b1, b1c, b2, b2c, eps, step_size, bc2s;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(weight_decay),
            T(1 - lr * weight_decay),
            T(beta1),
            T(1 - beta1),
            T(beta2),
            T(1 - beta2),
            T(eps),
            T(step_size),
            T(bias_correction2_sqrt)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T *m1 = slot[0], *m2 = slot[1];
    T g = c.grad(grad, i);
    T pi = p[i];
    if (on & kDecoupledDecay) pi = pi * c.decay;
    if (on & kCoupledDecay) g = g + c.wd * pi;
    const T mi = c.b1 * m1[i] + c.b1c * g;
    T vi = c.b2 * m2[i] + c.b2c * g * g;
    m1[i] = mi;
    m2[i] = vi;
    if (on & kAmsgrad) {
      T* vmax = slot[2];
      vi = rule_math::nan_max(vmax[i], vi);
      vmax[i] = vi;
    }
    p[i] = pi - c.step_size * mi / (rule_math::sqrt(vi) / c.bc2s + c.eps);
  }
};

// ---- NAdam ------------------------------------------------------------------------------
// m, v as Adam; d = sqrt(v)/bias_correction2_sqrt + eps; p += grad_coef·g/d;
// p += exp_avg_coef·m/d (both coefficients negative, from mu_t).
struct NadamRule {
  static constexpr const char* kOp = "nadam_update";
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  enum Switch : unsigned { kWeightDecay = 1 };
  static constexpr unsigned kAllSwitches = 1;

  double beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double bias_correction2_sqrt = 0, grad_coef = 0, exp_avg_coef = 0;
  double grad_scale = 1;
  bool maximize = false;

  DESCENT_HD_INLINE unsigned switches() const { return weight_decay != 0 ? kWeightDecay : 0u; }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, b1, b1c, b2, b2c, eps, bc2s, cg, cm;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(weight_decay),
            T(beta1),
            T(1 - beta1),
            T(beta2),
            T(1 - beta2),
            T(eps),
            T(bias_correction2_sqrt),
            T(grad_coef),
            T(exp_avg_coef)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T *m1 = slot[0], *m2 = slot[1];
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    const T mi = c.b1 * m1[i] + c.b1c * g;
    const T vi = c.b2 * m2[i] + c.b2c * g * g;
    m1[i] = mi;
    m2[i] = vi;
    const T d = rule_math::sqrt(vi) / c.bc2s + c.eps;
    const T pi = p[i] + c.cg * g / d;
    p[i] = pi + c.cm * mi / d;
  }
};

// ---- RAdam ------------------------------------------------------------------------------
// m, v as Adam; mhat = m / bias_correction1; rectified:
// p -= mhat·lr·(bias_correction2_sqrt / (sqrt(v) + eps))·rect, else p -= mhat·lr.
struct RadamRule {
  static constexpr const char* kOp = "radam_update";
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  enum Switch : unsigned { kWeightDecay = 1, kRectified = 2 };
  static constexpr unsigned kAllSwitches = 3;

  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double bias_correction1 = 0, bias_correction2_sqrt = 0, rect = 0;
  double grad_scale = 1;
  bool rectified = false, maximize = false;

  DESCENT_HD_INLINE unsigned switches() const {
    return (weight_decay != 0 ? kWeightDecay : 0u) | (rectified ? kRectified : 0u);
  }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, lr, b1, b1c, b2, b2c, eps, bc1, bc2s, rect;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(weight_decay),
            T(lr),
            T(beta1),
            T(1 - beta1),
            T(beta2),
            T(1 - beta2),
            T(eps),
            T(bias_correction1),
            T(bias_correction2_sqrt),
            T(rect)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T *m1 = slot[0], *m2 = slot[1];
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    const T mi = c.b1 * m1[i] + c.b1c * g;
    const T vi = c.b2 * m2[i] + c.b2c * g * g;
    m1[i] = mi;
    m2[i] = vi;
    const T mhat = mi / c.bc1;
    if (on & kRectified) {
      p[i] = p[i] - mhat * c.lr * (c.bc2s / (rule_math::sqrt(vi) + c.eps)) * c.rect;
    } else {
      p[i] = p[i] - mhat * c.lr;
    }
  }
};

// ---- Adagrad ----------------------------------------------------------------------------
// sum += g²; p -= clr·g / (sqrt(sum) + eps), clr = lr / (1 + (t-1)·lr_decay).
struct AdagradRule {
  static constexpr const char* kOp = "adagrad_update";
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"sum"};
  enum Switch : unsigned { kWeightDecay = 1 };
  static constexpr unsigned kAllSwitches = 1;

  double clr = 0, eps = 0, weight_decay = 0;
  double grad_scale = 1;
  bool maximize = false;

  DESCENT_HD_INLINE unsigned switches() const { return weight_decay != 0 ? kWeightDecay : 0u; }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, clr, eps;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize), T(weight_decay), T(clr), T(eps)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T* sum = slot[0];
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    const T si = sum[i] + g * g;
    sum[i] = si;
    p[i] = p[i] - c.clr * g / (rule_math::sqrt(si) + c.eps);
  }
};

// ---- Adadelta ---------------------------------------------------------------------------
// v = rho·v + (1-rho)·g²; delta = sqrt(u + eps) / sqrt(v + eps)·g;
// u = rho·u + (1-rho)·delta²; p -= lr·delta.
struct AdadeltaRule {
  static constexpr const char* kOp = "adadelta_update";
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"square_avg", "acc_delta"};
  enum Switch : unsigned { kWeightDecay = 1 };
  static constexpr unsigned kAllSwitches = 1;

  double lr = 0, rho = 0, eps = 0, weight_decay = 0;
  double grad_scale = 1;
  bool maximize = false;

  DESCENT_HD_INLINE unsigned switches() const { return weight_decay != 0 ? kWeightDecay : 0u; }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, lr, rho, rho1, eps;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {
        scaled_grad<T>(grad_scale, maximize), T(weight_decay), T(lr), T(rho), T(1 - rho), T(eps)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T *sq = slot[0], *acc = slot[1];
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    const T v = c.rho * sq[i] + c.rho1 * g * g;
    sq[i] = v;
    const T delta = rule_math::sqrt(acc[i] + c.eps) / rule_math::sqrt(v + c.eps) * g;
    acc[i] = c.rho * acc[i] + c.rho1 * delta * delta;
    p[i] = p[i] - c.lr * delta;
  }
};

// ---- Adamax -----------------------------------------------------------------------------
// m = beta1·m + (1-beta1)·g; u = max(beta2·u, |g| + eps); p -= clr·m/u,
// clr = lr / (1 - beta1^t).
struct AdamaxRule {
  static constexpr const char* kOp = "adamax_update";
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_inf"};
  enum Switch : unsigned { kWeightDecay = 1 };
  static constexpr unsigned kAllSwitches = 1;

  double beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0, clr = 0;
  double grad_scale = 1;
  bool maximize = false;

  DESCENT_HD_INLINE unsigned switches() const { return weight_decay != 0 ? kWeightDecay : 0u; }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T wd, b1, b1c, b2, eps, clr;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(weight_decay),
            T(beta1),
            T(1 - beta1),
            T(beta2),
            T(eps),
            T(clr)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T *m1 = slot[0], *u = slot[1];
    T g = c.grad(grad, i);
    if (on & kWeightDecay) g = g + c.wd * p[i];
    const T mi = c.b1 * m1[i] + c.b1c * g;
    m1[i] = mi;
    const T ui = rule_math::nan_max(c.b2 * u[i], rule_math::abs(g) + c.eps);
    u[i] = ui;
    p[i] = p[i] - c.clr * mi / ui;
  }
};

// ---- Lion (Chen et al. 2023) ----------------------------------------------------------------
// p *= 1 - lr·weight_decay (decoupled); p -= lr·sign(beta1·m + (1-beta1)·g);
// m = beta2·m + (1-beta2)·g.
struct LionRule {
  static constexpr const char* kOp = "lion_update";
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg"};
  enum Switch : unsigned { kWeightDecay = 1 };
  static constexpr unsigned kAllSwitches = 1;

  double lr = 0, beta1 = 0, beta2 = 0, weight_decay = 0;
  double grad_scale = 1;
  bool maximize = false;

  DESCENT_HD_INLINE unsigned switches() const { return weight_decay != 0 ? kWeightDecay : 0u; }
  DESCENT_HD_INLINE bool uses_slot(int) const { return true; }

  template <class T>
  struct Consts {
    ScaledGrad<T> grad;
    T lr, decay, b1, b1c, b2, b2c;
  };
  template <class T>
  DESCENT_HD_INLINE Consts<T> consts() const {
    return {scaled_grad<T>(grad_scale, maximize),
            T(lr),
            T(1 - lr * weight_decay),
            T(beta1),
            T(1 - beta1),
            T(beta2),
            T(1 - beta2)};
  }
  template <class T, class On>
  DESCENT_HD_INLINE static void step(const Consts<T>& c, On on, int64_t i, T* p, const T* grad,
                                     T* const* slot) {
    T* m1 = slot[0];
    const T g = c.grad(grad, i);
    T pi = p[i];
    if (on & kWeightDecay) pi = pi * c.decay;
    const T dir = c.b1 * m1[i] + c.b1c * g;
    p[i] = pi - c.lr * rule_math::sign(dir);
    m1[i] = c.b2 * m1[i] + c.b2c * g;
  }
};

// ---- the list ---------------------------------------------------------------------------
template <class... Rules>
struct RuleList {};

// Every rule, declared once: the optimizer's update batch (optim/update_batch.h), the
// backend slot (Backend::optimizer_step) and the CUDA kernels are derived from it.
using OptimRules = RuleList<SgdRule, RmspropRule, AdamRule, NadamRule, RadamRule, AdagradRule,
                            AdadeltaRule, AdamaxRule, LionRule>;

// The position of Rule in OptimRules (for tables built from the list).
template <class Rule, class... Rules>
constexpr int rule_index(RuleList<Rules...>) {
  int index = 0;
  bool found = false;
  ((found = found || std::is_same_v<Rule, Rules>, index += found ? 0 : 1), ...);
  return found ? index : -1;
}

template <class... Rules>
constexpr bool rules_are_plain(RuleList<Rules...>) {
  return ((std::is_trivially_copyable_v<Rules> && std::is_standard_layout_v<Rules>)&&...);
}
// Rules travel by value into CUDA kernel arguments and into multi-tensor batches.
static_assert(rules_are_plain(OptimRules{}), "optimizer rules must be trivially copyable");

}  // namespace descent
