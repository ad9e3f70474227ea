// Loss landscapes and curvature of the Fashion-MNIST MLP (784-256-10, ReLU) under three
// recipes: SGD with small batches, SGD with large batches, and Adam. For each run it
// writes into --out/<run>/:
//   interpolation.csv  alpha,loss — the straight line from the initial to the trained
//                      weights (Goodfellow et al. 2015), alpha in [-0.25, 1.25]
//   surface.csv        x,y,value — around the trained weights along two
//                      filter-normalised random directions (Li et al. 2018)
//   pca_surface.csv    x,y,value — on the plane of the trajectory's top two principal
//   trajectory.csv     epoch,x,y — directions, with the trajectory projected onto it
//   sharpness.csv      epoch,sharpness — the top Hessian eigenvalue of the loss on the
//                      evaluation subset after each epoch (power iteration on
//                      Hessian-vector products)
// and prints one `result:` line per run. Every loss is the mean cross-entropy on the
// first --eval-size training images, in eval mode, so the pictures compare like with like.
//
//   build/examples/landscape --epochs 5 --grid 21 --out runs/landscape
//   scripts/plot runs/landscape/*/interpolation.csv --x alpha --y loss --out interp.png
#include <descent/descent.h>

#include <filesystem>
#include <iostream>

#include "common/cli.h"

using namespace descent;

namespace {

struct Recipe {
  std::string name;
  std::string optimizer;  // "sgd" or "adam"
  double lr;
  int64_t batch_size;
};

nn::Sequential make_model(Generator& gen) {
  return nn::Sequential(nn::Linear(784, 256, {.generator = &gen}), nn::ReLU(),
                        nn::Linear(256, 10, {.generator = &gen}));
}

void write_csv(const std::string& path, const std::vector<train::Metrics>& rows) {
  train::MetricsWriter csv(path);
  for (const auto& r : rows) csv.write(r);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "datasets/fashion-mnist", out = "runs/landscape";
  int epochs = 5, grid = 21, seed = 0;
  long limit = 12000, eval_size = 2000;
  double extent = 1.0;
  examples::Cli cli("landscape", "Loss landscapes and sharpness of the MLP under three recipes.");
  using examples::positive;
  cli.add("--data", data_dir, "folder with the four idx files");
  cli.add("--epochs", epochs, "epochs per recipe")->check(positive());
  cli.add("--limit", limit, "training images used")->check(positive());
  cli.add("--eval-size", eval_size, "training images the landscape is evaluated on")
      ->check(positive());
  cli.add("--grid", grid, "points per axis of the 2-D surfaces")->check(positive());
  cli.add("--extent", extent, "the surfaces span [-extent, extent] on both axes")
      ->check(positive());
  cli.add("--seed", seed, "seed of the weights, the shuffles and the directions")
      ->check(examples::non_negative());
  cli.add("--out", out, "output folder");
  cli.parse(argc, argv);

  try {
    const data::Dataset all = data::Idx::load(data_dir, data::Split::Train);
    const data::Dataset train_set = all.slice(0, std::min<int64_t>(limit, all.size()));
    const data::Dataset eval_set = all.slice(0, std::min<int64_t>(eval_size, train_set.size()));
    const data::Dataset test_set = data::Idx::load(data_dir, data::Split::Test);

    const std::vector<Recipe> recipes = {{"sgd-small-batch", "sgd", 0.05, 32},
                                         {"sgd-large-batch", "sgd", 0.05, 1024},
                                         {"adam", "adam", 1e-3, 128}};
    for (const Recipe& r : recipes) {
      const std::string dir = out + "/" + r.name;
      std::filesystem::create_directories(dir);
      Generator gen{uint64_t(seed)};
      nn::Sequential model = make_model(gen);
      const std::vector<Tensor> params = model.parameters();
      std::unique_ptr<optim::Optimizer> opt;
      if (r.optimizer == "sgd") {
        opt = std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = r.lr});
      } else {
        opt = std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = r.lr});
      }
      data::DataLoader loader(
          train_set, {.batch_size = r.batch_size, .shuffle = true, .seed = uint64_t(seed)});
      // The loss on the evaluation subset: a graph for the curvature, none for the maps.
      auto loss_fn = [&] { return F::cross_entropy(model(eval_set.inputs()), eval_set.targets()); };
      auto evaluate = [&] {
        NoGradGuard no_grad;
        return loss_fn().item<double>();
      };

      std::vector<train::ParamVector> trajectory{train::snapshot(model)};
      std::vector<train::Metrics> sharpness_rows;
      for (int e = 0; e < epochs; ++e) {
        model.train();
        for (auto [x, y] : loader) {
          opt->zero_grad();
          F::cross_entropy(model(x), y).backward();
          opt->step();
        }
        model.eval();
        trajectory.push_back(train::snapshot(model));
        const double sharp =
            train::sharpness(loss_fn, params, {.max_iterations = 30, .tolerance = 1e-3});
        sharpness_rows.push_back({{"epoch", e + 1}, {"sharpness", sharp}});
        std::cout << r.name << " epoch " << e + 1 << ": eval loss " << evaluate() << ", sharpness "
                  << sharp << "\n";
      }
      write_csv(dir + "/sharpness.csv", sharpness_rows);

      std::vector<train::Metrics> line_rows;
      for (const train::LinePoint& p :
           train::interpolate(model, trajectory.front(), trajectory.back(), evaluate,
                              {.points = 31, .start = -0.25, .end = 1.25})) {
        line_rows.push_back({{"alpha", p.alpha}, {"loss", p.value}});
      }
      write_csv(dir + "/interpolation.csv", line_rows);

      Generator dir_gen{uint64_t(seed) + 1};
      const auto dx = train::filter_normalized_direction(model, dir_gen);
      const auto dy = train::filter_normalized_direction(model, dir_gen);
      train::surface(model, dx, dy, evaluate, {.steps = grid, .extent = extent})
          .write_csv(dir + "/surface.csv");

      std::string pca_note = "n/a";
      if (trajectory.size() >= 3) {
        const train::TrajectoryPlane plane = train::trajectory_plane(trajectory);
        double reach = 0;
        for (auto [x, y] : plane.path) reach = std::max({reach, std::abs(x), std::abs(y)});
        train::surface(model, plane.dx, plane.dy, evaluate,
                       {.steps = grid, .extent = 1.2 * std::max(reach, 1e-3)})
            .write_csv(dir + "/pca_surface.csv");
        std::vector<train::Metrics> path_rows;
        for (size_t i = 0; i < plane.path.size(); ++i) {
          path_rows.push_back(
              {{"epoch", double(i)}, {"x", plane.path[i].first}, {"y", plane.path[i].second}});
        }
        write_csv(dir + "/trajectory.csv", path_rows);
        pca_note = fmt::format("{:.3f}", plane.explained[0] + plane.explained[1]);
      }

      NoGradGuard no_grad;
      model.eval();
      const double test_acc = train::accuracy(model(test_set.inputs()), test_set.targets());
      std::cout << "result: run=" << r.name << " test_acc=" << test_acc
                << " eval_loss=" << evaluate()
                << " sharpness=" << sharpness_rows.back().back().second
                << " pca_explained=" << pca_note << "\n";
    }
  } catch (const Error& e) {
    std::cerr << "landscape: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
