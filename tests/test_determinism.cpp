// What the README calls deterministic stays so: the Philox generator reproduces
// Random123's published known-answer vectors, and random numbers and the CPU
// reductions give the same bits for every thread count.
#include <descent/core/random.h>
#include <descent/core/threads.h>
#include <descent/tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "testing/gradcheck.h"

using namespace descent;

TEST(Determinism, PhiloxMatchesRandom123KnownAnswers) {
  // Random123's kat_vectors, philox4x32 with 10 rounds: counter, key -> output.
  using W4 = std::array<uint32_t, 4>;
  EXPECT_EQ(Philox4x32::generate(W4{0, 0, 0, 0}, {0, 0}),
            (W4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32::generate(W4{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                 {0xffffffff, 0xffffffff}),
            (W4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(Philox4x32::generate(W4{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                                 {0xa4093822, 0x299f31d0}),
            (W4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
  // descent's stream is the same function: key = seed, counter = (n, 0).
  EXPECT_EQ(Philox4x32::generate(0, 0), (W4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32::generate(0x299f31d0a4093822ull, 0x85a308d3243f6a88ull),
            Philox4x32::generate(W4{0x243f6a88, 0x85a308d3, 0, 0}, {0xa4093822, 0x299f31d0}));
}

namespace {

// The bytes of every tensor `make` returns, computed with `threads` CPU threads.
std::vector<std::vector<double>> with_threads(int threads,
                                              const std::function<std::vector<Tensor>()>& make) {
  set_num_threads(threads);
  std::vector<std::vector<double>> out;
  for (const Tensor& t : make()) out.push_back(t.to(DType::F64).contiguous().to_vector<double>());
  return out;
}

void expect_same_for_every_thread_count(const std::function<std::vector<Tensor>()>& make) {
  const auto one = with_threads(1, make);
  for (int threads : {2, 3, 4}) {
    const auto many = with_threads(threads, make);
    ASSERT_EQ(many.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(many[i].size(), one[i].size());
      for (size_t j = 0; j < one[i].size(); ++j) {
        // Bitwise: NaN-free data, so == is exact equality of the bits' values.
        ASSERT_EQ(many[i][j], one[i][j])
            << "result " << i << " element " << j << " with " << threads << " threads";
      }
    }
  }
}

}  // namespace

TEST(Determinism, RandomNumbersAreTheSameForEveryThreadCount) {
  expect_same_for_every_thread_count([] {
    manual_seed(123);
    const Tensor x = ones({300001});
    return std::vector<Tensor>{rand({300001}),
                               randn({300001}),
                               randint(0, 1000, {300001}),
                               randperm(100003),
                               F::dropout(x, 0.3, /*training=*/true),
                               rand({1001}, {.dtype = DType::F64})};
  });
}

TEST(Determinism, ReductionsAreTheSameForEveryThreadCount) {
  expect_same_for_every_thread_count([] {
    Generator gen(7);
    const Tensor x = randn({1024, 777}, {}, &gen);  // f32
    const Tensor big = randn({(1 << 21) + 13}, {}, &gen);
    return std::vector<Tensor>{big.sum(),
                               big.mean(),
                               x.sum({0}),                  // column sums
                               x.sum({1}),                  // row sums
                               x.transpose(0, 1).sum({0}),  // a transposed view
                               mean(x, {0, 1}),
                               var(x, {0}),
                               descent::std(x, {1}),
                               amax(x, {0}),
                               argmax(x, 1),
                               logsumexp(x, {1}),
                               x.to(DType::BF16).sum({0})};
  });
}
