// MetricsWriter (CSV header from the first row, rows flushed as written, exact number
// text) and format_result (the `result:` line examples end with).
#include <descent/train/metrics.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path temp_csv(std::string_view name) {
  return std::filesystem::temp_directory_path() / "descent_metrics" / name;
}

}  // namespace

TEST(DataMetrics, WritesHeaderAndFlushedRows) {
  const auto path = temp_csv("a/steps.csv");  // parent folders are created
  std::filesystem::remove_all(path.parent_path());
  train::MetricsWriter csv(path.string());
  csv.write({{"step", 1}, {"loss", 0.5}, {"lr", 1e-3}});
  // Flushed: readable before the writer closes.
  EXPECT_EQ(slurp(path), "step,loss,lr\n1,0.5,0.001\n");
  // Later rows may list the keys in any order; columns keep the header's.
  csv.write({{"lr", 2.5e-10}, {"step", 2}, {"loss", 0.1}});
  EXPECT_EQ(slurp(path), "step,loss,lr\n1,0.5,0.001\n2,0.1,2.5e-10\n");
  EXPECT_EQ(csv.columns(), (std::vector<std::string>{"step", "loss", "lr"}));
  EXPECT_EQ(csv.rows(), 2);
}

TEST(DataMetrics, NumbersRoundTripExactly) {
  const auto path = temp_csv("exact.csv");
  train::MetricsWriter csv(path.string());
  const double third = 1.0 / 3.0;
  csv.write({{"x", third},
             {"big", 123456789012.0},
             {"bad", std::nan("")},
             {"inf", std::numeric_limits<double>::infinity()}});
  const std::string s = slurp(path);
  const std::string row = s.substr(s.find('\n') + 1);
  EXPECT_EQ(row, "0.3333333333333333,123456789012,nan,inf\n");
  EXPECT_EQ(std::stod(row.substr(0, row.find(','))), third);
}

TEST(DataMetrics, RowsMustMatchTheHeader) {
  const auto path = temp_csv("mismatch.csv");
  train::MetricsWriter csv(path.string());
  EXPECT_THROW_MSG(csv.write({}), "the first row has no metrics");
  csv.write({{"step", 1}, {"loss", 0.5}});
  EXPECT_THROW_MSG(csv.write({{"step", 2}}),
                   "row has 1 metrics, expected the header's 2 (step,loss)");
  EXPECT_THROW_MSG(csv.write({{"step", 2}, {"acc", 0.9}}), "row has no 'loss', expected columns");
  EXPECT_THROW_MSG(csv.write({{"step", 2}, {"step", 3}}), "metric 'step' appears twice");
  EXPECT_EQ(csv.rows(), 1);
  EXPECT_EQ(slurp(path), "step,loss\n1,0.5\n");
}

TEST(DataMetrics, BadNamesAndPaths) {
  const auto path = temp_csv("names.csv");
  train::MetricsWriter csv(path.string());
  EXPECT_THROW_MSG(csv.write({{"a,b", 1}}), "metric name 'a,b' contains ','");
  EXPECT_THROW_MSG(csv.write({{"test acc", 1}}), "metric name 'test acc' contains ' '");
  EXPECT_THROW_MSG(csv.write({{"", 1}}), "got an empty metric name");
  EXPECT_THROW_MSG(train::MetricsWriter("/proc/descent/none.csv"),
                   "/proc/descent/none.csv: cannot open for writing");
}

TEST(DataMetrics, FormatResult) {
  EXPECT_EQ(train::format_result({{"test_acc", 0.91}, {"test_loss", 0.27346}}),
            "result: test_acc=0.9100 test_loss=0.2735");
  EXPECT_EQ(train::format_result({{"steps", 4680}, {"nan", std::nan("")}}),
            "result: steps=4680.0000 nan=nan");
  EXPECT_EQ(train::format_result({}), "result:");
  EXPECT_THROW_MSG(train::format_result({{"a=b", 1}}), "format_result: metric name 'a=b'");
}

TEST(DataMetrics, ContinuesAfterResumeDroppingRowsPastTheCheckpoint) {
  const auto path = temp_csv("resume.csv");
  {
    train::MetricsWriter csv(path.string());
    for (int e = 1; e <= 4; ++e) csv.write({{"epoch", e}, {"loss", 1.0 / e}});
  }
  // A crash cut the last row short.
  std::ofstream(path, std::ios::app) << "5,0.1";
  // The checkpoint holds 2 epochs: rows 3, 4 and the torn one are written again.
  train::MetricsWriter csv(path.string(), {.column = "epoch", .up_to = 2});
  EXPECT_EQ(csv.rows(), 2);
  EXPECT_EQ(csv.columns(), (std::vector<std::string>{"epoch", "loss"}));
  EXPECT_EQ(slurp(path), "epoch,loss\n1,1\n2,0.5\n");
  csv.write({{"loss", 0.25}, {"epoch", 3}});  // the header's order, not the row's
  EXPECT_EQ(slurp(path), "epoch,loss\n1,1\n2,0.5\n3,0.25\n");
  EXPECT_THROW_MSG(csv.write({{"epoch", 4}}), "row has 1 metrics, expected the header's 2");
  EXPECT_EQ(csv.rows(), 3);
}

TEST(DataMetrics, ContinuingAMissingFileStartsIt) {
  const auto path = temp_csv("resume_new.csv");
  std::filesystem::remove(path);
  train::MetricsWriter csv(path.string(), {.column = "step", .up_to = 10});
  EXPECT_EQ(csv.rows(), 0);
  csv.write({{"step", 0}, {"loss", 2}});
  EXPECT_EQ(slurp(path), "step,loss\n0,2\n");
}

TEST(DataMetrics, ContinuingRefusesAFileItCannotRead) {
  const auto path = temp_csv("resume_bad.csv");
  auto put = [&](std::string_view text) { std::ofstream(path, std::ios::trunc) << text; };
  put("epoch,loss\n1,0.5\n");
  EXPECT_THROW_MSG(train::MetricsWriter(path.string(), {.column = "step", .up_to = 1}),
                   "has no column 'step' to continue by, expected one of epoch,loss");
  put("epoch,loss\n1,0.5,7\n");
  EXPECT_THROW_MSG(train::MetricsWriter(path.string(), {.column = "epoch", .up_to = 1}),
                   "line 2 has 3 fields, expected 2");
  put("epoch,loss\nx1,0.5\n");
  EXPECT_THROW_MSG(train::MetricsWriter(path.string(), {.column = "epoch", .up_to = 1}),
                   "line 2 has 'x1' in column 'epoch', expected a number");
  put("epoch,lo ss\n");
  EXPECT_THROW_MSG(train::MetricsWriter(path.string(), {.column = "epoch", .up_to = 1}),
                   "metric name 'lo ss' contains ' '");
  put("epoch,loss");
  EXPECT_THROW_MSG(train::MetricsWriter(path.string(), {.column = "epoch", .up_to = 1}),
                   "has no complete header line");
}
