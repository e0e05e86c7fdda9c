//===- StageCost.h - Stage cost callback and canonical cache ---*- C++ -*-===//
//
// Stage latencies come from a StageCost (a profiler: measured, database,
// analytic). The scheduler asks for each distinct stage once: stages are keyed
// by a canonical signature built from the groups' op signatures and the edges
// inside each group, independent of node ids, so two identical stages in
// different blocks (or different runs sharing a StageCostCache) cost one call.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_STAGECOST_H
#define IOS_SCHEDULER_STAGECOST_H

#include "ios/Scheduler/Schedule.h"

#include "llvm/ADT/StringMap.h"

#include <functional>

namespace ios::sched {

/// The cost callback. getCost returns the latency of one stage (any unit, the
/// DP only adds and compares them). NaN and negative costs are rejected by
/// the scheduler; +infinity marks a stage as impossible.
class StageCost {
public:
  virtual ~StageCost();
  virtual double getCost(const Graph &g, const Stage &stage) = 0;
};

/// StageCost from a std::function.
class FunctionStageCost final : public StageCost {
public:
  using Fn = std::function<double(const Graph &, const Stage &)>;
  explicit FunctionStageCost(Fn fn) : fn(std::move(fn)) {}
  double getCost(const Graph &g, const Stage &stage) override {
    return fn(g, stage);
  }

private:
  Fn fn;
};

/// Human-readable canonical signature of a stage, stable across processes
/// (usable as a database key): strategy, then the groups sorted, each group
/// as its nodes' OpSignature::str() in execution order plus its internal
/// edges as local index pairs. A Merge stage of one group is printed as
/// Concurrent. Independent of node ids and of group order.
std::string canonicalStageSignature(const Graph &g, const Stage &stage);

/// Memo of stage costs keyed by the canonical signature (in a packed form:
/// op signatures interned to integers). Share one instance between runs to
/// reuse measurements (e.g. across variants in a benchmark).
class StageCostCache {
public:
  /// Interned id of a signature (stable for this cache's lifetime).
  unsigned intern(const OpSignature &sig);
  /// Interned ids of all nodes of g, by node index.
  std::vector<unsigned> internAll(const Graph &g);

  /// Packed canonical key of a stage whose groups are given as node indices
  /// (each in execution order). sigIds from internAll(g). With `withIds` the
  /// key also contains the node indices (no sharing between identical ops).
  static void packKey(const Graph &g, Strategy strategy,
                      llvm::ArrayRef<llvm::SmallVector<unsigned, 8>> groups,
                      llvm::ArrayRef<unsigned> sigIds, bool withIds,
                      std::string &out);

  /// Packed canonical key of a Stage (slow path: interns on the fly).
  std::string canonicalKey(const Graph &g, const Stage &stage,
                           bool withIds = false);

  /// Cost of a stage: cached value, or stage cost callback (then cached).
  double getCost(const Graph &g, const Stage &stage, StageCost &cost,
                 bool withIds = false);

  /// Raw access by packed key (for the DP's fast path).
  const double *lookup(llvm::StringRef key) const;
  void insert(llvm::StringRef key, double value);

  size_t size() const { return costs.size(); }
  /// Callback invocations made through getCost / counted by the scheduler.
  uint64_t numCalls = 0;
  /// Lookups answered from the cache.
  uint64_t numHits = 0;

private:
  llvm::StringMap<unsigned> sigIds;
  llvm::StringMap<double> costs;
};

} // namespace ios::sched

#endif // IOS_SCHEDULER_STAGECOST_H
