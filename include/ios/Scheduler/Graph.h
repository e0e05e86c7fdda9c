//===- Graph.h - The scheduler's view of a network --------------*- C++ -*-===//
//
// The scheduler core sees a DAG of nodes. Each node has a user id, an op
// signature (kind, attributes, shapes, batch, work) and optionally a merge
// key (nodes with equal keys may run as one merged op). Nodes are grouped into
// scheduling units (nodes that always travel together; the DP's atoms), units
// into blocks (single-entry single-exit regions, found automatically) and
// blocks into parts (at most 128 units; solved independently and in order).
//
// No MLIR here: the ios-schedule pass adapts MLIR ops to NodeSpecs.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_GRAPH_H
#define IOS_SCHEDULER_GRAPH_H

#include "ios/Scheduler/OpSignature.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ios::sched {

using NodeId = int64_t;

/// One node as given by the client.
struct NodeSpec {
  NodeId id = 0;
  std::string name; ///< display only
  OpSignature sig;
  /// Nodes whose keys are equal may run together as one merged op (a merge
  /// stage), provided they are independent single-node units. The client
  /// builds keys so that equality means the merge is exact (for convolutions:
  /// the same input value, stride, activation and kernel centre); no key: the
  /// node never merges with another.
  std::optional<std::string> mergeKey;
  /// Nodes with the same unit key form one scheduling unit; nodes without a
  /// key are units of their own.
  std::optional<int64_t> unit;
  /// Explicit part hint (IOS's block.parts, e.g. one part per NasNet cell).
  std::optional<int64_t> partHint;
  /// Explicit block hint (IOS's hand-made blocks). When any node has one,
  /// blocks come from the hints instead of cut-unit detection.
  std::optional<int64_t> blockHint;
};

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

class Graph;

/// The one op a merge stage of the given nodes (indices, >= 2, equal merge
/// keys) runs, as a signature. Supplied by the client, who knows what its
/// mergeable ops are: the core only compares keys.
using MergeFn = std::function<llvm::Expected<OpSignature>(
    const Graph &, llvm::ArrayRef<unsigned> nodeIdxs)>;

/// A scheduling unit: nodes that always run together, in order, in one group.
struct Unit {
  llvm::SmallVector<unsigned, 2> nodes; ///< node indices, topological order
  llvm::SmallVector<unsigned, 4> preds, succs; ///< unit indices, deduplicated
  std::optional<int64_t> key;      ///< NodeSpec::unit, if any
  std::optional<int64_t> partHint;  ///< common hint of its nodes
  std::optional<int64_t> blockHint; ///< common hint of its nodes
};

/// An immutable, validated DAG. Node indices follow the NodeSpec order; unit
/// indices follow a topological order of the unit DAG (ties broken by the
/// position of the unit's first node, so a topologically ordered input keeps
/// its order).
class Graph {
public:
  /// Validates and builds: ids unique, edges between known nodes, no self
  /// loops, node DAG and unit DAG acyclic, a unit's nodes share their part
  /// and block hints.
  /// Duplicate edges are ignored. `merge` is required when a node has a
  /// merge key.
  static llvm::Expected<Graph>
  build(std::vector<NodeSpec> nodes,
        llvm::ArrayRef<std::pair<NodeId, NodeId>> edges, MergeFn merge = {});

  /// Distinct for every graph built in this process (copies share it, and
  /// their contents): lets a profiler keep per-node data of a graph.
  uint64_t uid() const { return uniqueId; }
  unsigned numNodes() const { return unsigned(nodes.size()); }
  unsigned numUnits() const { return unsigned(units.size()); }
  const NodeSpec &node(unsigned idx) const { return nodes[idx]; }
  /// node(idx).sig.str(), formatted once when the graph is built: the
  /// canonical stage signatures (database keys) are built from it.
  const std::string &signatureText(unsigned idx) const {
    return sigTexts[idx];
  }
  llvm::ArrayRef<NodeSpec> getNodes() const { return nodes; }
  std::optional<unsigned> indexOf(NodeId id) const;
  /// The node with this id; asserts that it exists.
  const NodeSpec &nodeById(NodeId id) const;
  llvm::ArrayRef<unsigned> preds(unsigned nodeIdx) const {
    return nodePreds[nodeIdx];
  }
  llvm::ArrayRef<unsigned> succs(unsigned nodeIdx) const {
    return nodeSuccs[nodeIdx];
  }
  /// Node indices in a topological order (units contiguous, unit order).
  llvm::ArrayRef<unsigned> topoOrder() const { return topo; }

  const Unit &unit(unsigned u) const { return units[u]; }
  llvm::ArrayRef<Unit> getUnits() const { return units; }
  unsigned unitOf(unsigned nodeIdx) const { return nodeUnit[nodeIdx]; }

  /// The signature of the op that merges these nodes (see MergeFn).
  llvm::Expected<OpSignature>
  mergedSignature(llvm::ArrayRef<unsigned> nodeIdxs) const;

  void print(llvm::raw_ostream &os) const;

private:
  Graph() = default;
  uint64_t uniqueId = 0;
  MergeFn merge;
  std::vector<NodeSpec> nodes;
  std::vector<std::string> sigTexts;
  std::vector<llvm::SmallVector<unsigned, 2>> nodePreds, nodeSuccs;
  llvm::DenseMap<NodeId, unsigned> idToIndex;
  std::vector<unsigned> topo;
  std::vector<Unit> units;
  std::vector<unsigned> nodeUnit;
};

//===----------------------------------------------------------------------===//
// Decomposition: blocks and parts
//===----------------------------------------------------------------------===//

/// A piece of a block, solved independently and in order; the DP's problem.
/// Edges between parts only go from earlier to later parts.
struct Part {
  llvm::SmallVector<unsigned, 0> units; ///< unit indices, ascending
  /// A piece of a region (a hinted part, or a block within maxPartSize)
  /// that had more than maxPartStates states: optimal only within itself.
  bool overBudget = false;
};

/// A single-entry single-exit region: the units after one cut unit up to and
/// including the next (IOS: enter node excluded, exit node included).
struct Block {
  llvm::SmallVector<unsigned, 0> units; ///< unit indices, ascending
  std::vector<Part> parts;
};

struct Decomposition {
  std::vector<Block> blocks;
  /// Regions split because they had more than maxPartStates states.
  std::vector<std::string> warnings;
  unsigned numParts() const;
  unsigned maxPartUnits() const;
  void print(llvm::raw_ostream &os) const;
};

struct DecompositionOptions {
  /// Max units per part (IOS: 100 by default, 50 in its experiments). At
  /// most UnitSet::kCapacity (128). A larger block (or hinted part) is split
  /// at its narrowest cuts (see splitCharge).
  unsigned maxPartSize = 100;
  /// Max DP states (non-empty down-closed unit sets) per part; a region with
  /// more is split at its narrowest cuts, optimal only within the pieces,
  /// with a warning. 0 = unlimited.
  uint64_t maxPartStates = 0;
  /// Splitting a region: among the cuts of the smallest width that allows
  /// parts of at most maxPartSize units (width = units before the cut that
  /// something after it still needs, counting the region's entry and exit),
  /// the split minimizing the sum over parts of (states + splitCharge). A
  /// boundary forbids running units of both sides in one stage, so a cut
  /// must save this many DP states to be worth it. 0 = cut at every
  /// candidate.
  uint64_t splitCharge = 1024;
  /// Find blocks from cut units; otherwise the whole graph is one block.
  bool detectBlocks = true;
  /// Honour NodeSpec::blockHint: if any unit has one, blocks are the hint
  /// groups (each maximal run of unhinted units is a block of its own),
  /// ordered topologically; detectBlocks is then ignored.
  bool useBlockHints = true;
  /// Merge runs of consecutive single-unit blocks (chains, e.g. Inception's
  /// stem) into one block, so the DP may group a chain into one stage.
  bool coalesceChains = true;
  /// Honour NodeSpec::partHint (parts larger than maxPartSize are chunked).
  bool usePartHints = true;
};

/// Units every source-to-sink path passes through (cut points / articulation
/// units of the DAG with a virtual source and sink), ascending. A unit at
/// topological position i is one iff no edge of the augmented DAG jumps over
/// position i.
llvm::SmallVector<unsigned> findCutUnits(const Graph &g);

/// Blocks from hints or cut units, then parts from hints, maxPartSize and
/// maxPartStates (narrow-cut splitting). Fails if maxPartSize is 0 or > 128,
/// or hinted blocks or parts depend on each other cyclically.
llvm::Expected<Decomposition>
decompose(const Graph &g, const DecompositionOptions &opts = {});

} // namespace ios::sched

#endif // IOS_SCHEDULER_GRAPH_H
