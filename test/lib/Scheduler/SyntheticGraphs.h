//===- SyntheticGraphs.h - Benchmark-shaped graphs and a toy cost -*- C++ -*-===//
//
// Test support (never linked into the compiler): graph builders with the
// structure of the IOS benchmark networks, for the scheduler core's tests and
// ios-sched-bench, without MLIR; and a simple deterministic analytic stage
// cost. Not a profiler: the real ones live in lib/Profiler.
//
// Merges follow the original IOS's own rule (convolutions reading the same
// value with equal stride, input and output spatial size, activation and
// batch; kernels and paddings free), so these graphs have exactly the
// original's search space. The compiler's rule (the dialect's
// SchedulableOpInterface) is stricter: it only merges what it can compute
// exactly.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TEST_LIB_SCHEDULER_SYNTHETICGRAPHS_H
#define IOS_TEST_LIB_SCHEDULER_SYNTHETICGRAPHS_H

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/StageCost.h"

namespace ios::sched::synthetic {

/// IOS's merge key of a conv signature ("conv", groups 1) reading channels
/// [begin, end) of `producer`: equal keys <=> IOS merges them. std::nullopt
/// for anything IOS never merges.
std::optional<std::string> iosMergeKey(const OpSignature &sig,
                                       NodeId producer, int64_t begin,
                                       int64_t end);

/// The merged conv of a merge stage over signatures built like NetBuilder's:
/// output channels summed, kernel and padding the maxima, groups 1.
llvm::Expected<OpSignature> mergeConvs(const Graph &g,
                                       llvm::ArrayRef<unsigned> nodeIdxs);

/// Builds a CNN graph with IOS's value semantics: an op's input is a list of
/// terms, each term a list of values summed element-wise, the terms
/// concatenated along channels. Shapes are per-sample CHW.
class NetBuilder {
public:
  struct Val {
    NodeId node = -1; ///< producer; -1 = the network input
    int64_t begin = 0, end = 0;
    int64_t H = 0, W = 0;
    int64_t channels() const { return end - begin; }
  };
  using Terms = std::vector<std::vector<Val>>;

  explicit NetBuilder(int64_t batch = 1) : batch(batch) {}

  Val input(int64_t C, int64_t H, int64_t W) { return {-1, 0, C, H, W}; }

  Val conv(const Terms &in, int64_t outC, int64_t kh, int64_t kw, int64_t sh,
           int64_t sw, int64_t ph, int64_t pw, llvm::StringRef act = "relu",
           int64_t groups = 1);
  Val conv(Val in, int64_t outC, int64_t k, int64_t stride, int64_t pad,
           llvm::StringRef act = "relu") {
    return conv({{in}}, outC, k, k, stride, stride, pad, pad, act);
  }
  /// pool_type in {max, avg, global_avg}.
  Val pool(const Terms &in, llvm::StringRef type, int64_t k, int64_t stride,
           int64_t pad);
  Val identity(const Terms &in); ///< concat / add
  Val relu(const Terms &in);
  /// IOS relu_sep_conv: [relu, depthwise kxk (stride), pointwise 1x1] as one
  /// unit (a Sequential).
  Val reluSepConv(const Terms &in, int64_t outC, int64_t k, int64_t stride);
  /// IOS relu_conv: [relu, conv kxk] as one unit.
  Val reluConv(const Terms &in, int64_t outC, int64_t k, int64_t stride);

  /// Nodes added between beginUnit() and endUnit() form one unit.
  void beginUnit() { openUnit = nextUnit++; }
  void endUnit() { openUnit.reset(); }

  /// All following nodes get this part hint (std::nullopt: none).
  void setPartHint(std::optional<int64_t> hint) { partHint = hint; }
  /// All following nodes get this block hint (std::nullopt: none).
  void setBlockHint(std::optional<int64_t> hint) { blockHint = hint; }

  llvm::Expected<Graph> finish();
  unsigned numNodes() const { return nodes.size(); }

private:
  NodeId addNode(OpSignature sig, const Terms &in, std::optional<int64_t> unit,
                 llvm::StringRef name);
  static llvm::SmallVector<int64_t, 4> inShape(const Terms &in);
  int64_t batch;
  std::optional<int64_t> partHint, blockHint;
  std::optional<int64_t> openUnit;
  int64_t nextUnit = 0;
  std::vector<NodeSpec> nodes;
  std::vector<std::pair<NodeId, NodeId>> edges;
};

/// Inception V3 with IOS's block structure (13 blocks, 119 units).
llvm::Expected<Graph> inceptionV3(int64_t batch = 1);

/// A Watts-Strogatz stage graph: n nodes, edges u -> v (u < v).
struct WSGraph {
  unsigned n = 0;
  std::vector<std::pair<unsigned, unsigned>> edges;
};
llvm::Expected<WSGraph> parseWSGraph(llvm::StringRef text);
/// The four stage graphs of RandWire-large (embedded copies of IOS's
/// ws-16-4-0.75-2, ws-32-4-0.75-{3,4,5}).
std::vector<WSGraph> randWireLargeStages();

/// RandWire (large) as IOS builds it: front conv, one block per stage (one
/// ReluSepConv unit per WS node + the exit sum), tail relu/conv/pool. With
/// `blockHints` the blocks are given explicitly as the reference's (its
/// first stage graph has a single sink, so cut detection would put that
/// stage's exit in a block of its own).
llvm::Expected<Graph> randWire(llvm::ArrayRef<WSGraph> stages,
                               int64_t batch = 1, bool blockHints = true);

/// NasNet-A-large-like: stem, 3 x (first cell + 5 normal cells) with two
/// reduction cells between, cells of 16-19 units taking the two previous
/// cell outputs; one block, one part hint per cell.
llvm::Expected<Graph> nasnetLike(int64_t batch = 1);

/// Deterministic toy cost (microseconds) for graphs built by NetBuilder. Per
/// op: work = max(flops / peak, bytes / bandwidth) at full device; alone it
/// takes launch + sqrt(work * W) below the saturating work W (small ops
/// under-use the device), else launch + work. A concurrent stage takes the
/// longest group or the total work + one launch, plus a join cost per extra
/// group; a merge stage is one conv with the summed output channels and the
/// largest kernel.
class SimpleAnalyticCost final : public StageCost {
public:
  double getCost(const Graph &g, const Stage &stage) override;
  /// Time of one op alone and its work at full utilization.
  static std::pair<double, double> opTime(const OpSignature &sig);
};

} // namespace ios::sched::synthetic

#endif // IOS_TEST_LIB_SCHEDULER_SYNTHETICGRAPHS_H
