//===- DPTest.cpp - The DP against an exhaustive oracle --------------------===//

#include "TestUtil.h"

#include "ios/Scheduler/Scheduler.h"
#include "Scheduler/SyntheticGraphs.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>

using namespace ios::sched;
using namespace ios::sched::testutil;

namespace {

Graph buildGraph(const RandomDag &d) {
  auto g = Graph::build(d.specs, d.edges, firstSignature);
  EXPECT_TRUE(bool(g)) << llvm::toString(g.takeError());
  return std::move(*g);
}

/// One part, no block splitting: the DP sees the whole DAG. Unpruned: the
/// oracle's random stage costs obey no bound.
SchedulerOptions onePart(Variant v, EnumerationMode m, unsigned r,
                         unsigned s) {
  SchedulerOptions o;
  o.prune = PruneMode::None;
  o.variant = v;
  o.mode = m;
  o.maxGroupSize = r;
  o.maxNumGroups = s;
  o.decomposition.detectBlocks = false;
  o.decomposition.maxPartSize = 128;
  return o;
}

/// Independent re-check of a returned schedule at unit level: every
/// concurrent stage's groups within r units, at most s groups; in IOS mode
/// every group has one source unit.
void checkLimits(const RandomDag &d, const Schedule &sch, unsigned r,
                 unsigned s, bool iosMode) {
  for (const Stage &st : sch.stages) {
    if (st.strategy == Strategy::Merge) {
      for (const auto &grp : st.groups)
        EXPECT_EQ(grp.size(), 1u);
      continue;
    }
    EXPECT_LE(st.groups.size(), s);
    for (const auto &grp : st.groups) {
      unsigned mask = 0;
      for (NodeId id : grp)
        mask |= 1u << d.unitOfNode.at(id);
      EXPECT_LE(unsigned(__builtin_popcount(mask)), r);
      if (iosMode) {
        unsigned sources = 0;
        for (unsigned u = 0; u < d.n; ++u)
          if ((mask >> u & 1) && (d.predMask(u) & mask) == 0)
            ++sources;
        EXPECT_EQ(sources, 1u);
      }
    }
  }
}

struct Case {
  Variant variant;
  EnumerationMode mode;
  unsigned r, s;
};

void runAgainstOracle(unsigned trials, unsigned maxN, bool exhaustive,
                      uint32_t seed0) {
  std::mt19937 rng(seed0);
  const Case cases[] = {
      {Variant::Both, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::Full, 3, 8},
      {Variant::Concurrent, EnumerationMode::IOS, 2, 2},
      {Variant::Concurrent, EnumerationMode::Full, 3, 2},
      {Variant::Merge, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::Full, 1, 3},
      {Variant::Both, EnumerationMode::IOS, 4, 3},
  };
  for (unsigned t = 0; t < trials; ++t) {
    unsigned n = 1 + rng() % maxN;
    double p = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
    RandomDag d = makeRandomDag(rng, n, p);
    Graph g = buildGraph(d);
    uint64_t bruteStates = bruteForceIdeals(d);
    for (const Case &c : cases) {
      uint64_t seed = rng();
      RandomCost rc{d, seed};
      FunctionStageCost cost(
          [&](const Graph &, const Stage &st) { return rc(st); });
      SchedulerOptions o = onePart(c.variant, c.mode, c.r, c.s);
      auto res = scheduleDP(g, cost, o);
      ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());

      OracleConfig oc;
      oc.concurrent = c.variant != Variant::Merge;
      oc.merge = c.variant != Variant::Concurrent;
      oc.iosMode = c.mode == EnumerationMode::IOS;
      oc.r = c.r;
      oc.s = c.s;
      Oracle oracle(d, oc, seed);
      double expected = exhaustive ? oracle.exhaustive() : oracle.memoized();
      SCOPED_TRACE(testing::Message()
                   << "trial " << t << " n=" << n << " variant "
                   << toString(c.variant).str() << " mode "
                   << toString(c.mode).str() << " r=" << c.r << " s=" << c.s);
      EXPECT_EQ(res->schedule.cost, expected);

      // The schedule is legal and re-sums to the optimum.
      VerifyOptions vo;
      vo.maxGroupSize = c.r;
      vo.maxNumGroups = c.s;
      vo.requireSingleSourceGroups = c.mode == EnumerationMode::IOS;
      llvm::Error err = verifySchedule(g, res->schedule, vo);
      EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
      checkLimits(d, res->schedule, c.r, c.s,
                  c.mode == EnumerationMode::IOS);
      double resum = 0;
      for (const Stage &st : res->schedule.stages) {
        if (c.variant == Variant::Merge) {
          EXPECT_TRUE(st.groups.size() == 1 ||
                      st.strategy == Strategy::Merge);
        }
        if (c.variant == Variant::Concurrent) {
          EXPECT_NE(st.strategy, Strategy::Merge);
        }
        resum += rc(st);
      }
      EXPECT_EQ(resum, res->schedule.cost);

      // States = non-empty down-closed subsets.
      ASSERT_EQ(res->stats.parts.size(), 1u);
      EXPECT_EQ(res->stats.parts[0].states, bruteStates);
      auto counted = countDownClosedSets(
          g, res->decomposition.blocks[0].parts[0].units, 1u << 20);
      ASSERT_TRUE(counted.has_value());
      EXPECT_EQ(*counted, bruteStates + 1);
    }
  }
}

TEST(DPTest, MatchesExhaustiveSequenceEnumeration) {
  runAgainstOracle(/*trials=*/60, /*maxN=*/7, /*exhaustive=*/true, 1234);
}

TEST(DPTest, MatchesForwardOracleUpToTenUnits) {
  runAgainstOracle(/*trials=*/80, /*maxN=*/10, /*exhaustive=*/false, 98765);
}

/// Bound pruning (docs/Scheduler.md, "Bound pruning") on costs that obey
/// its assumptions: the same optimum as the oracle and the same schedule as
/// the unpruned DP, the same states, never more profiler calls.
TEST(DPTest, PrunedEqualsUnprunedUnderBoundRespectingCosts) {
  std::mt19937 rng(20240611);
  const Case cases[] = {
      {Variant::Both, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::Full, 3, 8},
      {Variant::Concurrent, EnumerationMode::IOS, 2, 2},
      {Variant::Concurrent, EnumerationMode::Full, 3, 3},
      {Variant::Merge, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::IOS, 4, 3},
  };
  const double alphas[] = {0, 0.25, 0.5, 1};
  uint64_t callsBound = 0, callsNone = 0, pruned = 0;
  for (unsigned t = 0; t < 120; ++t) {
    unsigned n = 1 + rng() % 10;
    double p = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
    RandomDag d = makeRandomDag(rng, n, p);
    Graph g = buildGraph(d);
    for (const Case &c : cases) {
      BoundedCost bc{d, rng(), alphas[rng() % 4], double(rng() % 3)};
      SCOPED_TRACE(testing::Message()
                   << "trial " << t << " n=" << n << " variant "
                   << toString(c.variant).str() << " mode "
                   << toString(c.mode).str() << " alpha " << bc.alpha);
      OracleConfig oc;
      oc.concurrent = c.variant != Variant::Merge;
      oc.merge = c.variant != Variant::Concurrent;
      oc.iosMode = c.mode == EnumerationMode::IOS;
      oc.r = c.r;
      oc.s = c.s;
      double expected = Oracle(d, oc, bc.seed, &bc).memoized();
      ScheduleResult results[2];
      for (PruneMode pm : {PruneMode::None, PruneMode::Bound}) {
        RandomCost rc{d, bc.seed};
        rc.bounded = &bc;
        FunctionStageCost cost(
            [&](const Graph &, const Stage &st) { return rc(st); });
        SchedulerOptions o = onePart(c.variant, c.mode, c.r, c.s);
        o.prune = pm;
        auto res = scheduleDP(g, cost, o);
        ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());
        EXPECT_EQ(res->schedule.cost, expected) << toString(pm).str();
        VerifyOptions vo{c.r, c.s, c.mode == EnumerationMode::IOS};
        llvm::Error err = verifySchedule(g, res->schedule, vo);
        EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
        double resum = 0;
        for (const Stage &st : res->schedule.stages)
          resum += rc(st);
        EXPECT_EQ(resum, res->schedule.cost);
        results[pm == PruneMode::Bound] = std::move(*res);
      }
      // The first minimum in enumeration order wins either way: the same
      // stages, not just the same optimum.
      expectSameStages(results[0].schedule, results[1].schedule);
      PartStats none = results[0].stats.total(),
                bound = results[1].stats.total();
      EXPECT_EQ(bound.states, none.states);
      EXPECT_EQ(bound.transitions, none.transitions);
      EXPECT_EQ(none.pruned, 0u);
      EXPECT_LE(bound.costCalls, none.costCalls);
      callsBound += bound.costCalls;
      callsNone += none.costCalls;
      pruned += bound.pruned;
    }
  }
  // Pruning does prune.
  EXPECT_GT(pruned, 0u);
  EXPECT_LT(callsBound, callsNone);
}

/// A cost that takes batches of up to `size` stages (an exec: server that
/// announced max_batch): counts requests, and records every stage asked.
class BatchedCost final : public StageCost {
public:
  BatchedCost(RandomCost &rc, unsigned size) : rc(rc), size(size) {}
  double getCost(const Graph &g, const Stage &st) override {
    ++requests;
    asked.push_back(canonicalStageSignature(g, st));
    return rc(st);
  }
  unsigned batchSize() const override { return size; }
  void getCosts(const Graph &g, llvm::ArrayRef<Stage> stages,
                llvm::MutableArrayRef<double> out) override {
    ++requests;
    EXPECT_LE(stages.size(), size);
    for (size_t i = 0; i < stages.size(); ++i) {
      asked.push_back(canonicalStageSignature(g, stages[i]));
      out[i] = rc(stages[i]);
    }
  }
  RandomCost &rc;
  unsigned size;
  uint64_t requests = 0;
  std::vector<std::string> asked;
};

/// Batched costs change how stages are asked for, not the search: the same
/// schedules, with and without pruning (docs/Scheduler.md, "Batched
/// costs"); without pruning exactly the same stages, with pruning perhaps
/// others (costs known earlier bound differently); fewer requests.
TEST(DPTest, BatchedCostsGiveTheSameSchedules) {
  std::mt19937 rng(4242);
  const Case cases[] = {
      {Variant::Both, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::Full, 3, 8},
      {Variant::Concurrent, EnumerationMode::IOS, 2, 2},
      {Variant::Merge, EnumerationMode::IOS, 3, 8},
  };
  uint64_t calls[2] = {0, 0}, requests[2] = {0, 0};
  for (unsigned t = 0; t < 60; ++t) {
    unsigned n = 1 + rng() % 10;
    double p = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
    RandomDag d = makeRandomDag(rng, n, p);
    Graph g = buildGraph(d);
    for (const Case &c : cases) {
      BoundedCost bc{d, rng(), 0.5, 1};
      for (PruneMode pm : {PruneMode::None, PruneMode::Bound}) {
        SCOPED_TRACE(testing::Message()
                     << "trial " << t << " n=" << n << " variant "
                     << toString(c.variant).str() << " prune "
                     << toString(pm).str());
        SchedulerOptions o = onePart(c.variant, c.mode, c.r, c.s);
        o.prune = pm;
        ScheduleResult res[2];
        std::vector<std::string> asked[2];
        for (unsigned batch : {1u, 5u}) {
          RandomCost rc{d, bc.seed};
          rc.bounded = &bc;
          BatchedCost cost(rc, batch);
          auto r = scheduleDP(g, cost, o);
          ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
          bool batched = batch > 1;
          EXPECT_EQ(r->stats.total().costCalls, cost.asked.size());
          if (pm == PruneMode::Bound) {
            calls[batched] += cost.asked.size();
            requests[batched] += cost.requests;
          }
          res[batched] = std::move(*r);
          asked[batched] = std::move(cost.asked);
          llvm::sort(asked[batched]);
        }
        EXPECT_EQ(res[0].schedule.cost, res[1].schedule.cost);
        expectSameStages(res[0].schedule, res[1].schedule);
        EXPECT_EQ(res[0].stats.total().transitions,
                  res[1].stats.total().transitions);
        // Every stage is asked once.
        EXPECT_EQ(std::adjacent_find(asked[1].begin(), asked[1].end()),
                  asked[1].end());
        if (pm == PruneMode::None) {
          EXPECT_EQ(asked[0], asked[1]);
        }
      }
    }
  }
  // Batches: fewer requests than one-at-a-time calls.
  EXPECT_LT(requests[1], calls[0]);
}

/// Costs that break the assumptions (independent random values per stage):
/// the pruned search still returns a legal schedule whose cost is what it
/// reports, never better than the optimum, and on some graphs worse - which
/// is why pruning is an option (prune=none for such profilers).
TEST(DPTest, PruningWithCostsThatBreakTheBound) {
  std::mt19937 rng(777);
  unsigned worse = 0;
  for (unsigned t = 0; t < 150; ++t) {
    unsigned n = 2 + rng() % 8;
    RandomDag d = makeRandomDag(rng, n, 0.3);
    Graph g = buildGraph(d);
    uint64_t seed = rng();
    RandomCost rc{d, seed};
    FunctionStageCost cost(
        [&](const Graph &, const Stage &st) { return rc(st); });
    SchedulerOptions o =
        onePart(Variant::Both, EnumerationMode::IOS, 3, 8);
    o.prune = PruneMode::Bound;
    auto res = scheduleDP(g, cost, o);
    ASSERT_TRUE(bool(res));
    double optimum = Oracle(d, OracleConfig(), seed).memoized();
    EXPECT_GE(res->schedule.cost, optimum);
    worse += res->schedule.cost > optimum;
    llvm::Error err = verifySchedule(g, res->schedule, {3, 8, true});
    EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
    double resum = 0;
    for (const Stage &st : res->schedule.stages)
      resum += rc(st);
    EXPECT_EQ(resum, res->schedule.cost);
  }
  EXPECT_GT(worse, 0u);
}

/// BoundedCost's stage costs, with the lower bound terms it obeys
/// (StageCost::lowerBoundTerms, assumption T): a unit's weight on its
/// stream (a group costs the sum of its weights, a multi-group stage at
/// least its largest group + join), alpha x weight on a shared resource (a
/// multi-group stage costs at least alpha x all its weights + join), and,
/// with `inTurn`, that resource serving the groups in turn (assumption I:
/// BoundedCost's max + alpha x the others + join is at least alpha x the
/// others + the smallest group + join, + the bonus of the group's first
/// unit declared as its lead). With `overclaim` > 1 the terms promise more
/// than the costs give.
class TermsCost final : public StageCost {
public:
  TermsCost(const RandomDag &d, const BoundedCost &bc, double overclaim = 1,
            bool inTurn = false)
      : d(d), bc(bc), rc{d, bc.seed}, overclaim(overclaim), inTurn(inTurn) {
    rc.bounded = &bc;
  }
  double getCost(const Graph &, const Stage &st) override { return rc(st); }
  std::optional<LowerBoundTerms> lowerBoundTerms(const Graph &g) override {
    LowerBoundTerms t;
    t.shared.resize(1);
    t.shared[0].perNode.assign(g.numNodes(), 0);
    t.stream.perNode.assign(g.numNodes(), 0);
    for (unsigned u = 0; u < d.n; ++u) {
      unsigned v = *g.indexOf(d.nodesOf[u].front());
      t.stream.perNode[v] = overclaim * bc.weight(u);
      t.shared[0].perNode[v] = overclaim * bc.alpha * bc.weight(u);
    }
    t.shared[0].multiGroup = t.stream.multiGroup = bc.join;
    if (inTurn) {
      t.servedInTurn = 0;
      t.turnLead.assign(g.numNodes(), 0);
      for (unsigned u = 0; u < d.n; ++u)
        t.turnLead[*g.indexOf(d.nodesOf[u].front())] = bc.bonus(u);
    }
    return t;
  }
  unsigned calls() const { return rc.calls; }

private:
  const RandomDag &d;
  const BoundedCost &bc;
  RandomCost rc;
  double overclaim;
  bool inTurn;
};

/// With the cost's own lower bound terms (assumption T, and I) beside the
/// bounds from known costs: the unpruned optimum and stages, on random DAGs
/// in both enumeration modes, with fewer profiler calls than without them
/// (and fewer again with the resource served in turn).
TEST(DPTest, PrunedWithLowerBoundTermsEqualsUnpruned) {
  std::mt19937 rng(4242);
  const Case cases[] = {
      {Variant::Both, EnumerationMode::IOS, 3, 8},
      {Variant::Both, EnumerationMode::Full, 3, 8},
      {Variant::Concurrent, EnumerationMode::IOS, 2, 3},
      {Variant::Concurrent, EnumerationMode::Full, 3, 3},
  };
  const double alphas[] = {0, 0.25, 0.5, 1};
  uint64_t callsTerms = 0, callsKnown = 0, callsTurn = 0;
  for (unsigned t = 0; t < 100; ++t) {
    unsigned n = 2 + rng() % 9;
    double p = std::uniform_real_distribution<double>(0.05, 0.5)(rng);
    RandomDag d = makeRandomDag(rng, n, p);
    Graph g = buildGraph(d);
    for (const Case &c : cases) {
      BoundedCost bc{d, rng(), alphas[rng() % 4], double(1 + rng() % 3)};
      SCOPED_TRACE(testing::Message()
                   << "trial " << t << " n=" << n << " mode "
                   << toString(c.mode).str() << " alpha " << bc.alpha);
      SchedulerOptions o = onePart(c.variant, c.mode, c.r, c.s);
      RandomCost plain{d, bc.seed};
      plain.bounded = &bc;
      FunctionStageCost noTerms(
          [&](const Graph &, const Stage &st) { return plain(st); });
      auto none = scheduleDP(g, noTerms, o);
      o.prune = PruneMode::Bound;
      unsigned before = plain.calls;
      auto known = scheduleDP(g, noTerms, o);
      callsKnown += plain.calls - before;
      TermsCost withTerms(d, bc);
      auto terms = scheduleDP(g, withTerms, o);
      callsTerms += withTerms.calls();
      TermsCost withTurn(d, bc, 1, /*inTurn=*/true);
      auto turn = scheduleDP(g, withTurn, o);
      callsTurn += withTurn.calls();
      ASSERT_TRUE(none && known && terms && turn);
      EXPECT_EQ(known->schedule.cost, none->schedule.cost);
      for (const ScheduleResult *r : {&*terms, &*turn}) {
        EXPECT_EQ(r->schedule.cost, none->schedule.cost);
        expectSameStages(r->schedule, none->schedule);
        EXPECT_EQ(r->stats.total().transitions,
                  none->stats.total().transitions);
      }
    }
  }
  EXPECT_LT(callsTerms, callsKnown);
  EXPECT_LT(callsTurn, callsTerms);
}

/// Terms that promise more than the costs give (twice the weights) break
/// assumption T: the pruned search still returns a legal schedule whose
/// cost is the sum of its stages', never better than the optimum, and on
/// some graphs worse.
TEST(DPTest, LowerBoundTermsThatOverclaim) {
  std::mt19937 rng(99);
  unsigned worse = 0;
  for (unsigned t = 0; t < 150; ++t) {
    unsigned n = 2 + rng() % 8;
    RandomDag d = makeRandomDag(rng, n, 0.3);
    Graph g = buildGraph(d);
    BoundedCost bc{d, rng(), 0.5, 1};
    TermsCost cost(d, bc, /*overclaim=*/2);
    SchedulerOptions o = onePart(Variant::Both, EnumerationMode::IOS, 3, 8);
    o.prune = PruneMode::Bound;
    auto res = scheduleDP(g, cost, o);
    ASSERT_TRUE(bool(res));
    double optimum = Oracle(d, OracleConfig(), bc.seed, &bc).memoized();
    EXPECT_GE(res->schedule.cost, optimum);
    worse += res->schedule.cost > optimum;
    llvm::Error err = verifySchedule(g, res->schedule, {3, 8, true});
    EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
    EXPECT_EQ(evaluateSchedule(g, res->schedule, cost), res->schedule.cost);
  }
  EXPECT_GT(worse, 0u);
}

TEST(DPTest, OracleSeesManySchedules) {
  // Guards the oracle itself: an antichain of 4 single units with s=8 has
  // Fubini(4) = 75 ordered set partitions, all legal in full mode.
  RandomDag d;
  std::mt19937 rng(7);
  d = makeRandomDag(rng, 4, 0.0, false);
  OracleConfig oc;
  oc.merge = false;
  oc.iosMode = false;
  oc.r = 4;
  Oracle oracle(d, oc, 1);
  oracle.exhaustive();
  EXPECT_EQ(oracle.numSchedules, 75u);
}

TEST(DPTest, FullModeAtLeastAsGoodAsIOS) {
  std::mt19937 rng(4242);
  unsigned strictlyBetter = 0;
  for (unsigned t = 0; t < 60; ++t) {
    RandomDag d = makeRandomDag(rng, 3 + rng() % 7, 0.35);
    Graph g = buildGraph(d);
    uint64_t seed = rng();
    RandomCost rc{d, seed};
    FunctionStageCost cost(
        [&](const Graph &, const Stage &st) { return rc(st); });
    auto ios = scheduleDP(
        g, cost, onePart(Variant::Both, EnumerationMode::IOS, 3, 8));
    auto full = scheduleDP(
        g, cost, onePart(Variant::Both, EnumerationMode::Full, 3, 8));
    ASSERT_TRUE(ios && full);
    EXPECT_LE(full->schedule.cost, ios->schedule.cost);
    EXPECT_GE(full->stats.total().transitions, ios->stats.total().transitions);
    strictlyBetter += full->schedule.cost < ios->schedule.cost;
  }
  EXPECT_GT(strictlyBetter, 0u);
}

/// a -> c <- b: the ending {a, b, c} (one group with two sources) exists
/// only in full mode.
TEST(DPTest, FullModeStrictlyBetterOnTwoSourceGroup) {
  std::vector<NodeSpec> specs(3);
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    specs[i].id = i;
    specs[i].name = names[i];
    specs[i].sig = OpSignature("op");
    specs[i].sig.set("uid", i);
  }
  auto g = Graph::build(specs, {{0, 2}, {1, 2}});
  ASSERT_TRUE(bool(g));
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    // One group holding all three: 5. Anything else: 10 per unit.
    if (st.groups.size() == 1 && st.groups[0].size() == 3)
      return 5.0;
    return 10.0 * double(st.numNodes());
  });
  auto ios = scheduleDP(
      *g, cost, onePart(Variant::Both, EnumerationMode::IOS, 3, 8));
  auto full = scheduleDP(
      *g, cost, onePart(Variant::Both, EnumerationMode::Full, 3, 8));
  ASSERT_TRUE(ios && full);
  EXPECT_EQ(full->schedule.cost, 5.0);
  ASSERT_EQ(full->schedule.stages.size(), 1u);
  EXPECT_EQ(full->schedule.stages[0].groups,
            (std::vector<std::vector<NodeId>>{{0, 1, 2}}));
  EXPECT_EQ(ios->schedule.cost, 30.0);
  // r = 2 forbids the 3-unit group in full mode too.
  auto fullR2 = scheduleDP(
      *g, cost, onePart(Variant::Both, EnumerationMode::Full, 2, 8));
  ASSERT_TRUE(bool(fullR2));
  EXPECT_EQ(fullR2->schedule.cost, 30.0);
}

TEST(DPTest, GroupsAndStagesRespectRAndS) {
  // A source feeding 6 independent chains of length 2: with r=1, s=2 every
  // concurrent stage has <= 2 single-unit groups.
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  specs.push_back({0, "src", OpSignature("op"), {}, {}, {}, {}});
  for (int c = 0; c < 6; ++c) {
    NodeId a = 1 + 2 * c, b = 2 + 2 * c;
    specs.push_back({a, "", OpSignature("op"), {}, {}, {}, {}});
    specs.push_back({b, "", OpSignature("op"), {}, {}, {}, {}});
    edges.push_back({0, a});
    edges.push_back({a, b});
  }
  for (size_t i = 0; i < specs.size(); ++i)
    specs[i].sig.set("uid", int64_t(i));
  auto g = Graph::build(specs, edges);
  ASSERT_TRUE(bool(g));
  // Concurrency pays: a stage costs 10 + its number of nodes.
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    return 10.0 + double(st.numNodes());
  });
  struct LimitCase {
    unsigned r, s, stages, minGroups;
  };
  // Every stage costs 10 + its nodes, so the optimum has as few stages as
  // the limits allow: (r=1, s=2): src + 6 stages of 2 units; (2, 3): a
  // stage holds <= 6 units -> 3 stages, one of them with 3 groups; (3, 8):
  // 2 stages, the second holding >= 10 units in >= 5 groups.
  for (LimitCase lc : {LimitCase{1, 2, 7, 2}, {2, 3, 3, 3}, {3, 8, 2, 5}}) {
    for (EnumerationMode m : {EnumerationMode::IOS, EnumerationMode::Full}) {
      auto res =
          scheduleDP(*g, cost, onePart(Variant::Both, m, lc.r, lc.s));
      ASSERT_TRUE(bool(res));
      VerifyOptions vo{lc.r, lc.s, m == EnumerationMode::IOS};
      llvm::Error err = verifySchedule(*g, res->schedule, vo);
      EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
      unsigned maxGroups = 0, maxGroupSize = 0;
      for (const Stage &st : res->schedule.stages) {
        maxGroups = std::max<unsigned>(maxGroups, st.groups.size());
        for (const auto &grp : st.groups)
          maxGroupSize = std::max<unsigned>(maxGroupSize, grp.size());
      }
      EXPECT_LE(maxGroups, lc.s);
      EXPECT_LE(maxGroupSize, lc.r);
      EXPECT_GE(maxGroups, lc.minGroups);
      EXPECT_EQ(res->schedule.stages.size(), lc.stages);
      EXPECT_EQ(res->schedule.cost, 10.0 * lc.stages + 13.0);
    }
  }
}

TEST(DPTest, StateBudgetSplitsAtNarrowCuts) {
  // 20 independent units: 2^20 down-closed sets. Over a budget of 1000
  // states the part is split where it is narrowest (each piece <= 1000
  // states), with a warning, optimal only within each piece.
  std::vector<NodeSpec> specs;
  for (int i = 0; i < 20; ++i) {
    specs.push_back({i, "", OpSignature("op"), {}, {}, {}, {}});
    specs.back().sig.set("uid", i);
  }
  auto g = Graph::build(specs, {});
  ASSERT_TRUE(bool(g));
  unsigned calls = 0;
  FunctionStageCost cost([&](const Graph &, const Stage &st) {
    ++calls;
    return 5.0 + double(st.numNodes());
  });
  SchedulerOptions o = onePart(Variant::Both, EnumerationMode::IOS, 3, 8);
  o.budget.states = 1000;
  auto res = scheduleDP(*g, cost, o);
  ASSERT_TRUE(bool(res));
  ASSERT_EQ(res->stats.warnings.size(), 1u);
  EXPECT_NE(res->stats.warnings[0].find("split at its narrowest cuts"),
            std::string::npos);
  ASSERT_GE(res->stats.parts.size(), 3u); // pieces of at most 9 units
  unsigned units = 0;
  for (const PartStats &p : res->stats.parts) {
    EXPECT_TRUE(p.fallback);
    EXPECT_LE(p.states, o.budget.states);
    EXPECT_EQ(p.states, (uint64_t(1) << p.numUnits) - 1);
    EXPECT_TRUE(p.cut.empty());
    units += p.numUnits;
  }
  EXPECT_EQ(units, 20u);
  llvm::Error err = verifySchedule(*g, res->schedule, {3, 8, true});
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  EXPECT_EQ(evaluateSchedule(*g, res->schedule, cost), res->schedule.cost);

  // A budget that fits: no split, one part of 12 units (4095 states).
  specs.resize(12);
  auto g12 = Graph::build(specs, {});
  ASSERT_TRUE(bool(g12));
  o.budget.states = 4095;
  auto fits = scheduleDP(*g12, cost, o);
  ASSERT_TRUE(bool(fits));
  EXPECT_TRUE(fits->stats.warnings.empty());
  ASSERT_EQ(fits->stats.parts.size(), 1u);
  EXPECT_EQ(fits->stats.parts[0].states, 4095u);
  EXPECT_FALSE(fits->stats.parts[0].fallback);
  o.budget.states = 4094;
  auto over = scheduleDP(*g12, cost, o);
  ASSERT_TRUE(bool(over));
  EXPECT_EQ(over->stats.parts.size(), 2u);
}

/// Stops the search of `g`'s single part with `budget`; the schedule must
/// be complete and legal, the part marked, one warning naming the budget.
void expectCutSearch(const Graph &g, StageCost &cost, SearchBudget budget,
                     llvm::StringRef which, EnumerationMode mode,
                     bool compareFull = true) {
  SchedulerOptions o = onePart(Variant::Both, mode, 3, 8);
  o.prune = PruneMode::Bound;
  o.budget = budget;
  auto res = scheduleDP(g, cost, o);
  ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());
  ASSERT_EQ(res->stats.parts.size(), 1u);
  const PartStats &p = res->stats.parts[0];
  EXPECT_TRUE(p.fallback);
  EXPECT_EQ(p.cut, which.str());
  ASSERT_EQ(res->stats.warnings.size(), 1u);
  EXPECT_NE(res->stats.warnings[0].find(("stopped by the " + which).str()),
            std::string::npos)
      << res->stats.warnings[0];
  EXPECT_EQ(res->stats.warnings[0].find('\n'), std::string::npos);
  llvm::Error err = verifySchedule(
      g, res->schedule, {3, 8, mode == EnumerationMode::IOS});
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  EXPECT_TRUE(std::isfinite(res->schedule.cost));
  EXPECT_DOUBLE_EQ(evaluateSchedule(g, res->schedule, cost),
                   res->schedule.cost);
  // Never better than the full search.
  if (!compareFull)
    return;
  SchedulerOptions full = o;
  full.budget = SearchBudget{0, 0, 0, 0};
  auto opt = scheduleDP(g, cost, full);
  ASSERT_TRUE(bool(opt));
  EXPECT_TRUE(opt->stats.warnings.empty());
  EXPECT_GE(res->schedule.cost, opt->schedule.cost);
}

TEST(DPTest, BudgetStopsTheSearchWithAValidSchedule) {
  // A wide part: a source, 6 independent chains of two, a sink (731
  // states).
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  specs.push_back({0, "src", OpSignature("op"), {}, {}, {}, {}});
  NodeId sink = 100;
  for (int c = 0; c < 6; ++c) {
    NodeId a = 1 + 2 * c, b = 2 + 2 * c;
    specs.push_back({a, "", OpSignature("op"), {}, {}, {}, {}});
    specs.push_back({b, "", OpSignature("op"), {}, {}, {}, {}});
    edges.push_back({0, a});
    edges.push_back({a, b});
    edges.push_back({b, sink});
  }
  specs.push_back({sink, "sink", OpSignature("op"), {}, {}, {}, {}});
  for (size_t i = 0; i < specs.size(); ++i)
    specs[i].sig.set("uid", int64_t(i));
  auto g = Graph::build(specs, edges);
  ASSERT_TRUE(bool(g));
  // Concurrency pays: a stage costs 10 + its number of nodes / 2.
  FunctionStageCost cost([](const Graph &, const Stage &st) {
    return 10.0 + double(st.numNodes()) / 2;
  });
  for (EnumerationMode m : {EnumerationMode::IOS, EnumerationMode::Full}) {
    SCOPED_TRACE(toString(m).str());
    expectCutSearch(*g, cost, SearchBudget{0, 5000, 0, 0}, "transition", m);
    expectCutSearch(*g, cost, SearchBudget{0, 0, uint64_t(16) << 10, 0},
                    "memory", m);
    // One enumeration already exceeds the transition budget.
    expectCutSearch(*g, cost, SearchBudget{0, 1, 0, 0}, "transition", m);
  }
  // Wall time: a cost function that sleeps.
  FunctionStageCost slow([](const Graph &, const Stage &st) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 10.0 + double(st.numNodes()) / 2;
  });
  expectCutSearch(*g, slow, SearchBudget{0, 0, 0, 0.05}, "time",
                  EnumerationMode::IOS, /*compareFull=*/false);
}

/// Budget stops at every point of random searches (merges, bound-respecting
/// costs, pruning): a stop inside a state's enumeration, where every ending
/// seen so far lost to the state's upper bound, still leaves the state an
/// ending; the schedule is complete, legal and finite.
TEST(DPTest, BudgetStopAnywhereGivesAFiniteSchedule) {
  std::mt19937 rng(777);
  unsigned cut = 0;
  for (unsigned t = 0; t < 40; ++t) {
    unsigned n = 6 + rng() % 7;
    double p = std::uniform_real_distribution<double>(0.1, 0.4)(rng);
    RandomDag d = makeRandomDag(rng, n, p);
    Graph g = buildGraph(d);
    BoundedCost bc{d, rng(), 0.5, double(rng() % 3)};
    RandomCost rc{d, bc.seed};
    rc.bounded = &bc;
    FunctionStageCost cost(
        [&](const Graph &, const Stage &st) { return rc(st); });
    SchedulerOptions o = onePart(Variant::Both, EnumerationMode::IOS, 3, 8);
    o.prune = PruneMode::Bound;
    auto full = scheduleDP(g, cost, o);
    ASSERT_TRUE(bool(full));
    uint64_t total = full->stats.total().transitions;
    for (uint64_t b = 1; b < total; b += 1 + total / 25) {
      SCOPED_TRACE(testing::Message() << "trial " << t << " n=" << n
                                      << " transitions " << b);
      o.budget = SearchBudget{0, b, 0, 0};
      auto res = scheduleDP(g, cost, o);
      ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());
      cut += res->stats.total().fallback;
      EXPECT_TRUE(std::isfinite(res->schedule.cost));
      EXPECT_GE(res->schedule.cost, full->schedule.cost);
      llvm::Error err = verifySchedule(g, res->schedule, {3, 8, true});
      EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
    }
  }
  EXPECT_GT(cut, 100u);
}

TEST(DPTest, PartOf128UnitsAndRejectsLarger) {
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  for (int i = 0; i < 130; ++i) {
    specs.push_back({i, "", OpSignature("op"), {}, {}, {}, {}});
    specs.back().sig.set("uid", i);
    if (i)
      edges.push_back({i - 1, i});
  }
  auto g = Graph::build(specs, edges);
  ASSERT_TRUE(bool(g));
  // Every stage costs 1: the optimum packs the chain into groups of r = 3.
  FunctionStageCost cost([](const Graph &, const Stage &) { return 1.0; });
  SchedulerOptions o = onePart(Variant::Both, EnumerationMode::IOS, 3, 8);
  auto res = scheduleDP(*g, cost, o);
  ASSERT_TRUE(bool(res));
  ASSERT_EQ(res->stats.parts.size(), 2u);
  EXPECT_EQ(res->stats.parts[0].numUnits, 128u);
  EXPECT_EQ(res->stats.parts[0].states, 128u);
  EXPECT_EQ(res->stats.parts[1].numUnits, 2u);
  // 128 = 42 * 3 + 2: 43 stages; the last part (2 units) needs one.
  EXPECT_EQ(res->stats.parts[0].optimum, 43.0);
  EXPECT_EQ(res->stats.parts[1].optimum, 1.0);
  EXPECT_EQ(res->schedule.stages.size(), 44u);
  o.decomposition.maxPartSize = 129;
  auto bad = scheduleDP(*g, cost, o);
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("max part size"),
            std::string::npos);
}

TEST(DPTest, RejectsBadOptionsAndCosts) {
  std::vector<NodeSpec> specs(2);
  specs[0].id = 1;
  specs[1].id = 2;
  auto g = Graph::build(specs, {{1, 2}});
  ASSERT_TRUE(bool(g));
  FunctionStageCost ok([](const Graph &, const Stage &) { return 1.0; });
  SchedulerOptions o;
  o.maxGroupSize = 0;
  EXPECT_FALSE(bool(scheduleDP(*g, ok, o)));
  FunctionStageCost nan([](const Graph &, const Stage &) { return -1.0; });
  auto res = scheduleDP(*g, nan, {});
  ASSERT_FALSE(bool(res));
  EXPECT_NE(llvm::toString(res.takeError()).find("returned"),
            std::string::npos);
}

/// Fidelity with the reference (docs/IOS.md, "Search space"): same graphs,
/// same search space => same state / transition / stage counts.
TEST(DPTest, ReferenceCountsInceptionV3) {
  auto g = synthetic::inceptionV3();
  ASSERT_TRUE(bool(g));
  synthetic::SimpleAnalyticCost cost;
  SchedulerOptions o;
  o.prune = PruneMode::None;
  o.decomposition.maxPartSize = 50;
  auto res = scheduleDP(*g, cost, o);
  ASSERT_TRUE(bool(res));
  std::vector<uint64_t> perBlock;
  for (const PartStats &p : res->stats.parts)
    perBlock.push_back(p.states);
  EXPECT_EQ(perBlock, (std::vector<uint64_t>{7, 72, 72, 72, 16, 144, 144, 144,
                                             144, 30, 180, 180, 1}));
  PartStats t = res->stats.total();
  EXPECT_EQ(t.states, 1206u);
  EXPECT_EQ(t.transitions, 28874u);
  EXPECT_EQ(t.partStages, 5479u);
  // Identical stages in different blocks are costed once; identical blocks
  // are searched once.
  EXPECT_LT(t.costCalls, t.partStages);
  PartStats searched = res->stats.searched();
  EXPECT_LT(searched.part, t.part);
  EXPECT_EQ(searched.costCalls + searched.cacheHits, searched.partStages);
  EXPECT_FALSE(bool(verifySchedule(*g, res->schedule, {3, 8, true})));
}

/// Parts of at most 50 units (IOS's), searched on `threads` threads.
SchedulerOptions partsOnThreads(unsigned threads) {
  SchedulerOptions o;
  o.decomposition.maxPartSize = 50;
  o.threads = threads;
  return o;
}

/// SimpleAnalyticCost (a pure function) declared thread-safe, counting its
/// calls.
class ThreadSafeCost final : public StageCost {
public:
  double getCost(const Graph &g, const Stage &st) override {
    ++calls;
    return inner.getCost(g, st);
  }
  bool isThreadSafe() const override { return true; }
  std::atomic<unsigned> calls{0};

private:
  synthetic::SimpleAnalyticCost inner;
};

/// Independent parts searched on 1, 2 or 3 threads: the same stages, the
/// same statistics per part (seconds aside) and the same calls counted,
/// with repeated parts (NasNet's cells) reused and a cache shared across
/// runs; a cost that is not thread-safe is searched on one thread.
TEST(DPTest, ThreadCountDoesNotChangeTheResult) {
  std::thread::id mainThread = std::this_thread::get_id();
  for (bool nasnet : {true, false}) {
    auto g = nasnet ? synthetic::nasnetLike() : synthetic::inceptionV3();
    ASSERT_TRUE(bool(g));
    std::optional<ScheduleResult> first;
    uint64_t firstCalls = 0;
    for (unsigned threads : {1u, 2u, 3u}) {
      SCOPED_TRACE(testing::Message() << (nasnet ? "nasnet" : "inception")
                                      << " threads " << threads);
      ThreadSafeCost cost;
      StageCostCache cache;
      SchedulerOptions o = partsOnThreads(threads);
      auto res = scheduleDP(*g, cost, o, &cache);
      ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());
      // A second run on the same cache asks nothing.
      auto again = scheduleDP(*g, cost, o, &cache);
      ASSERT_TRUE(bool(again));
      EXPECT_EQ(again->stats.total().costCalls, 0u);
      EXPECT_EQ(again->schedule.cost, res->schedule.cost);
      if (!first) {
        first = std::move(*res);
        firstCalls = cache.numCalls;
        EXPECT_EQ(firstCalls, cost.calls.load());
        continue;
      }
      EXPECT_EQ(cache.numCalls, firstCalls);
      EXPECT_EQ(res->schedule.cost, first->schedule.cost);
      expectSameStages(res->schedule, first->schedule);
      ASSERT_EQ(res->stats.parts.size(), first->stats.parts.size());
      for (size_t i = 0; i < res->stats.parts.size(); ++i) {
        PartStats a = res->stats.parts[i], b = first->stats.parts[i];
        a.seconds = b.seconds = a.costSeconds = b.costSeconds = 0;
        EXPECT_EQ(llvm::json::Value(toJSON(a)), llvm::json::Value(toJSON(b)))
            << "part " << i;
      }
    }
    // Not thread-safe: every call on the calling thread.
    synthetic::SimpleAnalyticCost inner;
    bool otherThread = false;
    FunctionStageCost serial([&](const Graph &gr, const Stage &st) {
      otherThread |= std::this_thread::get_id() != mainThread;
      return inner.getCost(gr, st);
    });
    auto res = scheduleDP(*g, serial, partsOnThreads(2));
    ASSERT_TRUE(bool(res));
    EXPECT_FALSE(otherThread);
    EXPECT_EQ(res->schedule.cost, first->schedule.cost);
    if (nasnet) {
      EXPECT_GT(llvm::count_if(first->stats.parts,
                               [](const PartStats &p) {
                                 return p.reusedFrom >= 0;
                               }),
                0);
    }
  }
}

/// A thread-safe cost that takes batches (an exec: server that does not
/// time this machine): the parts are searched on two threads sharing it,
/// with the schedule of one thread, and every distinct stage it was asked
/// for is counted once.
class ThreadSafeBatchedCost final : public StageCost {
public:
  double getCost(const Graph &g, const Stage &st) override {
    double c;
    getCosts(g, st, c);
    return c;
  }
  bool isThreadSafe() const override { return true; }
  unsigned batchSize() const override { return 16; }
  void getCosts(const Graph &g, llvm::ArrayRef<Stage> stages,
                llvm::MutableArrayRef<double> out) override {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_LE(stages.size(), 16u);
    ++requests;
    threads.insert(std::this_thread::get_id());
    for (size_t i = 0; i < stages.size(); ++i) {
      asked.insert(canonicalStageSignature(g, stages[i]));
      out[i] = inner.getCost(g, stages[i]);
    }
  }
  std::mutex mutex;
  uint64_t requests = 0;
  std::set<std::thread::id> threads;
  std::set<std::string> asked;

private:
  synthetic::SimpleAnalyticCost inner;
};

TEST(DPTest, ThreadSafeBatchedCostIsSharedByTheThreads) {
  auto g = synthetic::nasnetLike();
  ASSERT_TRUE(bool(g));
  std::optional<ScheduleResult> one;
  for (unsigned threads : {1u, 2u}) {
    SCOPED_TRACE(testing::Message() << "threads " << threads);
    ThreadSafeBatchedCost cost;
    StageCostCache cache;
    auto res = scheduleDP(*g, cost, partsOnThreads(threads), &cache);
    ASSERT_TRUE(bool(res)) << llvm::toString(res.takeError());
    EXPECT_EQ(cache.numCalls, cost.asked.size());
    EXPECT_LT(cost.requests, cost.asked.size());
    EXPECT_EQ(cost.threads.size(), threads);
    EXPECT_FALSE(bool(verifySchedule(*g, res->schedule, {3, 8, true})));
    if (!one) {
      one = std::move(*res);
      continue;
    }
    EXPECT_EQ(res->schedule.cost, one->schedule.cost);
    expectSameStages(res->schedule, one->schedule);
  }
}

TEST(DPTest, ReferenceCountsRandWire) {
  auto g = synthetic::randWire(synthetic::randWireLargeStages());
  ASSERT_TRUE(bool(g));
  synthetic::SimpleAnalyticCost cost;
  SchedulerOptions o;
  o.prune = PruneMode::None;
  o.decomposition.maxPartSize = 50;
  auto res = scheduleDP(*g, cost, o);
  ASSERT_TRUE(bool(res));
  std::vector<uint64_t> perBlock;
  for (const PartStats &p : res->stats.parts)
    perBlock.push_back(p.states);
  EXPECT_EQ(perBlock,
            (std::vector<uint64_t>{1, 235, 4276, 5420, 4799, 3}));
  PartStats t = res->stats.total();
  EXPECT_EQ(t.states, 14734u);
  EXPECT_EQ(t.transitions, 1843444u);
  EXPECT_EQ(t.partStages, 212895u);
}

} // namespace
