#pragma once
// nn::Module — the base of every layer and model. A module registers its parameters,
// buffers and submodules by name; everything else (recursive listing with dotted
// names, train/eval, dtype/device conversion, state dicts, hooks, printing) works
// from that registry.
//
//   struct Mlp : nn::Module {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Mlp() : fc1(register_module("fc1", std::make_shared<nn::Linear>(4, 8))),
//             fc2(register_module("fc2", std::make_shared<nn::Linear>(8, 2))) {}
//     Tensor forward(const Tensor& x) override { return (*fc2)(F::relu((*fc1)(x))); }
//   };
//
// Registered tensors are handles: a member `Tensor weight_` and the registry share one
// TensorImpl, so to(DType)/to(Device)/load_state_dict, which change tensors in place at
// the TensorImpl level, are seen through every handle (members, optimizers). Replacing
// a member handle by assignment does NOT update the registry; change values with
// copy_ under NoGradGuard instead. Modules are movable (member handles and the
// registry move together) and not copyable.
//
// Throws descent::Error for: an empty name, a name with '.', a name registered twice
// (across parameters, buffers and submodules), requires_grad on a non-floating or
// non-leaf tensor, a null submodule, forward() not overridden, and state-dict
// mismatches (see load_state_dict).
#include <descent/core/error.h>
#include <descent/core/state_dict.h>
#include <descent/core/tensor.h>
#include <fmt/format.h>

#include <concepts>
#include <deque>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace descent::nn {

class Module;

using NamedTensor = std::pair<std::string, Tensor>;
using NamedModule = std::pair<std::string, std::shared_ptr<Module>>;

// A forward pre-hook gets the module and its input; it may return a replacement input
// (an undefined Tensor keeps it). A forward hook also gets the output and may replace it.
using ForwardPreHook = std::function<Tensor(Module&, const Tensor& input)>;
using ForwardHook = std::function<Tensor(Module&, const Tensor& input, const Tensor& output)>;

// Identifies a registered hook for remove_hook().
struct HookHandle {
  uint64_t id = 0;
  friend bool operator==(const HookHandle&, const HookHandle&) = default;
};

// How load_state_dict treats a dict that does not match the module exactly.
struct LoadOptions {
  bool strict = true;          // missing or unexpected keys are an error
  bool convert_dtype = false;  // cast stored tensors to the module's dtypes
};

// What a non-strict load_state_dict found: the module's keys absent from the dict and
// the dict's keys the module does not have (sorted).
struct LoadStateDictResult {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(Module&&) noexcept = default;
  Module& operator=(Module&&) noexcept = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- registration -------------------------------------------------------------
  // Stores `t` as a parameter (a leaf; requires_grad set as asked). An undefined `t`
  // registers an absent parameter (PyTorch's None: skipped everywhere). Returns the
  // stored handle; the reference stays valid while the module is alive and unmoved.
  Tensor& register_parameter(std::string name, Tensor t, bool requires_grad = true);
  // Stores `t` as a buffer: state that is converted by to() but not trained (running
  // statistics). A persistent buffer is part of state_dict(); a non-persistent one (a
  // cache) is not. Undefined `t` registers an absent buffer.
  Tensor& register_buffer(std::string name, Tensor t, bool persistent = true);
  // Adds a submodule; returns `m` so a typed member can be initialised from it.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> m) {
    add_child(std::move(name), m);
    return m;
  }
  // The same for a module passed by value, which is moved into a new shared_ptr: braced
  // options reach its constructor, where std::make_shared cannot forward them.
  //   lstm = register_module("lstm", nn::LSTM(1, 32, {.num_layers = 2}));
  template <class M>
  requires std::derived_from<M, Module> std::shared_ptr<M> register_module(std::string name,
                                                                           M&& m) {
    return register_module(std::move(name), std::make_shared<M>(std::move(m)));
  }

  // Puts `t` in the slot of the direct parameter `name` (registered before, possibly
  // absent) and returns what the slot held. An undefined `t` makes the parameter absent
  // (skipped everywhere, PyTorch's None); references returned at registration stay
  // valid. requires_grad and the checks as register_parameter. Throws when this module
  // has no parameter `name`.
  Tensor replace_parameter(const std::string& name, Tensor t, bool requires_grad = true);

  // ---- parametrizations ------------------------------------------------------------
  // A parametrization makes forward() see a computed tensor where it reads a parameter
  // handle (nn::utils::weight_norm: w = g·v/‖v‖). `original` is the handle the module's
  // forward passes to resolve(); `compute` builds the value from this module's current
  // parameters, on every resolve (so the graph reaches them). One per name.
  using Parametrization = std::function<Tensor(const Module&)>;
  void register_parametrization(std::string name, const Tensor& original, Parametrization compute);
  // Removes it; returns false when there is none by that name.
  bool remove_parametrization(const std::string& name);
  // The original handle of the parametrization `name`, or null. to(DType)/to(Device)
  // convert it with the parameters.
  const Tensor* find_parametrization(const std::string& name) const;
  // The tensor forward() should use for the parameter handle `p`: its parametrization's
  // value, or `p` itself. Modules read their weights through it.
  Tensor resolve(const Tensor& p) const;

  // ---- traversal (registration order, dotted names as PyTorch) --------------------
  // recurse=false lists this module's own entries only. A tensor registered twice
  // (tied weights) is listed once, under its first name.
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<NamedTensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<NamedTensor> named_buffers(bool recurse = true) const;
  // Direct submodules.
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<NamedModule>& named_children() const { return children_; }
  // Every module of the tree below this one, depth first, with dotted names
  // (this module itself is not included).
  std::vector<NamedModule> named_modules() const;
  // The direct parameter / buffer / child called `name`, or null.
  const Tensor* find_parameter(const std::string& name) const;
  const Tensor* find_buffer(const std::string& name) const;
  std::shared_ptr<Module> find_child(const std::string& name) const;

  // ---- modes and conversion ---------------------------------------------------------
  // Sets training mode on this module and all below it (dropout, batch norm read it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Converts every floating parameter and buffer (and its .grad) to `dtype`, in
  // place: every handle to those tensors sees the new dtype. Integer buffers stay.
  // Throws unless `dtype` is floating.
  Module& to(DType dtype);
  // Moves every parameter and buffer (and its .grad) to `device`, in place.
  Module& to(Device device);
  // Sets requires_grad on every floating parameter (false freezes the module).
  Module& requires_grad_(bool on = true);
  // Clears every parameter's gradient: to undefined (default) or to zeros.
  void zero_grad(bool set_to_none = true);
  // Calls fn on every submodule (depth first, children before parents) and then on
  // this module, as torch.nn.Module.apply.
  Module& apply(const std::function<void(Module&)>& fn);

  // ---- state -------------------------------------------------------------------------
  // Parameters and buffers under dotted names, as handles sharing the module's storage
  // (detached from the graph). Absent (undefined) entries are left out.
  StateDict state_dict() const;
  // Copies the dict's tensors into the existing parameters and buffers (handles stay
  // valid), moving them to the module's device. Every check runs before anything is
  // copied. strict: missing keys, unexpected keys, shape and dtype mismatches throw one
  // Error listing all of them. Non-strict: shape and dtype mismatches still throw;
  // missing and unexpected keys are returned. A stored dtype other than the module's
  // (an f64 file into an f32 model, a bf16 one into f32) is an error unless
  // `convert_dtype` asks for the conversion. Only dict.tensors is read (numbers and
  // strings belong to other loaders).
  //   model.load_state_dict(sd);                            // strict, same dtypes
  //   model.load_state_dict(sd, {.strict = false, .convert_dtype = true});
  LoadStateDictResult load_state_dict(const StateDict& dict, LoadOptions options = {});

  // ---- forward -------------------------------------------------------------------------
  // The computation. The default throws naming the module type.
  virtual Tensor forward(const Tensor& input);
  // Runs the forward pre-hooks, forward(), then the forward hooks.
  Tensor operator()(const Tensor& input);
  HookHandle register_forward_pre_hook(ForwardPreHook hook);
  HookHandle register_forward_hook(ForwardHook hook);
  // Removes a hook of either kind; returns false when no hook has this handle.
  bool remove_hook(HookHandle handle);

  // ---- printing --------------------------------------------------------------------------
  // The class name without namespaces ("Linear"); override to rename.
  virtual std::string type_name() const;
  // The part inside the parentheses of this module's own line, e.g.
  // "in_features=784, out_features=512, bias=true".
  virtual std::string extra_repr() const { return {}; }
  // The whole tree in PyTorch's repr layout:
  //   Sequential(
  //     (0): Linear(in_features=4, out_features=2, bias=true)
  //     (1): ReLU()
  //   )
  std::string repr() const;

 private:
  enum class Kind { Parameter, Buffer };
  void check_new_name(const std::string& name, std::string_view what) const;
  void add_child(std::string name, std::shared_ptr<Module> m);
  void collect(Kind kind, const std::string& prefix, bool recurse, std::vector<NamedTensor>& out,
               std::unordered_set<const TensorImpl*>& seen) const;
  void collect_modules(const std::string& prefix, std::vector<NamedModule>& out) const;
  void convert(const std::function<Tensor(const Tensor&)>& fn);

  // deques: registering more entries keeps earlier references valid.
  std::deque<NamedTensor> params_;
  std::deque<NamedTensor> buffers_;
  std::vector<NamedModule> children_;
  std::vector<std::string> non_persistent_;  // buffer names left out of state_dict()
  struct NamedParametrization {
    std::string name;
    Tensor original;
    Parametrization compute;
  };
  std::vector<NamedParametrization> parametrizations_;
  std::vector<std::pair<uint64_t, ForwardPreHook>> pre_hooks_;
  std::vector<std::pair<uint64_t, ForwardHook>> hooks_;
  uint64_t next_hook_id_ = 1;
  bool training_ = true;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

// A shared submodule that is called like the module itself: fc1(x), not (*fc1)(x).
// Everything else is std::shared_ptr's (fc1->weight(), fc1.get()).
//   struct Net : nn::Module {
//     nn::Shared<nn::Linear> fc1 = register_module("fc1", nn::Linear(4, 8));
//     nn::Shared<nn::LSTM> lstm = register_module("lstm", nn::LSTM(8, 16, {.num_layers = 2}));
//     Tensor forward(const Tensor& x) override { return lstm(fc1(x)); }  // x: (seq, batch, 4)
//   };
template <class M>
class Shared : public std::shared_ptr<M> {
 public:
  Shared() = default;
  Shared(std::shared_ptr<M> p) : std::shared_ptr<M>(std::move(p)) {}  // NOLINT: implicit on purpose
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return (**this)(std::forward<Args>(args)...);
  }
};

}  // namespace descent::nn

// fmt::format("{}", model) prints repr() for Module and every class derived from it.
template <class T>
struct fmt::formatter<T, char, std::enable_if_t<std::is_base_of_v<descent::nn::Module, T>>>
    : fmt::formatter<std::string_view> {
  auto format(const T& m, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(m.repr(), ctx);
  }
};
