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
#include "ios/Scheduler/UnitSet.h"

#include "llvm/ADT/StringMap.h"

#include <functional>
#include <optional>
#include <vector>

namespace ios::sched {

/// What a cost model promises about every Concurrent stage it costs, as
/// per-node terms (docs/Scheduler.md, "Bound pruning", assumptions T and
/// I). With R(X) = sum_{v in X} R.perNode[v], for a stage of groups
/// G_1..G_k over the nodes V (k counting groups with a positive stream sum):
///
///   cost >= max( max over shared resources R of
///                  R(V) + (k >= 2 ? R.multiGroup : 0),
///                max_i stream(G_i) + (k >= 2 ? stream.multiGroup : 0) )
///
/// and, if servedInTurn names a shared resource I, for k >= 2:
///
///   cost >= min_j ( I(V) - I(G_j) + turnLead[first node of G_j]
///                   + stream(G_j) ) + stream.multiGroup
///
/// E.g. one host thread launches every kernel of a stage and the device
/// does all of their work at most at its peak rate (shared resources), each
/// stream runs its kernels one after another (stream), several streams end
/// with a join, and the host launches one group's kernels after the other,
/// so the stream launched last starts only once the others and its own
/// first kernel are launched (served in turn; which group is last is left
/// open, hence the min).
/// Merge stages are not covered (a merged op may be faster than its
/// members).
struct LowerBoundTerms {
  struct Resource {
    std::vector<double> perNode; ///< by node index; empty = all 0
    double multiGroup = 0;       ///< added for stages of >= 2 groups
  };
  std::vector<Resource> shared;
  Resource stream;
  /// The index in `shared` of a resource that serves the groups one after
  /// another, each group's stream waiting for the groups served before it
  /// (assumption I), or none.
  std::optional<unsigned> servedInTurn;
  /// By node index: what I spends on the node before the node's stream can
  /// start (its first kernel's launch); empty = all 0.
  std::vector<double> turnLead;
};

/// The cost callback. getCost returns the latency of one stage (any unit, the
/// DP only adds and compares them). NaN and negative costs are rejected by
/// the scheduler; +infinity marks a stage as impossible.
class StageCost {
public:
  virtual ~StageCost();
  virtual double getCost(const Graph &g, const Stage &stage) = 0;
  /// Per-node lower bound terms every Concurrent stage of g obeys (asked
  /// once per search), or none. Bound pruning uses them beside the bounds
  /// it derives from costs already known.
  virtual std::optional<LowerBoundTerms> lowerBoundTerms(const Graph &g);
  /// Whether getCost may run on several threads at once (the DP then
  /// searches independent parts in parallel, SchedulerOptions::threads,
  /// unless the cost takes batches).
  virtual bool isThreadSafe() const { return false; }
  /// How many stages this cost answers best in one call (a cost server that
  /// takes batches: one round trip for many). The DP then hands getCosts up
  /// to this many of the stages it is about to cost, which may include some
  /// that sequential pruning would have skipped (docs/Scheduler.md, "Batched
  /// costs"). 1 (the default): one stage at a time, the search exactly as
  /// without batching. May change during a search (a server announces
  /// batches in its first reply).
  virtual unsigned batchSize() const { return 1; }
  /// Costs of `stages` into `out` (the same length), as getCost would give
  /// them one by one (the default does that).
  virtual void getCosts(const Graph &g, llvm::ArrayRef<Stage> stages,
                        llvm::MutableArrayRef<double> out);
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
/// The same, written into `out` (replacing its contents): a caller that keeps
/// the buffer builds no string per stage.
void canonicalStageSignature(const Graph &g, const Stage &stage,
                             std::string &out);

/// A 128-bit hash of a stage's canonical encoding (the same information as
/// canonicalStageSignature, with op signatures interned to integers): equal
/// stages have equal keys; two different stages collide with probability
/// about 2^-128 per pair.
struct StageKey {
  uint64_t lo = 0, hi = 0;
  bool operator==(const StageKey &o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(const StageKey &o) const { return !(*this == o); }
};

/// Memo of stage costs keyed by canonical signature. Share one instance
/// between runs to reuse measurements (e.g. across variants in a benchmark
/// or across the functions of a module). A lookup hashes the stage's
/// interned encoding; no text is built.
class StageCostCache {
public:
  /// Interned id of a signature (stable for this cache's lifetime).
  unsigned intern(const OpSignature &sig);
  /// The same, from the signature's text (OpSignature::str()).
  unsigned intern(llvm::StringRef signatureText);
  /// Interned ids of all nodes of g, by node index.
  std::vector<unsigned> internAll(const Graph &g);

  /// Canonical key of a stage whose groups are given as node indices (each
  /// in execution order). sigIds from internAll(g). With `withIds` the key
  /// also contains the node indices (no sharing between identical ops).
  static StageKey stageKey(const Graph &g, Strategy strategy,
                           llvm::ArrayRef<llvm::SmallVector<unsigned, 8>> groups,
                           llvm::ArrayRef<unsigned> sigIds, bool withIds);
  /// Hash of one group (node indices in execution order): its signatures,
  /// its internal edges as local index pairs, the indices with `withIds`.
  static StageKey groupKey(const Graph &g, llvm::ArrayRef<unsigned> group,
                           llvm::ArrayRef<unsigned> sigIds, bool withIds);
  /// Combines group keys (any order) into the stage key.
  static StageKey combine(Strategy strategy,
                          llvm::MutableArrayRef<StageKey> groupKeys);

  /// Canonical key of a Stage (slow path: interns on the fly).
  StageKey canonicalKey(const Graph &g, const Stage &stage,
                        bool withIds = false);

  /// Cost of a stage: cached value, or stage cost callback (then cached).
  double getCost(const Graph &g, const Stage &stage, StageCost &cost,
                 bool withIds = false);

  /// Raw access by key (the DP's path).
  const double *lookup(StageKey key) const;
  void insert(StageKey key, double value);

  size_t size() const { return costs.size(); }
  /// Callback invocations made through getCost / counted by the scheduler.
  uint64_t numCalls = 0;
  /// Lookups answered from the cache.
  uint64_t numHits = 0;

private:
  llvm::StringMap<unsigned> sigIds;
  UnitSetMap<double> costs; // StageKey as a 128-bit UnitSet pattern
};

} // namespace ios::sched

#endif // IOS_SCHEDULER_STAGECOST_H
