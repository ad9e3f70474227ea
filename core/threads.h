#pragma once
// How many threads the CPU kernels use: oneDNN's primitives and descent's own OpenMP
// loops.
//
//   descent::set_num_threads(1);      // exactly one thread from now on
//   descent::set_num_threads(0);      // adaptive again (the default)
//   int n = descent::get_num_threads();
//
// By default the count adapts to the machine: every core this process may run on while
// the cores are free, one fewer for each core other processes keep busy, sampled from
// /proc/stat about twice a second as ops are dispatched. Why: an OpenMP region ends
// only when its last thread does, so a thread waiting for a core another process holds
// stalls every region. On 2 cores with one competing CPU-bound process, a fixed 2
// threads made the MNIST MLP epoch 26x slower (0.94 s -> 24 s); adapting to 1 thread
// keeps it at 1.5x (benchmarks/RESULTS.md, 2026-12-07).
//
// oneDNN's sums depend on the thread count, so in the adaptive mode a run's last bits
// can depend on the machine's load. Fix the count — here, or with the environment's
// OMP_NUM_THREADS, which turns the adaptive mode off — for runs that must be
// bit-reproducible. The count applies to every thread that calls ops.
// Defined by the CPU backend (backends/cpu/threads.cpp).
namespace descent {

// n >= 1: use exactly n threads; 0: adapt to the free cores (the default, unless
// OMP_NUM_THREADS is set). Throws descent::Error for n < 0.
void set_num_threads(int n);

// The count ops dispatched now use.
int get_num_threads();

// The count the adaptive mode uses on an idle machine: the cores this process may run
// on (or OMP_NUM_THREADS).
int max_num_threads();

}  // namespace descent
