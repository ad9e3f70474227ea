#include <descent/core/safetensors.h>
#include <descent/core/state_dict_file.h>

#include <charconv>

namespace descent {
namespace {

constexpr std::string_view kNumberPrefix = "number:";
constexpr std::string_view kStringPrefix = "string:";
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormat = "descent.state_dict.v1";

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void save(const StateDict& state, const std::string& path) {
  std::map<std::string, std::string> metadata;
  metadata[std::string(kFormatKey)] = kFormat;
  for (const auto& [k, v] : state.numbers) {
    // Without a precision, to_chars gives the shortest text that parses back exactly.
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    check(ec == std::errc(), "save", "cannot format number '{}'", k);
    metadata[std::string(kNumberPrefix) + k] = std::string(buf, end);
  }
  for (const auto& [k, v] : state.strings) metadata[std::string(kStringPrefix) + k] = v;
  save_safetensors(path, state.tensors, metadata);
}

StateDict load_state_dict_file(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  StateDict out;
  out.tensors = std::move(file.tensors);
  for (const auto& [k, v] : file.metadata) {
    if (starts_with(k, kNumberPrefix)) {
      double d = 0;
      const char* end = v.data() + v.size();
      const auto [ptr, ec] = std::from_chars(v.data(), end, d);
      check(ec == std::errc() && ptr == end && !v.empty(), "load_state_dict_file",
            "'{}': metadata '{}' = '{}' is not a number", path, k, v);
      out.numbers[k.substr(kNumberPrefix.size())] = d;
    } else if (starts_with(k, kStringPrefix)) {
      out.strings[k.substr(kStringPrefix.size())] = v;
    } else if (!(k == kFormatKey && v == kFormat)) {
      out.strings[k] = v;
    }
  }
  return out;
}

}  // namespace descent
