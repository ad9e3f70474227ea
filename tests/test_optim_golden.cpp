// Golden trajectories from torch.optim (tests/oracle/gen_optim_golden.py): every
// optimizer configuration runs 50 f64 steps on Rosenbrock, a linear regression and a
// 2-layer tanh MLP (two parameter groups); every parameter after every 10 steps must
// match PyTorch with a norm-wise relative error ≤ 1e-9. Gradients come from descent's
// own autograd, so the test covers the whole loop: backward, step, zero_grad.
#include <descent/optim.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::Fixtures;

namespace {

constexpr double kTolerance = 1e-9;

// ---- problems: the same losses as the generator ------------------------------------------
struct Problem {
  std::vector<std::string> params;  // in the generator's order
  std::function<Tensor(const std::map<std::string, Tensor>& p,
                       const std::map<std::string, Tensor>& d)>
      loss;
};

const std::map<std::string, Problem>& problems() {
  static const std::map<std::string, Problem> all = {
      {"rosenbrock",
       {{"x"},
        [](const auto& p, const auto&) {
          const Tensor& x = p.at("x");
          Tensor a = x.narrow(0, 0, 1), b = x.narrow(0, 1, 1);
          return ((1.0 - a).pow(2) + 100.0 * (b - a * a).pow(2)).sum();
        }}},
      {"linreg",
       {{"w", "b"},
        [](const auto& p, const auto& d) {
          return (matmul(d.at("x"), p.at("w")) + p.at("b") - d.at("y")).pow(2).mean();
        }}},
      {"mlp",
       {{"w1", "b1", "w2", "b2"},
        [](const auto& p, const auto& d) {
          Tensor h = tanh(matmul(d.at("x"), p.at("w1")) + p.at("b1"));
          return (matmul(h, p.at("w2")) + p.at("b2") - d.at("y")).pow(2).mean();
        }}},
  };
  return all;
}

// ---- optimizers: built from the fixture's options -------------------------------------------
struct Case {
  const Fixtures& f;
  std::string name;  // "<config>.<problem>"
  double number(const std::string& key) const { return f.at(name + "." + key).item<double>(); }
};

// Sets every option stored under `<case>.<prefix><field>`; a field the optimizer does
// not have fails the test.
template <class Opt, class Options>
void apply_options(Options& o, const Case& c, const std::string& prefix) {
  const std::string full = c.name + "." + prefix;
  for (auto it = c.f.lower_bound(full); it != c.f.end() && it->first.starts_with(full); ++it) {
    const std::string field = it->first.substr(full.size());
    bool found = false;
    Opt::visit_options(o, [&](std::string_view name, auto& v, optim::Range /*range*/) {
      if (name == field) {
        v = std::decay_t<decltype(v)>(it->second.item<double>());
        found = true;
      }
    });
    EXPECT_TRUE(found) << c.name << ": " << Opt::kName << " has no option '" << field << "'";
  }
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const Case&, std::vector<Tensor>,
                                                                std::vector<Tensor>)>;

template <class Opt>
Factory factory() {
  return [](const Case& c, std::vector<Tensor> g0, std::vector<Tensor> g1) {
    using Options = std::decay_t<decltype(std::declval<const Opt&>().defaults())>;
    Options o{};  // the struct's defaults are the optimizer's (PyTorch's) defaults
    apply_options<Opt>(o, c, "opt.");
    auto opt = std::make_unique<Opt>(std::move(g0), o);
    if (!g1.empty()) {
      opt->add_param_group(std::move(g1));
      Options o1 = opt->options(0);
      apply_options<Opt>(o1, c, "group1.");
      opt->set_options(o1, 1);
    }
    return std::unique_ptr<optim::Optimizer>(std::move(opt));
  };
}

// Every configuration of the generator; a fixture config missing here fails the test.
const std::map<std::string, Factory>& configs() {
  using namespace optim;
  static const std::map<std::string, Factory> all = {
      {"gd", factory<GD>()},
      {"gd_wd", factory<GD>()},
      {"sgd_momentum", factory<SGD>()},
      {"sgd_dampening", factory<SGD>()},
      {"sgd_nesterov", factory<SGD>()},
      {"sgd_wd_maximize", factory<SGD>()},
      {"rmsprop", factory<RMSprop>()},
      {"rmsprop_centered", factory<RMSprop>()},
      {"rmsprop_momentum", factory<RMSprop>()},
      {"rmsprop_centered_momentum_wd", factory<RMSprop>()},
      {"rmsprop_maximize", factory<RMSprop>()},
      {"adam", factory<Adam>()},
      {"adam_wd", factory<Adam>()},
      {"adam_amsgrad", factory<Adam>()},
      {"adam_maximize", factory<Adam>()},
      {"adamw", factory<AdamW>()},
      {"adamw_amsgrad", factory<AdamW>()},
      {"adamw_maximize", factory<AdamW>()},
      {"nadam", factory<NAdam>()},
      {"nadam_wd", factory<NAdam>()},
      {"radam", factory<RAdam>()},
      {"radam_wd", factory<RAdam>()},
      {"adagrad", factory<Adagrad>()},
      {"adagrad_decay", factory<Adagrad>()},
      {"adagrad_maximize", factory<Adagrad>()},
      {"adadelta", factory<Adadelta>()},
      {"adadelta_rho_wd", factory<Adadelta>()},
      {"adadelta_maximize", factory<Adadelta>()},
      {"adamax", factory<Adamax>()},
      {"adamax_wd", factory<Adamax>()},
      {"adamax_maximize", factory<Adamax>()},
      {"lion", factory<Lion>()},
      {"lion_wd", factory<Lion>()},
      {"lion_maximize", factory<Lion>()},
  };
  return all;
}

const std::vector<std::string> kFamilies = {"sgd",         "rmsprop",          "adam",
                                            "nadam_radam", "adagrad_adadelta", "adamax_lion"};

Fixtures read_family(const std::string& family) {
  return descent::testing::read_fixtures(
      descent::testing::test_data_path("golden/optim_" + family + ".txt"));
}

// Case names: the keys "<case>.arg.steps".
std::vector<std::string> case_names(const Fixtures& f) {
  const std::string suffix = ".arg.steps";
  std::vector<std::string> out;
  for (const auto& [key, value] : f) {
    if (key.ends_with(suffix)) out.push_back(key.substr(0, key.size() - suffix.size()));
  }
  return out;
}

// max |a - b| / max |b| over the tensor.
double relative_error(const Tensor& a, const Tensor& b) {
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    diff = std::max(diff, std::abs(av[i] - bv[i]));
    scale = std::max(scale, std::abs(bv[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

// Runs every case of one fixture file; returns the number of cases.
int run_family(const std::string& family) {
  const Fixtures f = read_family(family);
  int cases = 0;
  double worst = 0;
  for (const std::string& name : case_names(f)) {
    const Case c{f, name};
    const std::string config = c.name.substr(0, c.name.find('.'));
    const std::string problem_name = c.name.substr(c.name.find('.') + 1);
    SCOPED_TRACE(c.name);
    if (!configs().count(config) || !problems().count(problem_name)) {
      ADD_FAILURE() << "no optimizer or problem for case " << c.name;
      continue;
    }
    const Problem& problem = problems().at(problem_name);
    ++cases;

    std::map<std::string, Tensor> params, data;
    std::vector<Tensor> g0, g1;
    const auto split = size_t(c.number("arg.split"));
    for (size_t i = 0; i < problem.params.size(); ++i) {
      const std::string& n = problem.params[i];
      Tensor p = f.at(c.name + ".init." + n).clone().requires_grad_();
      params[n] = p;
      (i < split ? g0 : g1).push_back(p);
    }
    const std::string data_prefix = c.name + ".data.";
    for (auto it = f.lower_bound(data_prefix); it != f.end() && it->first.starts_with(data_prefix);
         ++it) {
      data[it->first.substr(data_prefix.size())] = it->second;
    }
    auto opt = configs().at(config)(c, g0, g1);
    EXPECT_EQ(opt->num_groups(), g1.empty() ? 1u : 2u);
    const std::string maximize_key = c.name + ".opt.maximize";
    const double sign = f.count(maximize_key) && f.at(maximize_key).item<double>() != 0 ? -1 : 1;

    const auto steps = int64_t(c.number("arg.steps"));
    int checked = 0;
    for (int64_t step = 1; step <= steps; ++step) {
      opt->zero_grad();
      (sign * problem.loss(params, data)).backward();
      opt->step();
      const std::string prefix = c.name + ".step" + std::to_string(step) + ".";
      for (const std::string& n : problem.params) {
        auto it = f.find(prefix + n);
        if (it == f.end()) continue;
        const double err = relative_error(params[n].detach(), it->second);
        worst = std::max(worst, err);
        EXPECT_LE(err, kTolerance) << n << " after " << step << " steps";
        ++checked;
      }
    }
    EXPECT_EQ(checked, int(problem.params.size() * (steps / 10))) << "checkpoints missing";
  }
  std::printf("optim_%s: %d cases, worst relative error %.3g\n", family.c_str(), cases, worst);
  return cases;
}

}  // namespace

TEST(OptimGolden, Sgd) { EXPECT_EQ(run_family("sgd"), 18); }
TEST(OptimGolden, Rmsprop) { EXPECT_EQ(run_family("rmsprop"), 15); }
TEST(OptimGolden, Adam) { EXPECT_EQ(run_family("adam"), 21); }
TEST(OptimGolden, NadamRadam) { EXPECT_EQ(run_family("nadam_radam"), 12); }
TEST(OptimGolden, AdagradAdadelta) { EXPECT_EQ(run_family("adagrad_adadelta"), 18); }
TEST(OptimGolden, AdamaxLion) { EXPECT_EQ(run_family("adamax_lion"), 18); }

// Every config of the table has fixture cases (the reverse is checked per case).
TEST(OptimGolden, EveryConfigHasCases) {
  std::set<std::string> seen;
  for (const std::string& family : kFamilies) {
    for (const std::string& name : case_names(read_family(family))) {
      seen.insert(name.substr(0, name.find('.')));
    }
  }
  for (const auto& [config, make] : configs()) {
    EXPECT_TRUE(seen.count(config)) << config << " has no fixture case";
  }
  EXPECT_EQ(seen.size(), configs().size());
}
