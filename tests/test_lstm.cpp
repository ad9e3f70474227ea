// F::lstm and nn::LSTM / nn::LSTMCell: f64 gradchecks of every output (output, h_n, c_n) with
// respect to the input, h0, c0 and every weight and bias (2 layers, both layouts), the oneDNN f32
// kernels against the f64 reference, the bf16 mixed-precision kernel (autocast) against f32,
// PyTorch golden values (tests/oracle/gen_nn_golden.py), dropout between layers, lstm_cell, and
// argument errors. Every TEST_P runs once per device (cpu, cuda); the oneDNN-specific and
// argument checks are CPU-only, each says why.
#include <descent/backends/backend.h>
#include <descent/core/autocast.h>
#include <descent/nn/lstm.h>
#include <descent/ops/lstm.h>

#include "testing/devices.h"
#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

Tensor randn_f64(const Shape& s, uint64_t seed, double scale = 1.0) {
  Generator gen(seed);
  return randn(s, {.dtype = DType::F64}, &gen) * scale;
}

// Layer weights as leaves requiring grad, U(-k, k) with k = 1/sqrt(H) as PyTorch.
std::vector<F::LstmLayerWeights> make_layers(int64_t I, int64_t H, int64_t L, bool bias,
                                             uint64_t seed, DType dt = DType::F64) {
  std::vector<F::LstmLayerWeights> layers;
  const double k = 1.0 / std::sqrt(double(H));
  for (int64_t l = 0; l < L; ++l) {
    const int64_t in = l == 0 ? I : H;
    const auto leaf = [&](const Shape& s) {
      return rand_input(s, -k, k, seed++).to(dt).detach().requires_grad_();
    };
    F::LstmLayerWeights w{leaf({4 * H, in}), leaf({4 * H, H}), {}, {}};
    if (bias) {
      w.b_ih = leaf({4 * H});
      w.b_hh = leaf({4 * H});
    }
    layers.push_back(w);
  }
  return layers;
}

std::vector<Tensor> flat(const std::vector<F::LstmLayerWeights>& layers) {
  std::vector<Tensor> out;
  for (const auto& w : layers) {
    for (const Tensor& t : {w.w_ih, w.w_hh, w.b_ih, w.b_hh})
      if (t.defined()) out.push_back(t);
  }
  return out;
}

std::vector<F::LstmLayerWeights> unflat(const std::vector<Tensor>& in, size_t first, int64_t L,
                                        bool bias) {
  std::vector<F::LstmLayerWeights> layers;
  size_t i = first;
  for (int64_t l = 0; l < L; ++l) {
    F::LstmLayerWeights w{in[i], in[i + 1], {}, {}};
    i += 2;
    if (bias) {
      w.b_ih = in[i];
      w.b_hh = in[i + 1];
      i += 2;
    }
    layers.push_back(w);
  }
  return layers;
}

// Every output in one tensor, so one gradcheck covers output, h_n and c_n.
Tensor all_outputs(const F::LstmOutput& r) {
  return cat({r.output.flatten(), r.h_n.flatten(), r.c_n.flatten()});
}

class LstmTest : public descent::testing::PerDeviceTest {
 protected:
  // Copies of `layers` on dev(), leaves requiring grad as the originals.
  std::vector<F::LstmLayerWeights> on_dev(std::vector<F::LstmLayerWeights> layers) const {
    for (auto& w : layers) w = {on_dev(w.w_ih), on_dev(w.w_hh), on_dev(w.b_ih), on_dev(w.b_hh)};
    return layers;
  }
  using PerDeviceTest::on_dev;
};
class Lstm : public LstmTest {};
class LstmModule : public LstmTest {};

}  // namespace

TEST_P(Lstm, GradcheckTwoLayersF64) {
  const int64_t T = 3, N = 2, I = 3, H = 2, L = 2;
  for (bool batch_first : {false, true}) {
    SCOPED_TRACE(fmt::format("batch_first {}", batch_first));
    Tensor x = rand_input(batch_first ? Shape{N, T, I} : Shape{T, N, I}, -1, 1, 1);
    Tensor h0 = rand_input({L, N, H}, -0.5, 0.5, 2), c0 = rand_input({L, N, H}, -0.5, 0.5, 3);
    std::vector<Tensor> inputs = {x, h0, c0};
    for (const Tensor& w : flat(make_layers(I, H, L, true, 10))) inputs.push_back(w);
    EXPECT_EQ(inputs.size(), 11u);
    EXPECT_GRADCHECK_ON(
        dev(),
        [&](const std::vector<Tensor>& in) {
          return all_outputs(
              F::lstm(in[0], unflat(in, 3, L, true), in[1], in[2], {.batch_first = batch_first}));
        },
        inputs);
  }
}

TEST_P(Lstm, GradcheckNoBiasZeroStateAndUnbatchedF64) {
  const int64_t T = 4, N = 2, I = 2, H = 3;
  std::vector<Tensor> inputs = {rand_input({T, N, I}, -1, 1, 4)};
  for (const Tensor& w : flat(make_layers(I, H, 1, false, 20))) inputs.push_back(w);
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return all_outputs(F::lstm(in[0], unflat(in, 1, 1, false)));
      },
      inputs);
  // Unbatched (T, I) input with (L, H) states.
  std::vector<Tensor> un = {rand_input({T, I}, -1, 1, 5), rand_input({1, H}, -1, 1, 6),
                            rand_input({1, H}, -1, 1, 7)};
  for (const Tensor& w : flat(make_layers(I, H, 1, true, 30))) un.push_back(w);
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        return all_outputs(F::lstm(in[0], unflat(in, 3, 1, true), in[1], in[2]));
      },
      un);
}

// Two bidirectional layers: the second reads both directions of the first.
TEST_P(Lstm, GradcheckBidirectionalF64) {
  const int64_t T = 3, N = 2, I = 2, H = 2, L = 2;
  Tensor x = rand_input({N, T, I}, -1, 1, 8);
  Tensor h0 = rand_input({2 * L, N, H}, -0.5, 0.5, 9),
         c0 = rand_input({2 * L, N, H}, -0.5, 0.5, 10);
  std::vector<Tensor> inputs = {x, h0, c0};
  // Weight sets in PyTorch's order: l0, l0_reverse (input I), l1, l1_reverse (input 2H).
  for (const auto& layers :
       {make_layers(I, H, 1, true, 50), make_layers(I, H, 1, true, 60),
        make_layers(2 * H, H, 1, true, 70), make_layers(2 * H, H, 1, true, 80)})
    for (const Tensor& w : flat(layers)) inputs.push_back(w);
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        auto r = F::lstm(in[0], unflat(in, 3, 2 * L, true), in[1], in[2],
                         {.batch_first = true, .bidirectional = true});
        EXPECT_EQ(r.output.shape(), (Shape{N, T, 2 * H}));
        EXPECT_EQ(r.h_n.shape(), (Shape{2 * L, N, H}));
        return all_outputs(r);
      },
      inputs);
}

// The oneDNN f32 forward and backward against the f64 reference, at sizes where
// oneDNN's packed weight layouts differ from PyTorch's (reorders in and out), over two
// training steps (the workspace pool hands a reused buffer to the second).
// CPU-only: oneDNN is the CPU backend's.
TEST(LstmCpu, OneDnnF32MatchesF64Reference) {
  struct Case {
    int64_t T, N, I, H, L;
    bool bias;
  };
  for (const Case& c :
       {Case{7, 5, 6, 8, 2, true}, Case{3, 4, 17, 33, 1, true}, Case{5, 3, 8, 8, 2, false}}) {
    SCOPED_TRACE(fmt::format("T {} N {} I {} H {} L {}", c.T, c.N, c.I, c.H, c.L));
    const auto layers64 = make_layers(c.I, c.H, c.L, c.bias, 40);
    Tensor x64 = randn_f64({c.T, c.N, c.I}, 1), h64 = randn_f64({c.L, c.N, c.H}, 2, 0.5),
           c64 = randn_f64({c.L, c.N, c.H}, 3, 0.5);
    Tensor v = randn_f64({c.T, c.N, c.H}, 4), vh = randn_f64({c.L, c.N, c.H}, 5),
           vc = randn_f64({c.L, c.N, c.H}, 6);
    const auto run = [&](DType dt) {
      std::vector<Tensor> leaves = {x64.to(dt).requires_grad_(), h64.to(dt).requires_grad_(),
                                    c64.to(dt).requires_grad_()};
      for (const Tensor& w : flat(layers64)) leaves.push_back(w.detach().to(dt).requires_grad_());
      std::vector<Tensor> results;
      for (int step = 0; step < 2; ++step) {
        for (Tensor& t : leaves) t.set_grad({});
        auto r = F::lstm(leaves[0], unflat(leaves, 3, c.L, c.bias), leaves[1], leaves[2]);
        ((r.output * v.to(dt)).sum() + (r.h_n * vh.to(dt)).sum() + (r.c_n * vc.to(dt)).sum())
            .backward();
        results = {r.output, r.h_n, r.c_n};
        for (const Tensor& t : leaves) results.push_back(t.grad());
      }
      return results;
    };
    const auto r32 = run(DType::F32), r64 = run(DType::F64);
    ASSERT_EQ(r32.size(), r64.size());
    for (size_t i = 0; i < r32.size(); ++i) {
      SCOPED_TRACE(fmt::format("result {}", i));
      EXPECT_TRUE(all_close(r32[i], r64[i], 2e-5, 1e-4));
    }
  }
}

// Largest |a - b| over the largest |b|: one number for a whole tensor, fair to bf16's
// relative rounding of about 2^-8 per element.
static double rel_err(const Tensor& a, const Tensor& b) {
  const Tensor a64 = a.to(DType::F64), b64 = b.to(DType::F64);
  return max((a64 - b64).abs()).item<double>() / max(b64.abs()).item<double>();
}

// Under amp::Autocast(BF16) the LSTM runs oneDNN's bf16 kernel: output and h_n come out
// bf16, c_n f32, and the f32 master weights get f32 gradients close to an f32 run.
// CPU-only: oneDNN's bf16 kernel.
TEST(LstmCpu, AutocastBf16RunsInBf16WithF32Gradients) {
  for (bool bidirectional : {false, true}) {
    SCOPED_TRACE(fmt::format("bidirectional {}", bidirectional));
    const int64_t T = 9, N = 6, I = 20, H = 32, L = 2, D = bidirectional ? 2 : 1;
    Tensor x64 = randn_f64({T, N, I}, 11), h64 = randn_f64({D * L, N, H}, 12, 0.5),
           c64 = randn_f64({D * L, N, H}, 13, 0.5), v = randn_f64({T, N, D * H}, 14);
    std::vector<Tensor> weights64;
    for (int64_t l = 0; l < L * D; ++l) {
      const auto one = make_layers(l < D ? I : D * H, H, 1, true, uint64_t(50 + 10 * l));
      for (const Tensor& t : flat(one)) weights64.push_back(t.detach());
    }
    const auto run = [&](bool autocast) {
      std::vector<Tensor> leaves = {x64.to(DType::F32).requires_grad_(),
                                    h64.to(DType::F32).requires_grad_(),
                                    c64.to(DType::F32).requires_grad_()};
      for (const Tensor& w : weights64) leaves.push_back(w.to(DType::F32).requires_grad_());
      F::LstmOutput r;
      {
        amp::Autocast cast(DType::BF16, autocast);
        r = F::lstm(leaves[0], unflat(leaves, 3, L * D, true), leaves[1], leaves[2],
                    {.bidirectional = bidirectional});
      }
      ((r.output.to(DType::F32) * v.to(DType::F32)).sum() + r.h_n.to(DType::F32).sum() +
       r.c_n.sum())
          .backward();
      std::vector<Tensor> results = {r.output, r.h_n, r.c_n};
      for (const Tensor& t : leaves) results.push_back(t.grad());
      return results;
    };
    const auto lo = run(true), ref = run(false);
    EXPECT_EQ(lo[0].dtype(), DType::BF16);
    EXPECT_EQ(lo[1].dtype(), DType::BF16);
    EXPECT_EQ(lo[2].dtype(), DType::F32);
    for (size_t i = 3; i < lo.size(); ++i) EXPECT_EQ(lo[i].dtype(), DType::F32) << i;
    for (size_t i = 0; i < lo.size(); ++i) {
      SCOPED_TRACE(fmt::format("result {}", i));
      const double err = rel_err(lo[i], ref[i]);
      EXPECT_LT(err, 1.5e-2);
      // A bf16 computation differs from the f32 one: the kernel really ran in bf16.
      if (i < 3) {
        EXPECT_GT(err, 1e-5);
      }
    }
  }
}

// A model converted to bf16 (no autocast) runs the same kernel; its bf16 weights get
// bf16 gradients, as every parameter gets a gradient of its own dtype.
// CPU-only: oneDNN's bf16 kernel.
TEST(LstmCpu, Bf16ModelOutsideAutocast) {
  const auto layers = make_layers(5, 16, 1, true, 70, DType::BF16);
  Tensor x = randn_f64({4, 3, 5}, 71).to(DType::BF16).requires_grad_();
  auto r = F::lstm(x, layers);
  EXPECT_EQ(r.output.dtype(), DType::BF16);
  EXPECT_EQ(r.c_n.dtype(), DType::F32);
  r.output.to(DType::F32).sum().backward();
  EXPECT_EQ(x.grad().dtype(), DType::BF16);
  EXPECT_EQ(layers[0].w_ih.grad().dtype(), DType::BF16);
  const auto layers32 = make_layers(5, 16, 1, true, 70, DType::F32);
  const auto r32 = F::lstm(x.detach().to(DType::F32), layers32);
  EXPECT_LT(rel_err(r.output, r32.output), 3e-2);
}

// oneDNN 2.6 has no f16 RNN on the CPU: under Autocast(F16) the LSTM computes in f32,
// exactly as without autocast.
TEST(LstmCpu, AutocastF16ComputesInF32OnCpu) {
  const auto layers = make_layers(5, 8, 1, true, 75, DType::F32);
  const Tensor x = randn_f64({4, 3, 5}, 76).to(DType::F32);
  const auto ref = F::lstm(x, layers);
  amp::Autocast cast(DType::F16);
  const auto r = F::lstm(x, layers);
  EXPECT_EQ(r.output.dtype(), DType::F32);
  EXPECT_TRUE(all_close(r.output, ref.output, 0, 0));
}

// The kernel checks the mixed-precision dtype contract of backend.h itself. CPU-only: it
// calls the CPU backend directly.
TEST(LstmCpu, BackendRejectsMismatchedMixedDtypes) {
  const TensorOptions bf{.dtype = DType::BF16}, f32{.dtype = DType::F32};
  LstmArgs a{.x = zeros({2, 1, 3}, bf),
             .h0 = zeros({1, 4}, bf),
             .c0 = zeros({1, 4}, bf),  // must be f32
             .w_ih = zeros({16, 3}, f32),
             .w_hh = zeros({16, 4}, f32),
             .b_ih = {},
             .b_hh = {},
             .training = false,
             .y = zeros({2, 1, 4}, bf),
             .h_n = zeros({1, 4}, bf),
             .c_n = zeros({1, 4}, f32),
             .saved = nullptr};
  EXPECT_THROW_MSG(backend_for(Device::CPU).lstm(a), "lstm: c0 is bf16, expected f32 for a bf16");
  a.c0 = zeros({1, 4}, f32);
  a.w_hh = zeros({16, 4}, bf);
  EXPECT_THROW_MSG(backend_for(Device::CPU).lstm(a), "lstm: w_hh is bf16, expected f32");
  a.w_hh = zeros({16, 4}, f32);
  EXPECT_NO_THROW(backend_for(Device::CPU).lstm(a));
}

TEST_P(Lstm, GoldenAgainstPyTorch) {
  const auto fx =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_lstm.txt"));
  int cases = 0;
  for (const char* name :
       {"lstm2", "lstm2_batch_first", "lstm1_nobias_nostate", "lstm2_bidirectional"}) {
    SCOPED_TRACE(name);
    // A fresh copy on dev() of the fixture `name`.`key`.
    const auto at = [&](const std::string& key) {
      return fx.at(std::string(name) + "." + key).to(dev()).clone();
    };
    const auto has = [&](const std::string& key) {
      return fx.count(std::string(name) + "." + key);
    };
    const int64_t L = at("arg.num_layers").item<int64_t>();
    const bool bias = at("arg.bias").item<int64_t>() != 0;
    const bool batch_first = at("arg.batch_first").item<int64_t>() != 0;
    const bool bidirectional = at("arg.bidirectional").item<int64_t>() != 0;
    std::vector<std::string> suffixes;  // PyTorch's order: l0, l0_reverse, l1, ...
    for (int64_t l = 0; l < L; ++l) {
      suffixes.push_back(fmt::format("l{}", l));
      if (bidirectional) suffixes.push_back(fmt::format("l{}_reverse", l));
    }
    std::vector<F::LstmLayerWeights> layers;
    for (const auto& sfx : suffixes) {
      const auto p = [&](const char* what) {
        return at(fmt::format("param.{}_{}", what, sfx)).requires_grad_();
      };
      layers.push_back({p("weight_ih"), p("weight_hh"), bias ? p("bias_ih") : Tensor(),
                        bias ? p("bias_hh") : Tensor()});
    }
    Tensor x = at("x").requires_grad_();
    Tensor h0 = has("h0") ? at("h0").requires_grad_() : Tensor();
    Tensor c0 = has("c0") ? at("c0").requires_grad_() : Tensor();
    auto r =
        F::lstm(x, layers, h0, c0, {.batch_first = batch_first, .bidirectional = bidirectional});
    ((r.output * at("v")).sum() + (r.h_n * at("v_h")).sum() + (r.c_n * at("v_c")).sum()).backward();
    EXPECT_TRUE(all_close(r.output, at("out")));
    EXPECT_TRUE(all_close(r.h_n, at("h_n")));
    EXPECT_TRUE(all_close(r.c_n, at("c_n")));
    EXPECT_TRUE(all_close(x.grad(), at("grad.x")));
    if (h0.defined()) {
      EXPECT_TRUE(all_close(h0.grad(), at("grad.h0")));
      EXPECT_TRUE(all_close(c0.grad(), at("grad.c0")));
    }
    int grads = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      const auto g = [&](const char* what, const Tensor& t) {
        SCOPED_TRACE(fmt::format("{}_{}", what, suffixes[i]));
        EXPECT_TRUE(all_close(t.grad(), at(fmt::format("grad.{}_{}", what, suffixes[i]))));
        ++grads;
      };
      g("weight_ih", layers[i].w_ih);
      g("weight_hh", layers[i].w_hh);
      if (bias) {
        g("bias_ih", layers[i].b_ih);
        g("bias_hh", layers[i].b_hh);
      }
    }
    EXPECT_EQ(grads, L * (bidirectional ? 2 : 1) * (bias ? 4 : 2));
    ++cases;
  }
  EXPECT_EQ(cases, 4);
}

// Without gradients the forward runs oneDNN's inference primitive: same values. CPU-only:
// oneDNN is the CPU backend's.
TEST(LstmCpu, InferenceForwardMatchesTrainingForward) {
  const auto layers = make_layers(5, 6, 2, true, 50, DType::F32);
  Tensor x = randn_f64({4, 3, 5}, 7).to(DType::F32);
  auto train = F::lstm(x, layers);
  EXPECT_TRUE(train.output.requires_grad());
  NoGradGuard no_grad;
  auto infer = F::lstm(x, layers);
  EXPECT_FALSE(infer.output.requires_grad());
  EXPECT_TRUE(all_close(infer.output, train.output, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(infer.c_n, train.c_n, 1e-6, 1e-6));
}

TEST_P(Lstm, DropoutBetweenLayersIsSeededAndTrainingOnly) {
  const auto layers = on_dev(make_layers(4, 5, 2, true, 60));
  Tensor x = on_dev(randn_f64({6, 3, 4}, 8));
  const auto run = [&](double p, bool training, uint64_t seed) {
    Generator gen(seed);
    return F::lstm(x, layers, {}, {}, {.dropout = p, .training = training, .generator = &gen});
  };
  const Tensor plain = run(0.0, true, 1).output;
  const Tensor a = run(0.5, true, 1).output, b = run(0.5, true, 1).output;
  const Tensor other = run(0.5, true, 2).output;
  EXPECT_TRUE(all_close(a, b, 0, 0));             // same seed, same mask
  EXPECT_FALSE(all_close(a, plain, 1e-3, 1e-3));  // dropout changed layer 2's input
  EXPECT_FALSE(all_close(a, other, 1e-3, 1e-3));  // another seed, another mask
  EXPECT_TRUE(all_close(run(0.5, false, 1).output, plain, 0, 0));  // eval: no dropout
  // A single layer has nothing to drop between.
  const auto one = on_dev(make_layers(4, 5, 1, true, 70));
  Generator gen(3);
  EXPECT_TRUE(all_close(F::lstm(x, one, {}, {}, {.dropout = 0.9, .generator = &gen}).output,
                        F::lstm(x, one).output, 0, 0));
}

TEST_P(Lstm, CellIsOneStep) {
  const auto layers = on_dev(make_layers(3, 4, 1, true, 80));
  Tensor x = on_dev(randn_f64({2, 3}, 9)), h = on_dev(randn_f64({2, 4}, 10)),
         c = on_dev(randn_f64({2, 4}, 11));
  auto [h1, c1] = F::lstm_cell(x, h, c, layers[0]);
  auto r = F::lstm(x.unsqueeze(0), layers, h.unsqueeze(0), c.unsqueeze(0));
  EXPECT_TRUE(all_close(h1, r.h_n.squeeze(0), 0, 0));
  EXPECT_TRUE(all_close(c1, r.c_n.squeeze(0), 0, 0));
  // By hand for one element: gates from the formula.
  const auto wi = layers[0].w_ih.to_vector<double>(), wh = layers[0].w_hh.to_vector<double>();
  const auto bi = layers[0].b_ih.to_vector<double>(), bh = layers[0].b_hh.to_vector<double>();
  const auto xv = x.to_vector<double>(), hv = h.to_vector<double>(), cv = c.to_vector<double>();
  const auto gate = [&](int64_t row) {  // sample 0
    double s = bi[row] + bh[row];
    for (int k = 0; k < 3; ++k) s += wi[row * 3 + k] * xv[k];
    for (int k = 0; k < 4; ++k) s += wh[row * 4 + k] * hv[k];
    return s;
  };
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const int64_t j = 1, H = 4;
  const double cn = sig(gate(H + j)) * cv[j] + sig(gate(j)) * std::tanh(gate(2 * H + j));
  EXPECT_NEAR(c1.to_vector<double>()[j], cn, 1e-12);
  EXPECT_NEAR(h1.to_vector<double>()[j], sig(gate(3 * H + j)) * std::tanh(cn), 1e-12);
  // Gradients flow through the cell too.
  EXPECT_TRUE(h1.requires_grad());
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(LstmCpu, Errors) {
  const auto layers = make_layers(3, 4, 2, true, 90);
  Tensor x = zeros({5, 2, 3}, {.dtype = DType::F64});
  EXPECT_THROW_MSG(F::lstm(zeros({5}, {.dtype = DType::F64}), layers),
                   "lstm: expected input of shape (T, N, I)");
  EXPECT_THROW_MSG(F::lstm(zeros({5, 2, 7}, {.dtype = DType::F64}), layers),
                   "layer 0: w_ih has shape [16, 3], expected [16, 7]");
  EXPECT_THROW_MSG(F::lstm(x, layers, zeros({2, 2, 5}, {.dtype = DType::F64})),
                   "h0 has shape [2, 2, 5], expected [2, 2, 4]");
  EXPECT_THROW_MSG(F::lstm(x, layers, {}, zeros({1, 2, 4}, {.dtype = DType::F64})),
                   "c0 has shape [1, 2, 4], expected [2, 2, 4]");
  EXPECT_THROW_MSG(F::lstm(x.to(DType::F32), layers),
                   "w_hh is f64, expected the input's dtype f32");
  EXPECT_THROW_MSG(F::lstm(x, {}), "needs at least one layer");
  EXPECT_THROW_MSG(F::lstm(x, {layers[0]}, {}, {}, {.bidirectional = true}),
                   "a bidirectional LSTM needs two weight sets per layer, got 1");
  EXPECT_THROW_MSG(F::lstm(x, layers, {}, {}, {.dropout = 1.5}), "dropout must be in [0, 1]");
  auto bad = layers;
  bad[1].b_hh = Tensor();
  EXPECT_THROW_MSG(F::lstm(x, bad), "layer 1: b_ih and b_hh must both be given");
  bad = layers;
  bad[1].w_hh = zeros({12, 3}, {.dtype = DType::F64});
  EXPECT_THROW_MSG(F::lstm(x, bad), "layer 1: w_ih has shape [16, 4], expected [12, 4]");
  bad[1] = {zeros({12, 4}, {.dtype = DType::F64}), zeros({12, 3}, {.dtype = DType::F64}), {}, {}};
  EXPECT_THROW_MSG(F::lstm(x, bad), "layer 1 has hidden size 3, layer 0 has 4");
  EXPECT_THROW_MSG(F::lstm(zeros({0, 2, 3}, {.dtype = DType::F64}), layers),
                   "needs at least one step");
  EXPECT_THROW_MSG(F::lstm_cell(zeros({2, 3, 1}), {}, {}, layers[0]), "lstm_cell: expected input");
}

// ---- modules ---------------------------------------------------------------------------

// CPU-only: the module's layout and initialisation, the same on every device.
TEST(LstmModuleCpu, ParameterNamesShapesAndInitAsPyTorch) {
  Generator gen(1);
  nn::LSTM lstm(3, 5, {.num_layers = 2, .generator = &gen});
  std::vector<std::string> names;
  for (const auto& [name, p] : lstm.named_parameters()) {
    names.push_back(fmt::format("{}{}", name, p.shape()));
    const auto v = p.to_vector<float>();
    const float bound = 1.0f / std::sqrt(5.0f);
    EXPECT_LE(*std::max_element(v.begin(), v.end()), bound) << name;
    EXPECT_GE(*std::min_element(v.begin(), v.end()), -bound) << name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"weight_ih_l0[20, 3]", "weight_hh_l0[20, 5]",
                                      "bias_ih_l0[20]", "bias_hh_l0[20]", "weight_ih_l1[20, 5]",
                                      "weight_hh_l1[20, 5]", "bias_ih_l1[20]", "bias_hh_l1[20]"}));
  EXPECT_EQ(nn::LSTM(3, 5, {.bias = false}).parameters().size(), 2u);
  EXPECT_EQ(lstm.repr(), "LSTM(3, 5, num_layers=2)");
  nn::LSTM bi(3, 5, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> bi_names;
  for (const auto& [name, p] : bi.named_parameters()) {
    if (name.starts_with("weight_ih")) bi_names.push_back(fmt::format("{}{}", name, p.shape()));
  }
  EXPECT_EQ(bi_names,
            (std::vector<std::string>{"weight_ih_l0[20, 3]", "weight_ih_l0_reverse[20, 3]",
                                      "weight_ih_l1[20, 10]", "weight_ih_l1_reverse[20, 10]"}));
  EXPECT_EQ(bi.parameters().size(), 16u);
  nn::LSTMCell cell(3, 5);
  std::vector<std::string> cell_names;
  for (const auto& [name, p] : cell.named_parameters()) cell_names.push_back(name);
  EXPECT_EQ(cell_names, (std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}));
}

// The golden cases through the module, with PyTorch's parameters loaded by name.
TEST_P(LstmModule, GoldenAgainstPyTorchViaStateDict) {
  const auto fx =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_lstm.txt"));
  for (const char* name :
       {"lstm2", "lstm2_batch_first", "lstm1_nobias_nostate", "lstm2_bidirectional"}) {
    SCOPED_TRACE(name);
    const std::string prefix = std::string(name) + ".";
    // A fresh copy on dev() of the fixture `name`.`key`.
    const auto at = [&](const std::string& key) { return fx.at(prefix + key).to(dev()).clone(); };
    nn::LSTM lstm(at("arg.input_size").item<int64_t>(), at("arg.hidden_size").item<int64_t>(),
                  {.num_layers = at("arg.num_layers").item<int64_t>(),
                   .bias = at("arg.bias").item<int64_t>() != 0,
                   .batch_first = at("arg.batch_first").item<int64_t>() != 0,
                   .bidirectional = at("arg.bidirectional").item<int64_t>() != 0});
    StateDict sd;
    for (const auto& [k, t] : fx) {
      if (k.starts_with(prefix + "param.")) sd.tensors[k.substr(prefix.size() + 6)] = t;
    }
    lstm.load_state_dict(sd);  // strict: the keys are PyTorch's
    lstm.to(dev());
    Tensor x = at("x").requires_grad_();
    nn::LSTMState state;
    if (fx.count(prefix + "h0")) state = {at("h0"), at("c0")};
    auto r = lstm(x, state);
    ((r.output * at("v")).sum() + (r.h_n * at("v_h")).sum() + (r.c_n * at("v_c")).sum()).backward();
    EXPECT_TRUE(all_close(r.output, at("out")));
    EXPECT_TRUE(all_close(r.h_n, at("h_n")));
    EXPECT_TRUE(all_close(x.grad(), at("grad.x")));
    for (const auto& [pname, p] : lstm.named_parameters()) {
      SCOPED_TRACE(pname);
      EXPECT_TRUE(all_close(p.grad(), at("grad." + pname)));
    }
    // The single-tensor forward (zero state) returns the output.
    if (!state.first.defined()) {
      EXPECT_TRUE(all_close(lstm(at("x")), at("out")));
    }
  }
}

// CPU-only: the cell and F::lstm share the kernels compared here; the golden and gradcheck
// tests cover each device.
TEST(LstmModuleCpu, CellMatchesOneStepOfLstmAndSequentialForward) {
  Generator gen(2);
  nn::LSTMCell cell(3, 4, {.generator = &gen});
  Tensor x = randn({2, 3}, {}, &gen), h = randn({2, 4}, {}, &gen), c = randn({2, 4}, {}, &gen);
  auto [h1, c1] = cell(x, {h, c});
  const auto& w = cell.weights();
  auto r = F::lstm(x.unsqueeze(0), {w}, h.unsqueeze(0), c.unsqueeze(0));
  EXPECT_TRUE(all_close(h1, r.h_n.squeeze(0), 1e-6, 1e-6));
  EXPECT_TRUE(all_close(c1, r.c_n.squeeze(0), 1e-6, 1e-6));
  EXPECT_TRUE(all_close(cell(x), cell(x, {}).first, 0, 0));
  h1.sum().backward();
  for (const Tensor& p : cell.parameters()) EXPECT_TRUE(p.grad().defined());

  nn::LSTM lstm(3, 4, {.num_layers = 2, .dropout = 0.5, .generator = &gen});
  Tensor seq = randn({5, 2, 3}, {}, &gen);
  lstm.eval();
  EXPECT_TRUE(all_close(lstm(seq), lstm(seq), 0, 0));  // eval: no dropout, deterministic
  lstm.train();
  EXPECT_FALSE(all_close(lstm(seq), lstm(seq), 1e-4, 1e-4));  // fresh masks each call
}

// In f64 the module's gradients pass a finite-difference check end to end.
TEST_P(LstmModule, GradcheckAfterToF64) {
  Generator gen(3);
  nn::LSTM lstm(2, 3, {.num_layers = 2, .batch_first = true, .generator = &gen});
  lstm.to(DType::F64);
  lstm.to(dev());
  std::vector<Tensor> inputs = {rand_input({2, 4, 2}, -1, 1, 11)};
  EXPECT_GRADCHECK_ON(
      dev(),
      [&](const std::vector<Tensor>& in) {
        auto r = lstm(in[0], {});
        return cat({r.output.flatten(), r.c_n.flatten()});
      },
      inputs);
}

// CPU-only: argument checks made before dispatch, the same for every device.
TEST(LstmModuleCpu, Errors) {
  EXPECT_THROW_MSG(nn::LSTM(0, 3), "LSTM: got input_size=0, hidden_size=3");
  EXPECT_THROW_MSG(nn::LSTM(2, 3, {.num_layers = 0}), "got num_layers=0");
  EXPECT_THROW_MSG(nn::LSTM(2, 3, {.dropout = -0.1}), "got dropout=-0.1");
  nn::LSTM lstm(2, 3);
  EXPECT_THROW_MSG(
      lstm(zeros({4, 1, 5})),
      "LSTM: input [4, 1, 5] needs (seq, batch, features): its last dim is 5 features, "
      "expected input_size 2");
  EXPECT_THROW_MSG(lstm(zeros({4, 1, 2}), {zeros({1, 1, 3}), {}}), "got only one of (h0, c0)");
  EXPECT_THROW_MSG(lstm(zeros({4, 1, 2}), {zeros({1, 2, 3}), zeros({1, 2, 3})}),
                   "h0 has shape [1, 2, 3], expected [1, 1, 3]");
  nn::LSTMCell cell(2, 3);
  EXPECT_THROW_MSG(cell(zeros({4, 5})), "LSTMCell: got input of shape [4, 5], expected (N, 2)");
}

// The graph, its saved tensors and the oneDNN workspaces are released after every
// backward: memory stays flat over many training steps. CPU-only: memory_stats() counts
// the CPU allocator, and the workspaces are oneDNN's.
TEST(LstmModuleCpu, MemoryStaysFlatOverTrainingSteps) {
  Generator gen(4);
  nn::LSTM lstm(8, 16, {.num_layers = 2, .dropout = 0.2, .generator = &gen});
  Tensor x = randn({10, 4, 8}, {}, &gen);
  const auto step = [&] {
    lstm.zero_grad();
    auto r = lstm(x, {});
    (r.output.sum() + r.c_n.sum()).backward();
  };
  step();
  step();
  const size_t held = memory_stats().allocated_bytes;
  for (int i = 0; i < 50; ++i) step();
  EXPECT_EQ(memory_stats().allocated_bytes, held);
}

INSTANTIATE_PER_DEVICE(Lstm);
INSTANTIATE_PER_DEVICE(LstmModule);

// The module names the input and the layout it expected, not a weight.
TEST(LstmModuleShapes, ErrorsNameTheInputAndItsLayout) {
  nn::LSTM lstm(20, 8);
  EXPECT_THROW_MSG(lstm.forward(zeros({4, 3, 5}), {}),
                   "LSTM: input [4, 3, 5] needs (seq, batch, features): its last dim is 5 "
                   "features, expected input_size 20");
  nn::LSTM bf(20, 8, {.batch_first = true});
  EXPECT_THROW_MSG(bf.forward(zeros({4, 20, 3}), {}),
                   "LSTM: input [4, 20, 3] needs (batch, seq, features) with batch_first");
  EXPECT_THROW_MSG(lstm.forward(zeros({7}), {}),
                   "LSTM: input [7] needs (seq, batch, features), (batch, seq, "
                   "features) with batch_first, or (seq, features) unbatched; "
                   "got 1 dims");
  EXPECT_THROW_MSG(lstm.forward(zeros({2, 4, 3, 20}), {}), "got 4 dims");
  EXPECT_EQ(lstm.forward(zeros({4, 3, 20}), {}).output.shape(), (Shape{4, 3, 8}));
  EXPECT_EQ(lstm.forward(zeros({4, 20}), {}).output.shape(), (Shape{4, 8}));  // unbatched
}
