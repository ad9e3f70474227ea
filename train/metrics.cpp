#include <descent/core/atomic_file.h>
#include <descent/core/error.h>
#include <descent/train/metrics.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace descent::train {

namespace {

void check_key(const std::string& key, std::string_view op) {
  check(!key.empty(), op, "got an empty metric name");
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    check(u > ' ' && u != 0x7f && c != ',' && c != '"' && c != '=', op,
          "metric name '{}' contains '{}' (0x{:02x}); expected no ',', '\"', '=', whitespace or "
          "control characters",
          key, c, u);
  }
}

void check_unique(const Metrics& m, std::string_view op) {
  for (size_t i = 0; i < m.size(); ++i) {
    check_key(m[i].first, op);
    for (size_t j = 0; j < i; ++j) {
      check(m[i].first != m[j].first, op, "metric '{}' appears twice", m[i].first);
    }
  }
}

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.emplace_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace

MetricsWriter::MetricsWriter(const std::string& path) : path_(path) { open(std::ios::trunc); }

MetricsWriter::MetricsWriter(const std::string& path, const MetricsAppend& keep) : path_(path) {
  constexpr std::string_view op = "MetricsWriter";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) {
    open(std::ios::trunc);
    return;
  }
  const std::vector<std::byte> bytes = read_file_bytes(path, op);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // Complete lines only: a crash in the middle of a row leaves a line without '\n'.
  std::vector<std::string_view> lines;
  for (size_t start = 0, nl; (nl = text.find('\n', start)) != std::string_view::npos;
       start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  check(!lines.empty(), op, "{}: has no complete header line, expected a CSV to continue", path);
  for (const std::string& name : split_fields(lines[0])) {
    check_key(name, op);
    columns_.push_back(name);
  }
  const auto col = std::find(columns_.begin(), columns_.end(), keep.column);
  check(col != columns_.end(), op, "{}: has no column '{}' to continue by, expected one of {}",
        path, keep.column, fmt::join(columns_, ","));
  const size_t key = size_t(col - columns_.begin());
  std::string kept = std::string(lines[0]) + '\n';
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> fields = split_fields(lines[i]);
    check(fields.size() == columns_.size(), op, "{}: line {} has {} fields, expected {}", path,
          i + 1, fields.size(), columns_.size());
    char* end = nullptr;
    const double v = std::strtod(fields[key].c_str(), &end);
    check(!fields[key].empty() && *end == '\0', op,
          "{}: line {} has '{}' in column '{}', expected a number", path, i + 1, fields[key],
          keep.column);
    if (!(v <= keep.up_to)) continue;
    kept += std::string(lines[i]) + '\n';
    ++rows_;
  }
  if (kept.size() != text.size()) write_file_atomic(path, std::string_view(kept));
  open(std::ios::app);
}

void MetricsWriter::open(std::ios::openmode mode) {
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  out_.open(path_, std::ios::out | mode);
  check(out_.is_open(), "MetricsWriter", "{}: cannot open for writing", path_);
}

void MetricsWriter::write(const Metrics& row) {
  check_unique(row, "MetricsWriter::write");
  if (columns_.empty()) {
    check(!row.empty(), "MetricsWriter::write", "{}: the first row has no metrics", path_);
    for (const auto& [k, v] : row) columns_.push_back(k);
    std::string header;
    for (const auto& c : columns_) header += (header.empty() ? "" : ",") + c;
    out_ << header << '\n';
  }
  check(row.size() == columns_.size(), "MetricsWriter::write",
        "{}: row has {} metrics, expected the header's {} ({})", path_, row.size(), columns_.size(),
        fmt::join(columns_, ","));
  std::string line;
  for (size_t c = 0; c < columns_.size(); ++c) {
    auto it = std::find_if(row.begin(), row.end(),
                           [&](const auto& kv) { return kv.first == columns_[c]; });
    check(it != row.end(), "MetricsWriter::write", "{}: row has no '{}', expected columns {}",
          path_, columns_[c], fmt::join(columns_, ","));
    if (c) line += ',';
    line += fmt::format("{}", it->second);
  }
  out_ << line << '\n' << std::flush;
  check(bool(out_), "MetricsWriter::write", "{}: write failed", path_);
  ++rows_;
}

std::string format_result(const Metrics& metrics) {
  check_unique(metrics, "format_result");
  std::string s = "result:";
  for (const auto& [k, v] : metrics) s += fmt::format(" {}={:.4f}", k, v);
  return s;
}

}  // namespace descent::train
