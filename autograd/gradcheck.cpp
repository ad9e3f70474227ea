// Finite-difference gradient checks (autograd/gradcheck.h).
#include <descent/autograd/engine.h>
#include <descent/autograd/gradcheck.h>
#include <descent/core/error.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/reduce.h>
#include <fmt/format.h>

#include <cmath>

namespace descent::autograd {

namespace {
double dot(const Tensor& a, const Tensor& b) {
  NoGradGuard ng;
  return (a.to(DType::F64) * b.to(DType::F64)).sum().item<double>();
}

// <f(inputs), v> as a scalar f64 tensor (differentiable).
Tensor projected(const GradcheckFn& f, const std::vector<Tensor>& inputs, const Tensor& v) {
  Tensor y = f(inputs);
  return (y.to(DType::F64) * v).sum();
}

std::string compare(const std::vector<Tensor>& inputs, const std::vector<Tensor>& analytic,
                    const std::function<double()>& eval, const GradcheckOptions& opt) {
  std::string worst;
  double worst_ratio = 1.0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    check(x.dtype() == DType::F64, "gradcheck", "input {} should be f64, got {}", k, x.dtype());
    Tensor xc = x;  // perturb in place through the data pointer (contiguous leaves)
    check(x.is_contiguous(), "gradcheck", "input {} must be contiguous", k);
    double* p = xc.data<double>();
    std::vector<double> ga = analytic[k].defined()
                                 ? analytic[k].to(DType::F64).contiguous().to_vector<double>()
                                 : std::vector<double>(size_t(x.numel()), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = p[i];
      p[i] = orig + opt.eps;
      const double fp = eval();
      p[i] = orig - opt.eps;
      const double fm = eval();
      p[i] = orig;
      const double num = (fp - fm) / (2 * opt.eps);
      const double err = std::abs(num - ga[size_t(i)]);
      const double ratio = err / (opt.atol + opt.rtol * std::abs(num));
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = fmt::format("input {} element {}: numerical {} vs analytical {}", k, i, num,
                            ga[size_t(i)]);
      }
    }
  }
  return worst;
}
}  // namespace

std::string gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                      GradcheckOptions opt) {
  Generator gen(opt.seed);
  Tensor y0;
  {
    NoGradGuard ng;
    y0 = f(inputs);
  }
  Tensor v = randn(y0.shape(), {.dtype = DType::F64}, &gen);
  std::vector<Tensor> wrt;
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad()) wrt.push_back(x);
  }
  Tensor L = projected(f, inputs, v);
  std::vector<Tensor> g = autograd::grad({L}, wrt, {}, false, false, true);
  std::vector<Tensor> analytic;
  size_t j = 0;
  for (const Tensor& x : inputs)
    analytic.push_back(x.defined() && x.requires_grad() ? g[j++] : Tensor());
  auto eval = [&] {
    NoGradGuard ng;
    return dot(f(inputs), v);
  };
  return compare(inputs, analytic, eval, opt);
}

std::string gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions opt) {
  Generator gen(opt.seed + 1);
  std::vector<Tensor> wrt;
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad()) wrt.push_back(x);
  }
  Tensor y0;
  {
    NoGradGuard ng;
    y0 = f(inputs);
  }
  Tensor v = randn(y0.shape(), {.dtype = DType::F64}, &gen);
  std::vector<Tensor> w;
  for (const Tensor& x : wrt) w.push_back(randn(x.shape(), {.dtype = DType::F64}, &gen));
  // h(inputs) = Σ_k <∂<f,v>/∂x_k, w_k>
  auto h = [&]() {
    Tensor L = projected(f, inputs, v);
    auto g = autograd::grad({L}, wrt, {}, true, true, true);
    Tensor s = zeros({}, {.dtype = DType::F64});
    for (size_t k = 0; k < g.size(); ++k) {
      if (g[k].defined()) s = s + (g[k] * w[k]).sum();
    }
    return s;
  };
  Tensor H = h();
  std::vector<Tensor> analytic_wrt = H.requires_grad()
                                         ? autograd::grad({H}, wrt, {}, false, false, true)
                                         : std::vector<Tensor>(wrt.size());
  std::vector<Tensor> analytic;
  size_t j = 0;
  for (const Tensor& x : inputs) {
    analytic.push_back(x.defined() && x.requires_grad() ? analytic_wrt[j++] : Tensor());
  }
  auto eval = [&] { return h().item<double>(); };
  return compare(inputs, analytic, eval, opt);
}

}  // namespace descent::autograd
