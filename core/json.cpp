#include <descent/core/error.h>
#include <descent/core/json.h>

#include <set>

namespace descent::json {

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string_view kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::String: return "a string";
    case Value::Kind::Integer: return "an integer";
    case Value::Kind::Array: return "an array";
    case Value::Kind::Object: return "an object";
  }
  return "?";
}

bool is_valid_utf8(std::string_view s, size_t* bad_at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      if (bad_at) *bad_at = i;
      return false;
    }
    bool ok = i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xc0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and values past Unicode are all invalid.
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      if (bad_at) *bad_at = i;
      return false;
    }
    i += len;
  }
  return true;
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(char(c));
    }
  }
  if (s.size() > max) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, std::string_view who) : s_(text), who_(who) {}

  Value parse_document() {
    skip_ws();
    Value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) error("unexpected '{}' after the end of the JSON value", peek_char());
    return v;
  }

 private:
  template <class... Args>
  [[noreturn]] void error(fmt::format_string<Args...> f, Args&&... args) {
    fail(who_, fmt::format("invalid JSON header at byte {}: {}", pos_,
                           fmt::format(f, std::forward<Args>(args)...)));
  }
  // The next character, printable in an error message.
  std::string peek_char() const {
    if (pos_ >= s_.size()) return "end of header";
    const auto c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x20 && c < 0x7f) return std::string(1, char(c));
    return fmt::format("\\x{:02x}", c);
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) error("expected '{}', got '{}'", c, peek_char());
    ++pos_;
  }

  Value parse_value(int depth) {
    if (depth >= kMaxJsonDepth) error("nesting deeper than {} levels", kMaxJsonDepth);
    if (pos_ >= s_.size()) error("expected a value, got the end of the header");
    const char c = s_[pos_];
    Value v;
    if (c == '{') {
      v.kind = Value::Kind::Object;
      parse_object(v, depth);
    } else if (c == '[') {
      v.kind = Value::Kind::Array;
      parse_array(v, depth);
    } else if (c == '"') {
      v.kind = Value::Kind::String;
      v.string = parse_string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::Kind::Integer;
      v.integer = parse_integer();
    } else {
      error("expected an object, array, string or integer, got '{}'", peek_char());
    }
    return v;
  }

  void parse_object(Value& v, int depth) {
    expect('{');
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return;
    }
    std::set<std::string> keys;
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        error("expected a key string, got '{}'", peek_char());
      const size_t key_pos = pos_;
      std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      Value member = parse_value(depth + 1);
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        error("duplicate key \"{}\"", printable(key));
      }
      v.object.emplace_back(std::move(key), std::move(member));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return;
    }
  }

  void parse_array(Value& v, int depth) {
    expect('[');
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      v.array.push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return;
    }
  }

  int64_t parse_integer() {
    const size_t start = pos_;
    const bool negative = s_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') error("expected a digit after '-'");
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      error("integers must not have leading zeros");
    }
    // Accumulate as a negative number so that INT64_MIN fits.
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int d = s_[pos_] - '0';
      if (v < (INT64_MIN + d) / 10) {
        pos_ = start;
        error("integer does not fit in 64 bits");
      }
      v = v * 10 - d;
      ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      error("only integers are supported, not fractions or exponents");
    }
    if (negative) return v;
    if (v == INT64_MIN) {
      pos_ = start;
      error("integer does not fit in 64 bits");
    }
    return -v;
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > s_.size()) error("\\u needs four hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= uint32_t(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= uint32_t(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= uint32_t(c - 'A' + 10);
      } else {
        --pos_;
        error("\\u needs four hex digits");
      }
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else if (cp < 0x800) {
      out.push_back(char(0xc0 | (cp >> 6)));
      out.push_back(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(char(0xe0 | (cp >> 12)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(char(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(char(0xf0 | (cp >> 18)));
      out.push_back(char(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(char(0x80 | (cp & 0x3f)));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) error("control character \\x{:02x} in a string must be escaped", c);
      if (c != '\\') {
        out.push_back(char(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) error("unpaired low surrogate \\u{:04x}", cp);
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
              error("high surrogate \\u{:04x} without a following low surrogate", cp);
            }
            pos_ += 2;
            const uint32_t lo = parse_hex4();
            if (lo < 0xdc00 || lo > 0xdfff) {
              error("high surrogate \\u{:04x} followed by \\u{:04x}, not a low surrogate", cp, lo);
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; error("unknown escape '\\{}'", peek_char());
      }
    }
  }

  std::string_view s_;
  std::string_view who_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text, std::string_view who) {
  size_t bad = 0;
  check(is_valid_utf8(text, &bad), who, "invalid JSON header: invalid UTF-8 at byte {}", bad);
  return Parser(text, who).parse_document();
}

}  // namespace descent::json
