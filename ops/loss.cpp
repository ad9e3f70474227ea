// Losses, composed from differentiable ops (log_softmax, gather, elementwise,
// reductions) so gradients of every order come for free. Formulas, defaults and
// reductions follow torch.nn.functional exactly, including its corner cases (mean over
// class weights of kept targets, NaN when every target is ignored).
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/ops/activation.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/loss.h>
#include <descent/ops/reduce.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace descent::F {

namespace {

void check_reduction(Reduction r, std::string_view op) {
  switch (r) {
    case Reduction::None:
    case Reduction::Mean:
    case Reduction::Sum: return;
  }
  fail(op,
       fmt::format("invalid reduction value {}; expected Reduction::None, Mean or Sum", int(r)));
}

Tensor reduce(const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None: return loss;
    case Reduction::Mean: return loss.mean();
    case Reduction::Sum: return loss.sum();
  }
  return loss;  // unreachable: check_reduction ran first
}

void check_floating_input(const Tensor& input, std::string_view op) {
  ops::check_defined(input, op, "input");
  check(is_floating(input.dtype()), op, "expected a floating input, got {} of shape {}",
        input.dtype(), input.shape());
}

// ---- class-index targets --------------------------------------------------------------

struct ClassTargets {
  Tensor index;  // i64, target's shape; ignored entries set to class 0 so gathers stay in range
  Tensor keep;   // Bool, false where ignored; undefined when nothing is ignored
  int64_t kept = 0;
  Tensor kept_count;  // on a GPU: the number of kept targets, as a 0-dim device tensor
};

// Validates every class index on the host before any kernel reads memory with it.
template <class T>
ClassTargets read_targets_typed(const Tensor& host, const Tensor& target, int64_t classes,
                                int64_t ignore_index, std::string_view op) {
  const T* t = host.data<T>();
  const int64_t n = host.numel();
  int64_t ignored = 0;
  int bad = 0;
#pragma omp simd reduction(+ : ignored) reduction(| : bad)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = int64_t(t[i]);
    const bool ign = v == ignore_index;
    ignored += ign;
    bad |= int(!ign & (uint64_t(v) >= uint64_t(classes)));
  }
  if (bad) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = int64_t(t[i]);
      check(v == ignore_index || (v >= 0 && v < classes), op,
            "target {} (at flat position {}) is out of bounds: expected class indices in [0, {}) "
            "or ignore_index {}",
            v, i, classes, ignore_index);
    }
  }
  ClassTargets out;
  out.kept = n - ignored;
  if (ignored == 0 && std::is_same_v<T, int64_t>) {
    out.index = target.device().is_cpu() ? host : target.contiguous();
    return out;
  }
  Tensor index = Tensor::empty(host.shape(), {.dtype = DType::I64});
  int64_t* ix = index.data<int64_t>();
  if (ignored == 0) {
    for (int64_t i = 0; i < n; ++i) ix[i] = int64_t(t[i]);
  } else {
    Tensor keep = Tensor::empty(host.shape(), {.dtype = DType::Bool});
    bool* k = keep.data<bool>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = int64_t(t[i]);
      k[i] = v != ignore_index;
      ix[i] = k[i] ? v : 0;
    }
    out.keep = keep.to(target.device());
  }
  out.index = index.to(target.device());
  return out;
}

// On a GPU the targets stay there, because reading them back would stall the stream every
// step. A class out of [0, classes) then reaches the gather: its kernel clamps the
// index and reports it at the next synchronize (CudaBackend::error_flag).
ClassTargets read_targets(const Tensor& target, int64_t classes, int64_t ignore_index,
                          std::string_view op) {
  if (!target.device().is_cpu()) {
    ClassTargets out;
    const Tensor t = target.to(DType::I64);
    out.keep = t != double(ignore_index);
    out.index = where(out.keep, t, 0.0).contiguous();
    out.kept_count = out.keep.sum();
    return out;
  }
  const Tensor host = target.to(Device::CPU).contiguous();
  if (target.dtype() == DType::I32) {
    return read_targets_typed<int32_t>(host, target, classes, ignore_index, op);
  }
  return read_targets_typed<int64_t>(host, target, classes, ignore_index, op);
}

// input (N, C, d...) with an index target (N, d...), or (C) with a 0-dim one.
void check_index_target(const Tensor& input, const Tensor& target, std::string_view op) {
  check(input.dim() >= 1, op, "expected input of shape (N, C, d...) or (C), got a 0-dim input");
  Shape want = input.shape();
  want.erase(input.dim() == 1 ? 0 : 1);
  check(is_integral(target.dtype()), op,
        "expected integer class indices (i64 or i32) of shape {} as target, got {} of shape {} "
        "(class probabilities must have input's shape {} and a floating dtype)",
        want, target.dtype(), target.shape(), input.shape());
  check(target.shape() == want, op,
        "expected target of shape {} (input's shape {} without the class dim), got {}", want,
        input.shape(), target.shape());
}

// Weight for C classes, converted to `dtype`.
Tensor class_weight(const Tensor& weight, int64_t classes, DType dtype, const Tensor& input,
                    std::string_view op) {
  if (!weight.defined()) return weight;
  check(weight.dim() == 1 && weight.numel() == classes, op,
        "weight should hold one value per class ({}) but got weight of shape {}", classes,
        weight.shape());
  check(is_floating(weight.dtype()), op, "expected a floating weight, got {}", weight.dtype());
  ops::check_same_device(input, weight, op);
  return weight.to(dtype);
}

// Weight reshaped to (1, C, 1...) so it broadcasts along input's class dim 1.
Tensor weight_along_classes(const Tensor& weight, int ndim) {
  Shape s = Shape::filled(ndim, 1);
  s[1] = weight.numel();
  return weight.reshape(s);
}

struct NllTerms {
  Tensor loss;          // (N, d...): -w[t]·logp[t], 0 where ignored
  Tensor total_weight;  // Σ w[t] over kept targets; undefined without class weights
  ClassTargets targets;
};

// logp: (N, C, d...) log-probabilities; targets and weight already checked.
NllTerms nll_terms(const Tensor& logp, ClassTargets targets, const Tensor& weight) {
  NllTerms r;
  r.targets = std::move(targets);
  const ClassTargets& t = r.targets;
  Tensor picked = gather(logp, 1, t.index.unsqueeze(1)).squeeze(1);
  Tensor loss = neg(picked);
  if (weight.defined()) {
    Tensor w = index_select(weight, 0, t.index.reshape({-1})).reshape(t.index.shape());
    if (t.keep.defined()) w = where(t.keep, w, 0);
    loss = loss * w;
    r.total_weight = w.sum();
  }
  // where (not a product with the mask) so that an ignored -inf log-probability
  // contributes 0, not NaN, as in torch.
  if (t.keep.defined()) loss = where(t.keep, loss, 0);
  r.loss = loss;
  return r;
}

// Mean divides by the kept targets' total class weight (their count without weights):
// 0/0 = NaN when every target is ignored, as in torch.
Tensor reduce_nll(const Tensor& per_sample, const NllTerms& terms, Reduction r) {
  switch (r) {
    case Reduction::None: return per_sample;
    case Reduction::Sum: return per_sample.sum();
    case Reduction::Mean:
      if (terms.total_weight.defined()) return per_sample.sum() / terms.total_weight;
      if (terms.targets.kept_count.defined()) {
        return per_sample.sum() / terms.targets.kept_count.to(per_sample.dtype());
      }
      return per_sample.sum() / double(terms.targets.kept);
  }
  return per_sample;
}

// A 1-D input (C) with a 0-dim target is a batch of one whose unreduced loss is 0-dim.
struct Batched {
  Tensor input, target;
  bool unbatched = false;
};

Batched add_batch_dim(const Tensor& input, const Tensor& target) {
  if (input.dim() != 1) return {input, target, false};
  return {input.unsqueeze(0), target.unsqueeze(0), true};
}

Tensor restore(const Tensor& loss, const Batched& b, Reduction r) {
  return b.unbatched && r == Reduction::None ? loss.squeeze(0) : loss;
}

Tensor cross_entropy_probs(const Tensor& input, const Tensor& target,
                           const CrossEntropyOptions& opt) {
  constexpr std::string_view op = "cross_entropy";
  check(is_floating(target.dtype()), op,
        "a target of input's shape {} holds class probabilities and must be floating, got {}",
        input.shape(), target.dtype());
  check(opt.ignore_index < 0, op,
        "ignore_index ({}) is not supported for class-probability targets", opt.ignore_index);
  Batched b = add_batch_dim(input, target);
  const int64_t classes = b.input.size(1);
  Tensor weight = class_weight(opt.weight, classes, input.dtype(), input, op);
  Tensor logp = log_softmax(b.input, 1);
  Tensor p = b.target;
  if (opt.label_smoothing > 0.0) {
    p = p * (1.0 - opt.label_smoothing) + opt.label_smoothing / double(classes);
  }
  Tensor prod = logp * p;
  if (weight.defined()) prod = prod * weight_along_classes(weight, logp.dim());
  switch (opt.reduction) {
    case Reduction::None: return restore(neg(prod.sum({1})), b, opt.reduction);
    case Reduction::Sum: return neg(prod.sum());
    case Reduction::Mean:
      // Averages over samples (N·d...), whatever the class weights.
      return neg(prod.sum()) / double(logp.numel() / std::max<int64_t>(classes, 1));
  }
  return prod;
}

}  // namespace

Tensor nll_loss(const Tensor& input16, const Tensor& target, const NllLossOptions& opt) {
  // Under amp::Autocast, losses are computed in f32 whatever the input precision.
  const Tensor input = amp::to_fp32(input16);
  constexpr std::string_view op = "nll_loss";
  check_floating_input(input, op);
  ops::check_defined(target, op, "target");
  ops::check_same_device(input, target, op);
  check_reduction(opt.reduction, op);
  check_index_target(input, target, op);
  Batched b = add_batch_dim(input, target);
  const int64_t classes = b.input.size(1);
  Tensor weight = class_weight(opt.weight, classes, input.dtype(), input, op);
  NllTerms terms =
      nll_terms(b.input, read_targets(b.target, classes, opt.ignore_index, op), weight);
  return restore(reduce_nll(terms.loss, terms, opt.reduction), b, opt.reduction);
}

Tensor cross_entropy(const Tensor& input16, const Tensor& target16,
                     const CrossEntropyOptions& opt) {
  // Under amp::Autocast, losses are computed in f32 whatever the input precision.
  const Tensor input = amp::to_fp32(input16), target = amp::to_fp32(target16);
  constexpr std::string_view op = "cross_entropy";
  check_floating_input(input, op);
  ops::check_defined(target, op, "target");
  ops::check_same_device(input, target, op);
  check_reduction(opt.reduction, op);
  check(opt.label_smoothing >= 0.0 && opt.label_smoothing <= 1.0, op,
        "label_smoothing must be in [0, 1], got {}", opt.label_smoothing);
  check(input.dim() >= 1, op, "expected input of shape (N, C, d...) or (C), got a 0-dim input");
  if (target.shape() == input.shape()) return cross_entropy_probs(input, target, opt);

  check_index_target(input, target, op);
  Batched b = add_batch_dim(input, target);
  const int64_t classes = b.input.size(1);
  Tensor weight = class_weight(opt.weight, classes, input.dtype(), input, op);
  ClassTargets targets = read_targets(b.target, classes, opt.ignore_index, op);
  Tensor logp = log_softmax(b.input, 1);
  NllTerms terms = nll_terms(logp, std::move(targets), weight);
  Tensor nll = reduce_nll(terms.loss, terms, opt.reduction);
  if (opt.label_smoothing == 0.0) return restore(nll, b, opt.reduction);

  // Uniform part of the smoothed target: -Σ_c w_c·logp_c per sample, 0 where ignored,
  // reduced with the same divisor as the NLL part.
  Tensor wl = weight.defined() ? logp * weight_along_classes(weight, logp.dim()) : logp;
  Tensor smooth = neg(wl.sum({1}));
  if (terms.targets.keep.defined()) smooth = where(terms.targets.keep, smooth, 0);
  smooth = reduce_nll(smooth, terms, opt.reduction);
  const double eps = opt.label_smoothing;
  return restore(nll * (1.0 - eps) + smooth * (eps / double(classes)), b, opt.reduction);
}

// ---- regression and binary losses ---------------------------------------------------

namespace {

// Elementwise losses take a floating target of exactly input's shape: torch broadcasts
// mismatched shapes with only a warning, which turns (N, 1) vs (N) into an (N, N) loss.
void check_pair(const Tensor& input, const Tensor& target, std::string_view op) {
  check_floating_input(input, op);
  ops::check_defined(target, op, "target");
  check(is_floating(target.dtype()), op, "expected a floating target, got {} of shape {}",
        target.dtype(), target.shape());
  check(target.shape() == input.shape(), op, "target shape {} must be the same as input shape {}",
        target.shape(), input.shape());
  ops::check_same_device(input, target, op);
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const int lead = to.size() - from.size();
  for (int d = 0; d < from.size(); ++d) {
    if (from[d] != 1 && from[d] != to[d + lead]) return false;
  }
  return true;
}

// softplus(-x) = log(1 + e^-x), computed as log1p(e^-|x|) + max(-x, 0) so it never
// overflows, with the exact derivative -sigmoid(-x) (composing abs and max would give
// -1 instead of -1/2 at x = 0, where zero-initialised logits start).
struct SoftplusNeg {
  static constexpr std::string_view name = "binary_cross_entropy_with_logits";
  Tensor x;
  Tensor forward(const Tensor& x_) {
    x = x_;
    return log1p(exp(neg(abs(x_)))) + clamp_min(neg(x_), 0.0);
  }
  std::vector<Tensor> backward(const Tensor& g) { return {neg(g * sigmoid(neg(x)))}; }
};

}  // namespace

Tensor mse_loss(const Tensor& input16, const Tensor& target16, Reduction reduction) {
  const Tensor input = amp::to_fp32(input16), target = amp::to_fp32(target16);
  check_pair(input, target, "mse_loss");
  check_reduction(reduction, "mse_loss");
  return reduce(square(input - target), reduction);
}

Tensor l1_loss(const Tensor& input16, const Tensor& target16, Reduction reduction) {
  const Tensor input = amp::to_fp32(input16), target = amp::to_fp32(target16);
  check_pair(input, target, "l1_loss");
  check_reduction(reduction, "l1_loss");
  return reduce(abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input16, const Tensor& target16, Reduction reduction,
                      double beta) {
  const Tensor input = amp::to_fp32(input16), target = amp::to_fp32(target16);
  constexpr std::string_view op = "smooth_l1_loss";
  check_pair(input, target, op);
  check_reduction(reduction, op);
  check(beta >= 0.0, op, "beta must be non-negative, got {}", beta);
  if (beta == 0.0) return reduce(abs(input - target), reduction);
  Tensor d = input - target;
  Tensor ad = abs(d);
  Tensor loss = where(ad < beta, square(d) * (0.5 / beta), ad - 0.5 * beta);
  return reduce(loss, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input16, const Tensor& target16,
                                        const BceWithLogitsOptions& opt) {
  const Tensor input = amp::to_fp32(input16), target = amp::to_fp32(target16);
  constexpr std::string_view op = "binary_cross_entropy_with_logits";
  check_pair(input, target, op);
  check_reduction(opt.reduction, op);
  for (const auto& [w, what] :
       {std::pair{&opt.weight, "weight"}, {&opt.pos_weight, "pos_weight"}}) {
    if (!w->defined()) continue;
    check(is_floating(w->dtype()), op, "expected a floating {}, got {}", what, w->dtype());
    ops::check_same_device(input, *w, op);
    check(broadcasts_to(w->shape(), input.shape()), op,
          "{} of shape {} does not broadcast to input shape {}", what, w->shape(), input.shape());
  }
  // (1 - y)·x + (1 + (pw - 1)·y)·softplus(-x), times weight.
  Tensor sp = autograd::apply<SoftplusNeg>(input);
  Tensor log_weight = opt.pos_weight.defined() ? (opt.pos_weight - 1.0) * target + 1.0 : Tensor();
  Tensor loss = (1.0 - target) * input + (log_weight.defined() ? log_weight * sp : sp);
  if (opt.weight.defined()) loss = loss * opt.weight;
  return reduce(loss, opt.reduction);
}

}  // namespace descent::F
