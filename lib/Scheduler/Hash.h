//===- Hash.h - 128-bit structural hashing (library-private) ----*- C++ -*-===//

#ifndef IOS_LIB_SCHEDULER_HASH_H
#define IOS_LIB_SCHEDULER_HASH_H

#include "ios/Scheduler/StageCost.h"

#include <cstdint>

namespace ios::sched::detail {

/// Hashes a sequence of 64-bit words into a StageKey: two independent lanes
/// with different finalizers, so keys are 128 bits.
struct Hasher {
  uint64_t a = 0x243F6A8885A308D3ULL, b = 0x13198A2E03707344ULL;
  uint64_t n = 0;
  static uint64_t mixA(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  }
  static uint64_t mixB(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    return x ^ (x >> 33);
  }
  void add(uint64_t x) {
    a = mixA(a ^ x) + 0x9E3779B97F4A7C15ULL;
    b = mixB(b + x * 0xD6E8FEB86659FD93ULL + 0x632BE59BD9B4E019ULL);
    ++n;
  }
  void add(StageKey k) {
    add(k.lo);
    add(k.hi);
  }
  StageKey key() const { return {mixA(a ^ n), mixB(b + n)}; }
};

} // namespace ios::sched::detail

#endif // IOS_LIB_SCHEDULER_HASH_H
