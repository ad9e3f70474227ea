// Loss landscapes (train/landscape.h): filter normalisation per filter, interpolation
// endpoints equal the two models' losses, a surface's centre is the current loss and its
// axes follow the directions, the trajectory plane recovers a planar path, and the
// parameters are put back afterwards (also when the evaluation throws).
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

struct Fixture {
  Generator gen{7};
  nn::Sequential model{nn::Linear(3, 4, {.generator = &gen}), nn::Tanh(),
                       nn::Linear(4, 2, {.generator = &gen})};
  Tensor x = randn({16, 3}, {}, &gen);
  Tensor y = randint(0, 2, {16}, {.dtype = DType::I64}, &gen);
  double loss() {
    NoGradGuard no_grad;
    return F::cross_entropy(model(x), y).item();
  }
};

}  // namespace

TEST(Landscape, FilterNormalizedDirectionMatchesEachFilterNorm) {
  Fixture f;
  Generator gen(1);
  const train::ParamVector d = train::filter_normalized_direction(f.model, gen);
  const std::vector<Tensor> params = f.model.parameters();
  ASSERT_EQ(d.size(), params.size());
  for (size_t i = 0; i < d.size(); ++i) {
    ASSERT_EQ(d[i].shape(), params[i].shape());
    if (params[i].dim() < 2) {
      EXPECT_EQ(abs(d[i]).sum().item(), 0.0) << "bias " << i;  // biases excluded
      continue;
    }
    // Row r of the direction has the norm of row r of the weight.
    EXPECT_TRUE(all_close(norm(d[i], 2, 1), norm(params[i].detach(), 2, 1), 1e-5, 1e-5)) << i;
  }
  // Another draw is another direction.
  const train::ParamVector d2 = train::filter_normalized_direction(f.model, gen);
  EXPECT_GT(abs(d2[0] - d[0]).sum().item(), 0.1);
}

TEST(Landscape, InterpolationEndpointsAreTheTwoModelsLosses) {
  Fixture f;
  const train::ParamVector start = train::snapshot(f.model);
  const double loss_start = f.loss();
  optim::SGD opt(f.model.parameters(), {.lr = 0.5});
  for (int i = 0; i < 30; ++i) {
    opt.zero_grad();
    F::cross_entropy(f.model(f.x), f.y).backward();
    opt.step();
  }
  const train::ParamVector end = train::snapshot(f.model);
  const double loss_end = f.loss();
  ASSERT_LT(loss_end, loss_start);
  const auto line = train::interpolate(f.model, start, end, [&] { return f.loss(); },
                                       {.points = 11, .start = -0.5, .end = 1.5});
  ASSERT_EQ(line.size(), 11u);
  EXPECT_DOUBLE_EQ(line[0].alpha, -0.5);
  EXPECT_NEAR(line[2].alpha, -0.1, 1e-12);
  // α = 0 and α = 1 are points 2.5 and 7.5 of the 11: check the values there directly.
  const auto ends =
      train::interpolate(f.model, start, end, [&] { return f.loss(); }, {.points = 2});
  EXPECT_NEAR(ends[0].value, loss_start, 1e-6);
  EXPECT_NEAR(ends[1].value, loss_end, 1e-6);
  // The model is put back where it was (the trained end).
  EXPECT_NEAR(f.loss(), loss_end, 1e-7);
}

TEST(Landscape, SurfaceCentreAxesAndRestore) {
  Fixture f;
  Generator gen(2);
  const auto dx = train::filter_normalized_direction(f.model, gen);
  const auto dy = train::filter_normalized_direction(f.model, gen);
  const double centre = f.loss();
  const train::Surface s =
      train::surface(f.model, dx, dy, [&] { return f.loss(); }, {.steps = 5, .extent = 0.5});
  ASSERT_EQ(s.values.size(), 25u);
  EXPECT_EQ(s.xs, (std::vector<double>{-0.5, -0.25, 0, 0.25, 0.5}));
  EXPECT_NEAR(s.values[2 * 5 + 2], centre, 1e-6);  // (0, 0)
  // The point (x = 0.5, y = 0) is θ + 0.5·dx.
  const train::ParamVector theta = train::snapshot(f.model);
  {
    Fixture g;  // same architecture; load θ + 0.5·dx
    NoGradGuard no_grad;
    const auto moved = train::axpy(theta, 0.5, dx);
    const auto ps = g.model.parameters();
    for (size_t i = 0; i < ps.size(); ++i) {
      Tensor p = ps[i];
      p.copy_(moved[i]);
    }
    g.x = f.x;
    g.y = f.y;
    EXPECT_NEAR(s.values[2 * 5 + 4], g.loss(), 1e-6);
  }
  EXPECT_NEAR(f.loss(), centre, 1e-7);
  // An evaluation that throws leaves the parameters as they were.
  int calls = 0;
  EXPECT_THROW(train::surface(f.model, dx, dy,
                              [&]() -> double {
                                if (++calls == 3) throw std::runtime_error("stop");
                                return 0;
                              }),
               std::runtime_error);
  EXPECT_NEAR(f.loss(), centre, 1e-7);
  const std::string path =
      (std::filesystem::temp_directory_path() / "descent_surface.csv").string();
  s.write_csv(path);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "x,y,value");
}

TEST(Landscape, TrajectoryPlaneRecoversAPlanarPath) {
  // Snapshots θ_t = θ_end + a_t·u + b_t·v for orthonormal u, v: the plane is span(u, v),
  // all the variance is in it, and the path's coordinates reproduce (a_t, b_t) up to a
  // rotation (distances from the end are preserved).
  const Tensor u = from_vector<double>({1, 0, 0, 0}), v = from_vector<double>({0, 0.6, 0.8, 0});
  const Tensor end = from_vector<double>({0.3, -1, 2, 0.5});
  std::vector<train::ParamVector> snaps;
  const std::vector<std::pair<double, double>> ab = {{3, 1}, {2, -1}, {1, 0.5}, {0.5, 0.2}, {0, 0}};
  for (auto [a, b] : ab) snaps.push_back({end + u * a + v * b});
  const train::TrajectoryPlane p = train::trajectory_plane(snaps);
  EXPECT_NEAR(p.explained[0] + p.explained[1], 1.0, 1e-12);
  EXPECT_GE(p.explained[0], p.explained[1]);
  EXPECT_NEAR(train::dot(p.dx, p.dx), 1.0, 1e-12);
  EXPECT_NEAR(train::dot(p.dx, p.dy), 0.0, 1e-12);
  for (size_t t = 0; t < ab.size(); ++t) {
    const double r_want = std::hypot(ab[t].first, ab[t].second);
    EXPECT_NEAR(std::hypot(p.path[t].first, p.path[t].second), r_want, 1e-10) << t;
  }
  EXPECT_THROW_MSG(train::trajectory_plane({snaps[0], snaps[1]}),
                   "2 snapshots, expected at least 3");
  std::vector<train::ParamVector> line = {{end + u}, {end + u * 2.0}, {end}};
  EXPECT_THROW_MSG(train::trajectory_plane(line), "fewer than two directions");
}
