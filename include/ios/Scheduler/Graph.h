//===- Graph.h - The scheduler's view of a network --------------*- C++ -*-===//
//
// The scheduler core sees a DAG of nodes. Each node has a user id, an op
// signature (kind, attributes, shapes, batch) and optionally the single value
// it reads (needed by the merge-legality rules). Nodes are grouped into
// scheduling units (nodes that always travel together; the DP's atoms), units
// into blocks (single-entry single-exit regions, found automatically) and
// blocks into parts (at most 128 units; solved independently and in order).
//
// No MLIR here: the ios-schedule pass adapts MLIR ops to NodeSpecs.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_GRAPH_H
#define IOS_SCHEDULER_GRAPH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ios::sched {

using NodeId = int64_t;

//===----------------------------------------------------------------------===//
// Op signatures
//===----------------------------------------------------------------------===//

/// An attribute value: an integer, a string or a list of integers.
class AttrValue {
public:
  enum class Kind : uint8_t { Int, Str, Ints };

  AttrValue() = default;
  AttrValue(int64_t v) : kind(Kind::Int), intValue(v) {}
  AttrValue(int v) : kind(Kind::Int), intValue(v) {}
  AttrValue(std::string v) : kind(Kind::Str), strValue(std::move(v)) {}
  AttrValue(const char *v) : kind(Kind::Str), strValue(v) {}
  AttrValue(llvm::ArrayRef<int64_t> v)
      : kind(Kind::Ints), intsValue(v.begin(), v.end()) {}
  AttrValue(std::initializer_list<int64_t> v)
      : kind(Kind::Ints), intsValue(v.begin(), v.end()) {}

  Kind getKind() const { return kind; }
  bool isInt() const { return kind == Kind::Int; }
  bool isStr() const { return kind == Kind::Str; }
  bool isInts() const { return kind == Kind::Ints; }
  int64_t getInt() const { return intValue; }
  llvm::StringRef getStr() const { return strValue; }
  llvm::ArrayRef<int64_t> getInts() const { return intsValue; }

  bool operator==(const AttrValue &o) const;
  bool operator!=(const AttrValue &o) const { return !(*this == o); }
  void print(llvm::raw_ostream &os) const;

private:
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  std::string strValue;
  llvm::SmallVector<int64_t, 4> intsValue;
};

/// What an op is, independent of its identity: two nodes with equal
/// signatures cost the same. Shapes are as the caller defines them (the
/// reference uses per-sample CHW plus a separate batch); the merge rules use
/// the last two dimensions as the spatial size.
///
/// Attribute conventions used by the merge rules (kind "conv"):
///   "stride"  ints [sh, sw]   (default [1, 1])
///   "groups"  int             (default 1)
///   "act"     string          (default "identity")
///   "kernel", "padding", "out_channels": free for the cost model.
struct OpSignature {
  std::string kind;
  /// Sorted by key, keys unique (use set()).
  llvm::SmallVector<std::pair<std::string, AttrValue>, 6> attrs;
  llvm::SmallVector<llvm::SmallVector<int64_t, 4>, 2> inputShapes;
  llvm::SmallVector<int64_t, 4> outputShape;
  int64_t batch = 1;

  OpSignature() = default;
  explicit OpSignature(std::string kind) : kind(std::move(kind)) {}

  /// Sets (or replaces) an attribute, keeping attrs sorted.
  OpSignature &set(llvm::StringRef key, AttrValue value);
  const AttrValue *get(llvm::StringRef key) const;
  std::optional<int64_t> getInt(llvm::StringRef key) const;
  std::optional<llvm::StringRef> getStr(llvm::StringRef key) const;
  std::optional<llvm::ArrayRef<int64_t>> getInts(llvm::StringRef key) const;

  /// Canonical text, e.g.
  /// `conv{act=relu,groups=1,kernel=[3,3],stride=[1,1]}([64,35,35])->[96,35,35]x1`.
  /// Equal signatures <=> equal strings.
  std::string str() const;
  void print(llvm::raw_ostream &os) const;
  bool operator==(const OpSignature &o) const;
};

/// Channel slice [begin, end) of a producer's output. The producer may be a
/// node of the graph or any other id (e.g. a block argument, by convention a
/// negative id).
struct ValueRef {
  NodeId producer = -1;
  int64_t begin = 0, end = 0;
  bool operator==(const ValueRef &o) const {
    return producer == o.producer && begin == o.begin && end == o.end;
  }
  bool operator!=(const ValueRef &o) const { return !(*this == o); }
};

/// One node as given by the client.
struct NodeSpec {
  NodeId id = 0;
  std::string name; ///< display only
  OpSignature sig;
  /// Set iff the node's input is exactly one value (no concat, no sum); the
  /// merge rules require it.
  std::optional<ValueRef> input;
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
  /// Duplicate edges are ignored.
  static llvm::Expected<Graph>
  build(std::vector<NodeSpec> nodes,
        llvm::ArrayRef<std::pair<NodeId, NodeId>> edges);

  unsigned numNodes() const { return unsigned(nodes.size()); }
  unsigned numUnits() const { return unsigned(units.size()); }
  const NodeSpec &node(unsigned idx) const { return nodes[idx]; }
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

  void print(llvm::raw_ostream &os) const;

private:
  Graph() = default;
  std::vector<NodeSpec> nodes;
  std::vector<llvm::SmallVector<unsigned, 2>> nodePreds, nodeSuccs;
  llvm::DenseMap<NodeId, unsigned> idToIndex;
  std::vector<unsigned> topo;
  std::vector<Unit> units;
  std::vector<unsigned> nodeUnit;
};

//===----------------------------------------------------------------------===//
// Decomposition: blocks and parts
//===----------------------------------------------------------------------===//

/// Consecutive-in-execution-order chunk of a block; the DP's problem.
struct Part {
  llvm::SmallVector<unsigned, 0> units; ///< unit indices, ascending
};

/// A single-entry single-exit region: the units after one cut unit up to and
/// including the next (IOS: enter node excluded, exit node included).
struct Block {
  llvm::SmallVector<unsigned, 0> units; ///< unit indices, ascending
  std::vector<Part> parts;
};

struct Decomposition {
  std::vector<Block> blocks;
  unsigned numParts() const;
  unsigned maxPartUnits() const;
  void print(llvm::raw_ostream &os) const;
};

struct DecompositionOptions {
  /// Units per part when there are no hints (IOS: 100 by default, 50 in its
  /// experiments). At most UnitSet::kCapacity (128).
  unsigned maxPartSize = 100;
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

/// Blocks from hints or cut units, then parts from hints / maxPartSize.
/// Fails if maxPartSize is 0 or > 128, or hinted blocks or parts depend on
/// each other cyclically.
llvm::Expected<Decomposition>
decompose(const Graph &g, const DecompositionOptions &opts = {});

} // namespace ios::sched

#endif // IOS_SCHEDULER_GRAPH_H
