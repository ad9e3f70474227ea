#pragma once
// The CPU backend's side of descent::set_num_threads (core/threads.h): the thread
// count every calling thread applies to OpenMP before a CPU op, and, in the adaptive
// mode, the sampling of how many cores other processes keep busy.

namespace descent::cpu {

// Called by backend_for before every CPU op: applies the current count to this thread
// (OpenMP's count is per calling thread) and, every 16th call, samples the load when
// half a second has passed. Costs an atomic load and a compare otherwise.
void before_cpu_op();

// The adaptive mode's rule: `cores` threads when the other processes keep at most 0.4
// of a core busy on average, one fewer for each further core they take (0.6 of a core
// counts as taken), never fewer than 1. `busy_elsewhere` is in cores (CPU seconds of
// other processes, and time the hypervisor stole, per wall-clock second).
int adaptive_thread_count(int cores, double busy_elsewhere);

}  // namespace descent::cpu
