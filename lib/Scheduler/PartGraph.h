//===- PartGraph.h - A set of units as bitsets (library-private) -*- C++ -*-===//
//
// The local view of at most 128 units of a Graph that the DP, the ideal
// counter and the part splitter work on: in-set unit edges as UnitSets.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_SCHEDULER_PARTGRAPH_H
#define IOS_LIB_SCHEDULER_PARTGRAPH_H

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/UnitSet.h"

#include <optional>

namespace ios::sched::detail {

/// Local view of a set of units (ascending, topological; at most 128):
/// local index i is units[i]; succ/pred/reach are in-set.
struct PartGraph {
  PartGraph(const Graph &g, llvm::ArrayRef<unsigned> units);
  const Graph &g;
  llvm::SmallVector<unsigned, 0> units;
  unsigned n;
  std::vector<UnitSet> succ, pred, reach;
};

/// Number of down-closed subsets of pg's units, the empty set included;
/// std::nullopt once the count or the counter's memo exceeds `cap`.
std::optional<uint64_t> countIdeals(const PartGraph &pg, uint64_t cap);

} // namespace ios::sched::detail

#endif // IOS_LIB_SCHEDULER_PARTGRAPH_H
