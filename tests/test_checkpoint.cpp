// Gradient checkpointing: same gradients as the plain graph, the forward's dropout
// masks replayed, less peak memory.
#include <descent/autograd/recompute.h>

#include <cstdio>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

struct Mlp {
  Tensor w1, b1, w2, b2;
  explicit Mlp(uint64_t seed) {
    Generator gen(seed);
    w1 = (randn({32, 16}, {}, &gen) * 0.3).requires_grad_();
    b1 = zeros({32}, {.requires_grad = true});
    w2 = (randn({16, 32}, {}, &gen) * 0.3).requires_grad_();
    b2 = zeros({16}, {.requires_grad = true});
  }
  Tensor block(const Tensor& x) const {
    return F::tanh(F::linear(F::dropout(F::relu(F::linear(x, w1, b1)), 0.3, true), w2, b2));
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
};

}  // namespace

TEST(Checkpoint, GradientsMatchThePlainGraphWithDropoutReplayed) {
  Generator gen(5);
  Tensor x0 = randn({8, 16}, {}, &gen);
  std::vector<std::vector<float>> grads[2];
  for (int use_ckpt = 0; use_ckpt < 2; ++use_ckpt) {
    Mlp m(11);
    manual_seed(99);
    Tensor x = x0.clone().requires_grad_();
    Tensor h = use_ckpt ? autograd::checkpoint(
                              [&](const std::vector<Tensor>& in) { return m.block(in[0]); }, {x})
                        : m.block(x);
    Tensor loss = m.block(h).pow(2).sum();  // a second, plain segment after it
    loss.backward();
    for (const Tensor& p : m.params()) grads[use_ckpt].push_back(p.grad().to_vector<float>());
    grads[use_ckpt].push_back(x.grad().to_vector<float>());
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) {
    ASSERT_EQ(grads[0][i].size(), grads[1][i].size());
    for (size_t j = 0; j < grads[0][i].size(); ++j) {
      EXPECT_NEAR(grads[0][i][j], grads[1][i][j], 1e-5) << "tensor " << i << " element " << j;
    }
  }
}

TEST(Checkpoint, Gradcheck) {
  Tensor w = descent::testing::rand_input({4, 4}, -1, 1, 3);
  Tensor x = descent::testing::rand_input({3, 4}, -1, 1, 4);
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return autograd::checkpoint(
            [&](const std::vector<Tensor>& s) { return F::tanh(matmul(s[0], s[1])).exp(); },
            {in[0], in[1]});
      },
      (std::vector<Tensor>{x, w}));
}

TEST(Checkpoint, LowersPeakMemory) {
  // 16 tanh layers on 1M elements: the plain graph keeps 16 activations of 4 MB; four
  // checkpointed segments of 4 layers keep the segment outputs plus one segment's
  // activations while it is recomputed.
  Tensor x = randn({1024, 1024}).requires_grad_();
  auto layers = [](const Tensor& t, int n) {
    Tensor h = t;
    for (int i = 0; i < n; ++i) h = F::tanh(h * 1.01);
    return h;
  };
  auto peak_of = [&](bool ckpt) {
    x.set_grad({});
    reset_peak_memory();
    const size_t base = memory_stats().allocated_bytes;
    Tensor h = x;
    for (int s = 0; s < 4; ++s) {
      h = ckpt ? autograd::checkpoint(
                     [&](const std::vector<Tensor>& in) { return layers(in[0], 4); }, {h})
               : layers(h, 4);
    }
    h.sum().backward();
    return memory_stats().peak_bytes - base;
  };
  const size_t plain = peak_of(false), ckpt = peak_of(true);
  std::printf("peak memory: plain %zu bytes, checkpointed %zu bytes\n", plain, ckpt);
  EXPECT_LT(double(ckpt), 0.6 * double(plain)) << "plain " << plain << " ckpt " << ckpt;
}

TEST(Checkpoint, NeedsAnInputThatRequiresGrad) {
  Mlp m(1);
  Tensor x = randn({2, 16});
  EXPECT_THROW_MSG(
      autograd::checkpoint([&](const std::vector<Tensor>& in) { return m.block(in[0]); }, {x}),
      "checkpoint: none of the 1 inputs requires grad");
  NoGradGuard ng;  // without grad mode it simply runs the segment
  EXPECT_EQ(autograd::checkpoint([&](const std::vector<Tensor>& in) { return m.block(in[0]); }, {x})
                .shape(),
            (Shape{2, 16}));
}
