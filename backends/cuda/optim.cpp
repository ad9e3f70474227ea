// The fused optimizer updates on CUDA (backend.h, "fused optimizer updates"). Every slot,
// single- or multi-tensor, validates all its updates first (check_optim_operands, as the
// CPU backend), packs each one's device pointers and scalars, and hands them to
// optim_kernels.cu in chunks of up to kOptimMaxTensors tensors of one dtype: one launch
// per chunk. The scalars are computed here in double exactly as backends/cpu/optim.cpp
// computes them (e.g. 1 - lr·weight_decay), so both devices round the same values.
#include <bit>
#include <climits>
#include <initializer_list>
#include <vector>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/optim_kernels.h"
#include "backends/slot_helpers.h"

namespace descent::cuda {

namespace {

// One validated update: the operands in the kernel's order and the scalars.
struct Packed {
  DType dtype = DType::F32;
  int64_t numel = 0;
  void* ptr[kOptimMaxOperands] = {};
  OptimScalars s = {};
};

// Operands (param first; null for a state the flags leave unused), the scalars in the
// kernel's order, and the flags.
Packed pack(const Tensor& param, std::initializer_list<const Tensor*> ops,
            std::initializer_list<double> scalars, uint32_t flags) {
  Packed p;
  p.dtype = param.dtype();
  p.numel = param.numel();
  p.ptr[0] = param.raw_data();
  int k = 1;
  for (const Tensor* t : ops) p.ptr[k++] = t ? t->raw_data() : nullptr;
  int j = 0;
  for (double v : scalars) p.s.v[j++] = v;
  p.s.flags = flags;
  return p;
}

uint32_t common_flags(bool maximize, double weight_decay) {
  return (maximize ? kOptMaximize : 0u) | (weight_decay != 0 ? kOptWeightDecay : 0u);
}

// Bitwise, so that -0.0 and 0.0 (or two NaNs) are told apart exactly as the kernel would.
bool same_scalars(const OptimScalars& a, const OptimScalars& b) {
  if (a.flags != b.flags) return false;
  for (int i = 0; i < kOptimMaxScalars; ++i) {
    if (std::bit_cast<uint64_t>(a.v[i]) != std::bit_cast<uint64_t>(b.v[i])) return false;
  }
  return true;
}

// Fills chunks and launches each when it is full.
class Chunker {
 public:
  Chunker(OptimRule rule, DType dt, Launch l) : dt_(KDType(dt)), launch_(l) { chunk_.rule = rule; }

  void add(std::string_view op, const Packed& p) {
    if (p.numel == 0) return;
    const int64_t blocks = (p.numel + kOptimSlice - 1) / kOptimSlice;
    check(blocks <= INT_MAX, op, "a tensor of {} elements is too large", p.numel);
    int set = find_set(p.s);
    // A parameter listed twice is updated twice, in order: the second update goes to the
    // next launch (the stream orders them) rather than racing with the first.
    bool repeated = false;
    for (int t = 0; t < chunk_.count; ++t) repeated = repeated || chunk_.ptr[t][0] == p.ptr[0];
    if (chunk_.count == kOptimMaxTensors || (set < 0 && chunk_.sets == kOptimMaxSets) || repeated ||
        chunk_.block_start[chunk_.count] > INT_MAX - blocks) {
      flush();
      set = -1;
    }
    if (set < 0) {
      set = chunk_.sets++;
      chunk_.scalars[set] = p.s;
    }
    const int t = chunk_.count++;
    for (int k = 0; k < kOptimMaxOperands; ++k) chunk_.ptr[t][k] = p.ptr[k];
    chunk_.numel[t] = p.numel;
    chunk_.set[t] = uint8_t(set);
    chunk_.block_start[t + 1] = chunk_.block_start[t] + int32_t(blocks);
  }

  void flush() {
    if (chunk_.count == 0) return;
    CUDA_CHECK(launch_optim(dt_, chunk_, launch_));
    const OptimRule rule = chunk_.rule;
    chunk_ = OptimChunk{};
    chunk_.rule = rule;
  }

 private:
  int find_set(const OptimScalars& s) const {
    for (int i = 0; i < chunk_.sets; ++i) {
      if (same_scalars(chunk_.scalars[i], s)) return i;
    }
    return -1;
  }

  OptimChunk chunk_{};
  KDType dt_;
  Launch launch_;
};

// Validates and packs every update, then launches them per dtype.
template <class Args>
void run(CudaBackend& be, std::string_view op, OptimRule rule, std::span<const Args> args,
         Packed (*pack_one)(std::string_view, Device, const Args&)) {
  if (args.empty()) return;
  std::vector<Packed> packed;
  packed.reserve(args.size());
  for (const Args& a : args) packed.push_back(pack_one(op, be.device(), a));
  be.activate();
  for (DType dt : {DType::F32, DType::F64}) {
    Chunker chunker(rule, dt, Launch{be.stream(), be.error_flag()});
    for (const Packed& p : packed) {
      if (p.dtype == dt) chunker.add(op, p);
    }
    chunker.flush();
  }
}

// ---- per rule: checks, operand order and scalars (optim_kernels.cu reads them) ----

// flags: 2 momentum != 0, 3 nesterov, 4 init_buffer.
Packed pack_sgd(std::string_view op, Device dev, const SgdUpdateArgs& a) {
  const bool mom = a.momentum != 0;
  if (mom) {
    check_optim_operands(op, a.param, {&a.grad, &a.momentum_buffer}, dev);
  } else {
    check_optim_operands(op, a.param, {&a.grad}, dev);
  }
  return pack(a.param, {&a.grad, mom ? &a.momentum_buffer : nullptr},
              {a.weight_decay, a.lr, a.momentum, 1 - a.dampening},
              common_flags(a.maximize, a.weight_decay) | (mom ? kOptFlag2 : 0u) |
                  (a.nesterov ? kOptFlag3 : 0u) | (a.init_buffer ? kOptFlag4 : 0u));
}

// flags: 2 centered, 3 momentum > 0.
Packed pack_rmsprop(std::string_view op, Device dev, const RmspropUpdateArgs& a) {
  const bool mom = a.momentum > 0;
  check_optim_operands(op, a.param, {&a.grad, &a.square_avg}, dev);
  if (a.centered) check_optim_operands(op, a.param, {&a.grad_avg}, dev);
  if (mom) check_optim_operands(op, a.param, {&a.momentum_buffer}, dev);
  return pack(a.param,
              {&a.grad, &a.square_avg, a.centered ? &a.grad_avg : nullptr,
               mom ? &a.momentum_buffer : nullptr},
              {a.weight_decay, a.lr, a.alpha, 1 - a.alpha, a.eps, a.momentum},
              common_flags(a.maximize, a.weight_decay) | (a.centered ? kOptFlag2 : 0u) |
                  (mom ? kOptFlag3 : 0u));
}

// flags: 2 decoupled weight decay, 3 amsgrad.
Packed pack_adam(std::string_view op, Device dev, const AdamUpdateArgs& a) {
  if (a.amsgrad) {
    check_optim_operands(op, a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq, &a.max_exp_avg_sq}, dev);
  } else {
    check_optim_operands(op, a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq}, dev);
  }
  return pack(a.param,
              {&a.grad, &a.exp_avg, &a.exp_avg_sq, a.amsgrad ? &a.max_exp_avg_sq : nullptr},
              {a.weight_decay, 1 - a.lr * a.weight_decay, a.beta1, 1 - a.beta1, a.beta2,
               1 - a.beta2, a.eps, a.step_size, a.bias_correction2_sqrt},
              common_flags(a.maximize, a.weight_decay) |
                  (a.decoupled_weight_decay ? kOptFlag2 : 0u) | (a.amsgrad ? kOptFlag3 : 0u));
}

Packed pack_nadam(std::string_view op, Device dev, const NadamUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq}, dev);
  return pack(a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq},
              {a.weight_decay, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps,
               a.bias_correction2_sqrt, a.grad_coef, a.exp_avg_coef},
              common_flags(a.maximize, a.weight_decay));
}

// flags: 2 rectified.
Packed pack_radam(std::string_view op, Device dev, const RadamUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq}, dev);
  return pack(a.param, {&a.grad, &a.exp_avg, &a.exp_avg_sq},
              {a.weight_decay, a.lr, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps,
               a.bias_correction1, a.bias_correction2_sqrt, a.rect},
              common_flags(a.maximize, a.weight_decay) | (a.rectified ? kOptFlag2 : 0u));
}

Packed pack_adagrad(std::string_view op, Device dev, const AdagradUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.sum}, dev);
  return pack(a.param, {&a.grad, &a.sum}, {a.weight_decay, a.clr, a.eps},
              common_flags(a.maximize, a.weight_decay));
}

Packed pack_adadelta(std::string_view op, Device dev, const AdadeltaUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.square_avg, &a.acc_delta}, dev);
  return pack(a.param, {&a.grad, &a.square_avg, &a.acc_delta},
              {a.weight_decay, a.lr, a.rho, 1 - a.rho, a.eps},
              common_flags(a.maximize, a.weight_decay));
}

Packed pack_adamax(std::string_view op, Device dev, const AdamaxUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.exp_avg, &a.exp_inf}, dev);
  return pack(a.param, {&a.grad, &a.exp_avg, &a.exp_inf},
              {a.weight_decay, a.beta1, 1 - a.beta1, a.beta2, a.eps, a.clr},
              common_flags(a.maximize, a.weight_decay));
}

// Decoupled decay only: the weight decay flag selects p *= 1 - lr·weight_decay.
Packed pack_lion(std::string_view op, Device dev, const LionUpdateArgs& a) {
  check_optim_operands(op, a.param, {&a.grad, &a.exp_avg}, dev);
  return pack(a.param, {&a.grad, &a.exp_avg},
              {a.lr, 1 - a.lr * a.weight_decay, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2},
              common_flags(a.maximize, a.weight_decay));
}

}  // namespace

void CudaBackend::sgd_update(const SgdUpdateArgs& a) { sgd_update_multi({&a, 1}); }
void CudaBackend::rmsprop_update(const RmspropUpdateArgs& a) { rmsprop_update_multi({&a, 1}); }
void CudaBackend::adam_update(const AdamUpdateArgs& a) { adam_update_multi({&a, 1}); }
void CudaBackend::nadam_update(const NadamUpdateArgs& a) { nadam_update_multi({&a, 1}); }
void CudaBackend::radam_update(const RadamUpdateArgs& a) { radam_update_multi({&a, 1}); }
void CudaBackend::adagrad_update(const AdagradUpdateArgs& a) { adagrad_update_multi({&a, 1}); }
void CudaBackend::adadelta_update(const AdadeltaUpdateArgs& a) { adadelta_update_multi({&a, 1}); }
void CudaBackend::adamax_update(const AdamaxUpdateArgs& a) { adamax_update_multi({&a, 1}); }
void CudaBackend::lion_update(const LionUpdateArgs& a) { lion_update_multi({&a, 1}); }

void CudaBackend::sgd_update_multi(std::span<const SgdUpdateArgs> a) {
  run(*this, "sgd_update", OptimRule::Sgd, a, &pack_sgd);
}
void CudaBackend::rmsprop_update_multi(std::span<const RmspropUpdateArgs> a) {
  run(*this, "rmsprop_update", OptimRule::Rmsprop, a, &pack_rmsprop);
}
void CudaBackend::adam_update_multi(std::span<const AdamUpdateArgs> a) {
  run(*this, "adam_update", OptimRule::Adam, a, &pack_adam);
}
void CudaBackend::nadam_update_multi(std::span<const NadamUpdateArgs> a) {
  run(*this, "nadam_update", OptimRule::Nadam, a, &pack_nadam);
}
void CudaBackend::radam_update_multi(std::span<const RadamUpdateArgs> a) {
  run(*this, "radam_update", OptimRule::Radam, a, &pack_radam);
}
void CudaBackend::adagrad_update_multi(std::span<const AdagradUpdateArgs> a) {
  run(*this, "adagrad_update", OptimRule::Adagrad, a, &pack_adagrad);
}
void CudaBackend::adadelta_update_multi(std::span<const AdadeltaUpdateArgs> a) {
  run(*this, "adadelta_update", OptimRule::Adadelta, a, &pack_adadelta);
}
void CudaBackend::adamax_update_multi(std::span<const AdamaxUpdateArgs> a) {
  run(*this, "adamax_update", OptimRule::Adamax, a, &pack_adamax);
}
void CudaBackend::lion_update_multi(std::span<const LionUpdateArgs> a) {
  run(*this, "lion_update", OptimRule::Lion, a, &pack_lion);
}

}  // namespace descent::cuda
