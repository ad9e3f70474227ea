// NaN and ±inf propagate as PyTorch propagates them (tests/oracle/gen_golden.py, family
// "nan"): an activation, clamp, reduction or loss that turned a NaN into a number would
// let a diverging run look healthy. Outputs and gradients are compared, NaN matching NaN.
#include "testing/golden_case.h"

using namespace descent;
using descent::testing::Case;
using descent::testing::run_family;

TEST(Golden, NanAndInfPropagate) {
  auto unary = [](Tensor (*op)(const Tensor&)) {
    return [op](Case& c) { return op(c.input("x")); };
  };
  auto over = [](Tensor (*op)(const Tensor&, const Shape&, bool)) {
    return [op](Case& c) { return op(c.input("x"), c.dims("dims"), c.flag("keepdim")); };
  };
  auto along = [](Tensor (*op)(const Tensor&, int64_t, bool)) {
    return [op](Case& c) { return op(c.input("x"), c.integer("dim"), c.flag("keepdim")); };
  };
  auto index_of = [](Tensor (*op)(const Tensor&, int64_t, bool)) {
    return [op](Case& c) { return op(c.input("x"), c.integer("dim"), false).to(DType::F32); };
  };
  auto softmax_like = [](Tensor (*op)(const Tensor&, int64_t)) {
    return [op](Case& c) { return op(c.input("x"), c.integer("dim")); };
  };
  Tensor (*all_max)(const Tensor&) = descent::max;
  Tensor (*all_min)(const Tensor&) = descent::min;
  Tensor (*dim_max)(const Tensor&, int64_t, bool) = descent::max;
  Tensor (*dim_min)(const Tensor&, int64_t, bool) = descent::min;
  Tensor (*dim_argmax)(const Tensor&, int64_t, bool) = descent::argmax;
  Tensor (*dim_argmin)(const Tensor&, int64_t, bool) = descent::argmin;
  run_family(
      "nan",
      {
          {"relu", unary(F::relu)},
          {"leaky_relu",
           [](Case& c) { return F::leaky_relu(c.input("x"), c.num("negative_slope")); }},
          {"elu", [](Case& c) { return F::elu(c.input("x"), c.num("alpha")); }},
          {"gelu", [](Case& c) { return F::gelu(c.input("x")); }},
          {"silu", unary(F::silu)},
          {"sigmoid", unary(F::sigmoid)},
          {"tanh", unary(F::tanh)},
          {"softplus", [](Case& c) { return F::softplus(c.input("x")); }},
          {"abs", unary(descent::abs)},
          {"clamp", [](Case& c) { return descent::clamp(c.input("x"), c.num("lo"), c.num("hi")); }},
          {"maximum", [](Case& c) { return descent::maximum(c.input("a"), c.input("b")); }},
          {"minimum", [](Case& c) { return descent::minimum(c.input("a"), c.input("b")); }},
          {"max_all", unary(all_max)},
          {"min_all", unary(all_min)},
          {"max_d1", along(dim_max)},
          {"min_d0", along(dim_min)},
          {"amax_d1", over(descent::amax)},
          {"amin_d1", over(descent::amin)},
          {"argmax_d1", index_of(dim_argmax)},
          {"argmin_d1", index_of(dim_argmin)},
          {"sum_d1", [](Case& c) { return descent::sum(c.input("x"), Shape{1}, false); }},
          {"softmax", softmax_like(F::softmax)},
          {"log_softmax", softmax_like(F::log_softmax)},
          {"logsumexp_d1", over(descent::logsumexp)},
          {"mse_loss", [](Case& c) { return F::mse_loss(c.input("input"), c.input("target")); }},
          {"cross_entropy",
           [](Case& c) { return F::cross_entropy(c.input("input"), c.input("target")); }},
      });
}
