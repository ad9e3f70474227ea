// descent::set_num_threads and the adaptive thread count (core/threads.h).
#include <descent/backends/cpu/thread_governor.h>
#include <descent/core/error.h>
#include <descent/core/threads.h>
#include <omp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace descent::cpu {

namespace {

constexpr int64_t kSampleEveryNs = 500'000'000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One reading of the clocks the adaptive mode compares.
struct LoadSample {
  int64_t wall_ns = 0;
  double own_s = 0;   // CPU time of this process, all threads
  double busy_s = 0;  // non-idle time (steal included) of the CPUs this process may use
  bool valid = false;
};

LoadSample read_load() {
  LoadSample s;
  s.wall_ns = now_ns();
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return s;
  s.own_s = double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return s;
  // Per-CPU lines, so that a container seeing the host's CPUs counts only its own.
  std::ifstream stat("/proc/stat");
  const double tick = double(sysconf(_SC_CLK_TCK));
  if (!stat || tick <= 0) return s;
  std::string line;
  uint64_t busy = 0;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu", 0) != 0) break;                             // the cpu lines come first
    if (line.size() < 4 || line[3] < '0' || line[3] > '9') continue;  // the "cpu " total
    std::istringstream in(line.substr(3));
    int cpu = -1;
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    if (!in || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) continue;
    busy += user + nice + system + irq + softirq + steal;
  }
  s.busy_s = double(busy) / tick;
  s.valid = true;
  return s;
}

class Governor {
 public:
  Governor() : cores_(std::max(1, omp_get_max_threads())) {
    // An explicit OMP_NUM_THREADS is the user's fixed choice.
    adaptive_ = std::getenv("OMP_NUM_THREADS") == nullptr;
    target_ = cores_;
  }

  int cores() const { return cores_; }
  int target() const { return target_.load(std::memory_order_relaxed); }
  bool adaptive() const { return adaptive_.load(std::memory_order_relaxed); }

  void set(int n) {
    std::lock_guard lock(mu_);
    adaptive_ = n == 0;
    target_ = n == 0 ? cores_ : n;
    last_ = {};
  }

  void maybe_sample() {
    const int64_t now = now_ns();
    if (now - last_check_ns_.load(std::memory_order_relaxed) < kSampleEveryNs) return;
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock || !adaptive_) return;  // another thread samples
    last_check_ns_ = now;
    const LoadSample s = read_load();
    if (s.valid && last_.valid && s.wall_ns > last_.wall_ns) {
      const double wall_s = 1e-9 * double(s.wall_ns - last_.wall_ns);
      const double elsewhere = ((s.busy_s - last_.busy_s) - (s.own_s - last_.own_s)) / wall_s;
      target_ = adaptive_thread_count(cores_, elsewhere);
    }
    last_ = s;
  }

 private:
  const int cores_;
  std::atomic<int> target_;
  std::atomic<bool> adaptive_;
  std::atomic<int64_t> last_check_ns_{0};
  std::mutex mu_;  // guards last_ and the sampling
  LoadSample last_;
};

Governor& governor() {
  static Governor* g = new Governor;  // never destroyed: ops may run during exit
  return *g;
}

}  // namespace

int adaptive_thread_count(int cores, double busy_elsewhere) {
  const double taken =
      std::clamp(std::isfinite(busy_elsewhere) ? busy_elsewhere : 0.0, 0.0, double(cores));
  return std::clamp(int(std::floor(double(cores) - taken + 0.4)), 1, cores);
}

void before_cpu_op() {
  thread_local int applied = 0;
  thread_local unsigned calls = 0;
  Governor& g = governor();
  if (g.adaptive() && (++calls & 15u) == 0) g.maybe_sample();
  const int target = g.target();
  if (target != applied) {
    omp_set_num_threads(target);
    applied = target;
  }
}

}  // namespace descent::cpu

namespace descent {

void set_num_threads(int n) {
  check(n >= 0 && n <= 4096, "set_num_threads",
        "got {}, expected a thread count >= 1, or 0 to adapt to the free cores", n);
  cpu::governor().set(n);
}

int get_num_threads() { return cpu::governor().target(); }

int max_num_threads() { return cpu::governor().cores(); }

}  // namespace descent
