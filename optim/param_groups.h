#pragma once
// GroupedOptimizer: the shared machinery of every concrete optimizer — parameter groups
// that each hold a full copy of the options, typed per-parameter state, step() over the
// parameters that have a gradient, and a state dict that round-trips everything bit for
// bit.
//
// A concrete optimizer `X` derives from GroupedOptimizer<X, XOptions, XState>, inherits
// its constructor (`using GroupedOptimizer::GroupedOptimizer;`) and provides:
//   static constexpr std::string_view kName;                        // "adam"
//   void update(const ParamStep&, XState&, const XOptions&);        // submits one rule
// and, where it has them:
//   template <class S, class F> static void visit_state(S&, F&&);    // f(name, double&):
//                                                   // state that is neither a slot nor step
//   template <class O, class F> static void visit_options(O&, F&&);  // its own options:
//       visit_common_options(o, f); f(name, double&|bool&, Range);   // (option_fields.h)
//   static void check_options(const XOptions&);                      // checks across fields
// XOptions has `double lr`; XState has `int64_t step`, which step() counts before update()
// (1 in the first update), and, when the rule keeps state tensors, `using Rule = XRule;`
// and `auto slots() { return std::tie(...); }`: its Tensor members in the rule's slot
// order. The state dict names them by Rule::kSlotNames; a slot in Rule::kOptionalSlots
// may be absent. The options are validated from their Ranges whenever set.
//
// State dict keys: "optimizer" (string, kName), "num_groups", "group.<g>.num_params",
// "group.<g>.<option>", and per parameter i (counted over all groups in order)
// "state.<i>.step" and "state.<i>.<slot>" for every slot of an initialised state.
#include <descent/core/error.h>
#include <descent/ops/factory.h>
#include <descent/optim/optimizer.h>
#include <descent/optim/option_fields.h>
#include <descent/optim/update_batch.h>

#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace descent::optim {

// Whether a state tensor must be present once the state is initialised.
enum class Slot { Required, Optional };

// What step() hands an optimizer's update for one parameter: the parameter, its stored
// gradient and the factor still to apply to it (the loss scaler's 1/scale times the
// clipping coefficient: core/tensor.h, "deferred gradient scaling"), and the step's
// batch. submit() adds the rule's fused update to the batch with that factor.
struct ParamStep {
  const Tensor& param;
  const Tensor& grad;
  double grad_scale = 1;
  UpdateBatch& batch;

  template <class Rule>
  void submit(Rule rule, std::array<Tensor, Rule::kSlots> slots) const {
    rule.grad_scale = grad_scale;
    batch.add(Update<Rule>{param, grad, std::move(slots), rule});
  }
  // With a state's slots(), in the rule's order.
  template <class Rule, class... Slots>
  void submit(Rule rule, std::tuple<Slots&...> slots) const {
    static_assert(sizeof...(Slots) == Rule::kSlots, "one tensor per slot of the rule");
    submit(rule,
           std::apply([](auto&... t) { return std::array<Tensor, Rule::kSlots>{t...}; }, slots));
  }
};

// Whether a rule's slot `k` may be absent (Rule::kOptionalSlots, a bit per slot).
template <class Rule>
constexpr bool optional_slot(size_t k) {
  if constexpr (requires { Rule::kOptionalSlots; }) {
    return (Rule::kOptionalSlots >> k) & 1u;
  } else {
    return false;
  }
}

// Calls f(name, Tensor&, Slot) for each of the state's slots, then Derived::visit_state
// for the rest. A const state is only read.
template <class Derived, class State, class F>
void visit_saved_state(State& s, F&& f) {
  using Mutable = std::remove_const_t<State>;
  if constexpr (requires(Mutable & m) { m.slots(); }) {
    using Rule = typename Mutable::Rule;
    auto slots = const_cast<Mutable&>(s).slots();
    static_assert(std::tuple_size_v<decltype(slots)> == Rule::kSlots,
                  "slots() lists every slot of the rule, in its order");
    [&]<size_t... K>(std::index_sequence<K...>) {
      (f(std::string_view(Rule::kSlotNames[K]), std::get<K>(slots),
         optional_slot<Rule>(K) ? Slot::Optional : Slot::Required),
       ...);
    }
    (std::make_index_sequence<Rule::kSlots>());
  }
  Derived::visit_state(s, f);
}

// Allocates a state slot on first use: `fill` everywhere, like the param.
inline void init_slot(Tensor& slot, const Tensor& param, double fill = 0.0) {
  if (!slot.defined()) slot = full_like(param, fill);
}

template <class Derived, class Options, class State>
class GroupedOptimizer : public Optimizer {
 public:
  struct ParamGroup {
    std::vector<Tensor> params;
    Options options;
  };

  // The defaults of every group added later (add_param_group copies and edits them).
  explicit GroupedOptimizer(std::vector<Tensor> params, const Options& defaults = {})
      : defaults_(defaults) {
    Derived::validate(defaults_);
    add_param_group(std::move(params));
  }

  std::string_view name() const override { return Derived::kName; }

  // What an optimizer that declares no options of its own, no state beyond `step` or no
  // cross-field check uses.
  template <class O, class F>
  static void visit_options(O& o, F&& f) {
    visit_common_options(o, f);
  }
  template <class S, class F>
  static void visit_state(S&, F&&) {}
  // Every field in its Range, then the optimizer's own check_options when it has one.
  static void validate(const Options& o) {
    Derived::visit_options(o, [](std::string_view field, const auto& v, Range range) {
      check_range(Derived::kName, field, double(v), range);
    });
    if constexpr (requires { Derived::check_options(o); }) Derived::check_options(o);
  }

  size_t num_groups() const override { return groups_.size(); }
  const std::vector<Tensor>& params(size_t g) const override { return group(g).params; }
  double lr(size_t g = 0) const override { return group(g).options.lr; }
  void set_lr(double lr, size_t g) override {
    Options o = group(g).options;
    o.lr = lr;
    set_options(o, g);
  }
  using Optimizer::set_lr;

  // The coefficient CyclicLR / OneCycleLR cycle, found from the options' fields:
  // `momentum` (SGD, RMSprop) or `betas.beta1` (the Adam family, Adamax, NAdam, RAdam,
  // Lion); none for the others.
  std::optional<double> momentum(size_t g) const override {
    if constexpr (requires(Options o) { o.betas.beta1; }) {
      return options(g).betas.beta1;
    } else if constexpr (requires(Options o) { o.momentum; }) {
      return options(g).momentum;
    } else {
      return std::nullopt;
    }
  }
  void set_momentum(double value, size_t g) override {
    Options o = options(g);
    if constexpr (requires { o.betas.beta1; }) {
      o.betas.beta1 = value;
    } else if constexpr (requires { o.momentum; }) {
      o.momentum = value;
    } else {
      return;
    }
    set_options(o, g);
  }

  // The groups, as torch's opt.param_groups (read-only: change options through
  // set_options or set_lr, which validate):
  //   for (const auto& g : opt.param_groups()) fmt::print("{} {}\n", g.params.size(),
  //   g.options.lr);
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // The constructor's options: what a group that overrides nothing gets.
  const Options& defaults() const { return defaults_; }
  const Options& options(size_t g = 0) const { return group(g).options; }
  // Replaces a group's options (validated).
  void set_options(const Options& o, size_t g) {
    Derived::validate(o);
    mutable_group(g).options = o;
  }

  // Adds a group whose options are a copy of the defaults, edited by `edit` when given:
  //   opt.add_param_group(head, [](optim::SGDOptions& o) { o.lr = 0.01; });
  // Throws for invalid options, an empty list, a parameter already in a group, or a
  // parameter that is not a contiguous f32/f64 tensor.
  using EditOptions = std::function<void(Options&)>;
  void add_param_group(std::vector<Tensor> params, const EditOptions& edit = {}) {
    Options o = defaults_;
    if (edit) edit(o);
    Derived::validate(o);
    check(!params.empty(), Derived::kName, "got an empty parameter list for group {}",
          groups_.size());
    std::unordered_set<const TensorImpl*> seen;
    for (const auto& g : groups_) {
      for (const Tensor& p : g.params) seen.insert(p.impl());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& p = params[i];
      check(p.defined(), Derived::kName, "parameter {} of group {} is undefined", i,
            groups_.size());
      check(p.dtype() == DType::F32 || p.dtype() == DType::F64, Derived::kName,
            "parameter {} of group {} has dtype {}, expected f32 or f64", i, groups_.size(),
            p.dtype());
      check(p.is_contiguous(), Derived::kName, "parameter {} of group {} must be contiguous", i,
            groups_.size());
      check(seen.insert(p.impl()).second, Derived::kName,
            "parameter {} of group {} appears in more than one parameter group", i, groups_.size());
    }
    state_.resize(state_.size() + params.size());
    groups_.push_back({std::move(params), o});
  }

  // The typed state of parameter `i` (counted over all groups in order).
  const State& state(size_t i) const {
    check(i < state_.size(), Derived::kName, "state index {} out of range ({} parameters)", i,
          state_.size());
    return state_[i];
  }

  // Every parameter's update is collected and run per device at the end (one
  // multi-tensor launch per rule on a GPU; update_batch.h). The gradients are read
  // once, by the fused update, which also applies their pending scale.
  void step() override {
    UpdateBatch batch;
    size_t index = 0;
    for (const auto& g : groups_) {
      for (const Tensor& p : g.params) {
        State& s = state_[index++];
        const PendingGrad pending = pending_grad(p);
        Tensor grad = pending.grad;
        if (!grad.defined()) continue;
        check(grad.shape() == p.shape() && grad.dtype() == p.dtype(), Derived::kName,
              "gradient of shape {} and dtype {} does not match its parameter ({}, {})",
              grad.shape(), grad.dtype(), p.shape(), p.dtype());
        if (!grad.is_contiguous()) grad = grad.contiguous();
        ++s.step;
        static_cast<Derived*>(this)->update(ParamStep{p, grad, pending.scale, batch}, s, g.options);
      }
    }
    batch.flush();
  }
  using Optimizer::step;

  StateDict state_dict() const override {
    StateDict d;
    d.strings["optimizer"] = std::string(Derived::kName);
    d.numbers["num_groups"] = double(groups_.size());
    size_t index = 0;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const std::string gp = "group." + std::to_string(g) + ".";
      d.numbers[gp + "num_params"] = double(groups_[g].params.size());
      Derived::visit_options(groups_[g].options,
                             [&](std::string_view field, const auto& v, Range /*range*/) {
                               d.numbers[gp + std::string(field)] = double(v);
                             });
      for (size_t k = 0; k < groups_[g].params.size(); ++k, ++index) {
        const State& s = state_[index];
        if (s.step == 0) continue;
        const std::string sp = "state." + std::to_string(index) + ".";
        d.numbers[sp + "step"] = double(s.step);
        visit_saved_state<Derived>(s, [&](std::string_view slot, const auto& v, auto... /*kind*/) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, Tensor>) {
            if (v.defined()) d.tensors[sp + std::string(slot)] = v.clone();
          } else {
            d.numbers[sp + std::string(slot)] = double(v);
          }
        });
      }
    }
    return d;
  }

  void load_state_dict(const StateDict& d) override {
    const std::string_view who = Derived::kName;
    const std::string& made_by = d.string("optimizer", who);
    check(made_by == who, who, "state dict is for optimizer '{}', expected '{}'", made_by, who);
    const double ng = d.number("num_groups", who);
    check(ng == double(groups_.size()), who, "state dict has {} parameter groups, expected {}", ng,
          groups_.size());
    // Build everything first so a failed load leaves the optimizer untouched.
    std::vector<Options> options(groups_.size());
    std::vector<State> state(state_.size());
    size_t index = 0;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const std::string gp = "group." + std::to_string(g) + ".";
      const double np = d.number(gp + "num_params", who);
      check(np == double(groups_[g].params.size()), who,
            "state dict group {} has {} parameters, expected {}", g, np, groups_[g].params.size());
      Derived::visit_options(options[g], [&](std::string_view field, auto& v, Range /*range*/) {
        v = std::decay_t<decltype(v)>(d.number(gp + std::string(field), who));
      });
      Derived::validate(options[g]);
      for (const Tensor& p : groups_[g].params) {
        const std::string sp = "state." + std::to_string(index) + ".";
        State& s = state[index++];
        if (!d.numbers.count(sp + "step")) continue;  // never stepped
        s.step = int64_t(d.number(sp + "step", who));
        visit_saved_state<Derived>(s, [&](std::string_view slot, auto& v, auto... kind) {
          using V = std::decay_t<decltype(v)>;
          const std::string key = sp + std::string(slot);
          if constexpr (std::is_same_v<V, Tensor>) {
            const Slot k = (kind, ...);
            auto it = d.tensors.find(key);
            if (it == d.tensors.end()) {
              check(k == Slot::Optional, who, "state dict has no tensor '{}'", key);
              return;
            }
            const Tensor& t = it->second;
            check(t.shape() == p.shape() && t.dtype() == p.dtype(), who,
                  "state '{}' has shape {} and dtype {}, expected the parameter's {} and {}", key,
                  t.shape(), t.dtype(), p.shape(), p.dtype());
            v = t.contiguous().clone().to(p.device());
          } else {
            v = V(d.number(key, who));
          }
        });
        check(s.step > 0, who, "state '{}step' must be positive, got {}", sp, s.step);
      }
    }
    for (size_t g = 0; g < groups_.size(); ++g) groups_[g].options = options[g];
    state_ = std::move(state);
  }

 private:
  const ParamGroup& group(size_t g) const {
    check(g < groups_.size(), Derived::kName, "group {} out of range ({} groups)", g,
          groups_.size());
    return groups_[g];
  }
  ParamGroup& mutable_group(size_t g) {
    check(g < groups_.size(), Derived::kName, "group {} out of range ({} groups)", g,
          groups_.size());
    return groups_[g];
  }

  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::vector<State> state_;
};

}  // namespace descent::optim
