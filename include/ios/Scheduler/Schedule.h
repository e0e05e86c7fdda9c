//===- Schedule.h - Stages, schedules, merge legality ----------*- C++ -*-===//

#ifndef IOS_SCHEDULER_SCHEDULE_H
#define IOS_SCHEDULER_SCHEDULE_H

#include "ios/Scheduler/Graph.h"

#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace ios::sched {

/// How a stage runs.
enum class Strategy : uint8_t {
  /// Groups run concurrently (one stream each), ops of a group one after
  /// another. A stage of a single unit is always Concurrent.
  Concurrent = 0,
  /// The stage's convolutions (one per group, >= 2 of them) run as one wider
  /// convolution.
  Merge = 1,
};
llvm::StringRef toString(Strategy s);
/// The inverse of toString(Strategy): "concurrent" or "merge".
std::optional<Strategy> parseStrategy(llvm::StringRef s);

/// One stage. Self-contained together with the Graph (node signatures and
/// edges), so it can be costed, hashed, stored or replayed.
struct Stage {
  Strategy strategy = Strategy::Concurrent;
  /// Node ids; each group in execution order (units kept whole, units in
  /// topological order). Groups in canonical order: sorted by their op
  /// signatures and internal edges (equal groups by first unit), so every
  /// stage with one cost-cache key is costed, and runs, in one order (the
  /// analytic model launches group 0 first). Group i runs on stream i. For
  /// Merge every group is a single conv node.
  std::vector<std::vector<NodeId>> groups;
  /// Where the stage comes from (informative).
  unsigned block = 0, part = 0;

  size_t numNodes() const;
};

struct Schedule {
  std::vector<Stage> stages;
  /// Sum of the stage costs, accumulated in stage order.
  double cost = 0;
};

void print(llvm::raw_ostream &os, const Graph &g, const Stage &stage);
void print(llvm::raw_ostream &os, const Graph &g, const Schedule &schedule);
llvm::json::Value toJSON(const Stage &stage);
llvm::json::Value toJSON(const Schedule &schedule);

//===----------------------------------------------------------------------===//
// Merge legality
//===----------------------------------------------------------------------===//

enum class MergeRejection : uint8_t {
  None = 0,
  Empty,
  MultiNodeUnit, ///< a node is part of a multi-node unit (a Sequential)
  NotMergeable,  ///< a node has no merge key
  DifferentKey,  ///< the merge keys differ (input, stride, kernel centre, ...)
  Dependent,     ///< an edge between two of the nodes
};
llvm::StringRef toString(MergeRejection r);

/// Whether the nodes (indices) may run as one merged op. A single node is
/// always mergeable (a one-op stage). Otherwise every node is a single-node
/// unit with a merge key, all keys are equal, and no edge joins two of them.
/// What the key means is the client's: the core never interprets a kind.
MergeRejection checkMerge(const Graph &g, llvm::ArrayRef<unsigned> nodeIdxs);

/// The part of checkMerge that does not depend on the other nodes: the
/// node's merge key if it is a single-node unit, else "" (never merges).
llvm::StringRef mergeClassKey(const Graph &g, unsigned nodeIdx);

//===----------------------------------------------------------------------===//
// Verification
//===----------------------------------------------------------------------===//

struct VerifyOptions {
  /// r: max units per group of a Concurrent stage (0: unchecked).
  unsigned maxGroupSize = 0;
  /// s: max groups per Concurrent stage (0: unchecked).
  unsigned maxNumGroups = 0;
  /// Every group of a Concurrent stage is one unit plus all of its remaining
  /// descendants (IOS enumeration), i.e. a group has a single source unit
  /// from which all its units are reachable inside the group.
  bool requireSingleSourceGroups = false;
};

/// Checks that every node appears exactly once, units are not split, every
/// dependency runs in an earlier stage or earlier in the same group (never in
/// a concurrent group of the same stage), merge stages pass checkMerge, and
/// the r/s limits.
llvm::Error verifySchedule(const Graph &g, const Schedule &schedule,
                           const VerifyOptions &opts = {});

} // namespace ios::sched

#endif // IOS_SCHEDULER_SCHEDULE_H
