#pragma once
// Loss landscapes: the loss along a line between two parameter sets (Goodfellow et al.
// 2015) and on a plane around a point, spanned by filter-normalised random directions
// (Li et al. 2018) or by the top two principal directions of an optimizer's trajectory,
// with the trajectory projected onto that plane.
//
//   auto start = train::snapshot(model);   // before training ... and after:
//   auto end = train::snapshot(model);
//   model.eval();
//   auto eval = [&] { NoGradGuard g; return F::cross_entropy(model(x), y).item(); };
//   auto line = train::interpolate(model, start, end, eval, {.points = 25});
//   Generator gen(0);
//   auto dx = train::filter_normalized_direction(model, gen), dy = ...;
//   auto grid = train::surface(model, dx, dy, eval, {.steps = 21, .extent = 1.0});
//
// Directions are one tensor per parameter of model.parameters(), in that order. Every
// function puts the model's parameters back as it found them, also when `evaluate`
// throws. Evaluate with the model in eval mode so BatchNorm uses fixed statistics; a
// `before_eval` hook may recompute them at each point instead.
#include <descent/core/random.h>
#include <descent/core/tensor.h>
#include <descent/nn/module.h>
#include <descent/train/param_vector.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace descent::train {

// The loss (or any number) of the model as its parameters are now.
using EvaluateFn = std::function<double()>;

// A random direction with each filter rescaled to its weight's filter norm (a filter:
// one slice along dim 0 of a weight with at least 2 dims). Parameters with fewer dims
// (biases, BatchNorm's scale and shift) get a zero direction, as the paper does.
ParamVector filter_normalized_direction(const nn::Module& model, Generator& gen);

struct LinePoint {
  double alpha = 0;  // position: 0 at `from`, 1 at `to`
  double value = 0;
};
struct InterpolationOptions {
  int64_t points = 25;
  double start = 0, end = 1;               // the alpha range; beyond [0, 1] extrapolates
  std::function<void()> before_eval = {};  // e.g. recompute BatchNorm statistics
};
// value((1 - α)·from + α·to) for `points` α evenly spaced in [start, end]. `from` and
// `to` hold one tensor per parameter (e.g. snapshots of model.parameters()).
std::vector<LinePoint> interpolate(nn::Module& model, const ParamVector& from,
                                   const ParamVector& to, const EvaluateFn& evaluate,
                                   InterpolationOptions options = {});

struct SurfaceOptions {
  int64_t steps = 21;   // grid points per axis
  double extent = 1.0;  // coordinates run over [-extent, extent] on both axes
  std::function<void()> before_eval = {};
};
struct Surface {
  std::vector<double> xs, ys;  // the coordinates of the axes
  std::vector<double> values;  // row-major: values[i * xs.size() + j] at (xs[j], ys[i])
  // Writes x,y,value rows (one per grid point).
  void write_csv(const std::string& path) const;
};
// value(θ + x·dx + y·dy) over the grid, θ the model's current parameters.
Surface surface(nn::Module& model, const ParamVector& dx, const ParamVector& dy,
                const EvaluateFn& evaluate, SurfaceOptions options = {});

// The top two principal directions of a trajectory of parameter snapshots, taken
// relative to its last point (Li et al. §7), unit length, and each snapshot's
// coordinates along them.
struct TrajectoryPlane {
  ParamVector dx, dy;
  std::vector<double> explained;                // fraction of the variance along dx and dy
  std::vector<std::pair<double, double>> path;  // each snapshot's (x, y)
};
TrajectoryPlane trajectory_plane(const std::vector<ParamVector>& snapshots);

// A copy of the model's parameter values (detached clones), in parameters() order.
ParamVector snapshot(const nn::Module& model);

}  // namespace descent::train
