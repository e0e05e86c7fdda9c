//===- Cores.cpp - The machine's cores, shared by a context's streams -----===//

#include "Cores.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sched.h>
#include <string_view>
#include <thread>

using namespace ios::rt::cpu;

Cores::Cores(int cores, bool share, bool splitSmall)
    : cores(std::max(1, cores)), share(share), splitSmall(splitSmall),
      freeCores(std::max(1, cores)),
      ops(size_t(std::max(1, cores))) {
  for (int g = this->cores; g >= 1; --g) {
    int c = this->cores <= 4 ? this->cores - g + 1 : this->cores / g;
    if (threadCounts.empty() || threadCounts.back() != c)
      threadCounts.push_back(c);
  }
}

int Cores::fromEnvironment(bool &share) {
  const char *s = std::getenv("IOS_CPU_SHARE");
  share = !(s && std::string_view(s) == "0");
  if (const char *c = std::getenv("IOS_CPU_CORES")) {
    char *end = nullptr;
    long n = std::strtol(c, &end, 10);
    if (end != c && *end == 0 && n >= 1 && n <= 4096)
      return int(n);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int Cores::acquire(int useful) {
  if (splitSmall)
    useful = cores;
  // The largest count <= want.
  auto index = [&](int want) {
    int i = 0;
    while (i + 1 < int(threadCounts.size()) && threadCounts[i + 1] <= want)
      ++i;
    return i;
  };
  int i;
  if (!share) {
    i = index(useful);
  } else {
    for (int spins = 0;; ++spins) {
      int r = std::max(1, nRunnable.load(std::memory_order_relaxed));
      int f = freeCores.load(std::memory_order_relaxed);
      if (f >= 1) {
        i = index(std::min({std::max(1, cores / r), f, useful}));
        if (freeCores.compare_exchange_weak(f, f - threadCounts[i],
                                            std::memory_order_relaxed))
          break;
        continue;
      }
      // Every core runs another stream's op: wait for one, without a lock
      // (which would order this stream after the other).
      if (spins < 64)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  int now = inUse.fetch_add(threadCounts[i], std::memory_order_relaxed) +
            threadCounts[i];
  int p = peak.load(std::memory_order_relaxed);
  while (now > p &&
         !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
  }
  ops[size_t(i)].fetch_add(1, std::memory_order_relaxed);
  return i;
}

void Cores::release(int i) {
  inUse.fetch_sub(threadCounts[i], std::memory_order_relaxed);
  if (share)
    freeCores.fetch_add(threadCounts[i], std::memory_order_relaxed);
}

std::vector<int64_t> Cores::opsPerCount() const {
  std::vector<int64_t> v;
  for (size_t i = 0; i < threadCounts.size(); ++i)
    v.push_back(ops[i].load(std::memory_order_relaxed));
  return v;
}

void Cores::resetStats() {
  for (auto &o : ops)
    o.store(0, std::memory_order_relaxed);
  peak.store(inUse.load(std::memory_order_relaxed), std::memory_order_relaxed);
}
