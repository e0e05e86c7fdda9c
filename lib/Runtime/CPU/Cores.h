//===- Cores.h - The machine's cores, shared by a context's streams -*- C++ -*-//
//
// The CPU backend treats cores as a resource of the schedule: a stage of g
// concurrent groups on c cores gives each group about c/g threads, a stage of
// one group uses all c. The runtime does not need to be told the stage: it
// counts the streams that can run now ("runnable": they have work and are
// not blocked in an event wait), and every op takes a share of the free
// cores, c / runnable, before it runs and gives them back after. An op never
// starts with more threads than there are free cores, so the streams of a
// context never oversubscribe the machine; if none is free it waits for one.
//
// The counters are relaxed atomics on purpose: they order nothing between
// workers (only events do), so ThreadSanitizer still sees a program that
// forgets a join as a race.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CPU_CORES_H
#define IOS_LIB_RUNTIME_CPU_CORES_H

#include <atomic>
#include <cstdint>
#include <vector>

namespace ios::rt::cpu {

class Cores {
public:
  /// `cores` >= 1. With `share` false every op takes all cores (no
  /// accounting: the oversubscribing baseline the benchmark compares with).
  /// Small ops run on one thread (Plan::maxThreads) unless `splitSmall`
  /// (IOS_CPU_SMALL_OPS=all: the tests run every primitive on several
  /// threads with it).
  Cores(int cores, bool share, bool splitSmall = false);

  /// The cores of this process: IOS_CPU_CORES if set (>= 1), else the CPUs
  /// the process may run on. IOS_CPU_SHARE=0 turns sharing off.
  static int fromEnvironment(bool &share);

  int total() const { return cores; }
  bool sharing() const { return share; }
  /// The thread counts ops may be granted (ascending): 1..c for c <= 4,
  /// else the distinct c / g. Plans build one primitive per count.
  const std::vector<int> &counts() const { return threadCounts; }

  // A stream's worker reports when it can run and when it cannot.
  void runnable() { nRunnable.fetch_add(1, std::memory_order_relaxed); }
  void blocked() { nRunnable.fetch_sub(1, std::memory_order_relaxed); }

  /// Takes this op's share of the free cores, at most `useful` (waits
  /// while none is free); returns an index into counts().
  int acquire(int useful);
  void release(int index);

  /// Statistics: ops run per thread count (indexed like counts()) and the
  /// most threads that ever ran at once.
  std::vector<int64_t> opsPerCount() const;
  int peakThreads() const { return peak.load(std::memory_order_relaxed); }
  void resetStats();

private:
  int cores;
  bool share;
  bool splitSmall;
  std::vector<int> threadCounts;
  std::atomic<int> nRunnable{0};
  std::atomic<int> freeCores;
  std::atomic<int> inUse{0};
  std::atomic<int> peak{0};
  std::vector<std::atomic<int64_t>> ops;
};

} // namespace ios::rt::cpu

#endif // IOS_LIB_RUNTIME_CPU_CORES_H
