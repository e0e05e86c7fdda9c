//===- BaselineTest.cpp - Sequential and greedy baselines, verifier --------===//

#include "ios/Scheduler/Scheduler.h"

#include "gtest/gtest.h"

using namespace ios::sched;

namespace {

/// src -> 12 independent units -> sink (concat).
Graph fan(unsigned width) {
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  auto add = [&](NodeId id) {
    NodeSpec n;
    n.id = id;
    n.sig = OpSignature("op");
    n.sig.set("uid", id);
    specs.push_back(n);
  };
  add(0);
  for (unsigned i = 1; i <= width; ++i) {
    add(i);
    edges.push_back({0, NodeId(i)});
    edges.push_back({NodeId(i), 1000});
  }
  add(1000);
  auto g = Graph::build(specs, edges);
  EXPECT_TRUE(bool(g));
  return std::move(*g);
}

std::vector<size_t> stageWidths(const Schedule &s) {
  std::vector<size_t> v;
  for (const Stage &st : s.stages)
    v.push_back(st.groups.size());
  return v;
}

TEST(BaselineTest, SequentialIsTopologicalOneUnitPerStage) {
  Graph g = fan(5);
  unsigned calls = 0;
  FunctionStageCost cost([&](const Graph &, const Stage &st) {
    ++calls;
    return 2.0 * double(st.numNodes());
  });
  auto res = scheduleSequential(g, cost);
  ASSERT_TRUE(bool(res));
  EXPECT_EQ(res->schedule.stages.size(), 7u);
  EXPECT_EQ(stageWidths(res->schedule), (std::vector<size_t>(7, 1)));
  EXPECT_EQ(res->schedule.cost, 14.0);
  EXPECT_EQ(calls, 7u);
  EXPECT_EQ(res->schedule.stages.front().groups[0][0], 0);
  EXPECT_EQ(res->schedule.stages.back().groups[0][0], 1000);
  llvm::Error err = verifySchedule(g, res->schedule, {1, 1, true});
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
}

TEST(BaselineTest, CostSharingFollowsTheCache) {
  // Two ops with equal signatures but id-dependent costs (a table profiler
  // keyed by name): without a cache every stage is asked for; with a cache
  // (or share = true) equal signatures share the first answer.
  std::vector<NodeSpec> specs(2);
  specs[0].id = 1;
  specs[1].id = 2;
  specs[0].sig = specs[1].sig = OpSignature("conv");
  auto g = Graph::build(specs, {{1, 2}});
  ASSERT_TRUE(bool(g));
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    return st.groups[0][0] == 1 ? 3.0 : 5.0;
  });
  auto plain = scheduleSequential(*g, cost);
  ASSERT_TRUE(bool(plain));
  EXPECT_EQ(plain->schedule.cost, 8.0);
  EXPECT_EQ(plain->stats.total().costCalls, 2u);
  StageCostCache cache;
  auto shared = scheduleSequential(*g, cost, {}, &cache);
  ASSERT_TRUE(bool(shared));
  EXPECT_EQ(shared->schedule.cost, 6.0);
  EXPECT_EQ(shared->stats.total().costCalls, 1u);
  auto forced = scheduleGreedy(*g, cost, 10, {}, nullptr, /*share=*/true);
  ASSERT_TRUE(bool(forced));
  EXPECT_EQ(forced->schedule.cost, 6.0);
  StageCostCache cache2;
  auto unshared = scheduleGreedy(*g, cost, 10, {}, &cache2, false);
  ASSERT_TRUE(bool(unshared));
  EXPECT_EQ(unshared->schedule.cost, 8.0);
}

TEST(BaselineTest, GreedyWavefrontCapsGroups) {
  Graph g = fan(12);
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    return 1.0 + double(st.groups.size());
  });
  auto res = scheduleGreedy(g, cost); // cap 10 (IOS)
  ASSERT_TRUE(bool(res));
  EXPECT_EQ(stageWidths(res->schedule), (std::vector<size_t>{1, 10, 2, 1}));
  EXPECT_EQ(res->schedule.cost, 2.0 + 11.0 + 3.0 + 2.0);
  llvm::Error err = verifySchedule(g, res->schedule, {1, 10, true});
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  auto cap4 = scheduleGreedy(g, cost, 4);
  ASSERT_TRUE(bool(cap4));
  EXPECT_EQ(stageWidths(cap4->schedule),
            (std::vector<size_t>{1, 4, 4, 4, 1}));
  EXPECT_FALSE(bool(scheduleGreedy(g, cost, 0)));
  // The DP is never worse than either baseline on the same costs.
  SchedulerOptions o;
  o.maxNumGroups = 10;
  auto dp = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(dp));
  EXPECT_LE(dp->schedule.cost, res->schedule.cost);
}

TEST(BaselineTest, VerifierCatchesIllegalSchedules) {
  Graph g = fan(3); // 0 -> {1, 2, 3} -> 1000
  auto mk = [](std::vector<Stage> stages) {
    Schedule s;
    s.stages = std::move(stages);
    return s;
  };
  using G = std::vector<std::vector<NodeId>>;
  auto C = [](G groups) {
    return Stage{Strategy::Concurrent, std::move(groups), 0, 0};
  };
  Schedule good = mk({C({{0}}), C({{1}, {2}, {3}}), C({{1000}})});
  EXPECT_FALSE(bool(verifySchedule(g, good)));
  auto expectError = [&](const Schedule &s, VerifyOptions o,
                         const char *what) {
    llvm::Error err = verifySchedule(g, s, o);
    ASSERT_TRUE(bool(err)) << what;
    std::string msg = llvm::toString(std::move(err));
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  };
  // s limit.
  expectError(good, {0, 2, false}, "groups > s");
  // r limit: a group of 2 units.
  Schedule grouped = mk({C({{0}}), C({{2}, {3}}), C({{1, 1000}})});
  EXPECT_FALSE(bool(verifySchedule(g, grouped)));
  expectError(grouped, {1, 0, false}, "units > r");
  // Dependency inside one stage across groups.
  expectError(mk({C({{0}, {1}}), C({{2}, {3}}), C({{1000}})}), {},
              "dependency");
  // Dependency in the wrong order inside a group.
  expectError(mk({C({{1, 0}}), C({{2}, {3}}), C({{1000}})}), {},
              "dependency");
  // Missing and duplicated nodes, unknown ids, empty stages.
  expectError(mk({C({{0}}), C({{1}, {2}}), C({{1000}})}), {},
              "not scheduled");
  expectError(mk({C({{0}}), C({{1}, {2}, {3}, {3}}), C({{1000}})}), {},
              "twice");
  expectError(mk({C({{0}}), C({{1}, {2}, {3}, {77}}), C({{1000}})}), {},
              "unknown");
  expectError(mk({C({{0}}), C({}), C({{1}, {2}, {3}}), C({{1000}})}), {},
              "empty");
  // Single-source groups (IOS): [1, 2, 1000]'s... use {0,1,2} as a group:
  // one source (0) -> fine; {1, 2} as one group: two sources.
  Schedule twoSources = mk({C({{0}}), C({{1, 2}, {3}}), C({{1000}})});
  EXPECT_FALSE(bool(verifySchedule(g, twoSources)));
  expectError(twoSources, {0, 0, true}, "source units");
}

TEST(BaselineTest, JsonAndPrinting) {
  Graph g = fan(2);
  FunctionStageCost cost([](const Graph &, const Stage &) { return 1.0; });
  auto res = scheduleDP(g, cost);
  ASSERT_TRUE(bool(res));
  llvm::json::Value v = toJSON(res->schedule);
  const llvm::json::Object *o = v.getAsObject();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->getArray("stages")->size(), res->schedule.stages.size());
  EXPECT_EQ(*o->getNumber("cost"), res->schedule.cost);
  llvm::json::Value sv = toJSON(res->stats);
  EXPECT_EQ(*sv.getAsObject()->getObject("total")->getInteger("states"),
            int64_t(res->stats.total().states));
  std::string text;
  llvm::raw_string_ostream os(text);
  print(os, g, res->schedule);
  res->stats.print(os);
  EXPECT_NE(text.find("total"), std::string::npos);
  EXPECT_NE(text.find("stages"), std::string::npos);
}

} // namespace
