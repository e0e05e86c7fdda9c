//===- StageCostTest.cpp - Canonical signatures and cost caching -----------===//

#include "Scheduler/SyntheticGraphs.h"
#include "TestUtil.h"
#include "ios/Scheduler/Scheduler.h"

#include "gtest/gtest.h"

using namespace ios::sched;

namespace {

/// Two identical diamonds in sequence: in -> a1 -> {b1, c1} -> d1 -> a2 ->
/// {b2, c2} -> d2; op signatures of *1 and *2 equal, ids different.
Graph twoDiamonds(bool perturbSecond = false) {
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  auto add = [&](NodeId id, const char *kind, int64_t k) {
    NodeSpec n;
    n.id = id;
    n.sig = OpSignature(kind);
    n.sig.set("k", k);
    n.sig.outputShape = {8, 4, 4};
    specs.push_back(n);
  };
  for (int rep = 0; rep < 2; ++rep) {
    NodeId base = 100 * (rep + 1);
    add(base + 1, "conv", 1);
    add(base + 2, "conv", 3);
    add(base + 3, "pool", 3);
    add(base + 4, "add", perturbSecond && rep == 1 ? 9 : 0);
    edges.push_back({base + 1, base + 2});
    edges.push_back({base + 1, base + 3});
    edges.push_back({base + 2, base + 4});
    edges.push_back({base + 3, base + 4});
    if (rep)
      edges.push_back({base - 100 + 4, base + 1});
  }
  auto g = Graph::build(specs, edges);
  EXPECT_TRUE(bool(g));
  return std::move(*g);
}

TEST(StageCostTest, CanonicalSignatureIgnoresIdsAndGroupOrder) {
  Graph g = twoDiamonds();
  Stage s1{Strategy::Concurrent, {{102}, {103}}, 0, 0};
  Stage s2{Strategy::Concurrent, {{203}, {202}}, 1, 0}; // other ids, order
  EXPECT_EQ(canonicalStageSignature(g, s1), canonicalStageSignature(g, s2));
  StageCostCache cache;
  EXPECT_EQ(cache.canonicalKey(g, s1), cache.canonicalKey(g, s2));
  // With ids in the key they differ.
  EXPECT_NE(cache.canonicalKey(g, s1, true), cache.canonicalKey(g, s2, true));
  // Different ops: differ.
  Stage s3{Strategy::Concurrent, {{102}, {104}}, 0, 0};
  EXPECT_NE(canonicalStageSignature(g, s1), canonicalStageSignature(g, s3));
  EXPECT_NE(cache.canonicalKey(g, s1), cache.canonicalKey(g, s3));
  // Strategy matters, except for a single group.
  Stage s4 = s1;
  s4.strategy = Strategy::Merge;
  EXPECT_NE(cache.canonicalKey(g, s1), cache.canonicalKey(g, s4));
  Stage single{Strategy::Concurrent, {{102}}, 0, 0};
  Stage singleMerge{Strategy::Merge, {{202}}, 0, 0};
  EXPECT_EQ(cache.canonicalKey(g, single), cache.canonicalKey(g, singleMerge));
  EXPECT_EQ(canonicalStageSignature(g, single),
            canonicalStageSignature(g, singleMerge));
  // The text is built from the signatures the graph formatted once: the
  // database's keys.
  for (unsigned v = 0; v < g.numNodes(); ++v)
    EXPECT_EQ(g.signatureText(v), g.node(v).sig.str());
  EXPECT_EQ(canonicalStageSignature(g, single),
            "concurrent(" + g.node(*g.indexOf(102)).sig.str() + "|)");
}

TEST(StageCostTest, CanonicalSignatureSeesInternalEdges) {
  // One group [a, b] with the edge a -> b vs two independent ops in one
  // group: same op signatures, different structure.
  auto mk = [](bool edge) {
    std::vector<NodeSpec> specs(2);
    specs[0].id = 1;
    specs[1].id = 2;
    specs[0].sig = specs[1].sig = OpSignature("conv");
    std::vector<std::pair<NodeId, NodeId>> edges;
    if (edge)
      edges.push_back({1, 2});
    return std::move(*Graph::build(specs, edges));
  };
  Graph chain = mk(true), pair = mk(false);
  Stage st{Strategy::Concurrent, {{1, 2}}, 0, 0};
  EXPECT_NE(canonicalStageSignature(chain, st),
            canonicalStageSignature(pair, st));
  StageCostCache cache;
  EXPECT_NE(cache.canonicalKey(chain, st), cache.canonicalKey(pair, st));
}

TEST(StageCostTest, IdenticalBlocksCostOneCall) {
  Graph g = twoDiamonds();
  unsigned calls = 0;
  FunctionStageCost cost([&](const Graph &, const Stage &st) {
    ++calls;
    return 10.0 + double(st.numNodes()) - double(st.groups.size());
  });
  SchedulerOptions o;
  o.decomposition.coalesceChains = false;
  o.reuseParts = false;
  auto res = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(res));
  // Blocks: [a1], [b1 c1 d1], [a2], [b2 c2 d2].
  ASSERT_EQ(res->stats.parts.size(), 4u);
  const PartStats &first = res->stats.parts[1], &second = res->stats.parts[3];
  EXPECT_GT(first.costCalls, 0u);
  EXPECT_EQ(second.costCalls, 0u);
  EXPECT_EQ(second.cacheHits, second.partStages);
  EXPECT_EQ(first.optimum, second.optimum);
  EXPECT_EQ(res->stats.parts[2].costCalls, 0u);
  EXPECT_EQ(calls, res->stats.total().costCalls);
  EXPECT_EQ(evaluateSchedule(g, res->schedule, cost), res->schedule.cost);

  // With part reuse the second diamond is not searched at all: it gets the
  // first one's schedule on its own nodes.
  o.reuseParts = true;
  auto reused = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(reused));
  ASSERT_EQ(reused->stats.parts.size(), 4u);
  EXPECT_EQ(reused->stats.parts[1].reusedFrom, -1);
  EXPECT_EQ(reused->stats.parts[2].reusedFrom, 0);
  EXPECT_EQ(reused->stats.parts[3].reusedFrom, 1);
  EXPECT_EQ(reused->stats.parts[3].cacheHits, 0u);
  EXPECT_EQ(reused->stats.parts[3].states, first.states);
  EXPECT_EQ(reused->schedule.cost, res->schedule.cost);
  EXPECT_EQ(reused->stats.searched().part, 2u);
  testutil::expectSameStages(reused->schedule, res->schedule);
  EXPECT_FALSE(bool(verifySchedule(g, reused->schedule)));

  // Sharing off: the second block asks again.
  o.shareCostsAcrossIds = false;
  auto noShare = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(noShare));
  EXPECT_GT(noShare->stats.parts[3].costCalls, 0u);
  EXPECT_EQ(noShare->schedule.cost, res->schedule.cost);

  // A different op in the second diamond: new calls for its stages.
  Graph g2 = twoDiamonds(/*perturbSecond=*/true);
  auto res2 = scheduleDP(g2, cost, o);
  ASSERT_TRUE(bool(res2));
  EXPECT_GT(res2->stats.parts[3].costCalls, 0u);
}

TEST(StageCostTest, SharedCacheAcrossRuns) {
  auto g = synthetic::inceptionV3();
  ASSERT_TRUE(bool(g));
  unsigned calls = 0;
  synthetic::SimpleAnalyticCost analytic;
  FunctionStageCost cost([&](const Graph &gr, const Stage &st) {
    ++calls;
    return analytic.getCost(gr, st);
  });
  StageCostCache cache;
  SchedulerOptions o;
  auto a = scheduleDP(*g, cost, o, &cache);
  ASSERT_TRUE(bool(a));
  unsigned first = calls;
  EXPECT_EQ(first, a->stats.total().costCalls);
  EXPECT_EQ(cache.size(), first);
  // Same run again on the shared cache: no new calls, same optimum.
  auto b = scheduleDP(*g, cost, o, &cache);
  ASSERT_TRUE(bool(b));
  EXPECT_EQ(calls, first);
  EXPECT_EQ(b->stats.total().costCalls, 0u);
  EXPECT_EQ(b->schedule.cost, a->schedule.cost);
  // Baselines reuse it too (their single-op stages were all seen).
  auto seq = scheduleSequential(*g, cost, {}, &cache);
  ASSERT_TRUE(bool(seq));
  EXPECT_EQ(calls, first);
}

TEST(StageCostTest, AnalyticCostIsDeterministicAndRewardsConcurrency) {
  synthetic::NetBuilder b;
  auto x = b.input(64, 16, 16);
  auto c1 = b.conv(x, 32, 3, 1, 1);
  auto c2 = b.conv(x, 32, 3, 1, 1);
  b.identity({{c1}, {c2}});
  auto g = b.finish();
  ASSERT_TRUE(bool(g));
  synthetic::SimpleAnalyticCost cost;
  Stage both{Strategy::Concurrent, {{0}, {1}}, 0, 0};
  Stage one{Strategy::Concurrent, {{0}}, 0, 0};
  Stage seq{Strategy::Concurrent, {{0, 1}}, 0, 0};
  Stage merged{Strategy::Merge, {{0}, {1}}, 0, 0};
  double tb = cost.getCost(*g, both), t1 = cost.getCost(*g, one);
  EXPECT_EQ(tb, cost.getCost(*g, both));
  EXPECT_LT(tb, 2 * t1);
  EXPECT_GT(tb, t1);
  EXPECT_EQ(cost.getCost(*g, seq), 2 * t1);
  EXPECT_LT(cost.getCost(*g, merged), tb);
}

} // namespace
