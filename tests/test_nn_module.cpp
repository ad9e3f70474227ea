// nn::Module: registration and dotted names, tied weights, train/eval, in-place
// dtype conversion seen through every handle, zero_grad, apply, hooks, printing,
// state_dict/load_state_dict (strict and not), moves; Sequential and ModuleList.
#include <descent/nn.h>

#include <sstream>

#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::all_close;

namespace {

// y = x·wᵀ + b, with a step counter buffer: a user module written with register calls.
struct Affine : nn::Module {
  Tensor weight_, bias_, steps_;
  Affine(int64_t in, int64_t out, uint64_t seed = 1) {
    Generator gen(seed);
    weight_ = register_parameter("weight", randn({out, in}, {}, &gen));
    bias_ = register_parameter("bias", zeros({out}));
    steps_ = register_buffer("steps", zeros({}, {.dtype = DType::I64}));
  }
  Tensor forward(const Tensor& x) override { return x.matmul(weight_.t()) + bias_; }
  std::string extra_repr() const override {
    return fmt::format("in={}, out={}", weight_.size(1), weight_.size(0));
  }
};

struct Net : nn::Module {
  Tensor scale_;
  std::shared_ptr<Affine> fc1_, fc2_;
  Net(uint64_t seed = 1)
      : fc1_(register_module("fc1", std::make_shared<Affine>(3, 4, seed))),
        fc2_(register_module("fc2", std::make_shared<Affine>(4, 2, seed + 1))) {
    scale_ = register_parameter("scale", ones({1}));
    register_buffer("mean", zeros({2}));
  }
  Tensor forward(const Tensor& x) override { return (*fc2_)((*fc1_)(x)) * scale_; }
};

std::vector<std::string> names_of(const std::vector<nn::NamedTensor>& v) {
  std::vector<std::string> out;
  for (const auto& [n, t] : v) out.push_back(n);
  return out;
}

struct NoForward : nn::Module {};

}  // namespace

TEST(Module, NamedParametersAreRecursiveDottedAndInRegistrationOrder) {
  Net net;
  using V = std::vector<std::string>;
  EXPECT_EQ(names_of(net.named_parameters()),
            (V{"scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(names_of(net.named_parameters(/*recurse=*/false)), (V{"scale"}));
  EXPECT_EQ(names_of(net.named_buffers()), (V{"mean", "fc1.steps", "fc2.steps"}));
  EXPECT_EQ(net.parameters().size(), 5u);
  EXPECT_EQ(net.buffers().size(), 3u);
  ASSERT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.named_children()[1].first, "fc2");
  EXPECT_EQ(net.children()[0].get(), net.fc1_.get());
  auto mods = net.named_modules();
  ASSERT_EQ(mods.size(), 2u);
  EXPECT_EQ(mods[0].first, "fc1");
  // Handles in the registry are the members' handles.
  EXPECT_TRUE(net.parameters()[1].is_same(net.fc1_->weight_));
  EXPECT_TRUE(net.find_parameter("scale")->is_same(net.scale_));
  EXPECT_EQ(net.find_parameter("nothing"), nullptr);
  EXPECT_NE(net.find_buffer("mean"), nullptr);
  EXPECT_EQ(net.find_child("fc2").get(), net.fc2_.get());
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.requires_grad());
}

TEST(Module, RegistrationErrorsNameTheModuleAndTheProblem) {
  Affine m(2, 2);
  EXPECT_THROW_MSG(m.register_parameter("", ones({1})), "Affine.register_parameter: got an empty");
  EXPECT_THROW_MSG(m.register_buffer("a.b", ones({1})), "got name 'a.b', expected a name without");
  EXPECT_THROW_MSG(m.register_buffer("weight", ones({1})), "name 'weight' is already registered");
  EXPECT_THROW_MSG(m.register_module("bias", std::make_shared<NoForward>()),
                   "name 'bias' is already registered");
  EXPECT_THROW_MSG(m.register_parameter("idx", zeros({2}, {.dtype = DType::I64})),
                   "parameter 'idx' has dtype i64, expected a floating dtype");
  Tensor leaf = ones({2}, {.requires_grad = true});
  EXPECT_THROW_MSG(m.register_parameter("derived", leaf * 2.0), "expected a leaf");
  EXPECT_THROW_MSG(m.register_module("child", std::shared_ptr<NoForward>()),
                   "submodule 'child' is null");
  // Integer parameters are fine when they do not require grad; undefined ones are absent.
  m.register_parameter("table", zeros({2}, {.dtype = DType::I64}), /*requires_grad=*/false);
  m.register_parameter("absent", Tensor());
  EXPECT_EQ(names_of(m.named_parameters()), (std::vector<std::string>{"weight", "bias", "table"}));
  EXPECT_FALSE(m.find_parameter("table")->requires_grad());
}

TEST(Module, TiedTensorsAreListedOnceButSavedUnderEachName) {
  Net net;
  // fc2 reuses a tensor of fc1 under a second name.
  net.fc2_->register_parameter("tied", net.fc1_->bias_);
  EXPECT_EQ(net.parameters().size(), 5u);
  StateDict sd = net.state_dict();
  EXPECT_EQ(sd.tensors.count("fc1.bias"), 1u);
  EXPECT_EQ(sd.tensors.count("fc2.tied"), 1u);
  EXPECT_EQ(sd.tensors.size(), 9u);  // 6 parameter names + 3 buffers
}

TEST(Module, TrainAndEvalAreRecursive) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net.fc1_->is_training());
  EXPECT_FALSE(net.fc2_->is_training());
  net.fc2_->train();
  EXPECT_TRUE(net.fc2_->is_training());
  EXPECT_FALSE(net.is_training());
  net.train();
  EXPECT_TRUE(net.fc1_->is_training());
}

TEST(Module, ToDTypeChangesTensorsInPlaceForEveryHandle) {
  Net net;
  const std::vector<Tensor> held = net.parameters();  // as an optimizer would hold them
  const std::vector<double> before = net.fc1_->weight_.to_vector<double>();
  Tensor x = from_vector<float>({0.5f, -1, 2}, {1, 3});
  net(x).sum().backward();  // gradients exist before the conversion
  ASSERT_TRUE(net.fc1_->weight_.grad().defined());

  net.to(DType::F64);
  for (const Tensor& p : held) {
    EXPECT_EQ(p.dtype(), DType::F64);
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
    EXPECT_EQ(p.grad().dtype(), DType::F64);
  }
  EXPECT_EQ(net.fc1_->weight_.dtype(), DType::F64);
  EXPECT_EQ(net.fc1_->weight_.to_vector<double>(), before);  // f32 → f64 is exact
  EXPECT_EQ(net.find_buffer("mean")->dtype(), DType::F64);
  EXPECT_EQ(net.fc1_->steps_.dtype(), DType::I64);  // integer buffers stay

  // The converted leaves still train: a new graph accumulates f64 gradients.
  net.zero_grad();
  Tensor y = net(x.to(DType::F64));
  EXPECT_EQ(y.dtype(), DType::F64);
  y.sum().backward();
  EXPECT_EQ(held[1].grad().dtype(), DType::F64);
  EXPECT_EQ(held[1].grad().shape(), (Shape{4, 3}));
  net.to(DType::F32);
  EXPECT_EQ(held[1].dtype(), DType::F32);
  EXPECT_EQ(held[1].to_vector<double>(), before);
}

TEST(Module, NonPersistentBuffersAreConvertedButNotSaved) {
  Affine m(2, 2);
  m.register_buffer("cache", zeros({3}), /*persistent=*/false);
  EXPECT_EQ(m.buffers().size(), 2u);
  EXPECT_EQ(m.state_dict().tensors.count("cache"), 0u);
  EXPECT_EQ(m.state_dict().tensors.count("steps"), 1u);
  m.to(DType::F64);
  EXPECT_EQ(m.find_buffer("cache")->dtype(), DType::F64);
  Affine n(2, 2);
  n.register_buffer("cache", ones({3}), false);
  EXPECT_TRUE(n.load_state_dict(m.state_dict(), {.convert_dtype = true})
                  .missing.empty());  // not expected in a dict
  EXPECT_EQ(n.find_buffer("cache")->sum().item<double>(), 3.0);
}

TEST(Module, ToAnIntegerDTypeThrows) {
  Affine m(2, 2);
  EXPECT_THROW_MSG(m.to(DType::I64), "Affine.to: got dtype i64, expected a floating dtype");
  EXPECT_EQ(m.weight_.dtype(), DType::F32);
}

TEST(Module, AFailedConversionLeavesTheModuleUnchanged) {
  if (cuda_available()) GTEST_SKIP() << "needs a machine where Device::CUDA is unusable";
  Net net;
  EXPECT_THROW(net.to(Device::CUDA), Error);  // no CUDA build, or no GPU
  for (const Tensor& t : net.parameters()) EXPECT_TRUE(t.device().is_cpu());
  for (const Tensor& t : net.buffers()) EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(net(ones({1, 3})).shape(), (Shape{1, 2}));
}

TEST(Module, RequiresGradFreezesAndUnfreezes) {
  Net net;
  net.fc1_->requires_grad_(false);
  EXPECT_FALSE(net.fc1_->weight_.requires_grad());
  EXPECT_TRUE(net.fc2_->weight_.requires_grad());
  net(ones({1, 3})).sum().backward();
  EXPECT_FALSE(net.fc1_->weight_.grad().defined());
  EXPECT_TRUE(net.fc2_->weight_.grad().defined());
  net.requires_grad_();
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Module, ToDeviceOnTheCurrentDeviceKeepsTensors) {
  Net net;
  Tensor w = net.fc1_->weight_;
  const auto* storage = w.storage().get();
  net.to(Device::CPU);
  EXPECT_EQ(w.storage().get(), storage);
}

TEST(Module, ZeroGradClearsOrZeroes) {
  Net net;
  Tensor x = from_vector<float>({1, 2, 3}, {1, 3});
  net(x).sum().backward();
  for (const Tensor& p : net.parameters()) ASSERT_TRUE(p.grad().defined());
  net.zero_grad(/*set_to_none=*/false);
  for (const Tensor& p : net.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
  }
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, ApplyVisitsChildrenBeforeParents) {
  Net net;
  std::vector<std::string> order;
  net.apply([&](nn::Module& m) { order.push_back(m.type_name()); });
  EXPECT_EQ(order, (std::vector<std::string>{"Affine", "Affine", "Net"}));
  // A typical use: freeze every submodule of one type.
  net.apply([](nn::Module& m) {
    if (dynamic_cast<Affine*>(&m)) {
      for (Tensor p : m.parameters()) p.requires_grad_(false);
    }
  });
  EXPECT_FALSE(net.fc1_->weight_.requires_grad());
  EXPECT_TRUE(net.scale_.requires_grad());
}

TEST(Module, ForwardHooksRunInOrderAndCanBeRemoved) {
  Affine m(2, 2);
  std::vector<std::string> log;
  auto pre = m.register_forward_pre_hook([&](nn::Module&, const Tensor& x) {
    log.push_back("pre");
    return x * 2.0;  // replaces the input
  });
  auto keep = m.register_forward_hook([&](nn::Module& self, const Tensor&, const Tensor&) {
    log.push_back("post:" + self.type_name());
    return Tensor();  // keeps the output
  });
  auto post = m.register_forward_hook([&](nn::Module&, const Tensor& in, const Tensor& out) {
    log.push_back("post2");
    EXPECT_TRUE(all_close(in, from_vector<float>({2, 4}, {1, 2})));
    return out + 1.0;
  });
  Tensor x = from_vector<float>({1, 2}, {1, 2});
  Tensor y = m(x);
  EXPECT_EQ(log, (std::vector<std::string>{"pre", "post:Affine", "post2"}));
  EXPECT_TRUE(all_close(y, m.forward(x * 2.0) + 1.0, 0, 0));
  EXPECT_TRUE(m.remove_hook(pre));
  EXPECT_FALSE(m.remove_hook(pre));
  EXPECT_TRUE(m.remove_hook(post));
  EXPECT_TRUE(m.remove_hook(keep));
  log.clear();
  EXPECT_TRUE(all_close(m(x), m.forward(x), 0, 0));
  EXPECT_TRUE(log.empty());
  EXPECT_THROW_MSG(m.register_forward_hook({}), "got an empty function");
}

TEST(Module, DefaultForwardThrowsNamingTheType) {
  NoForward m;
  EXPECT_THROW_MSG(m(ones({1})), "NoForward: forward(const Tensor&) is not implemented");
}

TEST(Module, ReprPrintsTheTreeLikePyTorch) {
  Net net;
  const std::string want =
      "Net(\n"
      "  (fc1): Affine(in=3, out=4)\n"
      "  (fc2): Affine(in=4, out=2)\n"
      ")";
  EXPECT_EQ(net.repr(), want);
  EXPECT_EQ(fmt::format("{}", net), want);
  EXPECT_EQ(fmt::format("{}", *net.fc1_), "Affine(in=3, out=4)");
  std::ostringstream os;
  os << net;
  EXPECT_EQ(os.str(), want);
  EXPECT_EQ(NoForward().repr(), "NoForward()");
}

TEST(Module, StateDictSharesStorageUnderDottedNames) {
  Net net;
  StateDict sd = net.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, v] : sd.tensors) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"fc1.bias", "fc1.steps", "fc1.weight", "fc2.bias",
                                            "fc2.steps", "fc2.weight", "mean", "scale"}));
  EXPECT_EQ(sd.tensors["fc1.weight"].storage(), net.fc1_->weight_.storage());
  EXPECT_FALSE(sd.tensors["fc1.weight"].requires_grad());
}

TEST(Module, LoadStateDictCopiesIntoExistingTensors) {
  Net src(/*seed=*/10), dst(/*seed=*/20);
  ASSERT_FALSE(all_close(src.fc1_->weight_, dst.fc1_->weight_));
  const Tensor held = dst.fc1_->weight_;
  const auto* storage = held.storage().get();
  NoGradGuard ng;
  src.fc2_->steps_.fill_(7);
  nn::LoadStateDictResult r = dst.load_state_dict(src.state_dict());
  EXPECT_TRUE(r.missing.empty());
  EXPECT_TRUE(r.unexpected.empty());
  EXPECT_TRUE(all_close(dst.fc1_->weight_, src.fc1_->weight_, 0, 0));
  EXPECT_TRUE(held.is_same(dst.fc1_->weight_));
  EXPECT_EQ(held.storage().get(), storage);  // copied into, not replaced
  EXPECT_EQ(dst.fc2_->steps_.item<int64_t>(), 7);
  // Copies, not aliases: changing the source afterwards leaves dst alone.
  src.fc1_->weight_.fill_(0.0);
  EXPECT_NE(dst.fc1_->weight_.abs().sum().item<double>(), 0.0);
}

TEST(Module, LoadStateDictRefusesAnotherDtypeUnlessAskedToConvert) {
  Net src(10), dst(20);
  src.to(DType::F64);
  const Tensor before = dst.fc1_->weight_.clone();
  EXPECT_THROW_MSG(dst.load_state_dict(src.state_dict()),
                   "Net.load_state_dict: dtype mismatches 'fc1.bias' (got f64, expected f32), "
                   "'fc1.weight' (got f64, expected f32)");
  EXPECT_THROW_MSG(dst.load_state_dict(src.state_dict(), {.strict = false}),
                   "(pass {.convert_dtype = true} to convert)");
  EXPECT_TRUE(all_close(dst.fc1_->weight_, before, 0, 0));  // nothing copied
  dst.load_state_dict(src.state_dict(), {.convert_dtype = true});
  EXPECT_EQ(dst.fc1_->weight_.dtype(), DType::F32);
  EXPECT_TRUE(all_close(dst.fc1_->weight_, src.fc1_->weight_.to(DType::F32), 0, 0));
  // Integer buffers are compared too: an f32 step counter is not an i64 one.
  StateDict sd = Net(10).state_dict();
  sd.tensors["fc2.steps"] = sd.tensors["fc2.steps"].to(DType::F32);
  EXPECT_THROW_MSG(dst.load_state_dict(sd), "'fc2.steps' (got f32, expected i64)");
}

TEST(Module, StrictLoadListsEveryOffendingName) {
  Net dst(20);
  const Tensor before = dst.fc1_->weight_.clone();
  StateDict sd = Net(10).state_dict();
  sd.tensors.erase("scale");
  sd.tensors.erase("fc2.bias");
  sd.tensors["extra.weight"] = ones({1});
  sd.tensors["fc1.weight"] = ones({3, 4});  // transposed shape
  try {
    dst.load_state_dict(sd);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Net.load_state_dict: missing keys 'fc2.bias', 'scale'"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("unexpected keys 'extra.weight'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("shape mismatches 'fc1.weight' (got shape [3, 4], expected [4, 3])"),
              std::string::npos)
        << msg;
  }
  // Nothing was copied.
  EXPECT_TRUE(all_close(dst.fc1_->weight_, before, 0, 0));
}

TEST(Module, NonStrictLoadReturnsMissingAndUnexpected) {
  Net src(10), dst(20);
  StateDict sd = src.state_dict();
  sd.tensors.erase("fc2.weight");
  sd.tensors["bogus"] = ones({2});
  nn::LoadStateDictResult r = dst.load_state_dict(sd, {.strict = false});
  EXPECT_EQ(r.missing, (std::vector<std::string>{"fc2.weight"}));
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"bogus"}));
  EXPECT_TRUE(all_close(dst.fc1_->weight_, src.fc1_->weight_, 0, 0));
  EXPECT_FALSE(all_close(dst.fc2_->weight_, src.fc2_->weight_));
  // Shape mismatches throw even when not strict.
  sd.tensors["scale"] = ones({2});
  EXPECT_THROW_MSG(dst.load_state_dict(sd, {.strict = false}),
                   "shape mismatches 'scale' (got shape [2], expected [1])");
}

TEST(Module, MoveKeepsMembersAndRegistryConsistent) {
  Affine a(3, 2);
  const Tensor w = a.weight_;
  Affine b(std::move(a));
  EXPECT_TRUE(b.weight_.is_same(w));
  ASSERT_EQ(b.parameters().size(), 2u);
  EXPECT_TRUE(b.parameters()[0].is_same(b.weight_));
  EXPECT_TRUE(a.parameters().empty());  // NOLINT: the moved-from module is empty
  b.to(DType::F64);
  EXPECT_EQ(b.weight_.dtype(), DType::F64);
  EXPECT_EQ(w.dtype(), DType::F64);
  Affine c(1, 1);
  c = std::move(b);
  EXPECT_TRUE(c.parameters()[0].is_same(c.weight_));
  EXPECT_EQ(c.weight_.size(1), 3);
  // A module moved into a shared_ptr (what Sequential does with temporaries).
  auto p = std::make_shared<Affine>(std::move(c));
  EXPECT_TRUE(p->parameters()[1].is_same(p->bias_));
  p->bias_.requires_grad_(false);
  EXPECT_FALSE(p->parameters()[1].requires_grad());
}

TEST(Module, UserModuleTrainsThroughRegisteredParameters) {
  // Fit y = 2x - 1 with a 1→1 Affine: plain gradient descent on parameters().
  Affine m(1, 1, /*seed=*/3);
  Tensor x = linspace(-1, 1, 16).reshape({16, 1});
  Tensor y = x * 2.0 - 1.0;
  for (int step = 0; step < 200; ++step) {
    m.zero_grad();
    Tensor loss = (m(x) - y).pow(2).mean();
    loss.backward();
    NoGradGuard ng;
    for (Tensor p : m.parameters()) add_(p, p.grad(), -0.1);
  }
  EXPECT_NEAR(m.weight_.item<double>(), 2.0, 1e-3);
  EXPECT_NEAR(m.bias_.item<double>(), -1.0, 1e-3);
}

// ---- containers ---------------------------------------------------------------------

TEST(Sequential, RunsModulesInOrderUnderIndexNames) {
  nn::Sequential model(nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 10));
  EXPECT_EQ(model.size(), 3u);
  EXPECT_EQ(names_of(model.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(model.parameters().size(), 4u);
  Tensor x = randn({8, 784});
  Tensor y = model(x);
  EXPECT_EQ(y.shape(), (Shape{8, 10}));
  auto& fc1 = model.at<nn::Linear>(0);
  auto& fc2 = model.at<nn::Linear>(2);
  EXPECT_TRUE(all_close(y, fc2(F::relu(fc1(x))), 0, 0));
  EXPECT_EQ(&model[-1], &fc2);
  EXPECT_EQ(model.ptr(1)->type_name(), "ReLU");
  // Gradients reach every parameter.
  y.sum().backward();
  for (const Tensor& p : model.parameters()) EXPECT_TRUE(p.grad().defined());
}

TEST(Sequential, AcceptsSharedPtrsAndPushBack) {
  auto fc = std::make_shared<nn::Linear>(2, 3);
  nn::Sequential s(fc, nn::Tanh());
  EXPECT_EQ(&s.at<nn::Linear>(0), fc.get());  // shared, not copied
  s.push_back(nn::Linear(3, 1));
  s.push_back(std::make_shared<nn::Sigmoid>());
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s.named_children()[3].first, "3");
  Tensor x = randn({5, 2});
  Tensor want = F::sigmoid(s.at<nn::Linear>(2)(F::tanh((*fc)(x))));
  EXPECT_TRUE(all_close(s(x), want, 0, 0));
  // Empty is the identity.
  nn::Sequential empty;
  EXPECT_TRUE(empty(x).is_same(x));
  EXPECT_TRUE(empty.empty());
}

TEST(Sequential, NestsWithDottedNamesAndPrintsTheTree) {
  nn::Sequential model(nn::Sequential(nn::Linear(4, 3), nn::ReLU()), nn::Dropout(0.1),
                       nn::Linear(3, 2, {.bias = false}));
  EXPECT_EQ(names_of(model.named_parameters()),
            (std::vector<std::string>{"0.0.weight", "0.0.bias", "2.weight"}));
  EXPECT_EQ(model.repr(),
            "Sequential(\n"
            "  (0): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=3, bias=true)\n"
            "    (1): ReLU()\n"
            "  )\n"
            "  (1): Dropout(p=0.1)\n"
            "  (2): Linear(in_features=3, out_features=2, bias=false)\n"
            ")");
  EXPECT_EQ(fmt::format("{}", model), model.repr());
  model.eval();
  EXPECT_FALSE(model.at<nn::Sequential>(0)[0].is_training());
}

TEST(Sequential, IndexAndTypeErrorsThrow) {
  nn::Sequential s(nn::Linear(2, 2), nn::ReLU());
  EXPECT_THROW_MSG(s[2], "Sequential: index 2 is out of range for 2 modules");
  EXPECT_THROW_MSG(s[-3], "Sequential: index -3 is out of range for 2 modules");
  EXPECT_THROW_MSG(s.at<nn::Linear>(1),
                   "Sequential: module 1 is a ReLU, expected descent::nn::Linear");
}

TEST(Sequential, MovesAndRoundTripsItsStateDict) {
  nn::Sequential a(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  const Tensor w = a.at<nn::Linear>(0).weight();
  nn::Sequential b(std::move(a));
  EXPECT_TRUE(b.at<nn::Linear>(0).weight().is_same(w));
  EXPECT_TRUE(b.parameters()[0].is_same(w));
  nn::Sequential c(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  c.load_state_dict(b.state_dict());
  Tensor x = randn({2, 3});
  EXPECT_TRUE(all_close(c(x), b(x), 0, 0));
  nn::Sequential wrong(nn::Linear(3, 4), nn::Linear(4, 2));
  EXPECT_THROW_MSG(wrong.load_state_dict(b.state_dict()),
                   "missing keys '1.bias', '1.weight'; unexpected keys '2.bias', '2.weight'");
}

TEST(ModuleList, HoldsModulesForAParentsForward) {
  struct Tower : nn::Module {
    std::shared_ptr<nn::ModuleList> layers;
    Tower() : layers(register_module("layers", std::make_shared<nn::ModuleList>())) {
      for (int i = 0; i < 3; ++i) layers->push_back(nn::Linear(4, 4));
    }
    Tensor forward(const Tensor& x) override {
      Tensor h = x;
      for (size_t i = 0; i < layers->size(); ++i) h = F::relu((*layers)[int64_t(i)](h));
      return h;
    }
  };
  Tower t;
  EXPECT_EQ(t.parameters().size(), 6u);
  EXPECT_EQ(t.named_parameters()[4].first, "layers.2.weight");
  EXPECT_EQ(t(randn({2, 4})).shape(), (Shape{2, 4}));
  EXPECT_THROW_MSG((*t.layers)(randn({2, 4})),
                   "ModuleList: forward(const Tensor&) is not implemented");
  nn::ModuleList list{nn::ReLU(), nn::Tanh()};  // braces: parentheses would declare a function
  EXPECT_EQ(list.at<nn::Tanh>(1).type_name(), "Tanh");
}

TEST(Module, ReprPutsExtraReprOnItsOwnLineWhenThereAreChildren) {
  struct Wrapper : nn::Module {
    Wrapper() { register_module("inner", std::make_shared<nn::ReLU>()); }
    std::string extra_repr() const override { return "scale=2"; }
  };
  EXPECT_EQ(Wrapper().repr(), "Wrapper(\n  scale=2\n  (inner): ReLU()\n)");
}

namespace {
// A model written as the README shows: braced options through register_module, and
// submodules called like functions through nn::Shared.
struct SharedNet : nn::Module {
  nn::Shared<nn::Linear> fc1 = register_module("fc1", nn::Linear(4, 8, {.bias = false}));
  nn::Shared<nn::LSTM> lstm = register_module("lstm", nn::LSTM(8, 3, {.num_layers = 2}));
  Tensor forward(const Tensor& x) override { return lstm(fc1(x)); }
};
}  // namespace

TEST(Module, SharedSubmodulesTakeBracedOptionsAndCallLikeFunctions) {
  SharedNet net;
  EXPECT_EQ(net.lstm->options().num_layers, 2);
  EXPECT_EQ(net.fc1->parameters().size(), 1u);  // no bias
  const Tensor y = net(randn({5, 2, 4}));
  EXPECT_EQ(y.shape(), (Shape{5, 2, 3}));
  // The registered child is the member's object, so state dicts see it.
  EXPECT_EQ(net.find_child("fc1").get(), net.fc1.get());
  EXPECT_EQ(net.state_dict().tensors.count("lstm.weight_hh_l1"), 1u);
  // A hook on the module runs when it is called through the holder.
  int calls = 0;
  net.fc1->register_forward_hook([&](nn::Module&, const Tensor&, const Tensor& out) {
    ++calls;
    return out;
  });
  net(randn({1, 1, 4}));
  EXPECT_EQ(calls, 1);
  // std::make_shared takes a module by value (moved) when the options are braced.
  auto lstm = std::make_shared<nn::LSTM>(nn::LSTM(1, 32, {.num_layers = 2}));
  EXPECT_EQ(lstm->options().num_layers, 2);
}

TEST(Module, SummaryListsEveryModuleWithItsParameters) {
  nn::Sequential model(nn::Linear(784, 512), nn::BatchNorm1d(512), nn::ReLU(), nn::Linear(512, 10));
  model.at<nn::Linear>(3).requires_grad_(false);
  const nn::Summary s = nn::summary(model);
  ASSERT_EQ(s.rows.size(), 5u);  // the Sequential and its four children
  EXPECT_EQ(s.rows[1].name, "0");
  EXPECT_EQ(s.rows[1].type, "Linear");
  EXPECT_EQ(s.rows[1].count, 784 * 512 + 512);
  EXPECT_EQ(s.rows[3].count, 0);  // ReLU
  EXPECT_EQ(s.total, 784 * 512 + 512 + 2 * 512 + 512 * 10 + 10);
  EXPECT_EQ(s.trainable, s.total - (512 * 10 + 10));
  // f32 parameters plus BatchNorm's buffers (two f32 vectors and an i64 counter).
  EXPECT_EQ(s.bytes, 4 * s.total + 4 * 2 * 512 + 8);
  const std::string table = s.str();
  EXPECT_NE(table.find("0 (Linear)"), std::string::npos) << table;
  EXPECT_NE(table.find("weight [512, 784], bias [512]"), std::string::npos) << table;
  EXPECT_NE(table.find("401,920"), std::string::npos) << table;
  EXPECT_NE(table.find("Total: 408,074 parameters, 402,944 trainable"), std::string::npos) << table;
}
