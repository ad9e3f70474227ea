#pragma once
// The updates of one optimizer step, collected per rule and run per device through
// Backend::optimizer_step: a GPU then updates every parameter in a few launches instead
// of one (or several) per parameter. The optimizer owns the batch for the length of its
// step and flushes it explicitly; updates of different parameters are independent, so
// their order does not change any result.
#include <descent/backends/backend.h>

#include <tuple>
#include <vector>

namespace descent::optim {

template <class List>
struct UpdateListsOf;
template <class... Rules>
struct UpdateListsOf<RuleList<Rules...>> {
  using type = std::tuple<std::vector<Update<Rules>>...>;
};

class UpdateBatch {
 public:
  template <class Rule>
  void add(Update<Rule> update) {
    std::get<std::vector<Update<Rule>>>(pending_).push_back(std::move(update));
  }
  // Runs and clears everything collected so far.
  void flush();

 private:
  UpdateListsOf<OptimRules>::type pending_;  // one list per rule of backends/optim_rules.h
};

}  // namespace descent::optim
