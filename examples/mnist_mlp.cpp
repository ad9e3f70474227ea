// Trains a 784-512-256-10 MLP (BatchNorm1d, ReLU, He init) on Fashion-MNIST or MNIST,
// with a choice of optimizer, schedule, gradient clipping, mixed precision, exact
// checkpoint/resume and early stopping (examples/common/classifier.h). A seeded 10% of
// the training images is held out for validation: early stopping and the plateau
// schedule watch it, and the test set is evaluated once, at the end. Ends with one
// `result:` line.
//   mnist_mlp --epochs 10          # Adam, cosine schedule: the recipe is the default
#include <descent/descent.h>

#include <iostream>
#include <memory>

#include "common/classifier.h"

using namespace descent;

int main(int argc, char** argv) {
  examples::ClassifierConfig c;
  examples::Cli cli("mnist_mlp",
                    "Trains a 784-512-256-10 MLP (BatchNorm, ReLU) on MNIST-style data.");
  examples::add_classifier_flags(cli, c);
  cli.parse(argc, argv);
  autograd::set_detect_anomaly(c.detect_anomaly);
  try {
    return examples::train_classifier("mnist_mlp", c, [] {
      auto model = std::make_shared<nn::Sequential>(
          nn::Linear(784, 512), nn::BatchNorm1d(512), nn::ReLU(), nn::Linear(512, 256),
          nn::BatchNorm1d(256), nn::ReLU(), nn::Linear(256, 10));
      nn::init::kaiming_normal_(*model, nn::init::Nonlinearity::ReLU);
      return model;
    });
  } catch (const std::exception& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 1;
  }
}
