// Curvature (train/curvature.h): Hessian-vector products against finite differences of
// the gradient, and the eigenvalues, trace and spectral density of quadratic losses
// whose Hessian is known exactly.
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

// A symmetric n×n matrix Q·diag(λ)·Qᵀ with a random orthogonal Q (from symmetric_eigen of
// a random symmetric matrix), f64.
Tensor with_spectrum(const std::vector<double>& lambda, uint64_t seed) {
  const int64_t n = int64_t(lambda.size());
  Generator gen(seed);
  const Tensor r = randn({n, n}, {.dtype = DType::F64}, &gen);
  const std::vector<double> sym = (r + r.t()).contiguous().to_vector<double>();
  std::vector<double> values, q;
  train::symmetric_eigen(sym, n, values, q);
  const Tensor qt = from_vector(q, {n, n});
  return matmul(matmul(qt, diag(from_vector(lambda))), qt.t());
}

// L(θ) = ½ θᵀAθ + bᵀθ: its Hessian is A wherever θ is.
struct Quadratic {
  Tensor a, b, theta;
  Quadratic(const std::vector<double>& lambda, uint64_t seed) : a(with_spectrum(lambda, seed)) {
    const int64_t n = int64_t(lambda.size());
    Generator gen(seed + 1);
    b = randn({n}, {.dtype = DType::F64}, &gen);
    theta = randn({n}, {.dtype = DType::F64}, &gen).requires_grad_();
  }
  train::LossFn loss() const {
    return [this] { return 0.5 * sum(theta * matmul(a, theta)) + sum(b * theta); };
  }
};

}  // namespace

TEST(Curvature, SymmetricEigenDecomposes) {
  const std::vector<double> m = {4, 1, 0, 1, 3, 1, 0, 1, 2};
  std::vector<double> values, vectors;
  train::symmetric_eigen(m, 3, values, vectors);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end()));
  EXPECT_NEAR(values[0] + values[1] + values[2], 9.0, 1e-12);  // the trace
  // A v = λ v for every column.
  const Tensor a = from_vector(m, {3, 3}), v = from_vector(vectors, {3, 3});
  EXPECT_TRUE(all_close(matmul(a, v), v * from_vector(values), 1e-12, 1e-12));
}

TEST(Curvature, HessianVectorProductMatchesGradientDifferences) {
  // A small nonlinear model: tanh layer, then a squared loss; f64.
  Generator gen(1);
  const Tensor w1 = randn({4, 3}, {.dtype = DType::F64}, &gen).requires_grad_();
  const Tensor w2 = randn({1, 4}, {.dtype = DType::F64}, &gen).requires_grad_();
  const Tensor x = randn({5, 3}, {.dtype = DType::F64}, &gen);
  const Tensor y = randn({5, 1}, {.dtype = DType::F64}, &gen);
  auto loss = [&] { return F::mse_loss(matmul(tanh(matmul(x, w1.t())), w2.t()), y); };
  const std::vector<Tensor> params = {w1, w2};
  const train::ParamVector v = {randn({4, 3}, {.dtype = DType::F64}, &gen),
                                randn({1, 4}, {.dtype = DType::F64}, &gen)};
  const train::ParamVector hv = train::hessian_vector_product(loss, params, v);
  // (∇L(θ + εv) - ∇L(θ - εv)) / 2ε
  auto grad_at = [&](double eps) {
    NoGradGuard no_grad;
    const Tensor a = w1 + v[0] * eps, b = w2 + v[1] * eps;
    EnableGradGuard on;
    const Tensor la = a.detach().requires_grad_(), lb = b.detach().requires_grad_();
    const Tensor l = F::mse_loss(matmul(tanh(matmul(x, la.t())), lb.t()), y);
    return autograd::grad({l}, {la, lb});
  };
  const double eps = 1e-5;
  const auto gp = grad_at(eps), gm = grad_at(-eps);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(all_close(hv[i], (gp[i] - gm[i]) / (2 * eps), 1e-7, 1e-6)) << "part " << i;
  }
  EXPECT_FALSE(w1.grad().defined());  // .grad() untouched
}

TEST(Curvature, TopEigenvaluesOfAKnownSpectrum) {
  const Quadratic q({9.0, -6.0, 4.0, 1.0, 0.5, 0.25}, 3);
  const auto r = train::hessian_eigenvalues(q.loss(), {q.theta},
                                            {.k = 3, .max_iterations = 500, .tolerance = 1e-10});
  ASSERT_EQ(r.values.size(), 3u);
  // Largest magnitude first: 9, -6, 4.
  EXPECT_NEAR(r.values[0], 9.0, 1e-6);
  EXPECT_NEAR(r.values[1], -6.0, 1e-6);
  EXPECT_NEAR(r.values[2], 4.0, 1e-6);
  // Each vector is a unit eigenvector: A v = λ v.
  for (int k = 0; k < 3; ++k) {
    const Tensor v = r.vectors[size_t(k)][0];
    EXPECT_NEAR(sum(v * v).item(), 1.0, 1e-9);
    EXPECT_TRUE(all_close(matmul(q.a, v), v * r.values[size_t(k)], 1e-4, 1e-4)) << k;
  }
  EXPECT_NEAR(train::sharpness(q.loss(), {q.theta}, {.max_iterations = 500, .tolerance = 1e-10}),
              9.0, 1e-6);
}

TEST(Curvature, HutchinsonTraceAndLanczosDensity) {
  const std::vector<double> lambda = {5.0, 3.0, 2.0, -1.0, 0.5, 0.1};
  const Quadratic q(lambda, 4);
  // Rademacher probes: unbiased, variance 2·Σ_{i≠j} A_ij²; 4,000 samples bring the
  // standard error well under 0.1.
  const double tr = train::hessian_trace(q.loss(), {q.theta}, {.samples = 4000, .seed = 1});
  EXPECT_NEAR(tr, 9.6, 0.3);
  // As many Lanczos steps as dimensions: the Ritz values are the spectrum itself, and the
  // quadrature weights sum to 1.
  const auto d = train::hessian_spectral_density(q.loss(), {q.theta}, {.steps = 6, .runs = 2});
  ASSERT_EQ(d.nodes.size(), 2u);
  std::vector<double> want = lambda;
  std::sort(want.begin(), want.end());
  for (size_t run = 0; run < 2; ++run) {
    ASSERT_EQ(d.nodes[run].size(), 6u);
    double wsum = 0;
    for (size_t i = 0; i < 6; ++i) {
      EXPECT_NEAR(d.nodes[run][i], want[i], 1e-8) << "run " << run << " node " << i;
      wsum += d.weights[run][i];
    }
    EXPECT_NEAR(wsum, 1.0, 1e-10);
  }
  // The smoothed density integrates to 1 over a wide grid.
  std::vector<double> grid;
  for (double g = -5; g <= 10; g += 0.01) grid.push_back(g);
  const std::vector<double> rho = d.evaluate(grid, 0.1);
  double area = 0;
  for (double r : rho) area += r * 0.01;
  EXPECT_NEAR(area, 1.0, 1e-3);
}

TEST(Curvature, BadArgumentsAreErrors) {
  const Quadratic q({1.0, 2.0}, 5);
  EXPECT_THROW_MSG(
      train::hessian_vector_product(q.loss(), {q.theta}, {zeros({3}, {.dtype = DType::F64})}),
      "vector part 0 has shape [3], expected the parameter's [2]");
  EXPECT_THROW_MSG(train::hessian_eigenvalues(q.loss(), {q.theta}, {.k = 3}),
                   "k = 3, expected 1 to 2");
  EXPECT_THROW_MSG(train::hessian_trace(q.loss(), {q.theta.detach()}),
                   "parameter 0 does not require grad");
  EXPECT_THROW_MSG(train::hessian_vector_product([&] { return q.theta * 2.0; }, {q.theta},
                                                 {ones({2}, {.dtype = DType::F64})}),
                   "the loss must be a one-element tensor, got [2]");
}
