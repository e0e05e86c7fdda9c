//===- GraphTest.cpp - Graph building, units, blocks, parts ----------------===//

#include "ios/Scheduler/Graph.h"
#include "Scheduler/SyntheticGraphs.h"

#include "gtest/gtest.h"

using namespace ios::sched;

namespace {

NodeSpec node(NodeId id, std::optional<int64_t> unit = std::nullopt,
              std::optional<int64_t> part = std::nullopt) {
  NodeSpec n;
  n.id = id;
  n.sig = OpSignature("op");
  n.unit = unit;
  n.partHint = part;
  return n;
}

std::vector<size_t> blockSizes(const Decomposition &d) {
  std::vector<size_t> v;
  for (const Block &b : d.blocks)
    v.push_back(b.units.size());
  return v;
}

std::vector<size_t> partSizes(const Block &b) {
  std::vector<size_t> v;
  for (const Part &p : b.parts)
    v.push_back(p.units.size());
  return v;
}

TEST(GraphTest, BuildValidates) {
  // Duplicate id.
  auto g1 = Graph::build({node(1), node(1)}, {});
  ASSERT_FALSE(bool(g1));
  EXPECT_NE(llvm::toString(g1.takeError()).find("duplicate"),
            std::string::npos);
  // Unknown node in an edge.
  auto g2 = Graph::build({node(1)}, {{1, 5}});
  ASSERT_FALSE(bool(g2));
  llvm::consumeError(g2.takeError());
  // Self loop and cycle.
  auto g3 = Graph::build({node(1)}, {{1, 1}});
  ASSERT_FALSE(bool(g3));
  llvm::consumeError(g3.takeError());
  auto g4 = Graph::build({node(1), node(2), node(3)}, {{1, 2}, {2, 3}, {3, 1}});
  ASSERT_FALSE(bool(g4));
  EXPECT_NE(llvm::toString(g4.takeError()).find("cycle"), std::string::npos);
  // A unit {1, 3} around node 2 (1 -> 2 -> 3) contracts to a cycle.
  auto g5 = Graph::build({node(1, 7), node(2), node(3, 7)}, {{1, 2}, {2, 3}});
  ASSERT_FALSE(bool(g5));
  EXPECT_NE(llvm::toString(g5.takeError()).find("unit graph"),
            std::string::npos);
  // Nodes of one unit with different part hints.
  auto g6 = Graph::build({node(1, 7, 0), node(2, 7, 1)}, {{1, 2}});
  ASSERT_FALSE(bool(g6));
  llvm::consumeError(g6.takeError());
  // Duplicate edges are fine.
  auto ok = Graph::build({node(1), node(2)}, {{1, 2}, {1, 2}});
  ASSERT_TRUE(bool(ok));
  EXPECT_EQ(ok->succs(0).size(), 1u);
}

TEST(GraphTest, UnitsInTopologicalOrder) {
  // Given out of order: 30 -> 10 -> 20, and unit {10, 20}.
  auto g = Graph::build({node(10, 1), node(20, 1), node(30)},
                        {{30, 10}, {10, 20}});
  ASSERT_TRUE(bool(g)) << llvm::toString(g.takeError());
  ASSERT_EQ(g->numUnits(), 2u);
  // Unit 0 = {30}, unit 1 = {10, 20} with nodes in order.
  EXPECT_EQ(g->node(g->unit(0).nodes[0]).id, 30);
  ASSERT_EQ(g->unit(1).nodes.size(), 2u);
  EXPECT_EQ(g->node(g->unit(1).nodes[0]).id, 10);
  EXPECT_EQ(g->node(g->unit(1).nodes[1]).id, 20);
  EXPECT_EQ(g->unit(1).preds, (llvm::SmallVector<unsigned, 4>{0}));
  EXPECT_EQ(g->unitOf(*g->indexOf(20)), 1u);
  // Topological node order keeps units contiguous.
  std::vector<NodeId> order;
  for (unsigned v : g->topoOrder())
    order.push_back(g->node(v).id);
  EXPECT_EQ(order, (std::vector<NodeId>{30, 10, 20}));
}

TEST(GraphTest, CutUnitsOfDiamondsAndMultipleSourcesSinks) {
  // a -> {b, c} -> d -> e ; cuts: a, d, e.
  auto g = Graph::build(
      {node(0), node(1), node(2), node(3), node(4)},
      {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}});
  ASSERT_TRUE(bool(g));
  EXPECT_EQ(findCutUnits(*g), (llvm::SmallVector<unsigned>{0, 3, 4}));
  // An edge jumping over d removes it: a -> e.
  auto g2 = Graph::build(
      {node(0), node(1), node(2), node(3), node(4)},
      {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {0, 4}});
  ASSERT_TRUE(bool(g2));
  EXPECT_EQ(findCutUnits(*g2), (llvm::SmallVector<unsigned>{0, 4}));
  // Two sources, two sinks: x, y -> z -> {p, q}: only z.
  auto g3 = Graph::build({node(0), node(1), node(2), node(3), node(4)},
                         {{0, 2}, {1, 2}, {2, 3}, {2, 4}});
  ASSERT_TRUE(bool(g3));
  EXPECT_EQ(findCutUnits(*g3), (llvm::SmallVector<unsigned>{2}));
  auto d3 = decompose(*g3);
  ASSERT_TRUE(bool(d3));
  EXPECT_EQ(blockSizes(*d3), (std::vector<size_t>{3, 2}));
}

/// A small Inception-like network: a stem chain, two modules (4 branches
/// joined by a concat), a pool.
TEST(GraphTest, InceptionLikeBlocks) {
  synthetic::NetBuilder b;
  auto x = b.input(3, 32, 32);
  x = b.conv(x, 16, 3, 1, 1);
  x = b.conv(x, 16, 3, 1, 1);
  x = b.pool({{x}}, "max", 2, 2, 0);
  for (int m = 0; m < 2; ++m) {
    auto b1 = b.conv(x, 8, 1, 1, 0);
    auto b2 = b.conv(b.conv(x, 8, 1, 1, 0), 8, 3, 1, 1);
    auto b3 = b.conv(b.conv(b.conv(x, 8, 1, 1, 0), 8, 3, 1, 1), 8, 3, 1, 1);
    auto b4 = b.conv(b.pool({{x}}, "avg", 3, 1, 1), 8, 1, 1, 0);
    x = b.identity({{b1}, {b2}, {b3}, {b4}});
  }
  b.pool({{x}}, "global_avg", 0, 1, 0);
  auto g = b.finish();
  ASSERT_TRUE(bool(g)) << llvm::toString(g.takeError());
  auto d = decompose(*g);
  ASSERT_TRUE(bool(d));
  // Stem chain coalesced (3), two modules of 9 (8 branch ops + concat), pool.
  EXPECT_EQ(blockSizes(*d), (std::vector<size_t>{3, 9, 9, 1}));
  // Each module's block ends with its concat.
  for (int i : {1, 2})
    EXPECT_EQ(g->node(g->unit(d->blocks[i].units.back()).nodes[0]).sig.kind,
              "identity");
  // Without chain coalescing the stem is three blocks.
  DecompositionOptions o;
  o.coalesceChains = false;
  auto d2 = decompose(*g, o);
  ASSERT_TRUE(bool(d2));
  EXPECT_EQ(blockSizes(*d2), (std::vector<size_t>{1, 1, 1, 9, 9, 1}));
  // Without block detection: one block.
  o.detectBlocks = false;
  auto d3 = decompose(*g, o);
  ASSERT_TRUE(bool(d3));
  EXPECT_EQ(blockSizes(*d3), (std::vector<size_t>{22}));
}

TEST(GraphTest, InceptionV3HasIOSBlocks) {
  auto g = synthetic::inceptionV3();
  ASSERT_TRUE(bool(g));
  EXPECT_EQ(g->numUnits(), 119u);
  auto d = decompose(*g);
  ASSERT_TRUE(bool(d));
  EXPECT_EQ(blockSizes(*d), (std::vector<size_t>{7, 9, 9, 9, 6, 12, 12, 12,
                                                 12, 8, 11, 11, 1}));
}

TEST(GraphTest, RandWireBlocksFromHintsOrCuts) {
  auto stages = synthetic::randWireLargeStages();
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_EQ(stages[0].n, 16u);
  EXPECT_EQ(stages[0].edges.size(), 32u);
  auto hinted = synthetic::randWire(stages, 1, /*blockHints=*/true);
  ASSERT_TRUE(bool(hinted));
  auto d = decompose(*hinted);
  ASSERT_TRUE(bool(d));
  EXPECT_EQ(blockSizes(*d), (std::vector<size_t>{1, 17, 33, 33, 33, 3}));
  // Cut detection alone: the first stage graph has a single sink, so its
  // exit sum is a block of its own.
  auto plain = synthetic::randWire(stages, 1, /*blockHints=*/false);
  ASSERT_TRUE(bool(plain));
  auto d2 = decompose(*plain);
  ASSERT_TRUE(bool(d2));
  EXPECT_EQ(blockSizes(*d2), (std::vector<size_t>{1, 16, 1, 33, 33, 33, 3}));
  // Bad WS text.
  auto bad = synthetic::parseWSGraph("3 1 2 1");
  ASSERT_FALSE(bool(bad));
  llvm::consumeError(bad.takeError());
}

TEST(GraphTest, PartsByChunksAndHints) {
  // Chain of 10 -> one block; parts of 4.
  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;
  for (int i = 0; i < 10; ++i) {
    specs.push_back(node(i));
    if (i)
      edges.push_back({i - 1, i});
  }
  auto g = Graph::build(specs, edges);
  ASSERT_TRUE(bool(g));
  DecompositionOptions o;
  o.maxPartSize = 4;
  auto d = decompose(*g, o);
  ASSERT_TRUE(bool(d));
  ASSERT_EQ(d->blocks.size(), 1u);
  EXPECT_EQ(partSizes(d->blocks[0]), (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(d->numParts(), 3u);
  EXPECT_EQ(d->maxPartUnits(), 4u);

  // Hints: {0..2} -> part 5, {3..5} unhinted, {6..9} -> part 1 (chunked by
  // maxPartSize 3 into 3 + 1).
  for (int i = 0; i < 3; ++i)
    specs[i].partHint = 5;
  for (int i = 6; i < 10; ++i)
    specs[i].partHint = 1;
  auto gh = Graph::build(specs, edges);
  ASSERT_TRUE(bool(gh));
  o.maxPartSize = 3;
  auto dh = decompose(*gh, o);
  ASSERT_TRUE(bool(dh));
  ASSERT_EQ(dh->blocks.size(), 1u);
  EXPECT_EQ(partSizes(dh->blocks[0]), (std::vector<size_t>{3, 3, 3, 1}));
  EXPECT_EQ(dh->blocks[0].parts[3].units[0], 9u);

  // Cyclic hints: {0, 2} and {1} on a chain 0 -> 1 -> 2.
  std::vector<NodeSpec> c3 = {node(0, std::nullopt, 0), node(1, std::nullopt, 1),
                              node(2, std::nullopt, 0)};
  auto gc = Graph::build(c3, {{0, 1}, {1, 2}});
  ASSERT_TRUE(bool(gc));
  DecompositionOptions oc;
  oc.detectBlocks = false;
  auto dc = decompose(*gc, oc);
  ASSERT_FALSE(bool(dc));
  EXPECT_NE(llvm::toString(dc.takeError()).find("cyclically"),
            std::string::npos);

  // Bad part sizes.
  o.maxPartSize = 0;
  auto z = decompose(*g, o);
  ASSERT_FALSE(bool(z));
  llvm::consumeError(z.takeError());
  o.maxPartSize = 129;
  auto big = decompose(*g, o);
  ASSERT_FALSE(bool(big));
  llvm::consumeError(big.takeError());
}

TEST(GraphTest, NasNetLikeCellsArePartHints) {
  auto g = synthetic::nasnetLike();
  ASSERT_TRUE(bool(g));
  auto d = decompose(*g);
  ASSERT_TRUE(bool(d));
  EXPECT_EQ(d->numParts(), 25u);
  for (const Block &b : d->blocks)
    for (const Part &p : b.parts)
      EXPECT_LE(p.units.size(), 21u);
  EXPECT_GE(d->maxPartUnits(), 16u);
}

TEST(GraphTest, SignatureCanonicalText) {
  OpSignature a("conv");
  a.set("stride", {1, 1}).set("act", "relu").set("groups", 1);
  OpSignature b("conv");
  b.set("groups", 1).set("act", "relu").set("stride", {1, 1});
  EXPECT_EQ(a.str(), b.str());
  EXPECT_TRUE(a == b);
  b.set("act", "identity");
  EXPECT_NE(a.str(), b.str());
  EXPECT_EQ(*a.getStr("act"), "relu");
  EXPECT_EQ(a.getInts("stride")->size(), 2u);
  EXPECT_FALSE(a.getInt("missing").has_value());
  // Quoting keeps strings unambiguous.
  OpSignature c("x"), d("x");
  c.set("k", "a,b=1");
  d.set("k", "a").set("b", 1);
  EXPECT_NE(c.str(), d.str());
}

} // namespace
