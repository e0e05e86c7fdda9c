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

/// cost_server.py's model: an op costs 5 us plus MACs at 1 GMAC/s (half the
/// declared FLOPs; output elements for ops that declare none); a stage its
/// slowest group plus 10 us if it has several.
double serverCostUs(const Graph &g, const Stage &stage) {
  double slowest = 0;
  for (const auto &group : stage.groups) {
    double us = 0;
    for (NodeId id : group) {
      const OpSignature &sig = g.nodeById(id).sig;
      double out = double(sig.batch);
      for (int64_t d : sig.outputShape)
        out *= double(d);
      double macs = sig.flops() > 0 ? sig.flops() / 2 : out;
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
  // What ios.conv2d declares: 8 x 8 x 16 outputs of 16 MACs each.
  KernelWork conv;
  conv.kind = KernelWork::Kind::Gemm;
  conv.flops = 2.0 * 8 * 8 * 16 * 16;
  sig.work.push_back(conv);
  sig.modeled = true;
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
