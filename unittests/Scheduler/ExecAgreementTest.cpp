//===- ExecAgreementTest.cpp - the exec: lit test's optimum, predicted ----===//
//
// test/Transforms/Schedule/exec.mlir schedules conv A, conv B (1x1, 16 -> 16
// channels, 8x8) and their sum through python/ios/cost_server.py (1 GMAC/s,
// 5 us per op, 10 us per join). This test runs the scheduler core on the same
// graph with the same cost formula: the optimum and the schedule must be the
// ones the lit test checks through the protocol (37.408 us: [A | B], then
// the add; sequential 48.792 us).
//
//===----------------------------------------------------------------------===//

#include "Scheduler/SyntheticGraphs.h"
#include "ios/Scheduler/Scheduler.h"

#include <gtest/gtest.h>

using namespace ios::sched;

namespace {

/// cost_server.py's model: an op costs 5 us plus MACs at 1 GMAC/s (elements
/// for non-convs); a stage its slowest group plus 10 us if it has several.
double serverCostUs(const Graph &g, const Stage &stage) {
  double slowest = 0;
  for (const auto &group : stage.groups) {
    double us = 0;
    for (NodeId id : group) {
      const OpSignature &sig = g.nodeById(id).sig;
      double out = double(sig.batch);
      for (int64_t d : sig.outputShape)
        out *= double(d);
      double macs = out;
      if (sig.kind == "conv") {
        auto k = *sig.getInts("kernel");
        macs = out * double(sig.inputShapes[0][0] /
                            sig.getInt("groups").value_or(1)) *
               double(k[0] * k[1]);
      }
      us += 5 + macs / 1e3;
    }
    slowest = std::max(slowest, us);
  }
  return slowest + (stage.groups.size() > 1 ? 10 : 0);
}

OpSignature conv1x1() {
  OpSignature sig("conv");
  sig.inputShapes = {{16, 8, 8}};
  sig.outputShape = {16, 8, 8};
  sig.set("kernel", {1, 1});
  sig.set("stride", {1, 1});
  sig.set("groups", int64_t(1));
  sig.set("act", "identity");
  return sig;
}

TEST(ExecAgreement, SameOptimumAsTheCostServer) {
  std::vector<NodeSpec> nodes(3);
  for (int i = 0; i < 2; ++i) {
    nodes[i].id = i;
    nodes[i].sig = conv1x1();
    nodes[i].mergeKey = synthetic::iosMergeKey(nodes[i].sig, -1, 0, 16);
  }
  nodes[2].id = 2;
  nodes[2].sig = OpSignature("add");
  nodes[2].sig.inputShapes = {{16, 8, 8}, {16, 8, 8}};
  nodes[2].sig.outputShape = {16, 8, 8};
  Graph g =
      cantFail(Graph::build(nodes, {{0, 2}, {1, 2}}, synthetic::mergeConvs));

  FunctionStageCost cost(serverCostUs);
  ScheduleResult both = cantFail(scheduleDP(g, cost));
  EXPECT_NEAR(both.schedule.cost, 37.408, 1e-9);
  ASSERT_EQ(both.schedule.stages.size(), 2u);
  EXPECT_EQ(both.schedule.stages[0].groups.size(), 2u);
  EXPECT_EQ(both.schedule.stages[1].groups,
            (std::vector<std::vector<NodeId>>{{2}}));
  ScheduleResult seq = cantFail(scheduleSequential(g, cost));
  EXPECT_NEAR(seq.schedule.cost, 48.792, 1e-9);
}

} // namespace
