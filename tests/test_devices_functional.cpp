// The CUDA device against the CPU reference, part 3: softmax and log_softmax, the
// losses, indexing (index_select / gather / scatter_add / embedding / cat ...), batch
// norm, LSTM (1-2 layers, bidirectional, batch_first, autocast), forward and backward;
// and finite-difference gradchecks in f64 evaluated on the device, ops chained in one
// graph per op family (each op's own gradchecks, batch norm's and the LSTM's included, run
// per device in the op tests). Without a GPU every test reports SKIPPED
// (tests/testing/devices.h).
#include <functional>
#include <string>
#include <vector>

#include "testing/devices.h"

using namespace descent;
using descent::testing::device_gradcheck;
using descent::testing::DeviceTest;
using descent::testing::expect_same_on_device;
using descent::testing::Fn;
using descent::testing::kExact;
using descent::testing::matches;
using descent::testing::max_rel_err;
using descent::testing::on_device;
using descent::testing::Tolerance;
using descent::testing::tolerance;
using R = F::Reduction;

namespace {

class DevicesFunctional : public DeviceTest {};

// A leaf of `dt` from N(0, scale²) drawn in f32 (U[lo, hi) with `uniform`).
Tensor leaf(const Shape& s, DType dt, uint64_t seed, double scale = 1.0) {
  Generator gen(seed);
  return (randn(s, {}, &gen) * scale).to(dt).detach().requires_grad_();
}
Tensor uniform_leaf(const Shape& s, DType dt, uint64_t seed, double lo, double hi) {
  Generator gen(seed);
  return (rand(s, {}, &gen) * (hi - lo) + lo).to(dt).detach().requires_grad_();
}
Tensor i64(const std::vector<int64_t>& v, const Shape& s) { return from_vector<int64_t>(v, s); }

// Every output of an LSTM in one tensor (in c_n's dtype, f32 under autocast), so one
// comparison or gradcheck covers output, h_n and c_n.
Tensor all_outputs(const F::LstmOutput& r) {
  const DType dt = r.c_n.dtype();
  return cat({r.output.to(dt).flatten(), r.h_n.to(dt).flatten(), r.c_n.flatten()});
}

struct LstmConfig {
  std::string name;
  int64_t layers = 1;
  bool bidirectional = false, batch_first = false, bias = true, unbatched = false;
};

// Inputs in order: x, h0, c0, then per layer and direction w_ih, w_hh[, b_ih, b_hh].
std::vector<Tensor> lstm_inputs(const LstmConfig& c, DType dt, uint64_t seed, int64_t T = 5,
                                int64_t N = 3, int64_t I = 4, int64_t H = 6) {
  const int64_t D = c.bidirectional ? 2 : 1;
  const Shape xs = c.unbatched ? Shape{T, I} : c.batch_first ? Shape{N, T, I} : Shape{T, N, I};
  const Shape ss = c.unbatched ? Shape{D * c.layers, H} : Shape{D * c.layers, N, H};
  std::vector<Tensor> in = {leaf(xs, dt, seed), leaf(ss, dt, seed + 1, 0.5),
                            leaf(ss, dt, seed + 2, 0.5)};
  seed += 3;
  const double k = 1.0 / std::sqrt(double(H));
  for (int64_t l = 0; l < c.layers * D; ++l) {
    const int64_t in_size = l < D ? I : D * H;
    in.push_back(uniform_leaf({4 * H, in_size}, dt, seed++, -k, k));
    in.push_back(uniform_leaf({4 * H, H}, dt, seed++, -k, k));
    if (c.bias) {
      in.push_back(uniform_leaf({4 * H}, dt, seed++, -k, k));
      in.push_back(uniform_leaf({4 * H}, dt, seed++, -k, k));
    }
  }
  return in;
}

F::LstmOutput run_lstm(const LstmConfig& c, const std::vector<Tensor>& in) {
  std::vector<F::LstmLayerWeights> layers;
  for (size_t i = 3; i < in.size(); i += c.bias ? 4 : 2) {
    layers.push_back(
        {in[i], in[i + 1], c.bias ? in[i + 2] : Tensor(), c.bias ? in[i + 3] : Tensor()});
  }
  return F::lstm(in[0], layers, in[1], in[2],
                 {.batch_first = c.batch_first, .bidirectional = c.bidirectional});
}

const std::vector<LstmConfig> kLstmConfigs = {
    {.name = "1 layer"},
    {.name = "2 layers", .layers = 2},
    {.name = "bidirectional", .bidirectional = true},
    {.name = "2 layers bidirectional batch_first",
     .layers = 2,
     .bidirectional = true,
     .batch_first = true},
    {.name = "no bias", .bias = false},
    {.name = "unbatched", .unbatched = true},
};

}  // namespace

TEST_F(DevicesFunctional, SoftmaxAndLogSoftmaxForwardAndBackward) {
  uint64_t seed = 1;
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (int64_t dim : {0, 1, -1}) {
      for (bool log : {false, true}) {
        SCOPED_TRACE(fmt::format("{} {} dim {}", log ? "log_softmax" : "softmax", dt, dim));
        const Fn f = [=](const std::vector<Tensor>& in) {
          return log ? F::log_softmax(in[0], dim) : F::softmax(in[0], dim);
        };
        expect_same_on_device(f, {leaf({4, 5, 6}, dt, seed++, 2.0)});
        if (!is_16bit(dt)) {  // large logits: the max must be subtracted
          const Tensor big = (leaf({4, 5, 6}, dt, seed++, 10.0) + 100.0).detach().requires_grad_();
          expect_same_on_device(f, {big});
        }
        // A softmax dim that is not the innermost in memory.
        expect_same_on_device(
            [=](const std::vector<Tensor>& in) { return f({in[0].transpose(0, 2)}); },
            {leaf({4, 5, 6}, dt, seed++, 2.0)});
      }
    }
  }
}

TEST_F(DevicesFunctional, LossesForwardAndBackward) {
  uint64_t seed = 100;
  for (DType dt : {DType::F32, DType::F64}) {
    const Tensor logits = leaf({6, 5}, dt, seed++, 1.5);
    const Tensor target = i64({0, 4, 2, 2, 1, 3}, {6});
    const Tensor weight = uniform_leaf({5}, dt, seed++, 0.5, 2.0).detach();
    const Tensor probs = F::softmax(leaf({6, 5}, dt, seed++), 1).detach();
    const Tensor dense = leaf({6, 5}, dt, seed++);
    const Tensor binary = (rand({6, 5}) > 0.5).to(dt);
    const std::vector<std::pair<std::string, Fn>> cases = {
        {"cross_entropy", [](auto& in) { return F::cross_entropy(in[0], in[1]); }},
        {"cross_entropy weight sum",
         [](auto& in) {
           return F::cross_entropy(in[0], in[1], {.weight = in[2], .reduction = R::Sum});
         }},
        {"cross_entropy ignore_index none",
         [](auto& in) {
           return F::cross_entropy(in[0], in[1], {.ignore_index = 2, .reduction = R::None});
         }},
        {"cross_entropy smoothing weight",
         [](auto& in) {
           return F::cross_entropy(in[0], in[1], {.weight = in[2], .label_smoothing = 0.1});
         }},
        {"cross_entropy i32 targets",
         [](auto& in) { return F::cross_entropy(in[0], in[1].to(DType::I32)); }},
        {"cross_entropy probabilities", [](auto& in) { return F::cross_entropy(in[0], in[3]); }},
        {"nll_loss weight ignore",
         [](auto& in) {
           return F::nll_loss(F::log_softmax(in[0], 1), in[1],
                              {.weight = in[2], .ignore_index = 4});
         }},
        {"mse", [](auto& in) { return F::mse_loss(in[0], in[4]); }},
        {"mse none", [](auto& in) { return F::mse_loss(in[0], in[4], R::None); }},
        {"l1 sum", [](auto& in) { return F::l1_loss(in[0], in[4], R::Sum); }},
        {"smooth_l1", [](auto& in) { return F::smooth_l1_loss(in[0], in[4], R::Mean, 0.5); }},
        {"bce_with_logits",
         [](auto& in) { return F::binary_cross_entropy_with_logits(in[0], in[5]); }},
        {"bce_with_logits weights",
         [](auto& in) {
           return F::binary_cross_entropy_with_logits(
               in[0], in[5], {.weight = in[2], .pos_weight = in[2] * 1.5, .reduction = R::None});
         }},
    };
    for (const auto& [name, f] : cases) {
      SCOPED_TRACE(fmt::format("{} {}", name, dt));
      expect_same_on_device(f, {logits, target, weight, probs, dense, binary});
    }
    // Spatial targets: (N, C, d) logits, (N, d) classes.
    SCOPED_TRACE(fmt::format("cross_entropy (N, C, d) {}", dt));
    expect_same_on_device([](auto& in) { return F::cross_entropy(in[0], in[1]); },
                          {leaf({3, 5, 4}, dt, seed++), randint(0, 5, {3, 4})});
  }
}

TEST_F(DevicesFunctional, IndexingForwardAndBackward) {
  uint64_t seed = 200;
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = leaf({5, 4, 3}, dt, seed++);
    // Repeated indices: the backward's index_add / scatter_add accumulate.
    const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> on_x = {
        {"index_select 0",
         [](auto& t) {
           return index_select(t, 0, i64({4, 0, 4, 2}, {4}));
         }},
        {"index_select 1",
         [](auto& t) {
           return index_select(t, 1, i64({3, 0, 3, 1, 3}, {5}));
         }},
        {"index_select -1 i32",
         [](auto& t) {
           return index_select(t, -1, i64({2, 0, 2}, {3}).to(DType::I32));
         }},
        {"index_select 0-D index", [](auto& t) { return index_select(t, 0, i64({3}, {})); }},
        {"index_select of a transpose",
         [](auto& t) {
           return index_select(t.transpose(0, 2), 1, i64({1, 1, 3}, {3}));
         }},
        {"gather 1",
         [](auto& t) {
           return gather(t, 1, i64({0, 3, 3, 1, 2, 0}, {2, 1, 3}));
         }},
        {"gather 0",
         [](auto& t) {
           return gather(t, 0, i64({4, 4, 0, 1, 2, 3}, {2, 3, 1}));
         }},
        {"cat 1",
         [](auto& t) {
           return cat({t, t.narrow(1, 1, 2) * 2.0}, 1);
         }},
        {"stack -1",
         [](auto& t) {
           return stack({t, t.exp()}, -1);
         }},
        {"split",
         [](auto& t) {
           auto p = split(t, std::vector<int64_t>{2, 3}, 0);
           return cat({p[1] * 3.0, p[0]}, 0);
         }},
        {"chunk",
         [](auto& t) {
           auto p = chunk(t, 2, 1);
           return p[0] - p[1];
         }},
    };
    for (const auto& [name, f] : on_x) {
      SCOPED_TRACE(name);
      expect_same_on_device([&](auto& in) { return f(in[0]); }, {x});
    }
    // scatter_add: gradients for both x and src, with collisions.
    expect_same_on_device(
        [](auto& in) { return scatter_add(in[0], 0, in[2], in[1]); },
        {leaf({4, 5}, dt, seed++), leaf({3, 5}, dt, seed++), randint(0, 4, {3, 5})});
    // embedding with repeated rows and a padding row that gets no gradient.
    const Tensor weight = leaf({10, 4}, dt, seed++);
    const Tensor ids = i64({1, 3, 3, 9, 0, 1, 7, 3, 2, 1, 5, 5, 8, 0, 1}, {3, 5});
    for (std::optional<int64_t> pad :
         {std::optional<int64_t>{}, std::optional<int64_t>{1}, std::optional<int64_t>{-1}}) {
      SCOPED_TRACE(fmt::format("embedding padding {}", pad ? *pad : 99));
      expect_same_on_device([&](auto& in) { return F::embedding(in[1], in[0], pad); },
                            {weight, ids});
    }
  }
  const Tensor labels = i64({0, 5, 2, 2}, {4});
  EXPECT_TRUE(matches(F::one_hot(on_device(labels), 6), F::one_hot(labels, 6), kExact));
  EXPECT_TRUE(matches(F::one_hot(on_device(labels)), F::one_hot(labels), kExact));
}

TEST_F(DevicesFunctional, BatchNormTrainAndEvalForwardAndBackward) {
  uint64_t seed = 300;
  for (const Shape& s : {Shape{6, 3}, Shape{4, 3, 5}, Shape{3, 3, 2, 4}}) {
    for (DType dt : {DType::F32, DType::F64}) {
      for (bool training : {true, false}) {
        for (bool affine : {true, false}) {
          SCOPED_TRACE(fmt::format("{} {} training {} affine {}", s, dt, training, affine));
          const Tensor x = leaf(s, dt, seed++, 2.0);
          const Tensor w = affine ? uniform_leaf({3}, dt, seed++, 0.5, 1.5) : Tensor();
          const Tensor b = affine ? leaf({3}, dt, seed++) : Tensor();
          const Tensor rm = leaf({3}, dt, seed++).detach();
          const Tensor rv = uniform_leaf({3}, dt, seed++, 0.5, 2.0).detach();
          Tensor rm_d = on_device(rm), rv_d = on_device(rv);
          const Tensor xd = on_device(x), wd = on_device(w), bd = on_device(b);
          const Tensor want = F::batch_norm(x, rm, rv, w, b, training, 0.2, 1e-3);
          const Tensor got = F::batch_norm(xd, rm_d, rv_d, wd, bd, training, 0.2, 1e-3);
          ASSERT_TRUE(matches(got, want));
          // Training updates the running statistics in place (unbiased variance).
          EXPECT_TRUE(matches(rm_d, rm));
          EXPECT_TRUE(matches(rv_d, rv));
          const Tensor v = leaf(s, dt, seed++).detach();
          want.backward(v);
          got.backward(v.to(xd.device()));
          // Gradients are sums over N·L: a little more rounding than the forward.
          const Tolerance gt = dt == DType::F32 ? Tolerance{5e-5, 1e-5} : tolerance(dt);
          EXPECT_TRUE(matches(xd.grad(), x.grad(), gt));
          if (affine) {
            EXPECT_TRUE(matches(wd.grad(), w.grad(), gt));
            EXPECT_TRUE(matches(bd.grad(), b.grad(), gt));
          }
        }
      }
    }
  }
  // Batch statistics only (no running buffers).
  expect_same_on_device([](auto& in) { return F::batch_norm(in[0], {}, {}, in[1], in[2], true); },
                        {leaf({8, 3, 5}, DType::F32, seed++),
                         uniform_leaf({3}, DType::F32, 1, 0.5, 2), leaf({3}, DType::F32, seed++)},
                        tolerance(DType::F32), {5e-5, 1e-5});
}

TEST_F(DevicesFunctional, LstmForwardAndBackward) {
  uint64_t seed = 400;
  for (const LstmConfig& c : kLstmConfigs) {
    for (DType dt : {DType::F32, DType::F64}) {
      SCOPED_TRACE(fmt::format("{} {}", c.name, dt));
      expect_same_on_device([&](auto& in) { return all_outputs(run_lstm(c, in)); },
                            lstm_inputs(c, dt, seed));
      seed += 100;
    }
  }
}

// Under autocast the device's LSTM runs in 16 bits (cuDNN has f16 and bf16 RNNs; the
// CPU only bf16): as close to the f32 CPU result as the CPU's own bf16 kernel is.
TEST_F(DevicesFunctional, LstmAutocastAgainstTheF32Reference) {
  for (DType low : {DType::BF16, DType::F16}) {
    for (const LstmConfig& c : {kLstmConfigs[1], kLstmConfigs[3]}) {
      SCOPED_TRACE(fmt::format("{} {}", c.name, low));
      const std::vector<Tensor> ref_in = lstm_inputs(c, DType::F32, 500, 9, 6, 20, 32);
      const std::vector<Tensor> dev_in = on_device(ref_in);
      const F::LstmOutput ref = run_lstm(c, ref_in);
      F::LstmOutput got;
      {
        amp::Autocast cast(low);
        got = run_lstm(c, dev_in);
      }
      // f16 has no CPU RNN: with the CPU standing in it computes in f32.
      const bool ran_low = low == DType::BF16 || !dev_in[0].device().is_cpu();
      EXPECT_EQ(got.output.dtype(), ran_low ? low : DType::F32);
      EXPECT_EQ(got.h_n.dtype(), ran_low ? low : DType::F32);
      EXPECT_EQ(got.c_n.dtype(), DType::F32);
      Generator gen(7);
      const Tensor v = randn(ref.output.shape(), {}, &gen);
      const auto loss = [&](const F::LstmOutput& r, const Tensor& cot) {
        return (r.output.to(DType::F32) * cot).sum() + r.h_n.to(DType::F32).sum() + r.c_n.sum();
      };
      loss(ref, v).backward();
      loss(got, v.to(dev_in[0].device())).backward();
      const std::vector<Tensor> outs = {got.output, got.h_n, got.c_n},
                                refs = {ref.output, ref.h_n, ref.c_n};
      for (size_t i = 0; i < outs.size(); ++i) {
        SCOPED_TRACE(fmt::format("output {}", i));
        const double err = max_rel_err(outs[i], refs[i]);
        EXPECT_LT(err, 1.5e-2);
        if (ran_low) {
          EXPECT_GT(err, 1e-6) << "the result is f32-exact: the kernel did not run in 16 bits";
        }
      }
      for (size_t i = 0; i < ref_in.size(); ++i) {
        SCOPED_TRACE(fmt::format("gradient of input {}", i));
        ASSERT_TRUE(dev_in[i].grad().defined());
        EXPECT_EQ(dev_in[i].grad().dtype(), DType::F32);  // f32 masters get f32 gradients
        EXPECT_LT(max_rel_err(dev_in[i].grad(), ref_in[i].grad()), 1.5e-2);
      }
    }
  }
}

// ---- gradchecks in f64, evaluated on the device ---------------------------------------

TEST_F(DevicesFunctional, GradcheckEveryOpFamilyF64) {
  using descent::testing::rand_input;
  const Tensor targets = i64({0, 4, 2, 1}, {4});
  const Tensor class_weight = rand_input({5}, 0.5, 2.0, 1).detach();
  const Tensor soft = rand_input({4, 5}, 0.0, 1.0, 2).detach();
  const struct {
    std::string name;
    Fn f;
    std::vector<Tensor> in;
  } cases[] = {
      {"elementwise with broadcasting",
       [](auto& in) {
         return exp(in[0] * in[1]) / (1.0 + square(in[0])) - pow(abs(in[1]) + 0.5, 1.5) +
                sqrt(in[1] * in[1] + 1.0) * log1p(abs(in[0])) + rsqrt(in[0] * in[0] + 2.0);
       },
       {rand_input({3, 1}, -1, 1, 10), rand_input({4}, -1, 1, 11)}},
      {"where, minimum, maximum",
       [](auto& in) {
         return where(in[0] > 0.0, in[0] * in[1], in[1] - in[0]) + minimum(in[0], in[1]) * 2.0 +
                maximum(in[0], in[1]) / (in[1] * in[1] + 1.0);
       },
       {rand_input({3, 4}, -1, 1, 12), rand_input({3, 4}, -1, 1, 13)}},
      {"activations",
       [](auto& in) {
         const Tensor& x = in[0];
         return F::gelu(x) + F::gelu(x, F::GeluApprox::Tanh) + F::softplus(x, 2.0, 1.0) +
                F::elu(x) + F::silu(x) + F::sigmoid(x) * F::tanh(x) + F::leaky_relu(x, 0.1) +
                F::relu(x);
       },
       {rand_input({3, 4}, -2, 2, 14)}},
      {"reductions",
       [](auto& in) {
         const Tensor& x = in[0];
         return cat({logsumexp(x, {1}), max(x, 0), var(x, {1}), mean(x, {0}), amin(x, {1}),
                     descent::std(x, {0}), (x * x).sum().reshape({1})});
       },
       {rand_input({3, 4}, -1, 1, 15)}},
      {"matmul batched and broadcast",
       [](auto& in) { return matmul(in[0], in[1]); },
       {rand_input({2, 1, 3, 4}, -1, 1, 16), rand_input({3, 4, 2}, -1, 1, 17)}},
      {"linear",
       [](auto& in) { return F::linear(in[0], in[1], in[2]); },
       {rand_input({2, 3, 4}, -1, 1, 18), rand_input({5, 4}, -1, 1, 19),
        rand_input({5}, -1, 1, 20)}},
      {"softmax and log_softmax",
       [](auto& in) {
         return cat({F::softmax(in[0], 1).flatten(), F::log_softmax(in[0], 0).flatten()});
       },
       {rand_input({3, 4}, -2, 2, 21)}},
      {"cross_entropy",
       [](auto& in) {
         return F::cross_entropy(in[0], in[1], {.weight = in[2], .label_smoothing = 0.1}) +
                F::cross_entropy(in[0], in[3]);
       },
       {rand_input({4, 5}, -2, 2, 22), targets, class_weight, soft}},
      {"nll, bce, smooth_l1, mse",
       [](auto& in) {
         return F::nll_loss(F::log_softmax(in[0], 1), in[1]) +
                F::binary_cross_entropy_with_logits(in[0], in[2], {.pos_weight = in[3]}) +
                F::smooth_l1_loss(in[0], in[2] * 2.0, R::Mean, 0.5) + F::mse_loss(in[0], in[2]);
       },
       {rand_input({4, 5}, -2, 2, 23), targets, soft, class_weight}},
      {"index_select, gather, scatter_add",
       [](auto& in) {
         return cat(
             {index_select(in[0], 0, i64({2, 0, 2}, {3})).flatten(),
              gather(in[0], 1, i64({3, 3, 0, 1, 2, 0}, {3, 2})).flatten(),
              scatter_add(in[0], 0, i64({1, 1, 0, 2, 2, 1, 0, 0}, {2, 4}), in[1]).flatten()});
       },
       {rand_input({3, 4}, -1, 1, 24), rand_input({2, 4}, -1, 1, 25)}},
      // No padding row here: it gets no gradient by design, which a gradcheck rejects.
      {"embedding",
       [](auto& in) { return F::embedding(in[1], in[0]) * 2.0; },
       {rand_input({6, 3}, -1, 1, 26), i64({1, 5, 5, 0, 3, 1}, {2, 3})}},
      {"views",
       [](auto& in) {
         const Tensor e = in[0].unsqueeze(0).expand({2, 3, 4}).sum({0});
         return in[0].t().slice(0, 0, 4, 2) * e.t().slice(0, 1, 4, 2) + in[0].select(1, 2).sum();
       },
       {rand_input({3, 4}, -1, 1, 27)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(device_gradcheck(c.f, c.in), "");
  }
}
