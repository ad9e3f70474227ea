#include <descent/core/error.h>
#include <descent/train/progress.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace descent::train {

namespace {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = int64_t(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

bool is_terminal(const std::ostream* out) {
  if (out == &std::cout) return isatty(fileno(stdout));
  if (out == &std::cerr || out == &std::clog) return isatty(fileno(stderr));
  return false;
}

}  // namespace

ProgressBar::ProgressBar(ProgressOptions opt)
    : opt_(std::move(opt)), out_(opt_.out ? opt_.out : &std::cout) {
  check(opt_.total >= 0, "ProgressBar", "got total = {}, expected >= 0", opt_.total);
  switch (opt_.mode) {
    case ProgressMode::Auto: terminal_ = is_terminal(out_); break;
    case ProgressMode::Terminal: terminal_ = true; break;
    case ProgressMode::Plain: terminal_ = false; break;
  }
  start_ = last_print_ = now();
}

ProgressBar::~ProgressBar() {
  // A destructor must not throw; a failing stream only loses the last line.
  try {
    finish();
  } catch (...) {
  }
}

double ProgressBar::now() const {
  if (opt_.clock) return opt_.clock();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double ProgressBar::mean_loss() const {
  return samples_ > 0 ? loss_sum_ / double(samples_) : std::nan("");
}

void ProgressBar::update(double loss, int64_t samples) {
  check(samples >= 0, "ProgressBar::update", "got samples = {}, expected >= 0", samples);
  ++batches_;
  samples_ += samples;
  loss_sum_ += loss * double(samples);
  const double t = now();
  const bool last = opt_.total > 0 && batches_ >= opt_.total;
  if (terminal_) {
    if (last || t - last_print_ >= opt_.redraw_s) print();
    return;
  }
  bool due = t - last_print_ >= opt_.plain_interval_s;
  // Every tenth of the epoch: crossing several tenths at once prints one line.
  while (opt_.total > 0 && batches_ * 10 >= next_decile_ * opt_.total) {
    due = true;
    ++next_decile_;
  }
  if (due) print();
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_) {
    print();
    *out_ << '\n' << std::flush;
  } else if (printed_batches_ != batches_ && batches_ > 0) {
    print();
  }
}

std::string ProgressBar::line() const {
  std::string s;
  if (opt_.epoch > 0) {
    s += opt_.epochs > 0 ? fmt::format("epoch {}/{} ", opt_.epoch, opt_.epochs)
                         : fmt::format("epoch {} ", opt_.epoch);
  }
  if (terminal_ && opt_.total > 0) {
    const int w = opt_.bar_width;
    const int fill = int(std::min<int64_t>(w, batches_ * w / opt_.total));
    s += '[' + std::string(size_t(fill), '=') + std::string(size_t(w - fill), ' ') + "] ";
  }
  if (opt_.total > 0) {
    s += fmt::format("batch {}/{} ({:.0f}%)", batches_, opt_.total,
                     100.0 * double(batches_) / double(opt_.total));
  } else {
    s += fmt::format("batch {}", batches_);
  }
  s += fmt::format(" loss {:.4f}", mean_loss());
  const double elapsed = now() - start_;
  if (elapsed > 0) s += fmt::format(" | {:.0f} samples/s", double(samples_) / elapsed);
  if (opt_.total > 0 && batches_ >= opt_.total) {
    s += fmt::format(" | {} elapsed", format_duration(elapsed));
  } else if (opt_.total > 0 && batches_ > 0) {
    const double eta = elapsed / double(batches_) * double(opt_.total - batches_);
    s += fmt::format(" | ETA {}", format_duration(eta));
  }
  return s;
}

void ProgressBar::print() {
  if (terminal_) {
    // "\x1b[K" clears what a longer previous line left behind.
    *out_ << '\r' << line() << "\x1b[K" << std::flush;
  } else {
    *out_ << line() << '\n' << std::flush;
  }
  printed_batches_ = batches_;
  last_print_ = now();
}

}  // namespace descent::train
