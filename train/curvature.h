#pragma once
// The curvature of a loss around the current parameters, through Hessian-vector
// products (double backward): the top eigenvalues (power iteration with deflation), the
// trace (Hutchinson's estimator) and the eigenvalue density (stochastic Lanczos
// quadrature) — PyHessian's set (Yao et al. 2020) — and the sharpness, the top
// eigenvalue, as one call.
//
//   auto loss = [&] { return F::cross_entropy(model(x), y); };   // one fixed batch
//   double sharp = train::sharpness(loss, model.parameters());
//   auto top = train::hessian_eigenvalues(loss, model.parameters(), {.k = 3});
//   double tr = train::hessian_trace(loss, model.parameters(), {.samples = 100});
//
// The loss function must be deterministic (dropout off: model.eval() or no dropout) and
// is called once per Hessian-vector product with gradients enabled. Vectors are lists
// of tensors shaped like the parameters; inner products accumulate in f64. Parameters
// keep their values; their .grad() is left untouched.
#include <descent/core/random.h>
#include <descent/core/tensor.h>
#include <descent/train/param_vector.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace descent::train {

// Evaluates the loss (a one-element tensor) with the graph recorded.
using LossFn = std::function<Tensor()>;

// H·v, H the Hessian of the loss with respect to `params` (which require grad).
ParamVector hessian_vector_product(const LossFn& loss, const std::vector<Tensor>& params,
                                   const ParamVector& v);

struct EigenOptions {
  int64_t k = 1;                 // how many eigenvalues, largest magnitude first
  int64_t max_iterations = 100;  // per eigenvalue
  double tolerance = 1e-4;       // relative change of the estimate that ends an iteration
  uint64_t seed = 0;             // the random starting vectors
};
struct EigenResult {
  std::vector<double> values;        // largest |λ| first
  std::vector<ParamVector> vectors;  // unit eigenvectors
  std::vector<int64_t> iterations;   // power iterations each took
};
EigenResult hessian_eigenvalues(const LossFn& loss, const std::vector<Tensor>& params,
                                EigenOptions options = {});

// The largest-magnitude Hessian eigenvalue (the usual sharpness measure).
double sharpness(const LossFn& loss, const std::vector<Tensor>& params, EigenOptions options = {});

struct TraceOptions {
  int64_t samples = 100;  // at most this many Rademacher probes
  double tolerance = 0;   // stop early when the running mean changes by less (relative)
  uint64_t seed = 0;
};
// Hutchinson's estimate E[vᵀHv] over Rademacher v (entries ±1).
double hessian_trace(const LossFn& loss, const std::vector<Tensor>& params,
                     TraceOptions options = {});

struct DensityOptions {
  int64_t steps = 30;  // Lanczos steps per run (at most the parameter count)
  int64_t runs = 1;    // independent random starts, averaged
  uint64_t seed = 0;
};
// The eigenvalue density as Gaussian quadrature: per run, the Ritz values of the
// Lanczos tridiagonal matrix (nodes) and the squared first components of its
// eigenvectors (weights, summing to 1).
struct SpectralDensity {
  std::vector<std::vector<double>> nodes, weights;
  // The density on `grid`, each node smoothed by a Gaussian of width sigma, averaged
  // over the runs.
  std::vector<double> evaluate(const std::vector<double>& grid, double sigma) const;
};
SpectralDensity hessian_spectral_density(const LossFn& loss, const std::vector<Tensor>& params,
                                         DensityOptions options = {});

// The eigenvalues and unit eigenvectors (columns, row-major n×n) of a small symmetric
// matrix by cyclic Jacobi rotations; eigenvalues in ascending order. Used for the
// Lanczos matrix; exposed for tests.
void symmetric_eigen(std::vector<double> a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

}  // namespace descent::train
