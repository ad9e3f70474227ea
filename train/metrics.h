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
//
// After a resume, a run continues its CSV instead of truncating it:
//   train::MetricsWriter csv(path, {.column = "epoch", .up_to = double(progress.epoch)});
// keeps the header and the rows up to the checkpoint (rows whose `column` is at most
// `up_to`); the rows the interrupted run wrote after its checkpoint — and a last line a
// crash cut short — are dropped, because the resumed run writes them again.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace descent::train {

using Metrics = std::vector<std::pair<std::string, double>>;

// Which rows of an existing CSV a resumed run keeps.
struct MetricsAppend {
  std::string column;  // a column of the file's header, e.g. "epoch" or "step"
  double up_to = 0;    // rows with a larger value (or NaN) are dropped
};

class MetricsWriter {
 public:
  // Creates (truncates) `path`, and its parent folders.
  explicit MetricsWriter(const std::string& path);
  // Continues `path` (see the top of this file); a missing or empty file starts afresh.
  // Throws descent::Error when the file's header lacks `keep.column` or a row has the
  // wrong number of fields or a value that is not a number.
  MetricsWriter(const std::string& path, const MetricsAppend& keep);

  void write(const Metrics& row);

  const std::string& path() const { return path_; }
  // The header's names (empty until the first row, or those of a continued file).
  const std::vector<std::string>& columns() const { return columns_; }
  // Rows in the file, kept ones of a continued file included.
  int64_t rows() const { return rows_; }

 private:
  void open(std::ios::openmode mode);
  std::string path_;
  std::ofstream out_;
  std::vector<std::string> columns_;
  int64_t rows_ = 0;
};

// "result: k1=v1 k2=v2 ..." with every value to four decimals.
std::string format_result(const Metrics& metrics);

}  // namespace descent::train
