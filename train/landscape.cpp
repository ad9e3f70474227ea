// Loss landscapes (landscape.h): the model's parameters are overwritten in place with
// each point's values (NoGradGuard, copy_) and put back at the end.
#include <descent/core/atomic_file.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/norm.h>
#include <descent/train/curvature.h>
#include <descent/train/landscape.h>

#include <algorithm>
#include <cmath>

namespace descent::train {

namespace {

void assign(const std::vector<Tensor>& params, const ParamVector& values) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.copy_(values[i]);
  }
}

// Runs `body` and puts the parameters back afterwards, also when it throws.
template <class F>
void with_restore(const std::vector<Tensor>& params, F&& body) {
  const ParamVector saved = clone_values(params);
  try {
    body();
  } catch (...) {
    assign(params, saved);
    throw;
  }
  assign(params, saved);
}

std::vector<double> evenly(double a, double b, int64_t n) {
  std::vector<double> out;
  for (int64_t k = 0; k < n; ++k)
    out.push_back(n == 1 ? a : a + (b - a) * double(k) / double(n - 1));
  return out;
}

}  // namespace

ParamVector snapshot(const nn::Module& model) { return clone_values(model.parameters()); }

ParamVector filter_normalized_direction(const nn::Module& model, Generator& gen) {
  NoGradGuard no_grad;
  ParamVector out;
  for (const Tensor& p : model.parameters()) {
    if (p.dim() < 2) {
      out.push_back(zeros_like(p));
      continue;
    }
    const int64_t filters = p.shape()[0];
    const Tensor d = randn(p.shape(), {.dtype = p.dtype(), .device = p.device()}, &gen);
    const Tensor w_rows = p.detach().reshape({filters, -1});
    const Tensor d_rows = d.reshape({filters, -1});
    // Each filter of d gets the norm of the same filter of the weight.
    const Tensor scale = norm(w_rows, 2, 1, true) / (norm(d_rows, 2, 1, true) + 1e-10);
    out.push_back((d_rows * scale).reshape(p.shape()));
  }
  return out;
}

std::vector<LinePoint> interpolate(nn::Module& model, const ParamVector& from,
                                   const ParamVector& to, const EvaluateFn& evaluate,
                                   InterpolationOptions o) {
  constexpr std::string_view op = "interpolate";
  const std::vector<Tensor> params = model.parameters();
  check_layout(params, from, op, "from");
  check_layout(params, to, op, "to");
  check(o.points >= 1, op, "points = {}, expected >= 1", o.points);
  std::vector<LinePoint> out;
  with_restore(params, [&] {
    const ParamVector delta = axpy(to, -1.0, from);
    for (double alpha : evenly(o.start, o.end, o.points)) {
      assign(params, axpy(from, alpha, delta));
      if (o.before_eval) o.before_eval();
      out.push_back({alpha, evaluate()});
    }
  });
  return out;
}

Surface surface(nn::Module& model, const ParamVector& dx, const ParamVector& dy,
                const EvaluateFn& evaluate, SurfaceOptions o) {
  constexpr std::string_view op = "surface";
  const std::vector<Tensor> params = model.parameters();
  check_layout(params, dx, op, "dx");
  check_layout(params, dy, op, "dy");
  check(o.steps >= 1, op, "steps = {}, expected >= 1", o.steps);
  check(o.extent > 0, op, "extent = {}, expected > 0", o.extent);
  Surface s;
  s.xs = s.ys = evenly(-o.extent, o.extent, o.steps);
  with_restore(params, [&] {
    const ParamVector center = snapshot(model);
    for (double y : s.ys) {
      const ParamVector row = axpy(center, y, dy);
      for (double x : s.xs) {
        assign(params, axpy(row, x, dx));
        if (o.before_eval) o.before_eval();
        s.values.push_back(evaluate());
      }
    }
  });
  return s;
}

void Surface::write_csv(const std::string& path) const {
  std::string text = "x,y,value\n";
  for (size_t i = 0; i < ys.size(); ++i) {
    for (size_t j = 0; j < xs.size(); ++j) {
      text += fmt::format("{},{},{}\n", xs[j], ys[i], values[i * xs.size() + j]);
    }
  }
  write_file_atomic(path, std::string_view(text));
}

TrajectoryPlane trajectory_plane(const std::vector<ParamVector>& snapshots) {
  constexpr std::string_view op = "trajectory_plane";
  const int64_t n = int64_t(snapshots.size());
  check(n >= 3, op, "{} snapshots, expected at least 3", n);
  for (const ParamVector& s : snapshots) {
    check(s.size() == snapshots[0].size(), op, "snapshots of {} and {} parts", s.size(),
          snapshots[0].size());
  }
  // Differences from the last point; their Gram matrix has the same nonzero spectrum as
  // the covariance in parameter space, at the size of the trajectory.
  std::vector<ParamVector> d;
  for (const ParamVector& s : snapshots) d.push_back(axpy(s, -1.0, snapshots.back()));
  std::vector<double> gram(size_t(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j)
      gram[size_t(i * n + j)] = gram[size_t(j * n + i)] = dot(d[size_t(i)], d[size_t(j)]);
  std::vector<double> values, vectors;
  symmetric_eigen(gram, n, values, vectors);  // ascending
  double total = 0;
  for (double v : values) total += std::max(v, 0.0);
  const double l1 = values[size_t(n - 1)], l2 = values[size_t(n - 2)];
  check(l2 > 1e-12 * std::max(l1, 1e-300), op,
        "the trajectory spans fewer than two directions (eigenvalues {} and {})", l1, l2);
  TrajectoryPlane plane;
  auto direction = [&](int64_t col, double lambda) {
    ParamVector u = scaled(d[0], vectors[size_t(col)]);
    for (int64_t i = 1; i < n; ++i) u = axpy(u, vectors[size_t(i * n + col)], d[size_t(i)]);
    return scaled(u, 1.0 / std::sqrt(lambda));
  };
  plane.dx = direction(n - 1, l1);
  plane.dy = direction(n - 2, l2);
  plane.explained = {l1 / total, l2 / total};
  for (const ParamVector& di : d) plane.path.emplace_back(dot(di, plane.dx), dot(di, plane.dy));
  return plane;
}

}  // namespace descent::train
