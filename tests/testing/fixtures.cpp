// Golden-fixture reader (see fixtures.h).
#include "testing/fixtures.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace descent::testing {
namespace {

constexpr std::string_view kOp = "fixtures";

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Where a line came from, for error messages.
struct Where {
  std::string_view source;
  size_t line;
  std::string_view name;
};

template <class T>
T parse_number(std::string_view tok, const Where& at, std::string_view what) {
  T v{};
  const char* end = tok.data() + tok.size();
  auto [ptr, ec] = std::from_chars(tok.data(), end, v);
  check(ec == std::errc() && ptr == end, kOp, "{}:{}: {}: {} '{}' is not a valid number", at.source,
        at.line, at.name, what, tok);
  return v;
}

DType parse_dtype(std::string_view tok, const Where& at) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool}) {
    if (tok == dtype_name(t)) return t;
  }
  fail(kOp, fmt::format("{}:{}: {}: unknown dtype '{}' (expected f32, f64, i32, i64 or bool)",
                        at.source, at.line, at.name, tok));
}

// Parses `values` as `dtype` into a new tensor of `shape`.
Tensor make_tensor(DType dtype, const Shape& shape, std::span<const std::string_view> values,
                   const Where& at) {
  return visit_dtype(dtype, [&]<class T>() {
    // Bytes for bool: std::vector<bool> has no data().
    std::vector<std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>> buf(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        check(values[i] == "0" || values[i] == "1", kOp,
              "{}:{}: {}: bool value '{}' must be 0 or 1", at.source, at.line, at.name, values[i]);
        buf[i] = values[i] == "1";
      } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        buf[i] = T(parse_number<float>(values[i], at, "value"));
      } else {
        buf[i] = parse_number<T>(values[i], at, "value");
      }
    }
    return from_blob(buf.data(), shape, dtype);
  });
}

}  // namespace

Fixtures parse_fixtures(std::string_view text, std::string_view source) {
  Fixtures out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    const std::vector<std::string_view> tok = split_ws(line);
    if (tok.empty() || tok[0].starts_with('#')) continue;

    Where at{source, line_no, tok[0]};
    check(tok.size() >= 3, kOp, "{}:{}: {}: expected '<name> <dtype> <ndim> <dims...> <values...>'",
          source, line_no, tok[0]);
    const DType dtype = parse_dtype(tok[1], at);
    const int64_t ndim = parse_number<int64_t>(tok[2], at, "ndim");
    check(ndim >= 0 && ndim <= kMaxDims, kOp, "{}:{}: {}: ndim {} is outside [0, {}]", source,
          line_no, tok[0], ndim, kMaxDims);
    check(tok.size() >= size_t(3 + ndim), kOp, "{}:{}: {}: expected {} dims, got {}", source,
          line_no, tok[0], ndim, tok.size() - 3);
    Shape shape;
    const uint64_t available = tok.size() - 3 - ndim;
    constexpr uint64_t kCap = uint64_t(1) << 62;  // saturates: huge dims cannot overflow
    uint64_t numel = 1;
    for (int64_t d = 0; d < ndim; ++d) {
      const int64_t n = parse_number<int64_t>(tok[3 + d], at, "dim");
      check(n >= 0, kOp, "{}:{}: {}: dim {} is negative ({})", source, line_no, tok[0], d, n);
      shape.push_back(n);
      numel = (n != 0 && numel > kCap / uint64_t(n)) ? kCap : numel * uint64_t(n);
    }
    check(numel == available, kOp, "{}:{}: {}: shape {} needs {} values, got {}", source, line_no,
          tok[0], shape, numel == kCap ? "too many" : fmt::format("{}", numel), available);
    check(!out.contains(std::string(tok[0])), kOp, "{}:{}: {}: name defined twice", source, line_no,
          tok[0]);
    out.emplace(std::string(tok[0]),
                make_tensor(dtype, shape, std::span(tok).subspan(3 + ndim), at));
  }
  return out;
}

Fixtures read_fixtures(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), kOp, "cannot open {} (regenerate with tests/oracle/gen_golden.py)", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_fixtures(ss.str(), path);
}

// $DESCENT_TEST_DATA_DIR overrides the build's path, for test binaries run from a copy
// of the tree elsewhere (scripts/gpu-run on a GPU machine).
std::string test_data_path(std::string_view relative) {
  const char* env = std::getenv("DESCENT_TEST_DATA_DIR");
  return fmt::format("{}/{}", env && *env ? env : DESCENT_TEST_DATA_DIR, relative);
}

}  // namespace descent::testing
