#include <cxxabi.h>
#include <descent/core/grad_mode.h>
#include <descent/nn/module.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <typeinfo>
#include <utility>

namespace descent::nn {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// Swaps the data of `dst`'s TensorImpl for `src`'s (same logical values, new dtype or
// device), so every handle sharing the impl sees the change.
void replace_data(TensorImpl& dst, const Tensor& src) {
  dst.storage = src.storage();
  dst.shape = src.shape();
  dst.strides = src.strides();
  dst.offset = src.offset();
  dst.dtype = src.dtype();
  // The accumulator caches the leaf's dtype and device: let the engine make a new one.
  dst.grad_accumulator.reset();
}

}  // namespace

// ---- registration -------------------------------------------------------------------

void Module::check_new_name(const std::string& name, std::string_view what) const {
  const std::string op = fmt::format("{}.register_{}", type_name(), what);
  check(!name.empty(), op, "got an empty name, expected a non-empty name without '.'");
  check(name.find('.') == std::string::npos, op, "got name '{}', expected a name without '.'",
        name);
  auto has = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  check(!has(params_) && !has(buffers_) && !has(children_), op,
        "name '{}' is already registered, expected a new name", name);
}

Tensor& Module::register_parameter(std::string name, Tensor t, bool requires_grad) {
  check_new_name(name, "parameter");
  if (t.defined()) {
    const std::string op = fmt::format("{}.register_parameter", type_name());
    check(t.is_leaf(), op,
          "parameter '{}' is the result of an op (has grad_fn), expected a leaf; pass "
          "t.detach()",
          name);
    check(!requires_grad || is_floating(t.dtype()), op,
          "parameter '{}' has dtype {}, expected a floating dtype to require grad", name,
          t.dtype());
    t.requires_grad_(requires_grad);
  }
  params_.emplace_back(std::move(name), std::move(t));
  return params_.back().second;
}

Tensor Module::replace_parameter(const std::string& name, Tensor t, bool requires_grad) {
  const std::string op = fmt::format("{}.replace_parameter", type_name());
  for (auto& [n, slot] : params_) {
    if (n != name) continue;
    if (t.defined()) {
      check(t.is_leaf(), op, "parameter '{}' must be a leaf; pass t.detach()", name);
      check(!requires_grad || is_floating(t.dtype()), op,
            "parameter '{}' has dtype {}, expected a floating dtype to require grad", name,
            t.dtype());
      t.requires_grad_(requires_grad);
    }
    return std::exchange(slot, std::move(t));
  }
  fail(op, fmt::format("has no parameter '{}'", name));
}

void Module::register_parametrization(std::string name, const Tensor& original,
                                      Parametrization compute) {
  const std::string op = fmt::format("{}.register_parametrization", type_name());
  check(original.defined() && compute != nullptr, op,
        "'{}' needs a defined original tensor and a compute function", name);
  check(!find_parametrization(name), op, "'{}' is parametrized already", name);
  parametrizations_.push_back({std::move(name), original, std::move(compute)});
}

bool Module::remove_parametrization(const std::string& name) {
  for (auto it = parametrizations_.begin(); it != parametrizations_.end(); ++it) {
    if (it->name != name) continue;
    parametrizations_.erase(it);
    return true;
  }
  return false;
}

const Tensor* Module::find_parametrization(const std::string& name) const {
  for (const auto& p : parametrizations_)
    if (p.name == name) return &p.original;
  return nullptr;
}

Tensor Module::resolve(const Tensor& p) const {
  for (const auto& entry : parametrizations_)
    if (p.defined() && entry.original.is_same(p)) return entry.compute(*this);
  return p;
}

Tensor& Module::register_buffer(std::string name, Tensor t, bool persistent) {
  check_new_name(name, "buffer");
  if (!persistent) non_persistent_.push_back(name);
  buffers_.emplace_back(std::move(name), std::move(t));
  return buffers_.back().second;
}

void Module::add_child(std::string name, std::shared_ptr<Module> m) {
  check_new_name(name, "module");
  check(m != nullptr, fmt::format("{}.register_module", type_name()),
        "submodule '{}' is null, expected a module", name);
  children_.emplace_back(std::move(name), std::move(m));
}

// ---- traversal ------------------------------------------------------------------------

void Module::collect(Kind kind, const std::string& prefix, bool recurse,
                     std::vector<NamedTensor>& out,
                     std::unordered_set<const TensorImpl*>& seen) const {
  for (const auto& [name, t] : kind == Kind::Parameter ? params_ : buffers_) {
    if (!t.defined()) continue;
    if (!seen.insert(t.impl()).second) continue;
    out.emplace_back(prefix + name, t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->collect(kind, prefix + name + ".", true, out, seen);
  }
}

std::vector<NamedTensor> Module::named_parameters(bool recurse) const {
  std::vector<NamedTensor> out;
  std::unordered_set<const TensorImpl*> seen;
  collect(Kind::Parameter, "", recurse, out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(std::move(t));
  return out;
}

std::vector<NamedTensor> Module::named_buffers(bool recurse) const {
  std::vector<NamedTensor> out;
  std::unordered_set<const TensorImpl*> seen;
  collect(Kind::Buffer, "", recurse, out, seen);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers(recurse)) out.push_back(std::move(t));
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, m] : children_) out.push_back(m);
  return out;
}

void Module::collect_modules(const std::string& prefix, std::vector<NamedModule>& out) const {
  for (const auto& [name, child] : children_) {
    out.emplace_back(prefix + name, child);
    child->collect_modules(prefix + name + ".", out);
  }
}

std::vector<NamedModule> Module::named_modules() const {
  std::vector<NamedModule> out;
  collect_modules("", out);
  return out;
}

const Tensor* Module::find_parameter(const std::string& name) const {
  for (const auto& [n, t] : params_) {
    if (n == name) return &t;
  }
  return nullptr;
}

const Tensor* Module::find_buffer(const std::string& name) const {
  for (const auto& [n, t] : buffers_) {
    if (n == name) return &t;
  }
  return nullptr;
}

std::shared_ptr<Module> Module::find_child(const std::string& name) const {
  for (const auto& [n, m] : children_) {
    if (n == name) return m;
  }
  return nullptr;
}

// ---- modes and conversion ------------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::convert(const std::function<Tensor(const Tensor&)>& fn) {
  NoGradGuard no_grad;
  // Every tensor of the tree once (even when shared between modules), and its grad.
  std::vector<Tensor> targets;
  std::unordered_set<const TensorImpl*> seen;
  auto add = [&](const Tensor& t) {
    if (!seen.insert(t.impl()).second) return;
    targets.push_back(t);
    if (t.impl()->grad && seen.insert(t.impl()->grad.get()).second) {
      targets.emplace_back(t.impl()->grad);
      set_grad_known_finite(t, false);  // a conversion may overflow it
    }
  };
  for (const auto& [name, t] : named_parameters()) add(t);
  for (const auto& [name, t] : named_buffers()) add(t);
  for (const auto& [name, m] : named_modules())
    for (const auto& p : m->parametrizations_) add(p.original);
  for (const auto& p : parametrizations_) add(p.original);
  // All conversions first, then all swaps: a conversion that throws (a device that is
  // not available) leaves the module as it was.
  std::vector<Tensor> converted;
  converted.reserve(targets.size());
  for (const Tensor& t : targets) converted.push_back(fn(t));
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!converted[i].is_same(targets[i])) replace_data(*targets[i].impl(), converted[i]);
  }
}

Module& Module::to(DType dtype) {
  check(is_floating(dtype), fmt::format("{}.to", type_name()),
        "got dtype {}, expected a floating dtype (integer tensors are never converted)", dtype);
  convert([dtype](const Tensor& t) {
    return !is_floating(t.dtype()) || t.dtype() == dtype ? t : t.detach().to(dtype).contiguous();
  });
  return *this;
}

Module& Module::requires_grad_(bool on) {
  for (Tensor p : parameters()) {
    if (on && !is_floating(p.dtype())) continue;  // integer tables stay without grad
    p.requires_grad_(on);
  }
  return *this;
}

Module& Module::to(Device device) {
  convert([device](const Tensor& t) { return t.device() == device ? t : t.detach().to(device); });
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  for (const Tensor& p : parameters()) descent::zero_grad(p, set_to_none);
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
  return *this;
}

// ---- state ------------------------------------------------------------------------------

StateDict Module::state_dict() const {
  StateDict out;
  // Unlike parameters(), tied tensors appear under every name, as in PyTorch.
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m,
                                                                    const std::string& prefix) {
    for (const auto& [name, t] : m.params_) {
      if (t.defined()) out.tensors[prefix + name] = t.detach();
    }
    for (const auto& [name, t] : m.buffers_) {
      const bool persistent = std::find(m.non_persistent_.begin(), m.non_persistent_.end(), name) ==
                              m.non_persistent_.end();
      if (t.defined() && persistent) out.tensors[prefix + name] = t.detach();
    }
    for (const auto& [name, child] : m.children_) walk(*child, prefix + name + ".");
  };
  walk(*this, "");
  return out;
}

LoadStateDictResult Module::load_state_dict(const StateDict& dict, LoadOptions options) {
  const std::string op = fmt::format("{}.load_state_dict", type_name());
  // The destination of every key, tied tensors under each of their names.
  std::map<std::string, Tensor> own;
  for (auto& [name, t] : state_dict().tensors) own.emplace(name, t);

  LoadStateDictResult result;
  std::vector<std::string> mismatched, converted;
  for (const auto& [name, dst] : own) {
    auto it = dict.tensors.find(name);
    if (it == dict.tensors.end() || !it->second.defined()) {
      result.missing.push_back(name);
    } else if (it->second.shape() != dst.shape()) {
      mismatched.push_back(
          fmt::format("'{}' (got shape {}, expected {})", name, it->second.shape(), dst.shape()));
    } else if (it->second.dtype() != dst.dtype() && !options.convert_dtype) {
      converted.push_back(
          fmt::format("'{}' (got {}, expected {})", name, it->second.dtype(), dst.dtype()));
    }
  }
  for (const auto& [name, t] : dict.tensors) {
    if (!own.count(name)) result.unexpected.push_back(name);
  }

  std::vector<std::string> problems;
  const bool strict = options.strict;
  if (strict && !result.missing.empty()) problems.push_back("missing keys " + join(result.missing));
  if (strict && !result.unexpected.empty()) {
    problems.push_back("unexpected keys " + join(result.unexpected));
  }
  if (!mismatched.empty()) {
    std::string s = "shape mismatches ";
    for (size_t i = 0; i < mismatched.size(); ++i) s += (i ? ", " : "") + mismatched[i];
    problems.push_back(s);
  }
  if (!converted.empty()) {
    std::string s = "dtype mismatches ";
    for (size_t i = 0; i < converted.size(); ++i) s += (i ? ", " : "") + converted[i];
    problems.push_back(s + " (pass {.convert_dtype = true} to convert)");
  }
  if (!problems.empty()) {
    std::string msg;
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    fail(op, msg);
  }

  NoGradGuard no_grad;
  for (auto& [name, dst] : own) {
    auto it = dict.tensors.find(name);
    if (it == dict.tensors.end() || !it->second.defined()) continue;
    // The detached handle shares the module tensor's memory.
    dst.copy_(it->second);
  }
  return result;
}

// ---- forward ------------------------------------------------------------------------------

Tensor Module::forward(const Tensor&) {
  fail(type_name(),
       "forward(const Tensor&) is not implemented; override it in the module class, or call "
       "the module's own forward overload");
}

Tensor Module::operator()(const Tensor& input) {
  Tensor x = input;
  // Copies: a hook may register or remove hooks while running.
  auto pre = pre_hooks_;
  for (auto& [id, hook] : pre) {
    Tensor r = hook(*this, x);
    if (r.defined()) x = std::move(r);
  }
  Tensor y = forward(x);
  auto post = hooks_;
  for (auto& [id, hook] : post) {
    Tensor r = hook(*this, x, y);
    if (r.defined()) y = std::move(r);
  }
  return y;
}

HookHandle Module::register_forward_pre_hook(ForwardPreHook hook) {
  check(bool(hook), fmt::format("{}.register_forward_pre_hook", type_name()),
        "got an empty function, expected a hook");
  pre_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return {next_hook_id_++};
}

HookHandle Module::register_forward_hook(ForwardHook hook) {
  check(bool(hook), fmt::format("{}.register_forward_hook", type_name()),
        "got an empty function, expected a hook");
  hooks_.emplace_back(next_hook_id_, std::move(hook));
  return {next_hook_id_++};
}

bool Module::remove_hook(HookHandle handle) {
  auto drop = [&](auto& list) {
    auto it =
        std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.first == handle.id; });
    if (it == list.end()) return false;
    list.erase(it);
    return true;
  };
  return drop(pre_hooks_) || drop(hooks_);
}

// ---- printing -------------------------------------------------------------------------------

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  // "descent::nn::Linear" -> "Linear"; template arguments are kept whole.
  const size_t tmpl = name.find('<');
  const size_t colon = name.rfind("::", tmpl);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name;
}

std::string Module::repr() const {
  // PyTorch's layout: a leaf with a one-line extra_repr stays on one line; otherwise
  // the extra_repr and each "(name): child" go on their own lines, indented by two.
  const std::string extra = extra_repr();
  if (children_.empty() && extra.find('\n') == std::string::npos) {
    return type_name() + "(" + extra + ")";
  }
  auto indent = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      out += c;
      if (c == '\n') out += "  ";
    }
    return out;
  };
  std::string out = type_name() + "(\n";
  if (!extra.empty()) out += "  " + indent(extra) + "\n";
  for (const auto& [name, child] : children_) {
    out += "  (" + name + "): " + indent(child->repr()) + "\n";
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.repr(); }

}  // namespace descent::nn
