#pragma once
// Vectors in parameter space: one tensor per parameter, of its shape (a direction, a
// Hessian-vector product, a snapshot of the weights). Inner products accumulate in f64;
// nothing here records a graph.
#include <descent/core/tensor.h>

#include <string_view>
#include <vector>

namespace descent::train {

using ParamVector = std::vector<Tensor>;

// Σ_i <a_i, b_i>; a and b have the same layout.
double dot(const ParamVector& a, const ParamVector& b);
// a + alpha·b.
ParamVector axpy(const ParamVector& a, double alpha, const ParamVector& b);
ParamVector scaled(const ParamVector& a, double alpha);
// a / ‖a‖; throws for a zero vector.
ParamVector normalized(const ParamVector& a);
// Detached copies of the tensors' current values.
ParamVector clone_values(const std::vector<Tensor>& tensors);
// Throws naming `op` unless v has one defined part of each parameter's shape; `what`
// names v in the message ("vector", "dx", ...).
void check_layout(const std::vector<Tensor>& params, const ParamVector& v, std::string_view op,
                  std::string_view what);

}  // namespace descent::train
