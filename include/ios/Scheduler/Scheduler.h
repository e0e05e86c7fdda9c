//===- Scheduler.h - IOS dynamic program and baselines ---------*- C++ -*-===//
//
// The DP of IOS (docs/IOS.md, "Search space") over the parts of a Graph's
// decomposition, the sequential and greedy baselines, and their statistics.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_SCHEDULER_H
#define IOS_SCHEDULER_SCHEDULER_H

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/Schedule.h"
#include "ios/Scheduler/StageCost.h"

#include <functional>

namespace ios::sched {

/// Which stage strategies the DP may use (IOS opt_type).
enum class Variant : uint8_t {
  Concurrent = 1, ///< IOS-Parallel (dp_parallel)
  Merge = 2,      ///< IOS-Merge (dp_merge)
  Both = 3,       ///< IOS-Both (dp_parallel_merge)
};
llvm::StringRef toString(Variant v);

/// Which concurrent endings the DP enumerates.
enum class EnumerationMode : uint8_t {
  /// Exactly the original's: 1..s pairwise-disjoint groups, each an op plus
  /// all its remaining descendants, at most r units each.
  IOS,
  /// Any legal ending (successor-closed subset of the state), its groups
  /// being its weakly connected components, at most s groups of at most r
  /// units. A superset of IOS (so its optimum is never worse).
  Full,
};
llvm::StringRef toString(EnumerationMode m);

/// How the DP avoids costing stages that cannot be optimal.
enum class PruneMode : uint8_t {
  /// Cost every ending (IOS's search: every stage is measured).
  None,
  /// Skip an ending E of a state S when dp(S - E) + lowerBound(E) cannot
  /// beat the best ending found so far; lower bounds come from stages
  /// already costed (docs/Scheduler.md, "Bound pruning", states the
  /// assumptions under which the optimum is exactly the unpruned one).
  Bound,
};
llvm::StringRef toString(PruneMode m);

/// Limits of one part's search. When one is reached the DP stops: states
/// already solved keep their best ending, the rest of the part is scheduled
/// greedily, and the part is reported as not optimal. 0 = unlimited.
struct SearchBudget {
  /// DP states (down-closed unit sets). A part with more is also split at
  /// narrow cuts before its search (decompose's maxPartStates).
  uint64_t states = 2000000;
  /// Endings enumerated.
  uint64_t transitions = 200000000;
  /// Bytes of the search tables (memo, costs, ending buffers).
  uint64_t memoryBytes = uint64_t(512) << 20;
  /// Wall-clock seconds of the part's search, profiler calls included.
  double seconds = 0;
};

/// Where a search is (SchedulerOptions::onProgress).
struct SearchProgress {
  unsigned partsDone = 0, numParts = 0;
  /// Of the part being searched: its units, states and transitions so far.
  unsigned partUnits = 0;
  uint64_t partStates = 0, partTransitions = 0;
  /// Totals over the parts solved so far.
  uint64_t states = 0, transitions = 0, costCalls = 0;
  double seconds = 0; ///< since the search started
};

struct PartStats;

struct SchedulerOptions {
  Variant variant = Variant::Both;
  EnumerationMode mode = EnumerationMode::IOS;
  unsigned maxGroupSize = 3; ///< r: max units per group (concurrent stages)
  unsigned maxNumGroups = 8; ///< s: max groups per concurrent stage
  DecompositionOptions decomposition;
  PruneMode prune = PruneMode::Bound;
  /// Per-part limits; budget.states also bounds decomposition parts (a part
  /// with more states is split at its narrowest cuts, with a warning).
  SearchBudget budget;
  /// Solve each distinct part once: a part whose structure and op
  /// signatures equal an already solved part's (NasNet's repeated cells)
  /// gets that part's schedule, mapped onto its own nodes. Needs
  /// shareCostsAcrossIds (equal parts then have equal costs).
  bool reuseParts = true;
  /// Share stage costs between stages with equal canonical signatures but
  /// different nodes (the default); otherwise only per part.
  bool shareCostsAcrossIds = true;
  /// Called after each part is solved, with its statistics and the number of
  /// parts solved so far and in all (progress reporting).
  std::function<void(const PartStats &, unsigned done, unsigned total)>
      onPartSolved;
  /// Threads searching independent parts at once: 0 = the
  /// IOS_SCHED_THREADS environment variable if set, else one per core; 1 =
  /// in order on the calling thread. Only a StageCost that is thread-safe
  /// (StageCost::isThreadSafe) is searched in parallel. The result, the
  /// statistics (but seconds) and the calls asked of the cost are the same
  /// for any number of threads.
  unsigned threads = 0;
  /// Called during a part's search about every progressInterval seconds
  /// (from the searching thread, one call at a time).
  std::function<void(const SearchProgress &)> onProgress;
  double progressInterval = 0.25;
};

/// Statistics of one part (or one block for the baselines).
struct PartStats {
  unsigned block = 0, part = 0;
  unsigned numUnits = 0;
  /// DP states: non-empty down-closed unit sets memoized (IOS '#states').
  uint64_t states = 0;
  /// Endings evaluated, summed over states (IOS '#transitions': merge
  /// candidates incl. singletons + concurrent endings).
  uint64_t transitions = 0;
  /// Endings skipped by bound pruning (counted in transitions too).
  uint64_t pruned = 0;
  /// Distinct (strategy, unit set) stages of this part whose cost was
  /// needed (without pruning: IOS's per-part latency dicts, i.e. its
  /// profiler calls).
  uint64_t partStages = 0;
  /// StageCost callback invocations (after canonical dedup, this run).
  uint64_t costCalls = 0;
  /// partStages answered by the canonical cache without a callback.
  uint64_t cacheHits = 0;
  unsigned width = 0; ///< max groups of any enumerated concurrent ending
  double seconds = 0;     ///< wall time of this part's search
  double costSeconds = 0; ///< of which inside the StageCost callback
  double optimum = 0;     ///< this part's cost
  unsigned numStages = 0;
  /// Not optimal within its part: cut by a budget (`cut` says which), or a
  /// piece of a part split because it had more states than the budget.
  bool fallback = false;
  /// The budget that stopped this part's search ("" if none).
  std::string cut;
  /// This part's schedule is the one of the earlier, identical part with
  /// this index in ScheduleStats::parts (-1: searched). Its states,
  /// transitions and partStages are that part's; costCalls, cacheHits and
  /// seconds its own (none).
  int reusedFrom = -1;
};

struct ScheduleStats {
  std::vector<PartStats> parts;
  std::vector<std::string> warnings;
  unsigned numBlocks = 0;
  /// Wall time of the whole search (parts searched in parallel overlap:
  /// total().seconds sums their own times).
  double seconds = 0;

  /// Sums (width = max; block/part = counts). Reused parts count with the
  /// states, transitions and stages of the part they copy.
  PartStats total() const;
  /// Sums over the parts actually searched (reused parts left out).
  PartStats searched() const;
  void print(llvm::raw_ostream &os) const;
};
llvm::json::Value toJSON(const PartStats &p);
llvm::json::Value toJSON(const ScheduleStats &s);

struct ScheduleResult {
  Schedule schedule;
  ScheduleStats stats;
  Decomposition decomposition;
};

/// The IOS DP. Errors: bad options (r or s = 0, part size > 128), invalid
/// hints, NaN/negative stage costs.
llvm::Expected<ScheduleResult>
scheduleDP(const Graph &g, StageCost &cost, const SchedulerOptions &opts = {},
           StageCostCache *cache = nullptr);

/// Baseline: one unit per stage, topological order.
/// Stage costs: with `shareCostsAcrossIds` (default: iff a cache is given)
/// stages are looked up by canonical signature, so equal ops with different
/// ids share one callback; otherwise the key includes node ids.
llvm::Expected<ScheduleResult>
scheduleSequential(const Graph &g, StageCost &cost,
                   const DecompositionOptions &opts = {},
                   StageCostCache *cache = nullptr,
                   std::optional<bool> shareCostsAcrossIds = std::nullopt);

/// Baseline: IOS's greedy wavefront per block: a FIFO of ready units; each
/// stage takes the first maxNumGroups of them, one unit per group; overflow
/// waits for the next stage. Cost sharing as for scheduleSequential.
llvm::Expected<ScheduleResult>
scheduleGreedy(const Graph &g, StageCost &cost, unsigned maxNumGroups = 10,
               const DecompositionOptions &opts = {},
               StageCostCache *cache = nullptr,
               std::optional<bool> shareCostsAcrossIds = std::nullopt);

/// Re-costs a schedule stage by stage (through the cache if given).
double evaluateSchedule(const Graph &g, const Schedule &schedule,
                        StageCost &cost, StageCostCache *cache = nullptr);

/// Number of down-closed subsets (including the empty set) of the given
/// units (ascending unit indices, at most 128) under the in-set unit edges;
/// std::nullopt if more than `cap` (or if the counter's own memo, which is
/// usually far smaller than the count, grows past `cap`). Cost: O(memo).
std::optional<uint64_t> countDownClosedSets(const Graph &g,
                                            llvm::ArrayRef<unsigned> units,
                                            uint64_t cap);

} // namespace ios::sched

#endif // IOS_SCHEDULER_SCHEDULER_H
