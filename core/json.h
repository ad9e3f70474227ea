#pragma once
// The small JSON subset that file headers need: objects, arrays, strings (all escapes,
// \uXXXX with surrogate pairs) and integers that fit in int64. Anything else (floats,
// true/false/null) is rejected, as are invalid UTF-8, unescaped control characters,
// duplicate object keys, nesting deeper than kMaxJsonDepth and trailing garbage
// (trailing whitespace is allowed: safetensors pads its header with spaces).
// Errors are descent::Error("<who>: invalid JSON header at byte <n>: <problem>").
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::json {

inline constexpr int kMaxJsonDepth = 64;

struct Value {
  enum class Kind : uint8_t { String, Integer, Array, Object };
  Kind kind = Kind::Integer;
  std::string string;
  int64_t integer = 0;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in file order, keys unique

  // The member named `key`, or null.
  const Value* find(std::string_view key) const;
};

std::string_view kind_name(Value::Kind k);

// Parses `text` as one JSON value; `who` starts every error message.
Value parse(std::string_view text, std::string_view who);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF). On failure `bad_at` (if given) receives the offset of the bad byte.
bool is_valid_utf8(std::string_view s, size_t* bad_at = nullptr);

// `s` fit for an error message: control bytes as \xNN, cut after `max` bytes (with
// the full length noted), so that a hostile name cannot flood or garble a terminal.
std::string printable(std::string_view s, size_t max = 64);

// Appends `s` as a quoted JSON string (", \ and control characters escaped; other
// bytes copied, so `s` should be valid UTF-8).
void append_string(std::string& out, std::string_view s);

}  // namespace descent::json
