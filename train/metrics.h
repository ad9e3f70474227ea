#pragma once
// Metrics of a training run: rows of named numbers written to a CSV file, and the
// one-line summary every example prints last.
//
//   train::MetricsWriter csv("runs/mlp/steps.csv");
//   csv.write({{"step", step}, {"loss", loss}, {"lr", lr}});   // header from row 1
//   fmt::print("{}\n", train::format_result({{"test_acc", 0.91}, {"test_loss", 0.27}}));
//   // result: test_acc=0.9100 test_loss=0.2700
//
// The first row's keys, in order, become the header; every later row must have the
// same keys (in any order). Each row is flushed, so a crashed run keeps its metrics.
// Keys must be non-empty and free of ',', '"', '=', whitespace and control characters.
// Values are written as the shortest text that reads back to the same double ("nan",
// "inf" included). Throws descent::Error for bad keys, rows whose keys differ from the
// header, and files that cannot be opened or written.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace descent::train {

using Metrics = std::vector<std::pair<std::string, double>>;

class MetricsWriter {
 public:
  // Creates (truncates) `path`, and its parent folders.
  explicit MetricsWriter(const std::string& path);

  void write(const Metrics& row);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }
  int64_t rows() const { return rows_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::vector<std::string> columns_;
  int64_t rows_ = 0;
};

// "result: k1=v1 k2=v2 ..." with every value to four decimals.
std::string format_result(const Metrics& metrics);

}  // namespace descent::train
