#include <descent/core/random.h>
#include <descent/core/safetensors.h>
#include <descent/core/state_dict_file.h>
#include <descent/ops/factory.h>
#include <descent/train/checkpoint.h>

#include <set>

namespace descent::train {

namespace {

constexpr std::string_view kOp = "checkpoint";
constexpr int kFormatVersion = 1;

// The default generator as two i64 values: a u64 seed does not fit a double exactly.
struct RngPart {
  StateDict state_dict() const {
    const GeneratorState g = default_generator().state();
    StateDict s;
    s.tensors["default"] = from_vector<int64_t>({int64_t(g.seed), int64_t(g.offset)});
    return s;
  }
  void load_state_dict(const StateDict& s) {
    const Tensor& t = s.tensor("default", "checkpoint.rng");
    check(t.dtype() == DType::I64 && t.numel() == 2, "checkpoint.rng",
          "expected an i64 tensor of 2 values (seed, offset), got {} of shape {}", t.dtype(),
          t.shape());
    const std::vector<int64_t> v = t.to_vector<int64_t>();
    default_generator().set_state({uint64_t(v[0]), uint64_t(v[1])});
  }
};

// A copy that later in-place loads cannot change (state dicts hold live handles).
StateDict deep_copy(StateDict s) {
  for (auto& [k, t] : s.tensors) t = t.detach().clone();
  return s;
}

std::vector<Part> with_rng(const std::vector<Part>& parts, RngPart& rng) {
  std::set<std::string> seen;
  for (const Part& p : parts) {
    check(!p.name.empty() && p.name.find('.') == std::string::npos, kOp,
          "part names must be non-empty and contain no '.', got '{}'", p.name);
    check(p.name != "rng" && p.name != "checkpoint", kOp, "part name '{}' is reserved", p.name);
    check(seen.insert(p.name).second, kOp, "part '{}' is given twice", p.name);
  }
  std::vector<Part> all = parts;
  all.emplace_back("rng", rng);
  return all;
}

}  // namespace

StateDict Progress::state_dict() const {
  StateDict s;
  s.numbers["epoch"] = double(epoch);
  s.numbers["step"] = double(step);
  for (const auto& [k, v] : extra) s.numbers["extra." + k] = v;
  return s;
}

void Progress::load_state_dict(const StateDict& s) {
  constexpr std::string_view who = "Progress.load_state_dict";
  const int64_t e = s.integer("epoch", who), st = s.integer("step", who);
  epoch = e;
  step = st;
  extra.clear();
  for (const auto& [k, v] : s.sub("extra.").numbers) extra[k] = v;
}

StateDict collect_state(const std::vector<Part>& parts) {
  RngPart rng;
  StateDict all;
  all.numbers["checkpoint.version"] = kFormatVersion;
  for (const Part& p : with_rng(parts, rng)) {
    all.merge(p.save(), p.name + ".");
    all.strings["checkpoint.part." + p.name] = "present";  // a part's state may be empty
  }
  return all;
}

void restore_state(const StateDict& state, const std::vector<Part>& parts,
                   std::string_view source) {
  RngPart rng;
  const std::vector<Part> all = with_rng(parts, rng);
  auto version = state.numbers.find("checkpoint.version");
  check(version != state.numbers.end(), kOp, "{} is not a descent checkpoint (no version)", source);
  check(version->second == kFormatVersion, kOp, "{} has format version {}, expected {}", source,
        version->second, kFormatVersion);
  std::vector<StateDict> subs;
  for (const Part& p : all) {
    check(state.strings.contains("checkpoint.part." + p.name), kOp, "{} has no state for part '{}'",
          source, p.name);
    subs.push_back(state.sub(p.name + "."));
  }
  // All or nothing: keep what every part holds now, and put it back if one fails.
  std::vector<StateDict> backup;
  for (const Part& p : all) backup.push_back(deep_copy(p.save()));
  for (size_t i = 0; i < all.size(); ++i) {
    try {
      all[i].load(subs[i]);
    } catch (const Error& e) {
      for (size_t j = 0; j <= i; ++j) all[j].load(backup[j]);
      fail(kOp, fmt::format("{}: part '{}' does not fit: {}", source, all[i].name, e.what()));
    }
  }
}

void save_checkpoint(const std::string& path, const std::vector<Part>& parts) {
  save(collect_state(parts), path);
}

void load_checkpoint(const std::string& path, const std::vector<Part>& parts) {
  restore_state(load_state_dict_file(path), parts, "'" + path + "'");
}

}  // namespace descent::train
