// descent::set_num_threads (core/threads.h): a fixed count reaches OpenMP on every
// calling thread, bad counts are refused, and the adaptive mode gives a core up when
// another process keeps one busy.
#include <descent/backends/cpu/thread_governor.h>
#include <descent/core/threads.h>
#include <descent/tensor.h>
#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

// Any CPU op: the count is applied as ops are dispatched.
void run_an_op() { (ones({64}) + 1.0).sum().item<double>(); }

}  // namespace

TEST(Threads, AdaptiveRuleGivesUpOneThreadPerCoreTakenElsewhere) {
  using cpu::adaptive_thread_count;
  EXPECT_EQ(adaptive_thread_count(2, 0.0), 2);
  EXPECT_EQ(adaptive_thread_count(2, 0.4), 2);  // background noise keeps both
  EXPECT_EQ(adaptive_thread_count(2, 0.6), 1);  // a busy process with 2 of our threads
  EXPECT_EQ(adaptive_thread_count(2, 1.0), 1);
  EXPECT_EQ(adaptive_thread_count(2, 5.0), 1);  // never below one
  EXPECT_EQ(adaptive_thread_count(16, 3.0), 13);
  EXPECT_EQ(adaptive_thread_count(16, 2.7), 13);
  EXPECT_EQ(adaptive_thread_count(1, 0.9), 1);
  // Clock skew between /proc/stat and the process clock: never more than `cores`.
  EXPECT_EQ(adaptive_thread_count(4, -0.5), 4);
  EXPECT_EQ(adaptive_thread_count(4, std::nan("")), 4);
}

TEST(Threads, AFixedCountReachesOpenMPOnEveryCallingThread) {
  set_num_threads(1);
  run_an_op();
  EXPECT_EQ(get_num_threads(), 1);
  EXPECT_EQ(omp_get_max_threads(), 1);
  set_num_threads(3);
  run_an_op();
  EXPECT_EQ(get_num_threads(), 3);
  EXPECT_EQ(omp_get_max_threads(), 3);
  int other = 0;
  std::thread([&] {
    run_an_op();
    other = omp_get_max_threads();
  }).join();
  EXPECT_EQ(other, 3);
  // Results agree whatever the count (this sum is exact in f32).
  set_num_threads(1);
  const double one = arange(0, 1 << 16).sum().item<double>();
  set_num_threads(2);
  EXPECT_EQ(arange(0, 1 << 16).sum().item<double>(), one);
}

TEST(Threads, BadCountsAreRefused) {
  const int before = get_num_threads();
  EXPECT_THROW_MSG(set_num_threads(-1),
                   "set_num_threads: got -1, expected a thread count >= 1, "
                   "or 0 to adapt to the free cores");
  EXPECT_EQ(get_num_threads(), before);
}

TEST(Threads, AdaptiveModeGivesUpACoreAnotherProcessKeepsBusy) {
  if (max_num_threads() < 2) GTEST_SKIP() << "needs 2 cores";
  set_num_threads(0);
  EXPECT_EQ(get_num_threads(), max_num_threads());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a CPU-bound neighbour for at most 10 s
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    volatile uint64_t spin = 0;
    while (std::chrono::steady_clock::now() < end) spin = spin + 1;
    _exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (get_num_threads() == max_num_threads() && std::chrono::steady_clock::now() < deadline)
    run_an_op();
  const int adapted = get_num_threads();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_LT(adapted, max_num_threads());
  EXPECT_GE(adapted, 1);
  run_an_op();
  EXPECT_EQ(omp_get_max_threads(), adapted);
}

// The adaptive mode samples the machine's load twice a second while ops run; it decides
// quietly: nothing reaches stderr.
TEST(Threads, AdaptiveSamplingWritesNothing) {
  set_num_threads(0);
  ::testing::internal::CaptureStderr();
  const Tensor a = randn({256, 256});
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  while (std::chrono::steady_clock::now() < until) (void)matmul(a, a).sum().item();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
}
