// Golden values from PyTorch 1.13 (tests/oracle/gen_golden.py): for every case of an
// op family, the op's output on small random f32 inputs and the gradients of
// sum(out * v) with respect to each floating input, within f32 tolerance, on every device
// (the CUDA instances skip without a GPU).
#include <cmath>
#include <limits>

#include "testing/devices.h"
#include "testing/golden_case.h"

using namespace descent;
using descent::testing::all_close;
using descent::testing::Case;
using descent::testing::CaseFn;
using descent::testing::Fixtures;
using descent::testing::GoldenTolerance;
using descent::testing::numbered_inputs;
using descent::testing::run_family;

namespace {
// Every family runs once per device: the inputs go to the device and the outputs and
// gradients are compared with PyTorch's there.
class Golden : public descent::testing::PerDeviceTest {
 protected:
  void run(const std::string& family, const std::map<std::string, CaseFn>& fns,
           GoldenTolerance tol = {}) const {
    run_family(family, fns, tol, dev());
  }
};
}  // namespace

TEST_P(Golden, Elementwise) {
  auto binary = [](Tensor (*op)(const Tensor&, const Tensor&)) {
    return [op](Case& c) { return op(c.input("a"), c.input("b")); };
  };
  auto unary = [](Tensor (*op)(const Tensor&)) {
    return [op](Case& c) { return op(c.input("x")); };
  };
  Tensor (*pow_tt)(const Tensor&, const Tensor&) = descent::pow;
  Tensor (*pow_ts)(const Tensor&, Scalar) = descent::pow;
  auto pow_scalar = [pow_ts](Case& c) { return pow_ts(c.input("a"), c.num("exponent")); };
  Tensor (*where_ts)(const Tensor&, const Tensor&, Scalar) = descent::where;
  Tensor (*where_tt)(const Tensor&, const Tensor&, const Tensor&) = descent::where;
  run("elementwise",
      {
          {"add", binary(descent::add)},
          {"add_bcast", binary(descent::add)},
          {"sub", binary(descent::sub)},
          {"mul", binary(descent::mul)},
          {"div", binary(descent::div)},
          {"pow", binary(pow_tt)},
          {"pow_scalar", pow_scalar},
          {"pow_int", pow_scalar},
          {"exp", unary(descent::exp)},
          {"log", unary(descent::log)},
          {"log1p", unary(descent::log1p)},
          {"sqrt", unary(descent::sqrt)},
          {"rsqrt", unary(descent::rsqrt)},
          {"abs", unary(descent::abs)},
          {"neg", unary(descent::neg)},
          {"clamp", [](Case& c) { return descent::clamp(c.input("x"), c.num("lo"), c.num("hi")); }},
          {"minimum", binary(descent::minimum)},
          {"maximum", binary(descent::maximum)},
          {"where", [=](Case& c) { return where_tt(c.input("cond"), c.input("a"), c.input("b")); }},
          {"where_scalar",
           [=](Case& c) { return where_ts(c.input("cond"), c.input("a"), c.num("b")); }},
      });
}

TEST_P(Golden, Math) {
  auto unary = [](Tensor (*op)(const Tensor&)) {
    return [op](Case& c) { return op(c.input("x")); };
  };
  auto binary = [](Tensor (*op)(const Tensor&, const Tensor&)) {
    return [op](Case& c) { return op(c.input("a"), c.input("b")); };
  };
  Tensor (*fmod_tt)(const Tensor&, const Tensor&) = descent::fmod;
  Tensor (*fmod_ts)(const Tensor&, Scalar) = descent::fmod;
  Tensor (*rem_tt)(const Tensor&, const Tensor&) = descent::remainder;
  Tensor (*rem_ts)(const Tensor&, Scalar) = descent::remainder;
  Tensor (*lerp_t)(const Tensor&, const Tensor&, const Tensor&) = descent::lerp;
  Tensor (*lerp_s)(const Tensor&, const Tensor&, double) = descent::lerp;
  run("math",
      {
          {"sin", unary(descent::sin)},
          {"cos", unary(descent::cos)},
          {"tan", unary(descent::tan)},
          {"asin", unary(descent::asin)},
          {"acos", unary(descent::acos)},
          {"atan", unary(descent::atan)},
          {"sinh", unary(descent::sinh)},
          {"cosh", unary(descent::cosh)},
          {"erf", unary(descent::erf)},
          {"erfc", unary(descent::erfc)},
          {"floor", unary(descent::floor)},
          {"ceil", unary(descent::ceil)},
          {"round", unary(descent::round)},
          {"trunc", unary(descent::trunc)},
          {"frac", unary(descent::frac)},
          {"atan2", binary(descent::atan2)},
          {"hypot", binary(descent::hypot)},
          {"fmod", binary(fmod_tt)},
          {"remainder", binary(rem_tt)},
          {"fmod_scalar", [=](Case& c) { return fmod_ts(c.input("a"), c.num("b")); }},
          {"remainder_scalar", [=](Case& c) { return rem_ts(c.input("a"), c.num("b")); }},
          {"logaddexp", binary(descent::logaddexp)},
          {"lerp", [=](Case& c) { return lerp_t(c.input("a"), c.input("b"), c.input("weight")); }},
          {"lerp_scalar",
           [=](Case& c) { return lerp_s(c.input("a"), c.input("b"), c.num("weight")); }},
      });
}

TEST_P(Golden, TensorOps) {
  auto x = [](Case& c) { return c.input("x"); };
  auto ein = [](const char* eq, std::vector<const char*> names) {
    return [eq, names](Case& c) {
      std::vector<Tensor> in;
      for (const char* n : names) in.push_back(c.input(n));
      return einsum(eq, in);
    };
  };
  auto norm_dims = [](double p, bool keepdim) {
    return [p, keepdim](Case& c) { return norm(c.input("x"), p, c.dims("dims"), keepdim); };
  };
  run("tensor_ops",
      {
          {"cumsum", [=](Case& c) { return cumsum(x(c), c.integer("dim")); }},
          {"cumsum_d0", [=](Case& c) { return cumsum(x(c), c.integer("dim")); }},
          {"cumprod", [=](Case& c) { return cumprod(x(c), c.integer("dim")); }},
          {"cumprod_zeros", [=](Case& c) { return cumprod(x(c), c.integer("dim")); }},
          {"sort", [=](Case& c) { return sort(x(c), c.integer("dim")).values; }},
          {"sort_desc_d0", [=](Case& c) { return sort(x(c), c.integer("dim"), true).values; }},
          {"argsort", [=](Case& c) { return argsort(x(c), c.integer("dim")); }},
          {"topk", [=](Case& c) { return topk(x(c), c.integer("k")).values; }},
          {"topk_smallest", [=](Case& c) { return topk(x(c), c.integer("k"), -1, false).values; }},
          {"kthvalue", [=](Case& c) { return kthvalue(x(c), c.integer("k"), 1).values; }},
          {"median", [=](Case& c) { return median(x(c), 1).values; }},
          {"median_all", [=](Case& c) { return median(x(c)); }},
          {"flip", [=](Case& c) { return flip(x(c), c.dims("dims")); }},
          {"roll", [=](Case& c) { return roll(x(c), c.dims("shifts"), c.dims("dims")); }},
          {"roll_flat", [=](Case& c) { return roll(x(c), c.dims("shifts")); }},
          {"tril", [=](Case& c) { return tril(x(c), c.integer("k")); }},
          {"triu", [=](Case& c) { return triu(x(c), c.integer("k")); }},
          {"diag_embed", [=](Case& c) { return diag(x(c), c.integer("k")); }},
          {"diag_extract", [=](Case& c) { return diag(x(c), c.integer("k")); }},
          {"masked_fill", [=](Case& c) { return masked_fill(x(c), c.input("mask"), -2.5); }},
          {"outer", [](Case& c) { return outer(c.input("a"), c.input("b")); }},
          {"bmm", [](Case& c) { return bmm(c.input("a"), c.input("b")); }},
          {"norm2", [=](Case& c) { return norm(x(c)); }},
          {"norm1_d1", norm_dims(1, false)},
          {"norm3_keep", norm_dims(3, true)},
          {"norm_inf", norm_dims(std::numeric_limits<double>::infinity(), false)},
          {"cdist", [](Case& c) { return cdist(c.input("x1"), c.input("x2")); }},
          {"cdist_p1", [](Case& c) { return cdist(c.input("x1"), c.input("x2"), 1.0); }},
          {"einsum_matmul", ein("ij,jk->ik", {"a", "b"})},
          {"einsum_bmm", ein("bij,bjk->bik", {"a", "b"})},
          {"einsum_outer", ein("i,j->ij", {"a", "b"})},
          {"einsum_transpose_sum", ein("ijk->ki", {"a"})},
          {"einsum_implicit", ein("ij,kj", {"a", "b"})},
          {"einsum_three", ein("ij,jk,kl->il", {"a", "b", "c"})},
          {"einsum_bilinear", ein("bi,oij,bj->bo", {"a", "w", "b"})},
      });
}

TEST_P(Golden, Activation) {
  auto unary = [](Tensor (*op)(const Tensor&)) {
    return [op](Case& c) { return op(c.input("x")); };
  };
  auto softmax_like = [](Tensor (*op)(const Tensor&, int64_t)) {
    return [op](Case& c) { return op(c.input("x"), c.integer("dim")); };
  };
  auto elu = [](Case& c) { return F::elu(c.input("x"), c.num("alpha")); };
  run("activation",
      {
          {"relu", unary(F::relu)},
          {"leaky_relu",
           [](Case& c) { return F::leaky_relu(c.input("x"), c.num("negative_slope")); }},
          {"elu", elu},
          {"elu_alpha", elu},
          {"gelu", [](Case& c) { return F::gelu(c.input("x")); }},
          {"gelu_tanh", [](Case& c) { return F::gelu(c.input("x"), F::GeluApprox::Tanh); }},
          {"silu", unary(F::silu)},
          {"sigmoid", unary(F::sigmoid)},
          {"tanh", unary(F::tanh)},
          {"softplus", [](Case& c) { return F::softplus(c.input("x")); }},
          {"softplus_beta",
           [](Case& c) { return F::softplus(c.input("x"), c.num("beta"), c.num("threshold")); }},
          {"softmax", softmax_like(F::softmax)},
          {"softmax_dim0", softmax_like(F::softmax)},
          {"log_softmax", softmax_like(F::log_softmax)},
          {"log_softmax_dim1", softmax_like(F::log_softmax)},
      });
}

TEST_P(Golden, Reduce) {
  using AllFn = Tensor (*)(const Tensor&);
  using DimsFn = Tensor (*)(const Tensor&, const Shape&, bool);
  using DimFn = Tensor (*)(const Tensor&, int64_t, bool);
  using VarFn = Tensor (*)(const Tensor&, const Shape&, int64_t, bool);
  auto all = [](AllFn op) { return [op](Case& c) { return op(c.input("x")); }; };
  auto over = [](DimsFn op) {
    return [op](Case& c) { return op(c.input("x"), c.dims("dims"), c.flag("keepdim")); };
  };
  auto along = [](DimFn op) {
    return [op](Case& c) { return op(c.input("x"), c.integer("dim"), c.flag("keepdim")); };
  };
  auto moment = [](VarFn op) {
    return [op](Case& c) {
      return op(c.input("x"), c.dims("dims"), c.integer("correction"), c.flag("keepdim"));
    };
  };
  run("reduce", {
                    {"sum_all", all(descent::sum)},
                    {"sum_d1", over(descent::sum)},
                    {"sum_d02_keep", over(descent::sum)},
                    {"mean_all", all(descent::mean)},
                    {"mean_d2_keep", over(descent::mean)},
                    {"mean_d01", over(descent::mean)},
                    {"var_all", moment(descent::var)},
                    {"var_d1", moment(descent::var)},
                    {"var_d0_keep_c0", moment(descent::var)},
                    {"std_all", moment(descent::std)},
                    {"std_d2", moment(descent::std)},
                    {"std_d12_keep", moment(descent::std)},
                    {"max_all", all(descent::max)},
                    {"max_d1", along(descent::max)},
                    {"max_d2_keep", along(descent::max)},
                    {"min_all", all(descent::min)},
                    {"min_d0", along(descent::min)},
                    {"min_d1_keep", along(descent::min)},
                    {"amax_d12", over(descent::amax)},
                    {"amax_d0_keep", over(descent::amax)},
                    {"amin_d1", over(descent::amin)},
                    {"logsumexp_d1", over(descent::logsumexp)},
                    {"logsumexp_d02_keep", over(descent::logsumexp)},
                    {"logsumexp_all", over(descent::logsumexp)},
                });
}

TEST_P(Golden, Linalg) {
  auto mm = [](Case& c) { return descent::matmul(c.input("a"), c.input("b")); };
  run("linalg",
      {
          {"matmul_2d", mm},
          {"matmul_batched", mm},
          {"matmul_bcast", mm},
          {"matmul_bcast_2d", mm},
          {"matmul_matvec", mm},
          {"matmul_vecmat", mm},
          {"matmul_dot", mm},
          {"linear",
           [](Case& c) { return F::linear(c.input("x"), c.input("weight"), c.input("bias")); }},
          {"linear_nobias", [](Case& c) { return F::linear(c.input("x"), c.input("weight")); }},
      });
}

TEST_P(Golden, Index) {
  auto cat = [](Case& c) { return descent::cat(numbered_inputs(c), c.integer("dim")); };
  auto stack = [](Case& c) { return descent::stack(numbered_inputs(c), c.integer("dim")); };
  auto index_select = [](Case& c) {
    return descent::index_select(c.input("x"), c.integer("dim"), c.input("index"));
  };
  auto gather = [](Case& c) {
    return descent::gather(c.input("x"), c.integer("dim"), c.input("index"));
  };
  auto scatter_add = [](Case& c) {
    return descent::scatter_add(c.input("x"), c.integer("dim"), c.input("index"), c.input("src"));
  };
  run("index", {
                   {"cat_d0", cat},
                   {"cat_d1", cat},
                   {"stack_d0", stack},
                   {"stack_d2", stack},
                   {"index_select_d0", index_select},
                   {"index_select_d1", index_select},
                   {"gather_d1", gather},
                   {"gather_d0", gather},
                   {"scatter_add_d1", scatter_add},
                   {"scatter_add_d0", scatter_add},
                   {"embedding",
                    [](Case& c) { return F::embedding(c.input("indices"), c.input("weight")); }},
                   {"embedding_padding",
                    [](Case& c) {
                      return F::embedding(c.input("indices"), c.input("weight"),
                                          c.integer("padding_idx"));
                    }},
               });
}

TEST_P(Golden, Loss) {
  auto ce = [](Case& c) {
    return F::cross_entropy(c.input("input"), c.input("target"),
                            {.weight = c.input_or_undefined("weight"),
                             .ignore_index = c.integer("ignore_index"),
                             .reduction = c.reduction(),
                             .label_smoothing = c.num("label_smoothing")});
  };
  auto nll = [](Case& c) {
    return F::nll_loss(c.input("input"), c.input("target"),
                       {.weight = c.input_or_undefined("weight"),
                        .ignore_index = c.integer("ignore_index"),
                        .reduction = c.reduction()});
  };
  auto mse = [](Case& c) {
    return F::mse_loss(c.input("input"), c.input("target"), c.reduction());
  };
  auto l1 = [](Case& c) { return F::l1_loss(c.input("input"), c.input("target"), c.reduction()); };
  auto smooth_l1 = [](Case& c) {
    return F::smooth_l1_loss(c.input("input"), c.input("target"), c.reduction(), c.num("beta"));
  };
  auto bce = [](Case& c) {
    return F::binary_cross_entropy_with_logits(c.input("input"), c.input("target"),
                                               {.weight = c.input_or_undefined("weight"),
                                                .pos_weight = c.input_or_undefined("pos_weight"),
                                                .reduction = c.reduction()});
  };
  run("loss", {
                  {"ce", ce},
                  {"ce_sum", ce},
                  {"ce_none", ce},
                  {"ce_weight", ce},
                  {"ce_ignore", ce},
                  {"ce_ignore_index", ce},
                  {"ce_smoothing", ce},
                  {"ce_weight_smoothing_ignore", ce},
                  {"ce_weight_none", ce},
                  {"ce_probs", ce},
                  {"ce_probs_smoothing_weight", ce},
                  {"ce_probs_sum", ce},
                  {"ce_spatial", ce},
                  {"ce_spatial_weight_ignore", ce},
                  {"nll", nll},
                  {"nll_weight", nll},
                  {"nll_weight_ignore", nll},
                  {"nll_none", nll},
                  {"nll_sum", nll},
                  {"mse", mse},
                  {"mse_sum", mse},
                  {"mse_none", mse},
                  {"l1", l1},
                  {"l1_sum", l1},
                  {"l1_none", l1},
                  {"smooth_l1", smooth_l1},
                  {"smooth_l1_beta", smooth_l1},
                  {"smooth_l1_none", smooth_l1},
                  {"bce_logits", bce},
                  {"bce_logits_pos_weight", bce},
                  {"bce_logits_weight_pos_weight_sum", bce},
                  {"bce_logits_none", bce},
              });
}

TEST_P(Golden, Cnn) {
  auto size2 = [](Case& c, const char* what, F::Size2 dflt) {
    if (!c.has(std::string("arg.") + what)) return dflt;
    const Shape d = c.dims(what);
    return F::Size2(d[0], d[1]);
  };
  auto conv = [=](Case& c) {
    return F::conv2d(c.input("x"), c.input("weight"), c.input_or_undefined("bias"),
                     {.stride = size2(c, "stride", 1),
                      .padding = size2(c, "padding", 0),
                      .dilation = size2(c, "dilation", 1),
                      .groups = c.has("arg.groups") ? c.integer("groups") : 1});
  };
  auto same = [](int64_t dilation) {
    return [dilation](Case& c) {
      return F::conv2d(c.input("x"), c.input("weight"), c.input_or_undefined("bias"),
                       {.padding_same = true, .dilation = dilation});
    };
  };
  auto maxp = [=](Case& c) {
    const Shape k = c.dims("kernel");
    F::MaxPool2dOptions o;
    o.padding = size2(c, "padding", 0);
    o.ceil_mode = c.has("arg.ceil_mode") && c.flag("ceil_mode");
    if (c.has("arg.stride")) o.stride = size2(c, "stride", 1);
    return F::max_pool2d(c.input("x"), {k[0], k[1]}, o);
  };
  auto avgp = [=](Case& c) {
    const Shape k = c.dims("kernel");
    F::AvgPool2dOptions o;
    o.padding = size2(c, "padding", 0);
    o.ceil_mode = c.has("arg.ceil_mode") && c.flag("ceil_mode");
    o.count_include_pad = !c.has("arg.count_include_pad") || c.flag("count_include_pad");
    o.divisor_override = c.has("arg.divisor_override") ? c.integer("divisor_override") : 0;
    if (c.has("arg.stride")) o.stride = size2(c, "stride", 1);
    return F::avg_pool2d(c.input("x"), {k[0], k[1]}, o);
  };
  auto adaptive = [](Case& c) {
    const Shape s = c.dims("size");
    return F::adaptive_avg_pool2d(c.input("x"), {s[0], s[1]});
  };
  auto wn = [](std::optional<int64_t> dim) {
    return [dim](Case& c) { return F::weight_norm(c.input("wv"), c.input("wg"), dim); };
  };
  run("cnn", {
                 {"conv_basic", conv},
                 {"conv_stride2_odd", conv},
                 {"conv_stride_hw", conv},
                 {"conv_dilation", conv},
                 {"conv_groups", conv},
                 {"conv_depthwise", conv},
                 {"conv_1x1", conv},
                 {"conv_same_even", same(1)},
                 {"conv_same_dilated", same(2)},
                 {"conv_unbatched", conv},
                 {"max_pool_basic", maxp},
                 {"max_pool_stride_pad", maxp},
                 {"max_pool_ceil", maxp},
                 {"max_pool_overlap", maxp},
                 {"max_pool_unbatched", maxp},
                 {"avg_pool_basic", avgp},
                 {"avg_pool_pad_include", avgp},
                 {"avg_pool_pad_exclude", avgp},
                 {"avg_pool_ceil", avgp},
                 {"avg_pool_ceil_include", avgp},
                 {"avg_pool_divisor", avgp},
                 {"adaptive_avg_pool", adaptive},
                 {"adaptive_avg_pool_up", adaptive},
                 {"adaptive_avg_pool_global", adaptive},
                 {"layer_norm",
                  [](Case& c) {
                    return F::layer_norm(c.input("x"), {6}, c.input("weight"), c.input("bias"));
                  }},
                 {"layer_norm_2d",
                  [](Case& c) {
                    return F::layer_norm(c.input("x"), {3, 4}, c.input("weight"), c.input("bias"));
                  }},
                 {"layer_norm_noaffine",
                  [](Case& c) { return F::layer_norm(c.input("x"), {5}, {}, {}, 1e-3); }},
                 {"group_norm",
                  [](Case& c) {
                    return F::group_norm(c.input("x"), 2, c.input("weight"), c.input("bias"));
                  }},
                 {"group_norm_instance", [](Case& c) { return F::group_norm(c.input("x"), 4); }},
                 {"weight_norm_dim0", wn(0)},
                 {"weight_norm_dim1", wn(1)},
                 {"weight_norm_conv", wn(0)},
                 {"weight_norm_all", wn(std::nullopt)},
                 {"pad", [](Case& c) { return F::pad(c.input("x"), c.dims("pads")); }},
             });
}

INSTANTIATE_PER_DEVICE(Golden);

// ---- the fixture reader ----------------------------------------------------------------

TEST(Fixtures, ParsesEveryDtype) {
  const auto fx = descent::testing::parse_fixtures(
      "# a comment\n"
      "\n"
      "a f32 2 2 3 1 2.5 -3 nan inf -inf\n"
      "b f64 0 0.1\n"
      "c i64 1 3 -1 0 9007199254740993\n"
      "d i32 1 2 7 -8\n"
      "e bool 2 1 2 1 0\n"
      "f f32 2 0 4\n");
  ASSERT_EQ(fx.size(), 6u);
  const Tensor& a = fx.at("a");
  EXPECT_EQ(a.shape(), Shape({2, 3}));
  EXPECT_EQ(a.dtype(), DType::F32);
  const auto av = a.to_vector<float>();
  EXPECT_EQ(av[1], 2.5f);
  EXPECT_TRUE(std::isnan(av[3]));
  EXPECT_EQ(av[5], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(fx.at("b").dim(), 0);
  EXPECT_EQ(fx.at("b").item<double>(), 0.1);
  EXPECT_EQ(fx.at("c").to_vector<int64_t>(), (std::vector<int64_t>{-1, 0, 9007199254740993}));
  EXPECT_EQ(fx.at("d").dtype(), DType::I32);
  EXPECT_EQ(fx.at("d").to_vector<int32_t>(), (std::vector<int32_t>{7, -8}));
  EXPECT_EQ(fx.at("e").dtype(), DType::Bool);
  EXPECT_EQ(fx.at("e").to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(fx.at("f").shape(), Shape({0, 4}));
}

TEST(Fixtures, MalformedInputThrows) {
  using descent::testing::parse_fixtures;
  EXPECT_THROW_MSG(parse_fixtures("x f32\n", "t.txt"),
                   "fixtures: t.txt:1: x: expected '<name> <dtype> <ndim>");
  EXPECT_THROW_MSG(parse_fixtures("# c\nx f16 0 1\n", "t.txt"),
                   "t.txt:2: x: unknown dtype 'f16' (expected f32, f64, i32, i64 or bool)");
  EXPECT_THROW_MSG(parse_fixtures("x f32 two 1 2\n"), "x: ndim 'two' is not a valid number");
  EXPECT_THROW_MSG(parse_fixtures("x f32 9 1\n"), "x: ndim 9 is outside [0, 8]");
  EXPECT_THROW_MSG(parse_fixtures("x f32 3 1 2\n"), "x: expected 3 dims, got 2");
  EXPECT_THROW_MSG(parse_fixtures("x f32 1 -2\n"), "x: dim 0 is negative (-2)");
  EXPECT_THROW_MSG(parse_fixtures("x f32 2 2 3 1 2 3 4 5\n"),
                   "x: shape [2, 3] needs 6 values, got 5");
  EXPECT_THROW_MSG(parse_fixtures("x f32 1 2 1 2 3\n"), "x: shape [2] needs 2 values, got 3");
  EXPECT_THROW_MSG(parse_fixtures("x f32 2 4611686018427387904 4 1\n"),
                   "needs too many values, got 1");
  EXPECT_THROW_MSG(parse_fixtures("x f32 1 2 1 1.5x\n"), "x: value '1.5x' is not a valid number");
  EXPECT_THROW_MSG(parse_fixtures("x i64 1 1 1.5\n"), "x: value '1.5' is not a valid number");
  EXPECT_THROW_MSG(parse_fixtures("x bool 1 1 2\n"), "x: bool value '2' must be 0 or 1");
  EXPECT_THROW_MSG(parse_fixtures("x f32 0 1\nx f32 0 2\n", "t.txt"),
                   "t.txt:2: x: name defined twice");
  EXPECT_THROW_MSG(descent::testing::read_fixtures("/nonexistent/golden.txt"),
                   "fixtures: cannot open /nonexistent/golden.txt");
}
