//===- ProfilerTest.cpp - profiler factory, table, stage descriptions -----===//

#include "Scheduler/SyntheticGraphs.h"
#include "ios/Profiler/Profiler.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>
#include <gtest/gtest.h>

using namespace ios;
using namespace ios::prof;

namespace {

sched::OpSignature conv(int64_t cout, int64_t k, int64_t pad) {
  sched::OpSignature sig("conv");
  sig.inputShapes = {{8, 16, 16}};
  sig.outputShape = {cout, 16, 16};
  sig.set("kernel", {k, k});
  sig.set("stride", {1, 1});
  sig.set("padding", {pad, pad});
  sig.set("groups", int64_t(1));
  sig.set("act", "relu");
  sig.set("out_channels", cout);
  return sig;
}

/// x -> a (1x1, 4 ch), x -> b (3x3, 6 ch), add(a-slice, ...) is not needed:
/// two independent convs reading the same value, plus a consumer c of a.
sched::Graph twoConvs() {
  std::vector<sched::NodeSpec> nodes(3);
  nodes[0].id = 0;
  nodes[0].name = "a";
  nodes[0].sig = conv(4, 1, 0);
  nodes[1].id = 1;
  nodes[1].name = "b";
  nodes[1].sig = conv(6, 3, 1);
  for (int i = 0; i < 2; ++i)
    nodes[i].mergeKey = sched::synthetic::iosMergeKey(nodes[i].sig, -1, 0, 8);
  nodes[2].id = 2;
  nodes[2].name = "c";
  nodes[2].sig = sched::OpSignature("activation");
  nodes[2].sig.inputShapes = {{4, 16, 16}};
  nodes[2].sig.outputShape = {4, 16, 16};
  return llvm::cantFail(sched::Graph::build(std::move(nodes), {{0, 2}},
                                            sched::synthetic::mergeConvs));
}

std::string writeTemp(llvm::StringRef text) {
  llvm::SmallString<64> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("table", "json", path));
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  os << text;
  return path.str().str();
}

sched::Stage stage(sched::Strategy s,
                   std::vector<std::vector<sched::NodeId>> groups) {
  sched::Stage st;
  st.strategy = s;
  st.groups = std::move(groups);
  return st;
}

TEST(Profiler, MergedSignatureComesFromTheGraph) {
  sched::Graph g = twoConvs();
  sched::OpSignature m = llvm::cantFail(
      mergedSignature(g, stage(sched::Strategy::Merge, {{0}, {1}})));
  EXPECT_EQ(m.kind, "conv");
  EXPECT_EQ(m.outputShape[0], 10);
  EXPECT_EQ(*m.getInt("out_channels"), 10);
  EXPECT_EQ(m.getInts("kernel")->vec(), (std::vector<int64_t>{3, 3}));
  // The graph's merge function decides what merges into what.
  llvm::Expected<sched::OpSignature> bad =
      mergedSignature(g, stage(sched::Strategy::Merge, {{0}, {2}}));
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("non-conv"),
            std::string::npos);
  bad = mergedSignature(g, stage(sched::Strategy::Concurrent, {{0}, {1}}));
  ASSERT_FALSE(bool(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("not a merge stage"),
            std::string::npos);
}

TEST(Profiler, RegistryNamesEveryKind) {
  std::vector<std::string> names;
  for (const auto &[name, help] : registeredProfilers())
    names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"analytic", "table", "exec",
                                      "exec-parallel", "db", "cpu", "cuda"}));
  // An embedding program's own profiler, found by name.
  struct Fixed final : Profiler {
    llvm::Expected<double> measure(const sched::Graph &,
                                   const sched::Stage &) override {
      return 0.5;
    }
    std::string describe() const override { return "fixed"; }
  };
  registerProfiler("fixed", "always 0.5 ms",
                   [](llvm::StringRef, const ProfilerOptions &)
                       -> llvm::Expected<std::unique_ptr<Profiler>> {
                     return std::make_unique<Fixed>();
                   });
  ProfilerOptions opts;
  opts.spec = "fixed";
  std::unique_ptr<Profiler> p = llvm::cantFail(createProfiler(opts));
  EXPECT_EQ(p->describe(), "fixed");
  opts.spec = "nothing";
  llvm::Expected<std::unique_ptr<Profiler>> none = createProfiler(opts);
  ASSERT_FALSE(bool(none));
  EXPECT_NE(
      llvm::toString(none.takeError())
          .find("analytic, table, exec, exec-parallel, db, cpu, cuda, fixed"),
      std::string::npos);
}

TEST(Profiler, StageDescriptionJSONRoundTrip) {
  sched::Graph g = twoConvs();
  StageDescription d = llvm::cantFail(
      describeStage(g, stage(sched::Strategy::Concurrent, {{0, 2}, {1}})));
  ASSERT_EQ(d.groups.size(), 2u);
  ASSERT_EQ(d.edges[0].size(), 1u);
  EXPECT_EQ(d.edges[0][0], (std::pair<unsigned, unsigned>{0, 1}));
  llvm::json::Value v = toJSON(d.groups[1][0]);
  sched::OpSignature back;
  llvm::json::Path::Root root;
  ASSERT_TRUE(fromJSON(v, back, root));
  EXPECT_EQ(back.str(), d.groups[1][0].str());
}

TEST(Profiler, StageJSONTextIsTheDescriptionsJSON) {
  // The exec: profiler writes requests as text with cached op texts: the
  // same JSON as toJSON(describeStage(...)), for concurrent and merge
  // stages, with the cache cold and warm.
  sched::Graph g = twoConvs();
  OpTexts texts;
  for (const sched::Stage &st :
       {stage(sched::Strategy::Concurrent, {{0, 2}, {1}}),
        stage(sched::Strategy::Concurrent, {{1}, {0, 2}}),
        stage(sched::Strategy::Merge, {{0}, {1}}),
        stage(sched::Strategy::Concurrent, {{2}})}) {
    std::string text, expected;
    llvm::raw_string_ostream os(text);
    llvm::cantFail(writeStageJSON(os, g, st, texts));
    llvm::raw_string_ostream(expected)
        << toJSON(llvm::cantFail(describeStage(g, st)));
    EXPECT_EQ(text, expected);
  }
  EXPECT_EQ(texts.ops.size(), 3u);
  EXPECT_TRUE(texts.fresh.empty());
}

TEST(Profiler, StageJSONWithOpReferences) {
  // With references an op is its index in the session's table; its text
  // goes out once, in the request that first uses it, in index order.
  sched::Graph g = twoConvs();
  OpTexts texts;
  texts.refs = true;
  auto write = [&](const sched::Stage &st) {
    texts.fresh.clear();
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::cantFail(writeStageJSON(os, g, st, texts));
    return text;
  };
  auto opText = [&](unsigned v) {
    std::string t;
    llvm::raw_string_ostream(t) << toJSON(g.node(v).sig);
    return t;
  };
  EXPECT_EQ(write(stage(sched::Strategy::Concurrent, {{0, 2}, {1}})),
            "{\"batch\":1,\"edges\":[[[0,1]],[]],\"groups\":[[0,1],[2]],"
            "\"strategy\":\"concurrent\"}");
  EXPECT_EQ(texts.fresh, opText(0) + "," + opText(2) + "," + opText(1));
  EXPECT_EQ(write(stage(sched::Strategy::Concurrent, {{2}})),
            "{\"batch\":1,\"edges\":[[]],\"groups\":[[1]],"
            "\"strategy\":\"concurrent\"}");
  EXPECT_TRUE(texts.fresh.empty());
  // A merge stage describes its merged op: objects, no references.
  std::string merge = write(stage(sched::Strategy::Merge, {{0}, {1}}));
  std::string expected;
  llvm::raw_string_ostream(expected) << toJSON(llvm::cantFail(
      describeStage(g, stage(sched::Strategy::Merge, {{0}, {1}}))));
  EXPECT_EQ(merge, expected);
  EXPECT_EQ(texts.sent, 3);
}

TEST(Profiler, MergeStageCarriesItsMembers) {
  sched::Graph g = twoConvs();
  StageDescription d = llvm::cantFail(
      describeStage(g, stage(sched::Strategy::Merge, {{0}, {1}})));
  ASSERT_EQ(d.groups.size(), 1u);
  ASSERT_EQ(d.members.size(), 2u);
  EXPECT_EQ(d.members[0].str(), g.node(0).sig.str());
  EXPECT_EQ(d.members[1].str(), g.node(1).sig.str());
  // The exec request's stage object, parsed back.
  StageDescription back = llvm::cantFail(stageFromJSON(toJSON(d)));
  EXPECT_EQ(back.strategy, sched::Strategy::Merge);
  ASSERT_EQ(back.members.size(), 2u);
  EXPECT_EQ(back.members[1].str(), d.members[1].str());
  EXPECT_EQ(back.groups[0][0].str(), d.groups[0][0].str());
  // A concurrent stage has none.
  EXPECT_TRUE(llvm::cantFail(describeStage(
                                 g, stage(sched::Strategy::Concurrent, {{0}})))
                  .members.empty());
}

TEST(Profiler, TableDerivesAndLooksUpStages) {
  std::string path = writeTemp(R"({
    "ops": {"a": 0.1, "b": 0.2, "c": 0.05},
    "join_ms": 0.01,
    "stages": [{"strategy": "merge", "groups": [["b"], ["a"]], "ms": 0.15}]
  })");
  ProfilerOptions opts;
  opts.spec = "table:" + path;
  std::unique_ptr<Profiler> p = llvm::cantFail(createProfiler(opts));
  EXPECT_FALSE(p->isSignatureDeterministic());
  sched::Graph g = twoConvs();
  // Explicit entry, group order does not matter.
  EXPECT_DOUBLE_EQ(llvm::cantFail(p->measure(
                       g, stage(sched::Strategy::Merge, {{0}, {1}}))),
                   0.15);
  // Derived: slowest group plus the join.
  EXPECT_DOUBLE_EQ(llvm::cantFail(p->measure(
                       g, stage(sched::Strategy::Concurrent, {{0, 2}, {1}}))),
                   0.2 + 0.01);
  EXPECT_DOUBLE_EQ(
      llvm::cantFail(p->measure(g, stage(sched::Strategy::Concurrent, {{2}}))),
      0.05);
  llvm::sys::fs::remove(path);

  // No merge entry and no merge_factor: an error naming the stage.
  path = writeTemp(R"({"ops": {"a": 0.1, "b": 0.2}})");
  opts.spec = "table:" + path;
  p = llvm::cantFail(createProfiler(opts));
  llvm::Expected<double> miss =
      p->measure(g, stage(sched::Strategy::Merge, {{0}, {1}}));
  ASSERT_FALSE(bool(miss));
  EXPECT_NE(llvm::toString(miss.takeError()).find("no entry for merge stage"),
            std::string::npos);
  llvm::sys::fs::remove(path);
}

TEST(Profiler, TableRejectsMalformedFiles) {
  for (const char *text :
       {R"({"ops": {"a": -1}})", R"({"opz": {}})",
        R"({"stages": [{"strategy": "parallel", "groups": [], "ms": 1}]})",
        "not json"}) {
    std::string path = writeTemp(text);
    ProfilerOptions opts;
    opts.spec = "table:" + path;
    llvm::Expected<std::unique_ptr<Profiler>> p = createProfiler(opts);
    ASSERT_FALSE(bool(p)) << text;
    EXPECT_NE(llvm::toString(p.takeError()).find("cost table"),
              std::string::npos);
    llvm::sys::fs::remove(path);
  }
}

/// A table: profiler of `text`, written to `path`.
std::unique_ptr<Profiler> tableProfiler(llvm::StringRef text,
                                        std::string &path) {
  path = writeTemp(text);
  ProfilerOptions opts;
  opts.spec = "table:" + path;
  return llvm::cantFail(createProfiler(opts));
}

TEST(Profiler, CostAdapterKeepsTheFirstError) {
  std::string path;
  std::unique_ptr<Profiler> p = tableProfiler(R"({"ops": {"a": 0.1}})", path);
  ProfilerCost cost(*p);
  sched::Graph g = twoConvs();
  EXPECT_DOUBLE_EQ(cost.getCost(g, stage(sched::Strategy::Concurrent, {{0}})),
                   0.1);
  EXPECT_TRUE(std::isnan(
      cost.getCost(g, stage(sched::Strategy::Concurrent, {{1}}))));
  llvm::Error e = cost.takeError();
  ASSERT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e)).find("no cost for op 'b'"),
            std::string::npos);
  EXPECT_FALSE(bool(cost.takeError()));
  EXPECT_EQ(cost.numCalls(), 2u);
  llvm::sys::fs::remove(path);
}

// A finite but absurd latency would become +inf in sums and make the
// schedule arbitrary: ProfilerCost stops the search, naming the profiler and
// the stage, whichever profiler answered.
TEST(Profiler, CostAdapterRejectsAbsurdLatencies) {
  EXPECT_TRUE(isValidLatency(0));
  EXPECT_TRUE(isValidLatency(kMaxLatencyMs));
  EXPECT_FALSE(isValidLatency(-1e-9));
  EXPECT_FALSE(isValidLatency(std::nextafter(kMaxLatencyMs, 2e9)));
  EXPECT_FALSE(isValidLatency(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(isValidLatency(std::numeric_limits<double>::quiet_NaN()));
  std::string path;
  std::unique_ptr<Profiler> p =
      tableProfiler(R"({"ops": {"a": 0.5, "b": 1e308}})", path);
  ProfilerCost cost(*p);
  sched::Graph g = twoConvs();
  EXPECT_DOUBLE_EQ(cost.getCost(g, stage(sched::Strategy::Concurrent, {{0}})),
                   0.5);
  EXPECT_TRUE(std::isnan(
      cost.getCost(g, stage(sched::Strategy::Concurrent, {{0}, {1}}))));
  std::string e = llvm::toString(cost.takeError());
  EXPECT_EQ(e, "profiler 'table:" + path +
                   "' returned latency 1.000000e+308 ms for stage " +
                   sched::canonicalStageSignature(
                       g, stage(sched::Strategy::Concurrent, {{0}, {1}})) +
                   "; a latency must be finite and in [0, 1e+09] ms");
  llvm::sys::fs::remove(path);
}

TEST(Profiler, FactoryErrors) {
  ProfilerOptions opts;
  opts.spec = "gpu";
  llvm::Expected<std::unique_ptr<Profiler>> p = createProfiler(opts);
  ASSERT_FALSE(bool(p));
  EXPECT_NE(llvm::toString(p.takeError()).find("unknown profiler 'gpu'"),
            std::string::npos);
  opts.spec = "analytic:fast";
  p = createProfiler(opts);
  ASSERT_FALSE(bool(p));
  llvm::consumeError(p.takeError());
  opts.spec = "db:/nonexistent/dir/x.jsonl";
  opts.record = "db:other";
  p = createProfiler(opts);
  ASSERT_FALSE(bool(p));
  EXPECT_NE(llvm::toString(p.takeError()).find("cannot itself be a database"),
            std::string::npos);
}

} // namespace
