// The graph and its saved tensors are released after each backward: memory held by
// tensors stays flat over a long training run.
#include "testing/gradcheck.h"

using namespace descent;

TEST(Memory, FlatOver10000TrainingStepsOfAnMlp) {
  // A 2-layer MLP classifying 4 Gaussian blobs, trained with plain SGD.
  Generator gen(3);
  const int64_t n = 64;
  Tensor labels = randint(0, 4, {n}, {.dtype = DType::I64}, &gen);
  Tensor centers = randn({4, 8}, {}, &gen) * 3.0;
  Tensor x = index_select(centers, 0, labels) + randn({n, 8}, {}, &gen);
  Tensor w1 = (randn({16, 8}, {}, &gen) * 0.3).requires_grad_();
  Tensor b1 = zeros({16}, {.requires_grad = true});
  Tensor w2 = (randn({4, 16}, {}, &gen) * 0.3).requires_grad_();
  Tensor b2 = zeros({4}, {.requires_grad = true});
  std::vector<Tensor> params{w1, b1, w2, b2};
  auto step = [&] {
    for (Tensor& p : params) p.set_grad({});
    Tensor logits = F::linear(F::relu(F::linear(x, w1, b1)), w2, b2);
    Tensor loss = F::cross_entropy(logits, labels);
    loss.backward();
    NoGradGuard ng;
    for (Tensor& p : params) add_(p, p.grad(), -0.05);
    return loss.item<double>();
  };
  const double first = step();
  for (int i = 0; i < 10; ++i) step();
  const size_t held = memory_stats().allocated_bytes;
  double last = 0;
  for (int i = 0; i < 10000; ++i) last = step();
  EXPECT_EQ(memory_stats().allocated_bytes, held);
  EXPECT_LT(last, first * 0.05);  // and it really trained
}

TEST(Memory, GraphIsReleasedWhenOutputDies) {
  const size_t before = memory_stats().allocated_bytes;
  {
    Tensor w = ones({256, 256}, {.requires_grad = true});
    Tensor y = exp(w * 2.0).sum();  // keeps a 256 KB saved tensor in the graph
    EXPECT_GT(memory_stats().allocated_bytes, before + 256 * 256 * 4);
  }
  EXPECT_EQ(memory_stats().allocated_bytes, before);
}
