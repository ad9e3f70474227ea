// ProgressBar in both modes, written to a captured stream and driven by a fake clock:
// which lines appear when, what they say (batch, running loss, samples/s, ETA).
#include <descent/train/progress.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A clock the test advances by hand (binary fractions keep the sums exact).
struct FakeClock {
  double t = 0.0;
  std::function<double()> fn() {
    return [this] { return t; };
  }
};

}  // namespace

TEST(DataProgress, PlainModePrintsEveryTenthWithLossRateAndEta) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar({.total = 100,
                          .epoch = 2,
                          .epochs = 5,
                          .out = &out,
                          .mode = train::ProgressMode::Plain,
                          .plain_interval_s = 1e9,
                          .clock = clock.fn()});
  EXPECT_FALSE(bar.terminal());
  for (int i = 1; i <= 100; ++i) {
    clock.t = 0.125 * i;
    bar.update(/*loss=*/i <= 10 ? 2.0 : 1.0, /*samples=*/32);
  }
  bar.finish();
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 10u) << out.str();
  // After 10 batches: 320 samples in 1.25 s, 90 batches left at 0.125 s each.
  EXPECT_EQ(lines[0], "epoch 2/5 batch 10/100 (10%) loss 2.0000 | 256 samples/s | ETA 0:11");
  // Running loss over 20 batches: (10·2 + 10·1) / 20.
  EXPECT_NE(lines[1].find("batch 20/100 (20%) loss 1.5000"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[9], "epoch 2/5 batch 100/100 (100%) loss 1.1000 | 256 samples/s | 0:13 elapsed");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(DataProgress, PlainModeAlsoPrintsAfterAnInterval) {
  std::ostringstream out;
  FakeClock clock;
  // total unknown: no percentages, no ETA; a line every 2 s and one at the end.
  train::ProgressBar bar({.out = &out,
                          .mode = train::ProgressMode::Plain,
                          .plain_interval_s = 2.0,
                          .clock = clock.fn()});
  for (int i = 1; i <= 7; ++i) {
    clock.t = i;
    bar.update(0.5, 4);
  }
  bar.finish();
  bar.finish();  // idempotent
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[0], "batch 2 loss 0.5000 | 4 samples/s");
  EXPECT_EQ(lines[3], "batch 7 loss 0.5000 | 4 samples/s");
}

TEST(DataProgress, TerminalModeRedrawsOneLine) {
  std::ostringstream out;
  FakeClock clock;
  {
    train::ProgressBar bar({.total = 10,
                            .epoch = 1,
                            .out = &out,
                            .mode = train::ProgressMode::Terminal,
                            .redraw_s = 0.25,
                            .bar_width = 10,
                            .clock = clock.fn()});
    EXPECT_TRUE(bar.terminal());
    for (int i = 1; i <= 10; ++i) {
      clock.t = 0.125 * i;
      bar.update(1.0, 8);
    }
    // The destructor finishes the line.
  }
  const std::string s = out.str();
  // Redraws after batches 2, 4, 6, 8, 10 (every 0.25 s), then the final one.
  EXPECT_EQ(std::count(s.begin(), s.end(), '\r'), 6) << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1);
  EXPECT_EQ(s.back(), '\n');
  EXPECT_NE(s.find("\repoch 1 [==        ] batch 2/10 (20%) loss 1.0000 | 64 samples/s | ETA 0:01"
                   "\x1b[K"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("[==========] batch 10/10 (100%)"), std::string::npos);
}

TEST(DataProgress, AutoModeIsPlainForAStringStream) {
  std::ostringstream out;
  train::ProgressBar bar({.total = 1, .out = &out});
  EXPECT_FALSE(bar.terminal());
  bar.update(0.25, 1);
  EXPECT_EQ(lines_of(out.str()).size(), 1u);
}

TEST(DataProgress, RunningLossIsWeightedBySamples) {
  std::ostringstream out;
  train::ProgressBar bar({.out = &out, .mode = train::ProgressMode::Plain});
  EXPECT_TRUE(std::isnan(bar.mean_loss()));
  bar.update(1.0, 10);
  bar.update(4.0, 30);
  EXPECT_DOUBLE_EQ(bar.mean_loss(), 3.25);
  EXPECT_EQ(bar.batches(), 2);
}

TEST(DataProgress, Errors) {
  EXPECT_THROW_MSG(train::ProgressBar({.total = -1}), "ProgressBar: got total = -1, expected >= 0");
  std::ostringstream out;
  train::ProgressBar bar({.out = &out});
  EXPECT_THROW_MSG(bar.update(1.0, -2), "got samples = -2, expected >= 0");
}
