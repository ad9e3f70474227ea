// The graph and its saved tensors are released after each backward: memory held by
// tensors stays flat over a long training run.
#include "testing/gradcheck.h"

using namespace descent;

TEST(Memory, FlatOver10000TrainingSteps) {
  Generator gen(3);
  Tensor x = randn({64, 8}, {}, &gen);
  Tensor y = (x * from_vector<float>({1, -2, 3, 0.5f, 0, 1, -1, 2})).sum({1}) + 0.25;
  Tensor w = zeros({8}, {.requires_grad = true});
  Tensor b = zeros({1}, {.requires_grad = true});
  auto step = [&] {
    w.set_grad({});
    b.set_grad({});
    Tensor pred = (x * w).sum({1}) + b;
    Tensor loss = ((pred - y) * (pred - y)).mean();
    loss.backward();
    NoGradGuard ng;
    add_(w, w.grad(), -0.05);
    add_(b, b.grad(), -0.05);
    return loss.item<double>();
  };
  double first = step();
  for (int i = 0; i < 10; ++i) step();
  const size_t held = memory_stats().allocated_bytes;
  double last = 0;
  for (int i = 0; i < 10000; ++i) last = step();
  EXPECT_EQ(memory_stats().allocated_bytes, held);
  EXPECT_LT(last, first * 1e-3);  // and it really trained
}
