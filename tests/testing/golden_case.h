#pragma once
// Runs the cases of a golden-value family written by tests/oracle/gen_golden.py: each
// case's output and the gradients of sum(out * v), compared within a tolerance (NaN
// matches NaN). A case in the file without a function, or a function without a case,
// fails the test.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "testing/fixtures.h"
#include "testing/gradcheck.h"

namespace descent::testing {

// One case of a fixture file: its tensors are named "<case>.<what>".
class Case {
 public:
  // `device`: where the inputs are put, so the op (and its backward) runs there.
  Case(const Fixtures& fx, std::string name, Device device = Device::CPU)
      : fx_(fx), name_(std::move(name)), device_(device) {}

  bool has(const std::string& what) const { return fx_.contains(name_ + "." + what); }

  // A fresh copy of an input on the case's device; a leaf requiring grad when the
  // fixture has its gradient.
  Tensor input(const std::string& what) {
    Tensor t = device_.is_cpu() ? get(what).clone() : get(what).to(device_);
    if (has("grad." + what)) {
      t.requires_grad_();
      leaves_.emplace_back(what, t);
    }
    return t;
  }
  Tensor input_or_undefined(const std::string& what) { return has(what) ? input(what) : Tensor(); }

  // Non-tensor arguments ("<case>.arg.<what>").
  double num(const std::string& what) const { return get("arg." + what).item<double>(); }
  int64_t integer(const std::string& what) const { return get("arg." + what).item<int64_t>(); }
  bool flag(const std::string& what) const { return integer(what) != 0; }
  Shape dims(const std::string& what) const {
    return Shape(get("arg." + what).to_vector<int64_t>());
  }
  F::Reduction reduction() const {
    switch (integer("reduction")) {  // gen_golden.py's encoding
      case 0: return F::Reduction::None;
      case 1: return F::Reduction::Mean;
      case 2: return F::Reduction::Sum;
    }
    fail("golden", fmt::format("{}: unknown reduction code", name_));
  }

  // Compares `out` with the expected output, then back-propagates the stored cotangent
  // and compares the gradient of every input that has one.
  void verify(const Tensor& out, double atol, double rtol) const {
    const Tensor& want = get("out");
    ASSERT_TRUE(out.defined()) << name_ << ": the op returned an undefined tensor";
    EXPECT_EQ(out.dtype(), want.dtype()) << name_ << ": output dtype";
    EXPECT_EQ(out.device(), device_) << name_ << ": output device";
    EXPECT_TRUE(all_close(out, want, atol, rtol)) << name_ << ": output";
    // Every gradient in the fixture must belong to an input the test passed to the op.
    const std::string prefix = name_ + ".grad.";
    for (auto it = fx_.lower_bound(prefix); it != fx_.end() && it->first.starts_with(prefix);
         ++it) {
      const std::string what = it->first.substr(prefix.size());
      const bool used = std::any_of(leaves_.begin(), leaves_.end(),
                                    [&](const auto& leaf) { return leaf.first == what; });
      EXPECT_TRUE(used) << name_ << ": the fixture has a gradient for '" << what
                        << "' but the test never asked for that input";
    }
    if (leaves_.empty()) return;
    ASSERT_TRUE(out.requires_grad()) << name_ << ": output is not connected to the graph";
    out.backward(get("v").to(device_));
    for (const auto& [what, leaf] : leaves_) {
      const Tensor g = leaf.grad();
      if (!g.defined()) {
        ADD_FAILURE() << name_ << ": no gradient for input '" << what << "'";
        continue;
      }
      EXPECT_TRUE(all_close(g, get("grad." + what), atol, rtol))
          << name_ << ": gradient of '" << what << "'";
    }
  }

 private:
  const Tensor& get(const std::string& what) const {
    auto it = fx_.find(name_ + "." + what);
    check(it != fx_.end(), "golden", "fixture has no tensor '{}.{}'", name_, what);
    return it->second;
  }

  const Fixtures& fx_;
  std::string name_;
  Device device_;
  std::vector<std::pair<std::string, Tensor>> leaves_;
};

using CaseFn = std::function<Tensor(Case&)>;

struct GoldenTolerance {
  double atol = 1e-5;
  double rtol = 1e-4;
};

// Runs every case of tests/data/golden/<family>.txt with the function of the same name,
// its inputs on `device`. A case in the file without a function, or a function without
// a case, fails too.
inline void run_family(const std::string& family, const std::map<std::string, CaseFn>& fns,
                       GoldenTolerance tol = {}, Device device = Device::CPU) {
  Fixtures fx;
  ASSERT_NO_THROW(fx = descent::testing::read_fixtures(
                      descent::testing::test_data_path("golden/" + family + ".txt")));
  std::set<std::string> cases;
  for (const auto& [key, t] : fx) cases.insert(key.substr(0, key.find('.')));
  for (const auto& [name, fn] : fns) {
    if (!cases.contains(name)) ADD_FAILURE() << family << "/" << name << ": no fixture";
  }
  for (const std::string& name : cases) {
    auto it = fns.find(name);
    if (it == fns.end()) {
      ADD_FAILURE() << family << "/" << name << ": fixture case has no test";
      continue;
    }
    SCOPED_TRACE(family + "/" + name);
    try {
      Case c(fx, name, device);
      Tensor out = it->second(c);
      c.verify(out, tol.atol, tol.rtol);
    } catch (const std::exception& e) {
      ADD_FAILURE() << family << "/" << name << " threw: " << e.what();
    }
  }
}

// Cases whose inputs are x0, x1, ... (cat, stack).
inline std::vector<Tensor> numbered_inputs(Case& c) {
  std::vector<Tensor> xs;
  for (int i = 0; c.has(fmt::format("x{}", i)); ++i) xs.push_back(c.input(fmt::format("x{}", i)));
  return xs;
}

}  // namespace descent::testing
