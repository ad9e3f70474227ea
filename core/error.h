#pragma once
// descent::Error — the one exception type of the library. Every message names the
// op, what it got and what it expected.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace descent {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error("<op>: <formatted message>") when `ok` is false. The message is only
// formatted on failure, so checks on the hot path cost one branch.
template <class... Args>
inline void check(bool ok, std::string_view op, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) [[unlikely]] {
    throw Error(fmt::format("{}: {}", op, fmt::format(f, std::forward<Args>(args)...)));
  }
}

[[noreturn]] inline void fail(std::string_view op, const std::string& msg) {
  throw Error(fmt::format("{}: {}", op, msg));
}

}  // namespace descent
