// lr_range_test on a small least-squares problem: the curve's shape, a suggestion
// below the stability limit of gradient descent, divergence and non-finite stops,
// exact restoration (values, gradients, optimizer state, lrs, extra tensors), the CSV
// file, the lr schedules, smoothing and argument errors.
#include <descent/train/lr_range_test.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/gradcheck.h"
#include "testing/toy_sgd.h"

using namespace descent;
using namespace descent::optim;
using namespace descent::train;
using descent::testing::ToySgd;

namespace {

// y = X w* + noise with X (64, 3); the model is w (3) and b (1): mse(X w + b, y).
struct Regression {
  Tensor x, y, w, b;
  Regression() {
    Generator gen(11);
    x = randn({64, 3}, {.dtype = DType::F64}, &gen);
    const Tensor w_true = from_vector<double>({1.5, -2.0, 0.5});
    y = matmul(x, w_true) + 0.3 + 0.01 * randn({64}, {.dtype = DType::F64}, &gen);
    w = zeros({3}, {.dtype = DType::F64, .requires_grad = true});
    b = zeros({1}, {.dtype = DType::F64, .requires_grad = true});
  }
  double loss_and_backward() const {
    Tensor loss = F::mse_loss(matmul(x, w) + b, y);
    loss.backward();
    return loss.item<double>();
  }
  // Plain gradient descent diverges above 2 / λmax of the loss Hessian, here
  // H = (2/n) [X 1]ᵀ[X 1]; λmax by power iteration.
  double critical_lr() const {
    const auto xv = x.to_vector<double>();
    const int n = 64, d = 4;
    std::vector<double> h(d * d, 0.0);
    for (int r = 0; r < n; ++r) {
      const double row[4] = {xv[r * 3], xv[r * 3 + 1], xv[r * 3 + 2], 1.0};
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) h[i * d + j] += 2.0 / n * row[i] * row[j];
    }
    std::vector<double> v(d, 1.0);
    double lambda = 0;
    for (int it = 0; it < 500; ++it) {
      std::vector<double> hv(d, 0.0);
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) hv[i] += h[i * d + j] * v[j];
      lambda = std::sqrt(hv[0] * hv[0] + hv[1] * hv[1] + hv[2] * hv[2] + hv[3] * hv[3]);
      for (int i = 0; i < d; ++i) v[i] = hv[i] / lambda;
    }
    return 2.0 / lambda;
  }
};

ToySgd sgd(const Regression& m, double momentum = 0.0) {
  return ToySgd({{.params = {m.w}, .lr = 0.01, .momentum = momentum},
                 {.params = {m.b}, .lr = 0.02, .momentum = momentum}});
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "_" + std::to_string(::getpid()) + ".csv"))
      .string();
}

}  // namespace

TEST(LrRangeTest, CurveShapeAndSuggestion) {
  Regression m;
  ToySgd opt = sgd(m);
  const double crit = m.critical_lr();
  const LrRangeResult r =
      lr_range_test(opt, [&] { return m.loss_and_backward(); }, {.start_lr = 1e-6, .end_lr = 10});
  const size_t n = r.lrs.size();
  ASSERT_GT(n, 20u);
  EXPECT_TRUE(r.diverged);
  EXPECT_LT(n, 100u);
  EXPECT_EQ(r.losses.size(), n);
  EXPECT_EQ(r.smoothed_losses.size(), n);
  // Geometric lrs from start_lr.
  EXPECT_DOUBLE_EQ(r.lrs[0], 1e-6);
  EXPECT_NEAR(r.lrs[1] / r.lrs[0], std::pow(1e7, 1.0 / 99), 1e-12);
  // Flat while the lr is tiny, then a clear descent, then the blow-up above the limit.
  const double initial = r.losses[0];
  EXPECT_LT(std::abs(r.losses[10] - initial) / initial, 1e-2);
  // The smoothed curve lags the raw one, so it dips less deep.
  EXPECT_LT(*std::min_element(r.losses.begin(), r.losses.end()), 0.05 * initial);
  EXPECT_LT(r.best_loss, 0.5 * initial);
  EXPECT_GT(r.lrs.back(), 0.5 * crit);
  EXPECT_GT(r.smoothed_losses.back(), 4 * r.best_loss);
  // The suggestion sits on the descent, below the stability limit of gradient descent.
  ASSERT_TRUE(r.suggested_lr.has_value());
  EXPECT_EQ(*r.suggested_lr, r.lrs[*r.suggested_index]);
  EXPECT_LT(*r.suggested_lr, crit);
  EXPECT_GT(*r.suggested_lr, 1e-3 * crit);
  std::printf(
      "lr range test: %zu steps, critical lr %.4g, suggested %.4g, best loss %.4g of %.4g\n", n,
      crit, *r.suggested_lr, r.best_loss, initial);
}

TEST(LrRangeTest, RestoresEverythingExactly) {
  Regression m;
  ToySgd opt = sgd(m, 0.9);
  for (int i = 0; i < 2; ++i) {  // momentum buffers and gradients exist
    opt.zero_grad();
    m.loss_and_backward();
    opt.step();
  }
  Tensor running = from_vector<double>({0.0, 1.0});  // stands in for BatchNorm stats
  const auto w0 = m.w.to_vector<double>(), b0 = m.b.to_vector<double>();
  const auto gw0 = m.w.grad().to_vector<double>();
  const Tensor w_handle = m.w;
  const StateDict state0 = opt.state_dict();

  // A twin that never ran the test, to compare the next step with.
  Regression twin;
  {
    NoGradGuard g;
    twin.w.copy_(m.w);
    twin.b.copy_(m.b);
  }
  ToySgd twin_opt = sgd(twin, 0.9);
  twin_opt.load_state_dict(state0);

  const LrRangeResult r =
      lr_range_test(opt,
                    [&] {
                      {
                        NoGradGuard g;
                        add_(running, ones({2}, {.dtype = DType::F64}));
                      }
                      return m.loss_and_backward();
                    },
                    {.start_lr = 1e-4, .end_lr = 1.0, .num_steps = 30, .extra_state = {running}});
  EXPECT_EQ(r.lrs.size(), 30u);
  EXPECT_NE(r.losses.back(), r.losses.front());  // the parameters did move meanwhile

  EXPECT_EQ(m.w.to_vector<double>(), w0);
  EXPECT_EQ(m.b.to_vector<double>(), b0);
  EXPECT_TRUE(w_handle.is_same(m.w));
  EXPECT_EQ(m.w.grad().to_vector<double>(), gw0);
  EXPECT_EQ(running.to_vector<double>(), (std::vector<double>{0.0, 1.0}));
  EXPECT_EQ(opt.lr(0), 0.01);
  EXPECT_EQ(opt.lr(1), 0.02);
  const StateDict state1 = opt.state_dict();
  ASSERT_EQ(state1.tensors.size(), state0.tensors.size());
  for (const auto& [k, v] : state0.tensors) {
    EXPECT_EQ(state1.tensors.at(k).to_vector<double>(), v.to_vector<double>()) << k;
  }
  EXPECT_EQ(state1.numbers, state0.numbers);

  // Training continues exactly as if the test had not run.
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    twin_opt.zero_grad();
    m.loss_and_backward();
    twin.loss_and_backward();
    opt.step();
    twin_opt.step();
  }
  EXPECT_EQ(m.w.to_vector<double>(), twin.w.to_vector<double>());
  EXPECT_EQ(m.b.to_vector<double>(), twin.b.to_vector<double>());
}

TEST(LrRangeTest, WithoutRestoreTheParametersMove) {
  Regression m;
  ToySgd opt = sgd(m);
  lr_range_test(opt, [&] { return m.loss_and_backward(); },
                {.start_lr = 1e-3, .end_lr = 0.1, .num_steps = 10, .restore = false});
  EXPECT_NE(m.w.to_vector<double>(), (std::vector<double>{0, 0, 0}));
  EXPECT_NEAR(opt.lr(0), 0.1, 1e-15);  // left at the last lr
}

TEST(LrRangeTest, NoDivergenceRunsAllSteps) {
  Regression m;
  ToySgd opt = sgd(m);
  const LrRangeResult r = lr_range_test(opt, [&] { return m.loss_and_backward(); },
                                        {.start_lr = 1e-5, .end_lr = 1e-2, .num_steps = 40});
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.lrs.size(), 40u);
  EXPECT_NEAR(r.lrs.back(), 1e-2, 1e-15);
  EXPECT_TRUE(r.suggested_lr.has_value());
}

TEST(LrRangeTest, DivergenceThresholdStopsAtTheFirstCrossing) {
  Regression m;
  ToySgd opt = sgd(m);
  const LrRangeResult r =
      lr_range_test(opt, [&] { return m.loss_and_backward(); },
                    {.start_lr = 1e-3, .end_lr = 100, .num_steps = 60, .divergence = 1.5});
  ASSERT_TRUE(r.diverged);
  const size_t n = r.lrs.size();
  double best = r.smoothed_losses[0];
  for (size_t i = 0; i + 1 < n; ++i) {
    best = std::min(best, r.smoothed_losses[i]);
    EXPECT_LE(r.smoothed_losses[i], 1.5 * best) << i;
  }
  EXPECT_GT(r.smoothed_losses.back(), 1.5 * r.best_loss);
  // The blow-up point is not suggested.
  ASSERT_TRUE(r.suggested_index.has_value());
  EXPECT_LT(*r.suggested_index, n - 1);
}

TEST(LrRangeTest, NonFiniteLossStops) {
  Regression m;
  ToySgd opt = sgd(m);
  int calls = 0;
  const LrRangeResult r = lr_range_test(opt,
                                        [&] {
                                          m.loss_and_backward();
                                          return ++calls == 4 ? std::nan("") : 1.0;
                                        },
                                        {.num_steps = 50});
  EXPECT_TRUE(r.diverged);
  EXPECT_EQ(r.lrs.size(), 4u);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(r.suggested_index, std::optional<size_t>(0));  // flat curve: the first point
}

TEST(LrRangeTest, LinearModeAndSmoothing) {
  Regression m;
  ToySgd opt = sgd(m);
  const std::vector<double> fake = {4.0, 2.0, 3.0, 1.0, 1.5};
  size_t i = 0;
  const auto closure = [&] {
    m.loss_and_backward();
    return fake[i++ % fake.size()];
  };
  const LrRangeResult r = lr_range_test(opt, closure,
                                        {.start_lr = 0.1,
                                         .end_lr = 0.5,
                                         .num_steps = 5,
                                         .mode = LrRangeMode::Linear,
                                         .smoothing = 0.5,
                                         .divergence = 100});
  ASSERT_EQ(r.lrs.size(), 5u);
  for (size_t k = 0; k < 5; ++k) EXPECT_NEAR(r.lrs[k], 0.1 + 0.1 * double(k), 1e-15);
  EXPECT_EQ(r.losses, fake);
  // Bias-corrected EMA with beta 0.5: avg_k = 0.5 avg_{k-1} + 0.5 loss_k; / (1 - 0.5^(k+1)).
  double avg = 0;
  for (size_t k = 0; k < 5; ++k) {
    avg = 0.5 * avg + 0.5 * fake[k];
    EXPECT_DOUBLE_EQ(r.smoothed_losses[k], avg / (1 - std::pow(0.5, double(k + 1)))) << k;
  }
  EXPECT_DOUBLE_EQ(r.smoothed_losses[0], 4.0);  // the first point is the raw loss
  i = 0;
  const LrRangeResult raw =
      lr_range_test(opt, closure, {.num_steps = 5, .smoothing = 0, .divergence = 100});
  EXPECT_EQ(raw.smoothed_losses, fake);
}

TEST(LrRangeTest, WritesTheCurveToCsv) {
  Regression m;
  ToySgd opt = sgd(m);
  const std::string path = temp_path("descent_lr_range");
  const LrRangeResult r =
      lr_range_test(opt, [&] { return m.loss_and_backward(); },
                    {.start_lr = 1e-4, .end_lr = 1.0, .num_steps = 25, .csv_path = path});
  std::ifstream in(path);
  ASSERT_TRUE(in.good());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "step,lr,loss,smoothed_loss");
  size_t rows = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string f[4];
    for (auto& s : f) std::getline(ss, s, ',');
    EXPECT_EQ(std::stoul(f[0]), rows);
    EXPECT_EQ(std::stod(f[1]), r.lrs[rows]);  // %.17g round-trips exactly
    EXPECT_EQ(std::stod(f[2]), r.losses[rows]);
    EXPECT_EQ(std::stod(f[3]), r.smoothed_losses[rows]);
    ++rows;
  }
  EXPECT_EQ(rows, r.lrs.size());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
  EXPECT_THROW_MSG(lr_range_test(opt, [&] { return m.loss_and_backward(); },
                                 {.num_steps = 3, .csv_path = "/nonexistent_dir/x.csv"}),
                   "lr_range_test: cannot write /nonexistent_dir/x.csv.tmp");
}

TEST(LrRangeTest, ClosureErrorRestoresAndRethrows) {
  Regression m;
  ToySgd opt = sgd(m);
  int calls = 0;
  EXPECT_THROW_MSG(lr_range_test(opt,
                                 [&] {
                                   if (++calls == 5) fail("my_closure", "boom");
                                   return m.loss_and_backward();
                                 }),
                   "my_closure: boom");
  EXPECT_EQ(m.w.to_vector<double>(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(opt.lr(0), 0.01);
  EXPECT_FALSE(m.w.grad().defined());  // no gradient before the test, none after
}

TEST(LrRangeTest, OptionErrors) {
  Regression m;
  ToySgd opt = sgd(m);
  const auto f = [&] { return m.loss_and_backward(); };
  EXPECT_THROW_MSG(lr_range_test(opt, f, {.start_lr = 0}),
                   "lr_range_test: start_lr must be positive, got 0");
  EXPECT_THROW_MSG(lr_range_test(opt, f, {.start_lr = 1, .end_lr = 0.5}),
                   "lr_range_test: end_lr must be greater than start_lr 1, got 0.5");
  EXPECT_THROW_MSG(lr_range_test(opt, f, {.num_steps = 1}),
                   "lr_range_test: num_steps must be at least 2, got 1");
  EXPECT_THROW_MSG(lr_range_test(opt, f, {.smoothing = 1.0}),
                   "lr_range_test: smoothing must be in [0, 1), got 1");
  EXPECT_THROW_MSG(lr_range_test(opt, f, {.divergence = 1.0}),
                   "lr_range_test: divergence must be greater than 1, got 1");
  EXPECT_THROW_MSG(lr_range_test(opt, nullptr), "lr_range_test: step_closure is empty");
}

// The README's loop: the closure draws the next batch from a loader, starting a new
// epoch when one ends, and returns the loss as a double.
TEST(LrRangeTest, ReadmeClosureCyclesALoader) {
  manual_seed(3);
  const Tensor xs = randn({40, 4});
  const Tensor ys = argmax(xs.narrow(1, 0, 3), 1);  // a learnable 3-class rule
  data::DataLoader loader(data::Dataset(xs, ys), {.batch_size = 16, .shuffle = true});
  nn::Sequential model(nn::Linear(4, 3));
  optim::SGD opt(model.parameters(), {.lr = 1e-3});
  std::optional<data::DataLoader::Iterator> it;
  int batches = 0;
  auto r =
      train::lr_range_test(opt,
                           [&]() -> double {
                             if (!it || *it == data::DataLoader::Sentinel{}) {
                               it.reset();  // the finished epoch first: one iteration at a time
                               it.emplace(loader.begin());
                             }
                             auto [x, y] = **it;
                             ++*it;
                             ++batches;
                             Tensor loss = F::cross_entropy(model(x), y);
                             loss.backward();
                             return loss.item<double>();
                           },
                           {.start_lr = 1e-4, .end_lr = 10, .num_steps = 30});
  EXPECT_EQ(batches, int(r.lrs.size()));
  EXPECT_GT(loader.epoch(), 8);  // 3 batches per epoch: the closure cycled the loader
  ASSERT_TRUE(r.suggested_lr.has_value());
  if (r.suggested_lr) opt.set_lr(*r.suggested_lr);
  EXPECT_EQ(opt.lr(), *r.suggested_lr);
}
