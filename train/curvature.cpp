// Hessian-vector products and the curvature estimates built on them (curvature.h).
#include <descent/autograd/engine.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/reduce.h>
#include <descent/train/curvature.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace descent::train {

namespace {

// a with its components along each of the (orthonormal) `basis` vectors removed.
ParamVector orthogonalized(ParamVector a, const std::vector<ParamVector>& basis) {
  for (const ParamVector& b : basis) a = axpy(a, -dot(a, b), b);
  return a;
}

// Random vectors from `gen`: normal entries, or Rademacher (±1).
ParamVector random_like(const std::vector<Tensor>& params, Generator& gen, bool rademacher) {
  NoGradGuard no_grad;
  ParamVector out;
  for (const Tensor& p : params) {
    const Tensor r = randn(p.shape(), {.dtype = p.dtype(), .device = p.device()}, &gen);
    out.push_back(rademacher ? where(r >= 0.0, ones_like(r), -ones_like(r)) : r);
  }
  return out;
}

void check_params(const std::vector<Tensor>& params, std::string_view op) {
  check(!params.empty(), op, "no parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    check(params[i].defined() && params[i].requires_grad(), op,
          "parameter {} does not require grad", i);
  }
}

int64_t count(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

}  // namespace

ParamVector hessian_vector_product(const LossFn& loss, const std::vector<Tensor>& params,
                                   const ParamVector& v) {
  constexpr std::string_view op = "hessian_vector_product";
  check_params(params, op);
  check_layout(params, v, op, "vector");
  EnableGradGuard grad_on;
  const Tensor l = loss();
  check(l.defined() && l.numel() == 1, op, "the loss must be a one-element tensor, got {}",
        l.defined() ? l.shape() : Shape{});
  // ∇L with its graph, then ∇(∇L · v) = H v.
  const std::vector<Tensor> g = autograd::grad({l}, params, {}, true, true, false);
  Tensor gv = sum(g[0] * v[0].detach());
  for (size_t i = 1; i < g.size(); ++i) gv = gv + sum(g[i] * v[i].detach());
  std::vector<Tensor> hv = autograd::grad({gv}, params, {}, false, false, true);
  for (size_t i = 0; i < hv.size(); ++i) {
    if (!hv[i].defined()) hv[i] = zeros_like(params[i]);  // the loss is linear in it
    hv[i] = hv[i].detach();
  }
  return hv;
}

EigenResult hessian_eigenvalues(const LossFn& loss, const std::vector<Tensor>& params,
                                EigenOptions o) {
  constexpr std::string_view op = "hessian_eigenvalues";
  check_params(params, op);
  check(o.k >= 1 && o.k <= count(params), op, "k = {}, expected 1 to {} (the parameter count)", o.k,
        count(params));
  check(o.max_iterations >= 1, op, "max_iterations = {}, expected >= 1", o.max_iterations);
  Generator gen(o.seed);
  EigenResult r;
  for (int64_t k = 0; k < o.k; ++k) {
    // Power iteration in the complement of the eigenvectors found so far (deflation).
    ParamVector v = normalized(orthogonalized(random_like(params, gen, false), r.vectors));
    double value = 0;
    int64_t it = 0;
    while (it < o.max_iterations) {
      ++it;
      const ParamVector hv = orthogonalized(hessian_vector_product(loss, params, v), r.vectors);
      const double next = dot(hv, v);  // the Rayleigh quotient
      const double norm = std::sqrt(dot(hv, hv));
      if (norm == 0) {  // v is in the null space: the eigenvalue is 0
        value = 0;
        break;
      }
      v = scaled(hv, 1.0 / norm);
      const bool converged =
          it > 1 && std::abs(next - value) <= o.tolerance * (std::abs(value) + 1e-12);
      value = next;
      if (converged) break;
    }
    r.values.push_back(value);
    r.vectors.push_back(v);
    r.iterations.push_back(it);
  }
  return r;
}

double sharpness(const LossFn& loss, const std::vector<Tensor>& params, EigenOptions o) {
  o.k = 1;
  return hessian_eigenvalues(loss, params, o).values[0];
}

double hessian_trace(const LossFn& loss, const std::vector<Tensor>& params, TraceOptions o) {
  constexpr std::string_view op = "hessian_trace";
  check_params(params, op);
  check(o.samples >= 1, op, "samples = {}, expected >= 1", o.samples);
  Generator gen(o.seed);
  double mean = 0;
  for (int64_t s = 1; s <= o.samples; ++s) {
    const ParamVector v = random_like(params, gen, true);
    const double sample = dot(hessian_vector_product(loss, params, v), v);
    const double next = mean + (sample - mean) / double(s);
    const bool settled =
        o.tolerance > 0 && s > 1 && std::abs(next - mean) <= o.tolerance * (std::abs(mean) + 1e-12);
    mean = next;
    if (settled) break;
  }
  return mean;
}

SpectralDensity hessian_spectral_density(const LossFn& loss, const std::vector<Tensor>& params,
                                         DensityOptions o) {
  constexpr std::string_view op = "hessian_spectral_density";
  check_params(params, op);
  check(o.steps >= 1 && o.steps <= count(params), op,
        "steps = {}, expected 1 to {} (the parameter count)", o.steps, count(params));
  check(o.runs >= 1, op, "runs = {}, expected >= 1", o.runs);
  Generator gen(o.seed);
  SpectralDensity d;
  for (int64_t run = 0; run < o.runs; ++run) {
    // Lanczos with full reorthogonalisation (the basis is small; it keeps the Ritz
    // values free of spurious copies).
    std::vector<ParamVector> basis{normalized(random_like(params, gen, true))};
    std::vector<double> alpha, beta;
    for (int64_t j = 0; j < o.steps; ++j) {
      ParamVector w = hessian_vector_product(loss, params, basis[j]);
      alpha.push_back(dot(w, basis[j]));
      w = orthogonalized(w, basis);
      if (j + 1 == o.steps) break;
      const double b = std::sqrt(dot(w, w));
      if (b < 1e-10) break;  // an invariant subspace: the spectrum seen so far is exact
      beta.push_back(b);
      basis.push_back(scaled(w, 1.0 / b));
    }
    const int64_t m = int64_t(alpha.size());
    std::vector<double> t(size_t(m * m), 0.0), values, vectors;
    for (int64_t i = 0; i < m; ++i) {
      t[size_t(i * m + i)] = alpha[size_t(i)];
      if (i + 1 < m) t[size_t(i * m + i + 1)] = t[size_t((i + 1) * m + i)] = beta[size_t(i)];
    }
    symmetric_eigen(t, m, values, vectors);
    std::vector<double> w(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) w[size_t(i)] = vectors[size_t(i)] * vectors[size_t(i)];
    d.nodes.push_back(values);
    d.weights.push_back(w);
  }
  return d;
}

std::vector<double> SpectralDensity::evaluate(const std::vector<double>& grid, double sigma) const {
  check(sigma > 0, "SpectralDensity::evaluate", "sigma = {}, expected > 0", sigma);
  std::vector<double> out(grid.size(), 0.0);
  const double norm = 1.0 / (sigma * std::sqrt(2 * std::numbers::pi) * double(nodes.size()));
  for (size_t r = 0; r < nodes.size(); ++r) {
    for (size_t i = 0; i < nodes[r].size(); ++i) {
      for (size_t g = 0; g < grid.size(); ++g) {
        const double z = (grid[g] - nodes[r][i]) / sigma;
        out[g] += weights[r][i] * std::exp(-0.5 * z * z) * norm;
      }
    }
  }
  return out;
}

void symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors) {
  check(n >= 0 && int64_t(a.size()) == n * n, "symmetric_eigen", "{} entries for n = {}", a.size(),
        n);
  auto at = [n](std::vector<double>& m, int64_t i, int64_t j) -> double& {
    return m[size_t(i * n + j)];
  };
  std::vector<double> v(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) at(v, i, i) = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) off += at(a, i, j) * at(a, i, j);
    if (off < 1e-30) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = at(a, p, q);
        if (std::abs(apq) < 1e-300) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, symmetric Schur).
        const double tau = (at(a, q, q) - at(a, p, p)) / (2 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::abs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // a ← a·J
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {  // a ← Jᵀ·a
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {  // v ← v·J
          const double vkp = at(v, k, p), vkq = at(v, k, q);
          at(v, k, p) = c * vkp - s * vkq;
          at(v, k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  // Ascending eigenvalues, with their columns.
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  std::sort(order.begin(), order.end(),
            [&](int64_t x, int64_t y) { return at(a, x, x) < at(a, y, y); });
  values.assign(size_t(n), 0.0);
  vectors.assign(size_t(n * n), 0.0);
  for (int64_t c = 0; c < n; ++c) {
    values[size_t(c)] = at(a, order[size_t(c)], order[size_t(c)]);
    for (int64_t r = 0; r < n; ++r) vectors[size_t(r * n + c)] = at(v, r, order[size_t(c)]);
  }
}

}  // namespace descent::train
