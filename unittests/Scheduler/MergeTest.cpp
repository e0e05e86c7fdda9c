//===- MergeTest.cpp - Merge legality in the scheduler core ----------------===//
//
// The core merges nodes with equal merge keys that are independent
// single-node units; what a key means is the client's (the dialect's
// SchedulableOpInterface: see unittests/Dialect/MergeTest.cpp for the
// convolution rules).
//
//===----------------------------------------------------------------------===//

#include "Scheduler/SyntheticGraphs.h"
#include "ios/Scheduler/Scheduler.h"

#include "gtest/gtest.h"

#include <functional>

using namespace ios::sched;

namespace {

/// A conv-like node with merge key "k".
NodeSpec conv(NodeId id) {
  NodeSpec n;
  n.id = id;
  n.name = "c" + std::to_string(id);
  n.sig = OpSignature("conv");
  n.sig.set("kernel", {1, 1})
      .set("padding", {0, 0})
      .set("stride", {1, 1})
      .set("groups", 1)
      .set("act", "relu")
      .set("out_channels", 32);
  n.sig.inputShapes = {{64, 8, 8}};
  n.sig.outputShape = {32, 8, 8};
  n.mergeKey = "k";
  return n;
}

struct Built {
  Graph g;
  unsigned a, b; ///< indices of the two convs
};

/// Producer 0 (and 9) -> conv 1 and a modified conv 2.
Built build(const std::function<void(NodeSpec &)> &modify,
            bool twoNodeUnit = false, bool dependent = false) {
  NodeSpec p;
  p.id = 0;
  p.sig = OpSignature("relu");
  NodeSpec p2;
  p2.id = 9;
  p2.sig = OpSignature("relu");
  NodeSpec c1 = conv(1), c2 = conv(2);
  modify(c2);
  std::vector<NodeSpec> specs = {p, p2, c1, c2};
  std::vector<std::pair<NodeId, NodeId>> edges = {{0, 1}, {0, 2}, {9, 2}};
  if (twoNodeUnit) {
    NodeSpec r;
    r.id = 3;
    r.sig = OpSignature("relu");
    r.unit = 77;
    specs[3].unit = 77;
    specs.push_back(r);
    edges.push_back({2, 3});
  }
  if (dependent)
    edges.push_back({1, 2});
  auto g = Graph::build(specs, edges, synthetic::mergeConvs);
  EXPECT_TRUE(bool(g)) << llvm::toString(g.takeError());
  unsigned a = *g->indexOf(1), b = *g->indexOf(2);
  return {std::move(*g), a, b};
}

MergeRejection check(const Built &b) { return checkMerge(b.g, {b.a, b.b}); }

TEST(MergeTest, EqualKeysMerge) {
  Built same = build([](NodeSpec &) {});
  EXPECT_EQ(check(same), MergeRejection::None);
  EXPECT_EQ(mergeClassKey(same.g, same.a), "k");
  EXPECT_EQ(mergeClassKey(same.g, same.a), mergeClassKey(same.g, same.b));
  // A single op is always a legal (trivial) merge; the empty set is not.
  Built pool = build([](NodeSpec &n) { n.mergeKey.reset(); });
  EXPECT_EQ(checkMerge(pool.g, {pool.b}), MergeRejection::None);
  EXPECT_EQ(checkMerge(pool.g, {}), MergeRejection::Empty);
}

TEST(MergeTest, EachRuleFails) {
  // No key: never merges, whichever node comes first.
  Built none = build([](NodeSpec &n) { n.mergeKey.reset(); });
  EXPECT_EQ(check(none), MergeRejection::NotMergeable);
  EXPECT_EQ(checkMerge(none.g, {none.b, none.a}),
            MergeRejection::NotMergeable);
  EXPECT_TRUE(mergeClassKey(none.g, none.b).empty());
  // Another key.
  Built other = build([](NodeSpec &n) { n.mergeKey = "k2"; });
  EXPECT_EQ(check(other), MergeRejection::DifferentKey);
  EXPECT_NE(mergeClassKey(other.g, other.a), mergeClassKey(other.g, other.b));
  // A node that is part of a multi-node unit (a Sequential): no class.
  Built seq = build([](NodeSpec &) {}, /*twoNodeUnit=*/true);
  EXPECT_EQ(check(seq), MergeRejection::MultiNodeUnit);
  EXPECT_TRUE(mergeClassKey(seq.g, seq.b).empty());
  // Nodes that depend on each other.
  Built dep = build([](NodeSpec &) {}, false, /*dependent=*/true);
  EXPECT_EQ(check(dep), MergeRejection::Dependent);
}

TEST(MergeTest, KeysNeedAMergeFunction) {
  NodeSpec c = conv(1);
  auto g = Graph::build({c}, {});
  ASSERT_FALSE(bool(g));
  EXPECT_NE(llvm::toString(g.takeError()).find("no merge function"),
            std::string::npos);
}

/// Three 1x1 convs on one input, one 3x3 conv with stride 2 on it.
Graph fourConvs() {
  NodeSpec p;
  p.id = 0;
  p.sig = OpSignature("relu");
  p.sig.outputShape = {64, 8, 8};
  std::vector<NodeSpec> specs = {p};
  std::vector<std::pair<NodeId, NodeId>> edges;
  for (int i = 1; i <= 3; ++i) {
    specs.push_back(conv(i));
    specs.back().sig.set("out_channels", 16 * i);
    specs.back().sig.outputShape = {16 * i, 8, 8};
    edges.push_back({0, i});
  }
  NodeSpec s2 = conv(4);
  s2.sig.set("stride", {2, 2});
  s2.sig.outputShape = {32, 4, 4};
  s2.mergeKey = "stride 2";
  specs.push_back(s2);
  edges.push_back({0, 4});
  auto g = Graph::build(specs, edges, synthetic::mergeConvs);
  EXPECT_TRUE(bool(g));
  return std::move(*g);
}

TEST(MergeTest, DPMergesWhenCheaper) {
  Graph g = fourConvs();
  // A merged conv costs 6, any other stage 5 per node plus 1 per group.
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    if (st.strategy == Strategy::Merge)
      return 6.0;
    return 5.0 * double(st.numNodes()) + double(st.groups.size());
  });
  for (EnumerationMode m : {EnumerationMode::IOS, EnumerationMode::Full}) {
    SchedulerOptions o;
    o.mode = m;
    auto res = scheduleDP(g, cost, o);
    ASSERT_TRUE(bool(res));
    // relu (6) + merge of the three (6) + stride-2 conv (6) = 18.
    EXPECT_EQ(res->schedule.cost, 18.0);
    unsigned merges = 0;
    for (const Stage &st : res->schedule.stages)
      if (st.strategy == Strategy::Merge) {
        ++merges;
        EXPECT_EQ(st.groups,
                  (std::vector<std::vector<NodeId>>{{1}, {2}, {3}}));
      }
    EXPECT_EQ(merges, 1u);
    EXPECT_FALSE(bool(verifySchedule(g, res->schedule, {3, 8, true})));
    // Without the merge strategy: no merge stage, higher cost.
    o.variant = Variant::Concurrent;
    auto conc = scheduleDP(g, cost, o);
    ASSERT_TRUE(bool(conc));
    for (const Stage &st : conc->schedule.stages)
      EXPECT_NE(st.strategy, Strategy::Merge);
    EXPECT_GT(conc->schedule.cost, 18.0);
  }
  // r and s do not limit merges: s = 1 still merges three convs.
  SchedulerOptions o;
  o.maxNumGroups = 1;
  o.maxGroupSize = 1;
  auto res = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(res));
  EXPECT_EQ(res->schedule.cost, 18.0);
}

TEST(MergeTest, VerifierRejectsIllegalMergeStage) {
  Graph g = fourConvs();
  Schedule s;
  s.stages.push_back({Strategy::Concurrent, {{0}}, 0, 0});
  s.stages.push_back({Strategy::Merge, {{1}, {4}}, 0, 0}); // stride differs
  s.stages.push_back({Strategy::Concurrent, {{2}, {3}}, 0, 0});
  llvm::Error err = verifySchedule(g, s);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("do not merge exactly"),
            std::string::npos);
  s.stages[1].groups = {{1}, {2}};
  s.stages[2].groups = {{3}, {4}};
  EXPECT_FALSE(bool(verifySchedule(g, s)));
}

} // namespace
