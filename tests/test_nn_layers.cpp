// The simple layers: Linear (default init bounds, forward, f64 gradcheck, PyTorch
// golden values through load_state_dict), Flatten, Dropout (train/eval, gradcheck with
// a fixed mask), Embedding (padding row: zero at init, zero gradient), the activation
// modules against PyTorch's defaults, and their printouts and argument errors.
#include <descent/nn.h>

#include <cmath>
#include <limits>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::rand_input;

namespace {

const descent::testing::Fixtures& golden() {
  static const auto f =
      descent::testing::read_fixtures(descent::testing::test_data_path("golden/nn_core.txt"));
  return f;
}

// The module's parameters as stored by gen_nn_core_golden.py under "<case>.sd.".
StateDict golden_state(const std::string& c) {
  StateDict sd;
  const std::string prefix = c + ".sd.";
  for (const auto& [k, v] : golden()) {
    if (k.rfind(prefix, 0) == 0) sd.tensors[k.substr(prefix.size())] = v;
  }
  return sd;
}

// Runs `m` on the case's input, backpropagates its cotangent and compares the output
// and the gradients of the input (when stored) and of every parameter.
void expect_matches_golden(nn::Module& m, const std::string& c, double tol = 1e-5) {
  SCOPED_TRACE(c);
  Tensor x = golden().at(c + ".x").clone();
  const bool grad_x = golden().count(c + ".grad.x") > 0;
  if (grad_x) x.requires_grad_();
  m.zero_grad();
  Tensor y = m(x);
  EXPECT_TRUE(all_close(y, golden().at(c + ".out"), tol, tol * 10));
  y.backward(golden().at(c + ".v"));
  if (grad_x) {
    EXPECT_TRUE(all_close(x.grad(), golden().at(c + ".grad.x"), tol, tol * 10));
  }
  for (const auto& [name, p] : m.named_parameters()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(all_close(p.grad(), golden().at(c + ".grad." + name), tol, tol * 10));
  }
}

}  // namespace

// ---- Linear ---------------------------------------------------------------------------

TEST(Linear, ShapesNamesAndRepr) {
  nn::Linear fc(784, 512);
  EXPECT_EQ(fc.weight().shape(), (Shape{512, 784}));
  EXPECT_EQ(fc.bias().shape(), (Shape{512}));
  EXPECT_EQ(fc.weight().dtype(), DType::F32);
  EXPECT_EQ(fc.named_parameters()[0].first, "weight");
  EXPECT_EQ(fc.named_parameters()[1].first, "bias");
  EXPECT_EQ(fc.repr(), "Linear(in_features=784, out_features=512, bias=true)");
  nn::Linear nb(3, 2, {.bias = false});
  EXPECT_FALSE(nb.bias().defined());
  EXPECT_EQ(nb.parameters().size(), 1u);
  EXPECT_EQ(nb.repr(), "Linear(in_features=3, out_features=2, bias=false)");
  // (..., in) inputs of any rank.
  EXPECT_EQ(fc(randn({2, 3, 784})).shape(), (Shape{2, 3, 512}));
  EXPECT_EQ(fc(randn({784})).shape(), (Shape{512}));
}

TEST(Linear, DefaultInitIsUniformWithinOneOverSqrtFanIn) {
  nn::Linear fc(1000, 1000);
  const double bound = 1 / std::sqrt(1000.0);
  const auto w = fc.weight().to_vector<double>();
  const auto [wmin, wmax] = std::minmax_element(w.begin(), w.end());
  // Drawn in f32: the ends may round by an ulp or two.
  const double ulp = 4 * std::numeric_limits<float>::epsilon() * bound;
  EXPECT_GE(*wmin, -bound - ulp);
  EXPECT_LE(*wmax, bound + ulp);
  EXPECT_LT(*wmin, -0.999 * bound);  // the whole range is used
  EXPECT_GT(*wmax, 0.999 * bound);
  // U(-b, b) has std b/√3; 10^6 samples give it to ±0.1%.
  const double sd = descent::std(fc.weight()).item<double>();
  EXPECT_NEAR(sd / (bound / std::sqrt(3.0)), 1.0, 0.005);
  EXPECT_NEAR(fc.weight().mean().item<double>(), 0.0, 6 * bound / std::sqrt(3e6));
  // 1000 biases in the same range, spread over it.
  const auto b = fc.bias().to_vector<double>();
  const auto [bmin, bmax] = std::minmax_element(b.begin(), b.end());
  EXPECT_GE(*bmin, -bound - ulp);
  EXPECT_LE(*bmax, bound + ulp);
  EXPECT_LT(*bmin, -0.9 * bound);
  EXPECT_GT(*bmax, 0.9 * bound);
  // A fan_in of 4 gives bound 1/2.
  nn::Linear small(4, 2000);
  EXPECT_LE(amax(small.weight().abs(), {0, 1}).item<double>(), 0.5 + 1e-7);
  EXPECT_GT(amax(small.weight().abs(), {0, 1}).item<double>(), 0.499);
}

TEST(Linear, GeneratorMakesInitReproducible) {
  Generator g1(3), g2(3);
  nn::Linear a(5, 4, {.generator = &g1}), b(5, 4, {.generator = &g2});
  EXPECT_TRUE(all_close(a.weight(), b.weight(), 0, 0));
  EXPECT_TRUE(all_close(a.bias(), b.bias(), 0, 0));
  a.reset_parameters();
  EXPECT_FALSE(all_close(a.weight(), b.weight(), 1e-4, 0));
}

TEST(Linear, ForwardIsXWtPlusB) {
  nn::Linear fc(3, 2);
  Tensor x = randn({4, 3});
  EXPECT_TRUE(all_close(fc(x), x.matmul(fc.weight().t()) + fc.bias(), 1e-6, 1e-6));
}

TEST(Linear, GradcheckInF64) {
  nn::Linear fc(4, 3);
  fc.to(DType::F64);
  ASSERT_EQ(fc.weight().dtype(), DType::F64);
  Tensor x = rand_input({5, 4});
  // gradcheck perturbs the module's own parameters in place.
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return fc(in[0]); },
                   (std::vector<Tensor>{x, fc.weight(), fc.bias()}));
  nn::Linear nb(3, 2, {.bias = false});
  nb.to(DType::F64);
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return nb(in[0]); },
                   (std::vector<Tensor>{rand_input({2, 2, 3}), nb.weight()}));
}

TEST(Linear, MatchesPyTorchAfterLoadingItsStateDict) {
  nn::Sequential mlp(nn::Linear(5, 4), nn::ReLU(), nn::Linear(4, 3));
  mlp.load_state_dict(golden_state("mlp"));  // PyTorch's names: "0.weight", "2.bias"...
  expect_matches_golden(mlp, "mlp");
  nn::Linear nb(3, 2, {.bias = false});
  nb.load_state_dict(golden_state("nobias"));
  expect_matches_golden(nb, "nobias");
}

TEST(Linear, BadArgumentsThrow) {
  EXPECT_THROW_MSG(nn::Linear(-1, 3),
                   "Linear: got in_features=-1, out_features=3, expected sizes >= 0");
  nn::Linear fc(3, 2);
  EXPECT_THROW_MSG(fc(randn({4, 5})),
                   "Linear: got input of shape [4, 5], expected a last dim of in_features=3");
  EXPECT_THROW_MSG(fc(Tensor()), "Linear: got an undefined input");
}

// ---- Flatten --------------------------------------------------------------------------

TEST(Flatten, KeepsTheBatchDimByDefault) {
  nn::Flatten f;
  Tensor x = randn({2, 3, 4, 5});
  Tensor y = f(x);
  EXPECT_EQ(y.shape(), (Shape{2, 60}));
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(nn::Flatten(0)(x).shape(), (Shape{120}));
  EXPECT_EQ(nn::Flatten(1, 2)(x).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(nn::Flatten(-3, -2)(x).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(f.repr(), "Flatten(start_dim=1, end_dim=-1)");
  // Gradients flow back in the input's shape.
  Tensor xr = rand_input({2, 3, 2});
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return f(in[0]); }, {xr});
  EXPECT_THROW(nn::Flatten(5)(x), Error);
}

// ---- Dropout --------------------------------------------------------------------------

TEST(Dropout, TrainZeroesAFractionPAndScalesTheRest) {
  nn::Dropout d(0.3);
  Tensor x = ones({1000, 1000});
  const auto y = d(x).to_vector<float>();
  int64_t zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      ASSERT_NEAR(v, 1 / 0.7, 1e-6);
    }
  }
  // Binomial(10^6, 0.3): standard deviation ≈ 458.
  EXPECT_NEAR(double(zeros), 3e5, 6 * 458);
  EXPECT_EQ(d.repr(), "Dropout(p=0.3)");
}

TEST(Dropout, EvalIsTheIdentity) {
  nn::Dropout d(0.5);
  d.eval();
  Tensor x = randn({10, 10});
  EXPECT_TRUE(d(x).is_same(x));
  d.train();
  EXPECT_FALSE(all_close(d(x), x));
  // Inside a Sequential, eval() reaches it.
  nn::Sequential s(nn::Linear(10, 10), nn::Dropout(0.9));
  s.eval();
  Tensor a = s(x), b = s(x);
  EXPECT_TRUE(all_close(a, b, 0, 0));
}

TEST(Dropout, GradcheckWithAFixedMask) {
  Generator gen(11);
  nn::Dropout d(0.4, &gen);
  // Restoring the generator before every call gives the same mask each time.
  const GeneratorState start = gen.state();
  auto f = [&](const std::vector<Tensor>& in) {
    gen.set_state(start);
    return d(in[0]);
  };
  Tensor x = rand_input({6, 7});
  Tensor y1 = f({x}), y2 = f({x});
  EXPECT_TRUE(all_close(y1, y2, 0, 0));
  EXPECT_GT((y1 == 0.0).sum().item<double>(), 0.0);  // some elements were dropped
  EXPECT_GRADCHECK(f, {x});
}

TEST(Dropout, BadProbabilityThrows) {
  EXPECT_THROW_MSG(nn::Dropout(1.5), "Dropout: got p=1.5, expected a probability in [0, 1]");
  EXPECT_THROW_MSG(nn::Dropout(-0.1), "Dropout: got p=-0.1");
}

// ---- Embedding ------------------------------------------------------------------------

TEST(Embedding, LooksUpRowsAndInitsStandardNormal) {
  nn::Embedding e(1000, 1000);
  EXPECT_EQ(e.weight().shape(), (Shape{1000, 1000}));
  EXPECT_NEAR(e.weight().mean().item<double>(), 0.0, 6e-3);
  EXPECT_NEAR(descent::std(e.weight()).item<double>(), 1.0, 5e-3);
  Tensor idx = from_vector<int64_t>({3, 999, 3, 0}, {2, 2});
  Tensor y = e(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 1000}));
  EXPECT_TRUE(all_close(y.select(0, 1).select(0, 0), e.weight().select(0, 3), 0, 0));
  EXPECT_TRUE(all_close(y.select(0, 0).select(0, 1), e.weight().select(0, 999), 0, 0));
  EXPECT_EQ(e.repr(), "Embedding(1000, 1000)");
}

TEST(Embedding, PaddingRowStartsAtZeroAndGetsNoGradient) {
  nn::Embedding e(6, 3, {.padding_idx = -2});
  ASSERT_EQ(e.padding_idx(), 4);
  EXPECT_EQ(e.repr(), "Embedding(6, 3, padding_idx=4)");
  EXPECT_EQ(e.weight().select(0, 4).abs().sum().item<double>(), 0.0);
  EXPECT_GT(e.weight().select(0, 3).abs().sum().item<double>(), 0.0);
  Tensor idx = from_vector<int64_t>({4, 1, 4, 4}, {4});
  e(idx).pow(2).sum().backward();
  EXPECT_EQ(e.weight().grad().select(0, 4).abs().sum().item<double>(), 0.0);
  // Row 1 was used once: d/dw Σw² = 2w.
  EXPECT_TRUE(all_close(e.weight().grad().select(0, 1), e.weight().select(0, 1) * 2.0, 1e-6));
}

TEST(Embedding, GradcheckInF64) {
  // Repeated indices accumulate into their row.
  nn::Embedding e(5, 3);
  e.to(DType::F64);
  Tensor idx = from_vector<int64_t>({1, 0, 4, 1, 2, 0}, {2, 3});
  EXPECT_GRADCHECK([&](const std::vector<Tensor>&) { return e(idx); },
                   (std::vector<Tensor>{e.weight()}));
  // The padding row's gradient is zero by definition (not the true derivative, as in
  // torch); every other row gets the same gradient as without padding.
  nn::Embedding p(5, 3, {.padding_idx = 0});
  p.to(DType::F64);
  p.load_state_dict(e.state_dict());
  Tensor v = rand_input({2, 3, 3}).detach();
  e.zero_grad();
  (e(idx) * v).sum().backward();
  (p(idx) * v).sum().backward();
  EXPECT_EQ(p.weight().grad().select(0, 0).abs().sum().item<double>(), 0.0);
  EXPECT_GT(e.weight().grad().select(0, 0).abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(all_close(p.weight().grad().slice(0, 1, 5), e.weight().grad().slice(0, 1, 5), 0, 0));
}

TEST(Embedding, MatchesPyTorch) {
  nn::Embedding e(6, 3, {.padding_idx = -2});
  e.load_state_dict(golden_state("emb"));
  expect_matches_golden(e, "emb");
}

TEST(Embedding, FromPretrainedCopiesTheTable) {
  Tensor table = rand_input({4, 2}).detach();
  nn::Embedding frozen = nn::Embedding::from_pretrained(table);
  EXPECT_EQ(frozen.weight().dtype(), DType::F64);
  EXPECT_FALSE(frozen.weight().requires_grad());
  EXPECT_TRUE(all_close(frozen.weight(), table, 0, 0));
  EXPECT_FALSE(frozen.weight().storage() == table.storage());  // a copy
  EXPECT_TRUE(all_close(frozen(from_vector<int64_t>({2})), table.slice(0, 2, 3), 0, 0));
  nn::Embedding trained = nn::Embedding::from_pretrained(table, /*freeze=*/false, 1);
  EXPECT_TRUE(trained.weight().requires_grad());
  EXPECT_EQ(trained.padding_idx(), 1);
  EXPECT_TRUE(all_close(trained.weight(), table, 0, 0));  // padding row kept, as torch
  EXPECT_THROW_MSG(nn::Embedding::from_pretrained(ones({3})),
                   "Embedding.from_pretrained: got a f32 tensor of shape [3], expected a 2-D "
                   "floating tensor");
}

TEST(Embedding, BadArgumentsThrow) {
  EXPECT_THROW_MSG(nn::Embedding(0, 3),
                   "Embedding: got num_embeddings=0, embedding_dim=3, expected positive sizes");
  EXPECT_THROW_MSG(nn::Embedding(5, 3, {.padding_idx = 5}),
                   "Embedding: got padding_idx=5, expected a value in [-5, 5)");
  nn::Embedding e(5, 3);
  EXPECT_THROW(e(from_vector<int64_t>({7})), Error);
}

// ---- activations ----------------------------------------------------------------------

TEST(Activations, MatchPyTorchDefaults) {
  nn::ReLU relu;
  nn::LeakyReLU leaky;
  nn::ELU elu;
  nn::GELU gelu;
  nn::GELU gelu_tanh(F::GeluApprox::Tanh);
  nn::SiLU silu;
  nn::Sigmoid sigmoid;
  nn::Tanh tanh;
  nn::Softplus softplus;
  nn::Softmax softmax(1);
  nn::LogSoftmax log_softmax(1);
  const std::vector<std::pair<std::string, nn::Module*>> cases = {{"ReLU", &relu},
                                                                  {"LeakyReLU", &leaky},
                                                                  {"ELU", &elu},
                                                                  {"GELU", &gelu},
                                                                  {"GELU_tanh", &gelu_tanh},
                                                                  {"SiLU", &silu},
                                                                  {"Sigmoid", &sigmoid},
                                                                  {"Tanh", &tanh},
                                                                  {"Softplus", &softplus},
                                                                  {"Softmax", &softmax},
                                                                  {"LogSoftmax", &log_softmax}};
  for (const auto& [name, m] : cases) expect_matches_golden(*m, "act." + name);
}

TEST(Activations, ArgumentsReachTheOps) {
  Tensor x = randn({3, 5});
  EXPECT_TRUE(all_close(nn::LeakyReLU(0.2)(x), F::leaky_relu(x, 0.2), 0, 0));
  EXPECT_TRUE(all_close(nn::ELU(0.5)(x), F::elu(x, 0.5), 0, 0));
  EXPECT_TRUE(all_close(nn::Softplus(2, 1)(x), F::softplus(x, 2, 1), 0, 0));
  EXPECT_TRUE(all_close(nn::Softmax(0)(x), F::softmax(x, 0), 0, 0));
  EXPECT_TRUE(all_close(nn::LogSoftmax(-1)(x), F::log_softmax(x, -1), 0, 0));
  EXPECT_THROW(nn::Softmax(2)(x), Error);
  EXPECT_THROW(nn::ELU()(zeros({2}, {.dtype = DType::I64})), Error);
}

TEST(Activations, Repr) {
  EXPECT_EQ(nn::ReLU().repr(), "ReLU()");
  EXPECT_EQ(nn::LeakyReLU().repr(), "LeakyReLU(negative_slope=0.01)");
  EXPECT_EQ(nn::ELU(0.5).repr(), "ELU(alpha=0.5)");
  EXPECT_EQ(nn::GELU().repr(), "GELU(approximate='none')");
  EXPECT_EQ(nn::GELU(F::GeluApprox::Tanh).repr(), "GELU(approximate='tanh')");
  EXPECT_EQ(nn::Softplus().repr(), "Softplus(beta=1, threshold=20)");
  EXPECT_EQ(nn::Softmax(1).repr(), "Softmax(dim=1)");
  EXPECT_EQ(nn::LogSoftmax(-1).repr(), "LogSoftmax(dim=-1)");
  EXPECT_EQ(nn::SiLU().repr(), "SiLU()");
  EXPECT_EQ(nn::Sigmoid().repr(), "Sigmoid()");
  EXPECT_EQ(nn::Tanh().repr(), "Tanh()");
}
