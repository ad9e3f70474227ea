#include <descent/core/grad_mode.h>
#include <descent/nn/utils/weight_norm.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/norm.h>

namespace descent::F {

Tensor norm_except_dim(const Tensor& v, std::optional<int64_t> dim) {
  ops::check_defined(v, "norm_except_dim");
  if (!dim)
    return norm(v.reshape({v.numel()}), 2.0, Shape{0}, true).reshape(Shape::filled(v.dim(), 1));
  const int d = wrap_dim(*dim, v.dim(), "norm_except_dim");
  Shape others;
  for (int i = 0; i < v.dim(); ++i)
    if (i != d) others.push_back(i);
  if (others.empty()) return abs(v);
  return norm(v, 2.0, others, true);
}

Tensor weight_norm(const Tensor& v, const Tensor& g, std::optional<int64_t> dim) {
  ops::check_defined(v, "weight_norm", "v");
  ops::check_defined(g, "weight_norm", "g");
  return v * (g / norm_except_dim(v, dim));
}

}  // namespace descent::F

namespace descent::nn::utils {

namespace {

// Puts t under `name`: into the (absent) slot a former weight_norm left, or a new one.
void set_parameter(Module& m, const std::string& name, const Tensor& t) {
  if (m.find_parameter(name)) {
    m.replace_parameter(name, t);
  } else {
    m.register_parameter(name, t);
  }
}

std::string op_name(const Module& m) { return fmt::format("{}: weight_norm", m.type_name()); }

}  // namespace

Module& weight_norm(Module& module, const std::string& name, std::optional<int64_t> dim) {
  const std::string op = op_name(module);
  const Tensor* found = module.find_parameter(name);
  check(found && found->defined(), op, "has no parameter '{}'", name);
  check(!module.find_parametrization(name), op, "'{}' is weight-normalised already", name);
  const Tensor w = *found;
  if (dim) wrap_dim(*dim, w.dim(), op);
  Tensor g, v;
  {
    NoGradGuard no_grad;
    g = F::norm_except_dim(w, dim).contiguous();
    v = w.clone();
  }
  module.replace_parameter(name, Tensor());
  set_parameter(module, name + "_g", g);
  set_parameter(module, name + "_v", v);
  module.register_parametrization(name, w, [name, dim](const Module& m) {
    return F::weight_norm(*m.find_parameter(name + "_v"), *m.find_parameter(name + "_g"), dim);
  });
  return module;
}

Module& remove_weight_norm(Module& module, const std::string& name) {
  const std::string op = fmt::format("{}: remove_weight_norm", module.type_name());
  const Tensor* original = module.find_parametrization(name);
  check(original != nullptr, op, "'{}' is not weight-normalised", name);
  // The handle the module's forward reads is the original parameter: it takes w's
  // values and goes back into the slot, so every handle to it stays valid.
  const Tensor w = *original;
  {
    NoGradGuard no_grad;
    Tensor value = module.resolve(w);
    Tensor target = w;
    target.copy_(value);
  }
  module.remove_parametrization(name);
  module.replace_parameter(name + "_g", Tensor());
  module.replace_parameter(name + "_v", Tensor());
  module.replace_parameter(name, w);
  return module;
}

}  // namespace descent::nn::utils
