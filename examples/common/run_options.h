#pragma once
// The options that shape a run's trajectory (optimizer, lr, seed, amp, ...), saved in
// its checkpoint as a part, so that `--resume` with other values is refused with the
// list of differences instead of quietly continuing a different run. Options that may
// change between the pieces of one run (--epochs, --metrics, --stop-after) stay out.
//
//   examples::RunOptions options({{"--lr", fmt::format("{}", lr)}, {"--amp", amp}});
//   std::vector<train::Part> parts = {{"model", model}, ..., {"options", options}};
//   train::load_checkpoint(path, parts);   // Error: "--lr is 0.1 here, 0.01 in the ..."
#include <descent/core/error.h>
#include <descent/core/state_dict.h>
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

namespace examples {

class RunOptions {
 public:
  using Values = std::vector<std::pair<std::string, std::string>>;  // flag, value as text
  explicit RunOptions(Values values) : values_(std::move(values)) {}

  descent::StateDict state_dict() const {
    descent::StateDict s;
    for (const auto& [flag, value] : values_) s.strings[flag] = value;
    return s;
  }

  // Loading compares instead of overwriting: the command line stays what the user
  // typed, and a checkpoint of other options is an error listing each difference.
  void load_state_dict(const descent::StateDict& s) {
    std::string diff;
    auto add = [&diff](const std::string& text) { diff += (diff.empty() ? "" : "; ") + text; };
    for (const auto& [flag, value] : values_) {
      auto it = s.strings.find(flag);
      if (it == s.strings.end())
        add(fmt::format("{} is {} here, absent from the checkpoint", flag, value));
      else if (it->second != value)
        add(fmt::format("{} is {} here, {} in the checkpoint", flag, value, it->second));
    }
    for (const auto& [flag, value] : s.strings) {
      bool known = false;
      for (const auto& v : values_) known = known || v.first == flag;
      if (!known) add(fmt::format("the checkpoint has {} {}, unknown here", flag, value));
    }
    descent::check(diff.empty(), "--resume",
                   "the checkpoint was trained with other options: {} (give its values, or "
                   "another --checkpoint folder to start a new run)",
                   diff);
  }

 private:
  Values values_;
};

}  // namespace examples
