#pragma once
// StateDict: the saved state of anything trainable — a module's parameters and
// buffers, an optimizer's per-parameter slots and step counts, a scheduler's counters,
// a loss scaler, RNG states. Tensors go to a safetensors file (readable by PyTorch);
// numbers and strings go to its JSON header's metadata. Keys are dotted paths
// ("0.weight", "state.3.exp_avg", "group.0.lr").
#include <descent/core/error.h>
#include <descent/core/tensor.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace descent {

struct StateDict {
  std::map<std::string, Tensor> tensors;
  // Numbers are kept as doubles: integers round-trip exactly up to 2^53, which covers
  // step counts; 64-bit values (RNG seeds) belong in i64 tensors.
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;

  // Copies every entry of `other` under `prefix` (e.g. "model." or "optimizer.").
  void merge(const StateDict& other, const std::string& prefix) {
    for (const auto& [k, v] : other.tensors) tensors[prefix + k] = v;
    for (const auto& [k, v] : other.numbers) numbers[prefix + k] = v;
    for (const auto& [k, v] : other.strings) strings[prefix + k] = v;
  }
  // The entries whose key starts with `prefix`, with the prefix removed.
  StateDict sub(const std::string& prefix) const {
    StateDict out;
    auto take = [&](const auto& from, auto& to) {
      for (auto it = from.lower_bound(prefix); it != from.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        to[it->first.substr(prefix.size())] = it->second;
      }
    };
    take(tensors, out.tensors);
    take(numbers, out.numbers);
    take(strings, out.strings);
    return out;
  }
  bool empty() const { return tensors.empty() && numbers.empty() && strings.empty(); }

  // Typed lookups that throw naming `who` (the loader) and the missing key.
  const Tensor& tensor(const std::string& key, std::string_view who) const {
    auto it = tensors.find(key);
    check(it != tensors.end(), who, "state dict has no tensor '{}'", key);
    return it->second;
  }
  double number(const std::string& key, std::string_view who) const {
    auto it = numbers.find(key);
    check(it != numbers.end(), who, "state dict has no number '{}'", key);
    return it->second;
  }
  // Numbers read back from a file are checked as the constructors check them: a damaged
  // or hand-edited file must not become a loop of 2^63 epochs or a scale of 0.
  // A whole number in [lo, hi] (a count, an epoch); NaN, ±inf and fractions are errors.
  int64_t integer(const std::string& key, std::string_view who, int64_t lo = 0,
                  int64_t hi = int64_t(1) << 53) const {
    const double v = number(key, who);
    check(std::isfinite(v) && v == std::floor(v) && v >= double(lo) && v <= double(hi), who,
          "state dict number '{}' is {}, expected a whole number in [{}, {}]", key, v, lo, hi);
    return int64_t(v);
  }
  // A finite number in [lo, hi].
  double finite(const std::string& key, std::string_view who,
                double lo = -std::numeric_limits<double>::max(),
                double hi = std::numeric_limits<double>::max()) const {
    const double v = number(key, who);
    check(std::isfinite(v) && v >= lo && v <= hi, who,
          "state dict number '{}' is {}, expected a finite value in [{}, {}]", key, v, lo, hi);
    return v;
  }
  // 0 or 1.
  bool flag(const std::string& key, std::string_view who) const {
    return integer(key, who, 0, 1) != 0;
  }
  const std::string& string(const std::string& key, std::string_view who) const {
    auto it = strings.find(key);
    check(it != strings.end(), who, "state dict has no string '{}'", key);
    return it->second;
  }
};

}  // namespace descent
