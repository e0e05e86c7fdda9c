//===- AnalyticProfilerTest.cpp - the analytic GPU model ------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Profiler/AnalyticProfiler.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <limits>
#include <numeric>
#include <random>

using namespace ios;
using namespace ios::prof;

namespace {

DeviceSpec plainDevice() {
  DeviceSpec d = cantFail(DeviceSpec::get("v100"));
  d.kernelLatencyUs = 0;
  d.launchUs = 0;
  d.convLaunchUs = 0;
  d.joinUs = 0;
  d.contentionPenalty = 0;
  return d;
}

Kernel kernel(double workUs, double fraction, double launchUs = 0) {
  Kernel k;
  k.workUs = workUs;
  k.fraction = fraction;
  k.launchUs = launchUs;
  return k;
}

/// The signature of a real `ios.conv2d` (padding k/2): the model costs the
/// work the op declares through its SchedulableOpInterface.
sched::OpSignature conv(int64_t cin, int64_t cout, int64_t hw, int64_t k,
                        int64_t batch = 1,
                        ios::Activation act = ios::Activation::relu) {
  static mlir::MLIRContext ctx;
  ctx.loadDialect<ios::IOSDialect>();
  mlir::OpBuilder b(&ctx);
  mlir::Location loc = b.getUnknownLoc();
  auto tensor = [&](llvm::ArrayRef<int64_t> shape) {
    return mlir::RankedTensorType::get(shape, b.getF32Type());
  };
  mlir::Block block;
  mlir::Value x = block.addArgument(tensor({batch, cin, hw, hw}), loc);
  mlir::Value w = block.addArgument(tensor({cout, cin, k, k}), loc);
  mlir::Value bias = block.addArgument(tensor({cout}), loc);
  auto op = ios::Conv2dOp::create(
      b, loc, x, w, bias, b.getDenseI64ArrayAttr({1, 1}),
      b.getDenseI64ArrayAttr({k / 2, k / 2}), b.getDenseI64ArrayAttr({1, 1}),
      b.getI64IntegerAttr(1), ios::ActivationAttr::get(&ctx, act));
  sched::OpSignature sig = op.getScheduleSignature();
  op->destroy();
  return sig;
}

TEST(AnalyticProfiler, SingleStreamAddsKernelTimes) {
  DeviceSpec d = plainDevice();
  // One stream: each kernel runs alone at its own occupancy.
  double ms = simulateStage({{kernel(10, 0.5), kernel(20, 1.0)}}, d);
  EXPECT_NEAR(ms, (10 / 0.5 + 20 / 1.0) / 1000, 1e-12);
}

TEST(AnalyticProfiler, SmallKernelsOverlapPerfectly) {
  DeviceSpec d = plainDevice();
  // Two streams that each fill half the SMs run side by side.
  double ms = simulateStage({{kernel(10, 0.5)}, {kernel(10, 0.5)}}, d);
  EXPECT_NEAR(ms, 20.0 / 1000, 1e-9);
}

TEST(AnalyticProfiler, FullKernelsShareTheDevice) {
  DeviceSpec d = plainDevice();
  // Two kernels that each fill the device take as long as both in a row.
  double ms = simulateStage({{kernel(10, 1.0)}, {kernel(10, 1.0)}}, d);
  EXPECT_NEAR(ms, 20.0 / 1000, 1e-9);
}

TEST(AnalyticProfiler, JoinAndLaunchOverheads) {
  DeviceSpec d = plainDevice();
  d.joinUs = 7;
  d.kernelLatencyUs = 2;
  // Host launches group 0 then group 1: the second kernel starts 5 us late.
  double ms =
      simulateStage({{kernel(10, 0.25, 5)}, {kernel(10, 0.25, 5)}}, d);
  EXPECT_NEAR(ms, (5 + 5 + 2 + 40 + 7) / 1000.0, 1e-9);
  // A single group pays no join; host and GPU overlap across runs.
  double one = simulateStage({{kernel(10, 1, 50)}}, d);
  EXPECT_NEAR(one, 50 / 1000.0, 1e-12);
}

TEST(AnalyticProfiler, TraceIsTheCostedRun) {
  DeviceSpec d = plainDevice();
  d.joinUs = 7;
  d.kernelLatencyUs = 2;
  // Group 1 is longer, so the host launches it first (5 us each) and group 0's
  // kernel issues after both of group 1's (15 us).
  std::vector<std::vector<Kernel>> groups = {
      {kernel(10, 0.25, 5)}, {kernel(10, 0.25, 5), kernel(4, 1.0, 5)}};
  StageTrace t = traceStage(groups, d);
  EXPECT_EQ(t.latencyMs, simulateStage(groups, d));
  ASSERT_EQ(t.intervals.size(), 2u);
  ASSERT_EQ(t.intervals[0].size(), 1u);
  ASSERT_EQ(t.intervals[1].size(), 2u);
  EXPECT_NEAR(t.intervals[1][0].first, 5 / 1000.0, 1e-12);
  EXPECT_NEAR(t.intervals[0][0].first, 15 / 1000.0, 1e-12);
  // Kernels of a stream run in order; the stage ends with the last kernel
  // plus the join.
  EXPECT_LE(t.intervals[1][0].second, t.intervals[1][1].first);
  double last = std::max(t.intervals[0][0].second, t.intervals[1][1].second);
  EXPECT_NEAR(t.latencyMs, last + 7 / 1000.0, 1e-12);
  for (const auto &group : t.intervals)
    for (auto [start, end] : group)
      EXPECT_GE(end - start, 2 / 1000.0 - 1e-12); // at least the latency

  // One stream: kernels back to back from 0.
  StageTrace one = traceStage({{kernel(10, 0.5), kernel(20, 1.0)}}, d);
  ASSERT_EQ(one.intervals.size(), 1u);
  ASSERT_EQ(one.intervals[0].size(), 2u);
  EXPECT_NEAR(one.intervals[0][0].first, 0, 1e-12);
  EXPECT_NEAR(one.intervals[0][0].second, 22 / 1000.0, 1e-12);
  EXPECT_NEAR(one.intervals[0][1].second, 44 / 1000.0, 1e-12);
  EXPECT_EQ(one.latencyMs, simulateStage({{kernel(10, 0.5), kernel(20, 1.0)}}, d));
}

TEST(AnalyticProfiler, ContentionSlowsCoRunningKernels) {
  DeviceSpec d = plainDevice();
  double free = simulateStage({{kernel(10, 0.5)}, {kernel(10, 0.5)}}, d);
  d.contentionPenalty = 0.5;
  double contended =
      simulateStage({{kernel(10, 0.5)}, {kernel(10, 0.5)}}, d);
  EXPECT_NEAR(contended, free * 1.5, 1e-9);
}

TEST(AnalyticProfiler, ConvCostGrowsWithWorkAndBatch) {
  DeviceSpec d = cantFail(DeviceSpec::get("v100"));
  AnalyticProfiler p(d);
  auto stage = [](std::vector<sched::OpSignature> ops) {
    StageDescription s;
    for (auto &op : ops)
      s.groups.push_back({op});
    return s;
  };
  double small = p.latency(stage({conv(64, 64, 8, 3)}));
  double wide = p.latency(stage({conv(512, 512, 8, 3)}));
  double batched = p.latency(stage({conv(512, 512, 8, 3, 32)}));
  EXPECT_LT(small, wide);
  EXPECT_LT(wide, batched);
  // Two convs that each fill a fifth of the SMs run faster side by side
  // than one after the other...
  double side = p.latency(stage({conv(256, 256, 14, 3), conv(256, 256, 14, 3)}));
  StageDescription seq;
  seq.groups.push_back({conv(256, 256, 14, 3), conv(256, 256, 14, 3)});
  EXPECT_LT(side, p.latency(seq));
  // ... but tiny ones are bound by the host's launches, and the join makes
  // running them side by side slower (why IOS's greedy schedule loses on
  // SqueezeNet).
  double tinySide = p.latency(stage({conv(16, 16, 8, 1), conv(16, 16, 8, 1)}));
  StageDescription tinySeq;
  tinySeq.groups.push_back({conv(16, 16, 8, 1), conv(16, 16, 8, 1)});
  EXPECT_GT(tinySide, p.latency(tinySeq));
}

TEST(AnalyticProfiler, IdentityConvLaunchesABiasKernel) {
  DeviceSpec d = cantFail(DeviceSpec::get("v100"));
  sched::OpSignature c = conv(16, 16, 8, 1);
  EXPECT_EQ(kernelsFor(c, d).size(), 1u);
  c = conv(16, 16, 8, 1, 1, ios::Activation::none);
  auto kernels = kernelsFor(c, d);
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_STREQ(kernels[1].what, "bias");
}

TEST(AnalyticProfiler, UndeclaredWorkIsOneMemoryPass) {
  DeviceSpec d = cantFail(DeviceSpec::get("v100"));
  sched::OpSignature unknown("tosa.conv2d");
  unknown.inputShapes = {{64, 8, 8}};
  unknown.outputShape = {64, 8, 8};
  auto kernels = kernelsFor(unknown, d);
  ASSERT_EQ(kernels.size(), 1u);
  EXPECT_STREQ(kernels[0].what, "unknown");
  // The same shapes declared as a 3x3 conv cost far more than a memory pass.
  sched::OpSignature c = conv(64, 64, 8, 3);
  EXPECT_GT(simulateStage({kernelsFor(c, d)}, d),
            simulateStage({kernels}, d));
}

/// The lower bound terms the model offers the scheduler (the host serving
/// the groups in turn among them) never exceed its simulated cost, on
/// random stages of convs (one or two kernels each), an op without declared
/// work and a view (no kernel), on every built-in device; a single group is
/// bounded within a millionth (the work terms leave out the simulation's
/// tolerance), and the turn term is the largest one on some stages.
TEST(AnalyticProfiler, LowerBoundTermsHold) {
  std::vector<sched::NodeSpec> nodes;
  std::mt19937 rng(7);
  const int64_t sizes[] = {16, 64, 256, 616};
  for (int i = 0; i < 14; ++i) {
    sched::NodeSpec n;
    n.id = i;
    int64_t c = sizes[rng() % 4], hw = 7 << (rng() % 3);
    n.sig = conv(c, sizes[rng() % 4], hw, rng() % 2 ? 3 : 1, 1,
                 rng() % 3 ? ios::Activation::relu : ios::Activation::none);
    nodes.push_back(n);
  }
  sched::NodeSpec unknown;
  unknown.id = 14;
  unknown.sig = sched::OpSignature("tosa.add");
  unknown.sig.inputShapes = {{64, 14, 14}};
  unknown.sig.outputShape = {64, 14, 14};
  nodes.push_back(unknown);
  sched::NodeSpec view;
  view.id = 15;
  view.sig = sched::OpSignature("flatten");
  view.sig.modeled = true; // declares no kernel
  nodes.push_back(view);
  sched::Graph g = cantFail(sched::Graph::build(std::move(nodes), {}));
  for (llvm::StringRef name : DeviceSpec::builtinNames()) {
    AnalyticProfiler p(cantFail(DeviceSpec::get(name)));
    std::optional<sched::LowerBoundTerms> t = p.lowerBoundTerms(g);
    ASSERT_TRUE(t.has_value());
    ASSERT_EQ(t->shared.size(), 2u);
    ASSERT_EQ(t->servedInTurn, std::optional<unsigned>(0));
    unsigned tight = 0, turnWins = 0;
    for (int trial = 0; trial < 400; ++trial) {
      sched::Stage st;
      unsigned k = 1 + rng() % 6;
      std::vector<int> perm(g.numNodes());
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      // Up to 6 groups of up to 3 nodes: as many as the 16 nodes allow.
      size_t next = 0;
      for (unsigned gi = 0; gi < k && next < perm.size(); ++gi) {
        st.groups.emplace_back();
        for (unsigned m = 1 + rng() % 3; m > 0 && next < perm.size(); --m)
          st.groups.back().push_back(perm[next++]);
      }
      double cost = cantFail(p.measure(g, st));
      double streamMax = 0, shared[2] = {0, 0};
      double turnSlack = std::numeric_limits<double>::infinity();
      unsigned busy = 0;
      for (const auto &grp : st.groups) {
        double stream = 0, host = 0;
        for (sched::NodeId id : grp) {
          unsigned v = *g.indexOf(id);
          stream += t->stream.perNode[v];
          host += t->shared[0].perNode[v];
          for (int r = 0; r < 2; ++r)
            shared[r] += t->shared[r].perNode[v];
        }
        streamMax = std::max(streamMax, stream);
        busy += stream > 0;
        if (stream > 0)
          turnSlack = std::min(turnSlack,
                               stream - host + t->turnLead[*g.indexOf(grp[0])]);
      }
      bool multi = busy >= 2;
      double bound = streamMax + (multi ? t->stream.multiGroup : 0);
      for (int r = 0; r < 2; ++r)
        bound = std::max(bound, shared[r] + (multi ? t->shared[r].multiGroup
                                                   : 0));
      if (multi) {
        double turn = shared[0] + turnSlack + t->stream.multiGroup;
        turnWins += turn > bound;
        bound = std::max(bound, turn);
      }
      EXPECT_LE(bound * (1 - 1e-12), cost) << name.str() << " trial " << trial;
      if (k == 1) {
        EXPECT_NEAR(bound, cost, 1e-6 * cost) << name.str();
        ++tight;
      }
    }
    EXPECT_GT(tight, 0u);
    EXPECT_GT(turnWins, 0u) << name.str();
  }
}

TEST(DeviceSpec, BuiltinsAndFiles) {
  EXPECT_EQ(cantFail(DeviceSpec::get("a100")).sms, 108u);
  EXPECT_EQ(cantFail(DeviceSpec::get("h100")).sms, 132u);
  llvm::SmallString<64> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("dev", "json", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << R"({"name": "t4", "sms": 40, "peakTflops": 8.1, "memGBps": 320})";
  }
  DeviceSpec t4 = cantFail(DeviceSpec::get(path));
  EXPECT_EQ(t4.name, "t4");
  EXPECT_EQ(t4.sms, 40u);
  EXPECT_DOUBLE_EQ(t4.memGBps, 320);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << R"({"sms": 40, "bogus": 1})";
  }
  llvm::Expected<DeviceSpec> bad = DeviceSpec::get(path);
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("unknown device field"),
            std::string::npos);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << R"({"sms": 0})";
  }
  bad = DeviceSpec::get(path);
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("must be positive"),
            std::string::npos);
  llvm::sys::fs::remove(path);
  bad = DeviceSpec::get("no-such-gpu");
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("unknown device 'no-such-gpu'"),
            std::string::npos);
}

} // namespace
