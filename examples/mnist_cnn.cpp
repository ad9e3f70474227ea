// Trains a small VGG-style CNN on Fashion-MNIST or MNIST: two blocks of
// (conv 3×3 – BatchNorm – ReLU) ×2 and a 2×2 max pool, then dropout and one Linear layer
// — with every flag mnist_mlp has (optimizer, schedule, clipping, AMP, checkpoint/resume,
// early stopping on a validation split, metrics CSVs, the monitor; the shared program is
// examples/common/classifier.h). Ends with one `result:` line.
//   mnist_cnn --epochs 15          # Adam, cosine schedule
#include <descent/descent.h>

#include <iostream>
#include <memory>

#include "common/classifier.h"

using namespace descent;

namespace {

// conv-BN-ReLU, twice, then a 2×2 max pool: (N, in, H, W) → (N, out, H/2, W/2).
void add_block(nn::Sequential& s, int64_t in, int64_t out) {
  for (int64_t c : {in, out}) {
    s.push_back(nn::Conv2d(c, out, 3, {.padding = 1, .bias = false}));
    s.push_back(nn::BatchNorm2d(out));
    s.push_back(nn::ReLU());
  }
  s.push_back(nn::MaxPool2d(2));
}

std::shared_ptr<nn::Module> make_cnn(int64_t width, double dropout) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(nn::Unflatten(1, {1, 28, 28}));  // the loader's rows as images
  add_block(*s, 1, width);                      // 28×28 → 14×14
  add_block(*s, width, 2 * width);              // 14×14 → 7×7
  s->push_back(nn::Flatten());
  s->push_back(nn::Dropout(dropout));
  s->push_back(nn::Linear(2 * width * 7 * 7, 10));
  nn::init::kaiming_normal_(*s, nn::init::Nonlinearity::ReLU);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  examples::ClassifierConfig c;
  c.epochs = 15;
  int64_t width = 32;
  double dropout = 0.3;
  examples::Cli cli("mnist_cnn",
                    "Trains a VGG-style CNN (conv-BN-ReLU ×2, pool, ×2, Linear) on MNIST-style "
                    "data.");
  examples::add_classifier_flags(cli, c);
  cli.add("--width", width, "channels of the first block (the second has twice as many)")
      ->check(examples::positive());
  cli.add("--dropout", dropout, "dropout before the last layer")->check(examples::probability());
  cli.parse(argc, argv);
  autograd::set_detect_anomaly(c.detect_anomaly);
  try {
    return examples::train_classifier("mnist_cnn", c, [&] { return make_cnn(width, dropout); });
  } catch (const std::exception& e) {
    std::cerr << "mnist_cnn: " << e.what() << "\n";
    return 1;
  }
}
