// Parameter-space vector arithmetic (param_vector.h).
#include <descent/core/grad_mode.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/reduce.h>
#include <descent/train/param_vector.h>

#include <cmath>

namespace descent::train {

double dot(const ParamVector& a, const ParamVector& b) {
  check(a.size() == b.size(), "dot", "vectors of {} and {} parts", a.size(), b.size());
  NoGradGuard no_grad;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += sum((a[i] * b[i]).to(DType::F64)).item();
  return s;
}

ParamVector axpy(const ParamVector& a, double alpha, const ParamVector& b) {
  check(a.size() == b.size(), "axpy", "vectors of {} and {} parts", a.size(), b.size());
  NoGradGuard no_grad;
  ParamVector out;
  for (size_t i = 0; i < a.size(); ++i) out.push_back(a[i] + b[i] * alpha);
  return out;
}

ParamVector scaled(const ParamVector& a, double alpha) {
  NoGradGuard no_grad;
  ParamVector out;
  for (const Tensor& t : a) out.push_back(t * alpha);
  return out;
}

ParamVector normalized(const ParamVector& a) {
  const double n = std::sqrt(dot(a, a));
  check(n > 0, "normalized", "a zero vector has no direction");
  return scaled(a, 1.0 / n);
}

ParamVector clone_values(const std::vector<Tensor>& tensors) {
  ParamVector out;
  for (const Tensor& t : tensors) out.push_back(t.detach().clone());
  return out;
}

void check_layout(const std::vector<Tensor>& params, const ParamVector& v, std::string_view op,
                  std::string_view what) {
  check(v.size() == params.size(), op, "{} has {} parts for {} parameters", what, v.size(),
        params.size());
  for (size_t i = 0; i < v.size(); ++i) {
    check(v[i].defined() && v[i].shape() == params[i].shape(), op,
          "{} part {} has shape {}, expected the parameter's {}", what, i,
          v[i].defined() ? v[i].shape() : Shape{}, params[i].shape());
  }
}

}  // namespace descent::train
