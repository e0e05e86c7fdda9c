//===- UnitSetTest.cpp - UnitSet and UnitSetMap ----------------------------===//

#include "ios/Scheduler/UnitSet.h"

#include "gtest/gtest.h"

#include <map>
#include <random>

using namespace ios::sched;

namespace {

// The map against std::map on keys that include the all-zero and all-one
// patterns (no key is reserved) and many keys sharing a probe chain, through
// several rehashes, clear() and reserve().
TEST(UnitSetMapTest, AgreesWithStdMap) {
  std::mt19937_64 rng(7);
  UnitSetMap<int> map;
  std::map<UnitSet, int> oracle;
  std::vector<UnitSet> keys = {UnitSet(), UnitSet::firstN(128),
                               UnitSet::firstN(64), UnitSet::bit(127)};
  for (int i = 0; i < 3000; ++i)
    keys.push_back(i % 3 ? UnitSet(rng(), rng())
                         : UnitSet(uint64_t(i), uint64_t(i) << 40));
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < keys.size(); ++i) {
      int v = int(i) + 1000 * round;
      auto [ptr, inserted] = map.insert(keys[i], v);
      auto [it, expected] = oracle.insert({keys[i], v});
      ASSERT_EQ(inserted, expected) << i;
      ASSERT_EQ(*ptr, it->second) << i;
    }
    EXPECT_EQ(map.size(), oracle.size());
    for (auto &[k, v] : oracle) {
      const int *found = map.find(k);
      ASSERT_NE(found, nullptr);
      EXPECT_EQ(*found, v);
    }
    // Keys never inserted are absent.
    for (int i = 0; i < 1000; ++i) {
      UnitSet k(rng(), rng() | 1);
      if (!oracle.count(k)) {
        EXPECT_EQ(map.find(k), nullptr);
      }
    }
    size_t visited = 0;
    map.forEach([&](UnitSet k, int v) {
      ++visited;
      EXPECT_EQ(oracle.at(k), v);
    });
    EXPECT_EQ(visited, oracle.size());
    map.clear();
    oracle.clear();
    EXPECT_EQ(map.size(), 0u);
    EXPECT_EQ(map.find(UnitSet()), nullptr);
    map.reserve(5000);
  }
}

} // namespace
