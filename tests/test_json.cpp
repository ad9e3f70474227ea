// The header JSON subset: what it accepts (escapes, \u with surrogate pairs, int64
// limits, whitespace) and each way it rejects input, plus writer → parser round trips.
#include <descent/core/json.h>

#include <random>

#include "testing/gradcheck.h"

using namespace descent;
using json::Value;

namespace {
Value parse(std::string_view s) { return json::parse(s, "test"); }
}  // namespace

TEST(Json, ParsesObjectsArraysStringsIntegers) {
  const Value v = parse(" {\"a\" : [1, -2, [], {}], \"b\":\"x\", \"c\":{\"d\":0}}\t\r\n  ");
  ASSERT_EQ(v.kind, Value::Kind::Object);
  ASSERT_EQ(v.object.size(), 3u);
  EXPECT_EQ(v.object[0].first, "a");  // file order is kept
  const Value& a = *v.find("a");
  ASSERT_EQ(a.array.size(), 4u);
  EXPECT_EQ(a.array[0].integer, 1);
  EXPECT_EQ(a.array[1].integer, -2);
  EXPECT_EQ(a.array[2].kind, Value::Kind::Array);
  EXPECT_EQ(a.array[3].kind, Value::Kind::Object);
  EXPECT_EQ(v.find("b")->string, "x");
  EXPECT_EQ(v.find("c")->find("d")->integer, 0);
  EXPECT_EQ(v.find("zz"), nullptr);
}

TEST(Json, StringEscapes) {
  EXPECT_EQ(parse(R"("\"\\\/\b\f\n\r\t")").string, "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse(R"("\u0041\u00e9\u4E2D")").string, "A\xc3\xa9\xe4\xb8\xad");
  EXPECT_EQ(parse(R"("\ud83d\ude00")").string, "\xf0\x9f\x98\x80");  // U+1F600
  EXPECT_EQ(parse(R"("\u0000")").string, std::string(1, '\0'));
  EXPECT_EQ(parse("\"raw \xe4\xb8\xad\"").string, "raw \xe4\xb8\xad");
}

TEST(Json, IntegerLimits) {
  EXPECT_EQ(parse("9223372036854775807").integer, INT64_MAX);
  EXPECT_EQ(parse("-9223372036854775808").integer, INT64_MIN);
  EXPECT_THROW_MSG(parse("9223372036854775808"), "at byte 0: integer does not fit in 64 bits");
  EXPECT_THROW_MSG(parse("-9223372036854775809"), "integer does not fit in 64 bits");
  EXPECT_THROW_MSG(parse("[99999999999999999999999]"), "at byte 1: integer does not fit");
  EXPECT_THROW_MSG(parse("012"), "leading zeros");
  EXPECT_THROW_MSG(parse("1.5"), "only integers are supported");
  EXPECT_THROW_MSG(parse("1e3"), "only integers are supported");
  EXPECT_THROW_MSG(parse("-"), "expected a digit after '-'");
}

TEST(Json, Rejects) {
  EXPECT_THROW_MSG(parse(""), "test: invalid JSON header at byte 0: expected a value");
  EXPECT_THROW_MSG(parse("{} x"), "at byte 3: unexpected 'x' after the end");
  EXPECT_THROW_MSG(parse("{\"a\":1,}"), "at byte 7: expected a key string, got '}'");
  EXPECT_THROW_MSG(parse("{\"a\" 1}"), "expected ':', got '1'");
  EXPECT_THROW_MSG(parse("[1 2]"), "expected ']', got '2'");
  EXPECT_THROW_MSG(parse("{\"a\":1,\"a\":2}"), "at byte 7: duplicate key \"a\"");
  EXPECT_THROW_MSG(parse("true"), "expected an object, array, string or integer, got 't'");
  EXPECT_THROW_MSG(parse("null"), "got 'n'");
  EXPECT_THROW_MSG(parse("\"abc"), "unterminated string");
  EXPECT_THROW_MSG(parse("\"a\tb\""), "control character \\x09 in a string must be escaped");
  EXPECT_THROW_MSG(parse(R"("\x")"), "unknown escape '\\x'");
  EXPECT_THROW_MSG(parse(R"("\u12")"), "\\u needs four hex digits");
  EXPECT_THROW_MSG(parse(R"("\u12g4")"), "\\u needs four hex digits");
  EXPECT_THROW_MSG(parse(R"("\ud800")"), "high surrogate \\ud800 without a following low");
  EXPECT_THROW_MSG(parse(R"("\ud800\u0041")"), "followed by \\u0041, not a low surrogate");
  EXPECT_THROW_MSG(parse(R"("\udc00")"), "unpaired low surrogate \\udc00");
  EXPECT_THROW_MSG(parse(std::string(100, '[') + std::string(100, ']')),
                   "nesting deeper than 64 levels");
  EXPECT_NO_THROW(parse(std::string(63, '[') + std::string(63, ']')));
}

TEST(Json, RejectsInvalidUtf8) {
  const std::pair<std::string, size_t> bad[] = {
      {"\"\x80\"", 1},              // lone continuation byte
      {"\"\xc0\xaf\"", 1},          // overlong '/'
      {"\"\xe0\x80\xaf\"", 1},      // overlong, 3 bytes
      {"\"\xed\xa0\x80\"", 1},      // encoded surrogate U+D800
      {"\"\xf4\x90\x80\x80\"", 1},  // above U+10FFFF
      {"\"ab\xe4\xb8\"", 3},        // truncated sequence
      {"\"\xff\"", 1},
  };
  for (const auto& [s, at] : bad) {
    EXPECT_FALSE(json::is_valid_utf8(s));
    EXPECT_THROW_MSG(parse(s), fmt::format("invalid UTF-8 at byte {}", at));
  }
  EXPECT_TRUE(json::is_valid_utf8("\xf4\x8f\xbf\xbf \xef\xbf\xbf \xc2\x80"));
}

TEST(Json, WriterRoundTripsEveryString) {
  std::string all_ascii;
  for (int c = 0; c < 128; ++c) all_ascii.push_back(char(c));
  std::mt19937 rng(3);
  std::vector<std::string> cases = {"", all_ascii, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"};
  for (int i = 0; i < 200; ++i) {
    std::string s;
    for (int k = int(rng() % 20); k > 0; --k) s.push_back(char(rng() % 128));
    cases.push_back(s);
  }
  for (const std::string& s : cases) {
    std::string out;
    json::append_string(out, s);
    for (char c : out) EXPECT_GE(static_cast<unsigned char>(c), 0x20);  // all escaped
    EXPECT_EQ(parse(out).string, s);
  }
}

TEST(Json, PrintableForMessages) {
  EXPECT_EQ(json::printable("w\x01\n\x7f\xc3\xa9"), "w\\x01\\x0a\\x7f\xc3\xa9");
  EXPECT_EQ(json::printable(std::string(100, 'a'), 4), "aaaa... (100 bytes)");
  EXPECT_EQ(json::printable("abcd", 4), "abcd");
}
