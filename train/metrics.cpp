#include <descent/core/error.h>
#include <descent/train/metrics.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
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

}  // namespace

MetricsWriter::MetricsWriter(const std::string& path) : path_(path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  out_.open(path, std::ios::out | std::ios::trunc);
  check(out_.is_open(), "MetricsWriter", "{}: cannot open for writing", path);
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
