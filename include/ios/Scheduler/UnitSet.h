//===- UnitSet.h - 128-bit set of scheduling units --------------*- C++ -*-===//
//
// A fixed 128-bit bitset over the units of one part (a part holds at most
// 128 units). It is the DP's state and ending representation, and the key of
// the DP's hash tables (UnitSetMap).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_UNITSET_H
#define IOS_SCHEDULER_UNITSET_H

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace ios::sched {

class UnitSet {
public:
  static constexpr unsigned kCapacity = 128;

  constexpr UnitSet() = default;
  constexpr UnitSet(uint64_t lo, uint64_t hi) : lo(lo), hi(hi) {}

  static UnitSet bit(unsigned i) {
    UnitSet s;
    s.set(i);
    return s;
  }
  /// The set {0, ..., n-1}.
  static UnitSet firstN(unsigned n) {
    assert(n <= kCapacity);
    UnitSet s;
    if (n >= 64) {
      s.lo = ~uint64_t(0);
      s.hi = n == 128 ? ~uint64_t(0) : ((uint64_t(1) << (n - 64)) - 1);
    } else {
      s.lo = n == 0 ? 0 : ((uint64_t(1) << n) - 1);
    }
    return s;
  }

  bool test(unsigned i) const {
    assert(i < kCapacity);
    return i < 64 ? (lo >> i) & 1 : (hi >> (i - 64)) & 1;
  }
  void set(unsigned i) {
    assert(i < kCapacity);
    if (i < 64)
      lo |= uint64_t(1) << i;
    else
      hi |= uint64_t(1) << (i - 64);
  }
  void reset(unsigned i) {
    assert(i < kCapacity);
    if (i < 64)
      lo &= ~(uint64_t(1) << i);
    else
      hi &= ~(uint64_t(1) << (i - 64));
  }

  bool empty() const { return (lo | hi) == 0; }
  unsigned count() const { return popcount(lo) + popcount(hi); }
  static unsigned popcount(uint64_t x) {
#ifdef __POPCNT__
    return unsigned(__builtin_popcountll(x));
#else
    // Without the instruction, the builtin is a library call: inline SWAR.
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return unsigned((x * 0x0101010101010101ULL) >> 56);
#endif
  }
  /// Lowest element; -1 if empty.
  int first() const {
    if (lo)
      return __builtin_ctzll(lo);
    if (hi)
      return 64 + __builtin_ctzll(hi);
    return -1;
  }
  /// Highest element; -1 if empty.
  int last() const {
    if (hi)
      return 127 - __builtin_clzll(hi);
    if (lo)
      return 63 - __builtin_clzll(lo);
    return -1;
  }

  bool intersects(UnitSet o) const { return ((lo & o.lo) | (hi & o.hi)) != 0; }
  bool isSubsetOf(UnitSet o) const {
    return (lo & ~o.lo) == 0 && (hi & ~o.hi) == 0;
  }

  UnitSet operator|(UnitSet o) const { return {lo | o.lo, hi | o.hi}; }
  UnitSet operator&(UnitSet o) const { return {lo & o.lo, hi & o.hi}; }
  UnitSet operator^(UnitSet o) const { return {lo ^ o.lo, hi ^ o.hi}; }
  /// Set difference this - o.
  UnitSet operator-(UnitSet o) const { return {lo & ~o.lo, hi & ~o.hi}; }
  UnitSet &operator|=(UnitSet o) {
    lo |= o.lo;
    hi |= o.hi;
    return *this;
  }
  UnitSet &operator&=(UnitSet o) {
    lo &= o.lo;
    hi &= o.hi;
    return *this;
  }
  UnitSet &operator-=(UnitSet o) {
    lo &= ~o.lo;
    hi &= ~o.hi;
    return *this;
  }
  bool operator==(UnitSet o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(UnitSet o) const { return !(*this == o); }
  /// Lexicographic on (hi, lo): numeric order of the 128-bit value.
  bool operator<(UnitSet o) const {
    return hi != o.hi ? hi < o.hi : lo < o.lo;
  }

  /// Calls fn(i) for every element, ascending.
  template <typename Fn> void forEach(Fn &&fn) const {
    for (uint64_t w = lo; w; w &= w - 1)
      fn(unsigned(__builtin_ctzll(w)));
    for (uint64_t w = hi; w; w &= w - 1)
      fn(unsigned(64 + __builtin_ctzll(w)));
  }
  /// Calls fn(i) for every element, descending.
  template <typename Fn> void forEachDescending(Fn &&fn) const {
    for (uint64_t w = hi; w;) {
      unsigned b = 63 - __builtin_clzll(w);
      fn(64 + b);
      w &= ~(uint64_t(1) << b);
    }
    for (uint64_t w = lo; w;) {
      unsigned b = 63 - __builtin_clzll(w);
      fn(b);
      w &= ~(uint64_t(1) << b);
    }
  }

  size_t hash() const {
    // splitmix64-style finalizer over both words.
    uint64_t x = lo ^ (hi * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL);
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return size_t(x);
  }

  uint64_t lo = 0, hi = 0;
};

/// Open-addressing hash map from UnitSet to V (linear probing, power-of-two
/// capacity, max load 1/2). Every 128-bit pattern is a valid key (there is no
/// reserved empty key, unlike llvm::DenseMap), which matters for 128-unit
/// parts: a separate control byte per slot says whether it is used and holds
/// 7 bits of the key's hash, so a probe mostly reads one dense byte array and
/// compares a key only when those bits match. Insert-only: the DP never
/// erases.
template <typename V> class UnitSetMap {
public:
  UnitSetMap() { rehash(64); }

  size_t size() const { return numEntries; }
  /// Removes every entry, keeping the capacity (no allocation when the map
  /// grows back to its size).
  void clear() {
    numEntries = 0;
    std::fill(ctrl.begin(), ctrl.end(), 0);
  }
  void reserve(size_t n) {
    size_t cap = 64;
    while (cap < 2 * n)
      cap <<= 1;
    if (cap > slots.size())
      rehash(cap);
  }

  /// Pointer to the value of k, or null. Always inlined: the DP's hot path.
  __attribute__((always_inline)) const V *find(UnitSet k) const {
    size_t h = k.hash(), mask = slots.size() - 1;
    uint8_t tag = tagOf(h);
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint8_t c = ctrl[i];
      if (c == 0)
        return nullptr;
      if (c == tag && slots[i].key == k)
        return &slots[i].val;
    }
  }
  __attribute__((always_inline)) V *find(UnitSet k) {
    return const_cast<V *>(static_cast<const UnitSetMap *>(this)->find(k));
  }

  /// Inserts (k, v) if k is absent. Returns {pointer to the value, inserted}.
  /// The pointer is invalidated by the next insertion.
  std::pair<V *, bool> insert(UnitSet k, V v) {
    if (2 * (numEntries + 1) > slots.size())
      rehash(slots.size() * 2);
    size_t h = k.hash(), mask = slots.size() - 1;
    uint8_t tag = tagOf(h);
    size_t i = h & mask;
    for (; ctrl[i]; i = (i + 1) & mask)
      if (ctrl[i] == tag && slots[i].key == k)
        return {&slots[i].val, false};
    ctrl[i] = tag;
    slots[i].key = k;
    slots[i].val = std::move(v);
    ++numEntries;
    return {&slots[i].val, true};
  }

  /// Approximate heap bytes held.
  size_t memoryBytes() const {
    return slots.capacity() * sizeof(Slot) + ctrl.capacity();
  }

  template <typename Fn> void forEach(Fn &&fn) const {
    for (size_t i = 0; i < slots.size(); ++i)
      if (ctrl[i])
        fn(slots[i].key, slots[i].val);
  }

private:
  struct Slot {
    UnitSet key;
    V val{};
  };

  /// A used slot's control byte: the top bit set, then 7 hash bits (the low
  /// bits pick the slot).
  static uint8_t tagOf(size_t h) { return uint8_t(0x80 | (h >> 57)); }

  void rehash(size_t cap) {
    std::vector<Slot> old = std::move(slots);
    std::vector<uint8_t> oldCtrl = std::move(ctrl);
    slots.assign(cap, Slot());
    ctrl.assign(cap, 0);
    size_t mask = cap - 1;
    for (size_t j = 0; j < old.size(); ++j) {
      if (!oldCtrl[j])
        continue;
      size_t i = old[j].key.hash() & mask;
      while (ctrl[i])
        i = (i + 1) & mask;
      ctrl[i] = oldCtrl[j];
      slots[i] = std::move(old[j]);
    }
  }

  std::vector<Slot> slots;
  std::vector<uint8_t> ctrl;
  size_t numEntries = 0;
};

} // namespace ios::sched

#endif // IOS_SCHEDULER_UNITSET_H
