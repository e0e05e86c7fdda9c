//===- Scheduler.cpp - The IOS dynamic program ----------------------------===//
//
// dp[S] = min over endings E of S (non-empty, no edge from E to S - E) of
//         dp[S - E] + cost(E),   dp[{}] = 0,
// over the down-closed unit sets S of one part (docs/IOS.md, "Search space").
// Endings that cannot beat the best one found so far are skipped from lower
// bounds of their cost (docs/Scheduler.md, "Bound pruning"); a budget stops a
// part's search and completes it greedily.
//
//===----------------------------------------------------------------------===//

#include "Hash.h"
#include "PartGraph.h"

#include "ios/Scheduler/Scheduler.h"
#include "ios/Scheduler/UnitSet.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>

using namespace ios::sched;
using ios::sched::detail::countIdeals;
using ios::sched::detail::Hasher;
using ios::sched::detail::PartGraph;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

llvm::StringRef ios::sched::toString(Variant v) {
  switch (v) {
  case Variant::Concurrent:
    return "concurrent";
  case Variant::Merge:
    return "merge";
  case Variant::Both:
    return "both";
  }
  return "?";
}

llvm::StringRef ios::sched::toString(EnumerationMode m) {
  return m == EnumerationMode::IOS ? "ios" : "full";
}

llvm::StringRef ios::sched::toString(PruneMode m) {
  return m == PruneMode::Bound ? "bound" : "none";
}

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr double kInf = std::numeric_limits<double>::infinity();

using NodeGroups = llvm::SmallVector<llvm::SmallVector<unsigned, 8>, 8>;

/// Cost lookups of one run: canonical key -> shared cache -> callback.
class CostContext {
public:
  CostContext(const Graph &g, StageCost &cost, StageCostCache &cache,
              bool withIds)
      : g(g), cost(cost), cache(cache), withIds(withIds),
        sigIds(cache.internAll(g)) {}

  /// Cost of a stage given as groups of node indices.
  double get(Strategy st, const NodeGroups &groups, unsigned block,
             unsigned part, PartStats &ps) {
    StageKey key = StageCostCache::stageKey(g, st, groups, sigIds, withIds);
    double v;
    if (lookup(key, ps, v))
      return v;
    Stage stage;
    return measure(key, st, groups, block, part, ps, stage);
  }

  /// The cached cost of the stage with this key, counted as a hit (when
  /// parts are searched in parallel the counts come from replay()).
  /// In parallel the shared cache is only read (no lock), and the stages a
  /// thread measured come from its own `local` table.
  bool lookup(StageKey key, PartStats &ps, double &out,
              const UnitSetMap<double> *local = nullptr) {
    if (parallel) {
      const double *v = cache.lookup(key);
      if (!v && local)
        v = local->find(UnitSet(key.lo, key.hi));
      if (v)
        out = *v;
      return v;
    }
    const double *v = cache.lookup(key);
    if (!v)
      return false;
    ++ps.cacheHits;
    ++cache.numHits;
    out = *v;
    return true;
  }

  /// Asks the callback for a stage the cache does not have. In parallel the
  /// value goes to the thread's `local` table (two threads may both measure
  /// a stage: a thread-safe cost is deterministic, and replay() counts one
  /// call); merge() adds them to the cache afterwards.
  /// `stage`: the caller's buffer (reused: no allocation per call).
  double measure(StageKey key, Strategy st, const NodeGroups &groups,
                 unsigned block, unsigned part, PartStats &ps, Stage &stage,
                 UnitSetMap<double> *local = nullptr) {
    makeStage(st, groups, block, part, stage);
    Clock::time_point t0 = Clock::now();
    double c = cost.getCost(g, stage);
    ps.costSeconds += secondsSince(t0);
    return accept(key, stage, c, ps, local);
  }

  /// Asks the callback for stages the cache does not have (distinct keys)
  /// in one StageCost::getCosts call; their costs into `out`.
  void measureBatch(llvm::ArrayRef<StageKey> keys, llvm::ArrayRef<Stage> stages,
                    llvm::MutableArrayRef<double> out, PartStats &ps,
                    UnitSetMap<double> *local) {
    Clock::time_point t0 = Clock::now();
    cost.getCosts(g, stages, out);
    ps.costSeconds += secondsSince(t0);
    for (size_t i = 0; i < stages.size(); ++i)
      out[i] = accept(keys[i], stages[i], out[i], ps, local);
  }

  /// Counts and caches the callback's cost `c` of `stage` (in parallel:
  /// into the thread's `local` table); NaN or negative costs become an
  /// error and +inf.
  double accept(StageKey key, const Stage &stage, double c, PartStats &ps,
                UnitSetMap<double> *local) {
    std::unique_lock<std::mutex> lock(mutex, std::defer_lock);
    if (parallel) {
      lock.lock();
    } else {
      ++ps.costCalls;
      ++cache.numCalls;
    }
    if (std::isnan(c) || c < 0) {
      if (error.empty()) {
        std::string s;
        llvm::raw_string_ostream os(s);
        os << "stage cost callback returned " << c << " for ";
        print(os, g, stage);
        error = s;
      }
      c = kInf;
    }
    if (parallel)
      local->insert(UnitSet(key.lo, key.hi), c);
    else
      cache.insert(key, c);
    return c;
  }

  /// After a parallel search: the hits and calls each part would have
  /// counted searching alone in part order (`asked[i]`: the keys part i
  /// looked up in the cache, in order), so statistics do not depend on the
  /// number of threads.
  /// Then merge() the threads' tables into the cache.
  void replay(llvm::ArrayRef<std::vector<StageKey>> asked,
              llvm::MutableArrayRef<PartStats *> stats) {
    UnitSetMap<char> known;
    for (size_t i = 0; i < asked.size(); ++i)
      for (StageKey key : asked[i]) {
        UnitSet k(key.lo, key.hi);
        if (cache.lookup(key) || !known.insert(k, 1).second) {
          ++stats[i]->cacheHits;
          ++cache.numHits;
        } else {
          ++stats[i]->costCalls;
          ++cache.numCalls;
        }
      }
  }

  void merge(const UnitSetMap<double> &local) {
    local.forEach([&](UnitSet k, double v) {
      StageKey key{k.lo, k.hi};
      if (!cache.lookup(key))
        cache.insert(key, v);
    });
  }

  Stage makeStage(Strategy st, const NodeGroups &groups, unsigned block,
                  unsigned part) const {
    Stage stage;
    makeStage(st, groups, block, part, stage);
    return stage;
  }

  /// The same into `stage`, reusing its vectors.
  void makeStage(Strategy st, const NodeGroups &groups, unsigned block,
                 unsigned part, Stage &stage) const {
    stage.strategy = groups.size() <= 1 ? Strategy::Concurrent : st;
    stage.block = block;
    stage.part = part;
    // Groups in canonical order (their interned signatures, then internal
    // edges; equal groups by position), so that every stage with one cache
    // key reaches the callback, and runs, in one order. Encodings side by
    // side in one buffer: [size, signatures..., edge pairs...].
    llvm::SmallVector<uint32_t, 128> enc;
    llvm::SmallVector<uint32_t, 9> begin;
    for (const auto &grp : groups) {
      begin.push_back(enc.size());
      enc.push_back(grp.size());
      for (unsigned v : grp)
        enc.push_back(sigIds[v]);
      for (uint32_t i = 0; i < grp.size(); ++i)
        for (unsigned sx : g.succs(grp[i]))
          for (uint32_t j = 0; j < grp.size(); ++j)
            if (grp[j] == sx) {
              enc.push_back(i);
              enc.push_back(j);
            }
    }
    begin.push_back(enc.size());
    llvm::SmallVector<unsigned, 8> order;
    for (unsigned gi = 0; gi < groups.size(); ++gi)
      order.push_back(gi);
    std::sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
      const uint32_t *pa = enc.begin() + begin[a], *pb = enc.begin() + begin[b];
      const uint32_t *ea = enc.begin() + begin[a + 1],
                     *eb = enc.begin() + begin[b + 1];
      if (std::lexicographical_compare(pa, ea, pb, eb))
        return true;
      if (std::lexicographical_compare(pb, eb, pa, ea))
        return false;
      return a < b;
    });
    stage.groups.resize(groups.size());
    for (unsigned i = 0; i < order.size(); ++i) {
      std::vector<NodeId> &out = stage.groups[i];
      out.clear();
      for (unsigned v : groups[order[i]])
        out.push_back(g.node(v).id);
    }
  }

  const Graph &g;
  StageCost &cost;
  StageCostCache &cache;
  bool withIds;
  std::vector<unsigned> sigIds;
  /// The cost's own lower bound terms (StageCost::lowerBoundTerms), if any
  /// and pruning.
  std::optional<LowerBoundTerms> terms;
  std::string error;
  /// Parts are being searched on several threads: the cache is only read,
  /// `error` is shared under `mutex`.
  bool parallel = false;
  std::mutex mutex;
};

/// Groups of an ending (units of pg) as node indices: for Merge one group per
/// unit, for Concurrent the weakly connected components, by first unit.
void groupsOf(const PartGraph &pg, UnitSet E, Strategy st,
              NodeGroups &groups) {
  // Reuses the groups' buffers (the DP fills one NodeGroups per call).
  size_t k = 0;
  auto addUnits = [&](UnitSet comp) {
    if (k == groups.size())
      groups.emplace_back();
    auto &grp = groups[k++];
    grp.clear();
    comp.forEach([&](unsigned u) {
      for (unsigned v : pg.g.unit(pg.units[u]).nodes)
        grp.push_back(v);
    });
  };
  if (st == Strategy::Merge) {
    E.forEach([&](unsigned u) { addUnits(UnitSet::bit(u)); });
    groups.truncate(k);
    return;
  }
  UnitSet rem = E;
  while (!rem.empty()) {
    UnitSet comp = UnitSet::bit(rem.first());
    UnitSet frontier = comp;
    while (!frontier.empty()) {
      UnitSet nbr;
      frontier.forEach([&](unsigned v) { nbr |= pg.succ[v] | pg.pred[v]; });
      nbr = (nbr & rem) - comp;
      comp |= nbr;
      frontier = nbr;
    }
    rem -= comp;
    addUnits(comp);
  }
  groups.truncate(k);
}

/// Weakly connected components of E (for a Concurrent ending: its groups).
void componentsOf(const PartGraph &pg, UnitSet E,
                  llvm::SmallVectorImpl<UnitSet> &out) {
  out.clear();
  UnitSet rem = E;
  while (!rem.empty()) {
    UnitSet comp = UnitSet::bit(rem.first());
    UnitSet frontier = comp;
    while (!frontier.empty()) {
      UnitSet nbr;
      frontier.forEach([&](unsigned v) { nbr |= pg.succ[v] | pg.pred[v]; });
      nbr = (nbr & rem) - comp;
      comp |= nbr;
      frontier = nbr;
    }
    rem -= comp;
    out.push_back(comp);
  }
}

/// A solved state's best ending.
struct Entry {
  UnitSet ending;
  Strategy strategy;
};

/// A state's DP value and the index of its Entry.
struct StateValue {
  double value;
  uint32_t entry;
};

/// An ending that may win but whose cost is not known yet.
struct Pending {
  UnitSet set;
  UnitSet gens;           ///< Concurrent: units whose closures are its groups
  double prefix, lb, key; ///< dp(S - set); cost bound; their sum
  uint32_t order;         ///< enumeration order (ties)
  Strategy strategy;
};

/// The tables of a part's search, kept from part to part (cleared, not
/// freed: growing them again would cost page faults for every part).
struct SolverTables {
  UnitSetMap<StateValue> memo; ///< state -> dp value (the hot table)
  std::vector<Entry> entries;
  UnitSetMap<double> concCost, mergeCost; ///< this part's costed stages
  UnitSetMap<StageKey> groupKeys;
  UnitSetMap<char> seen;
  std::vector<UnitSet> level, next;
  std::vector<Pending> pending;
  /// Stage costs measured by this thread while parts are searched in
  /// parallel (kept across parts; merged into the cache at the end).
  UnitSetMap<double> localCosts;

  void clear() {
    memo.clear();
    entries.clear();
    concCost.clear();
    mergeCost.clear();
    groupKeys.clear();
    seen.clear();
    level.clear();
    next.clear();
    pending.clear();
  }
};

/// The DP over one part, bottom-up: states (down-closed unit sets) in order
/// of size, so every dp(S - E) is known when S is solved and each ending is
/// evaluated as it is enumerated.
class PartSolver {
public:
  PartSolver(const PartGraph &pg, const SchedulerOptions &opts,
             llvm::ArrayRef<int> mergeClass, CostContext &cc, PartStats &ps,
             SearchProgress &progress, SolverTables &tables)
      : pg(pg), n(pg.n), opts(opts), cc(cc), ps(ps), progress(progress),
        memo(tables.memo), entries(tables.entries),
        concCost(tables.concCost), mergeCost(tables.mergeCost),
        groupKeys(tables.groupKeys), seen(tables.seen), level(tables.level),
        next(tables.next), pending(tables.pending),
        localCosts(tables.localCosts),
        doMerge(unsigned(opts.variant) & unsigned(Variant::Merge)),
        doConcurrent(unsigned(opts.variant) & unsigned(Variant::Concurrent)),
        prune(opts.prune == PruneMode::Bound), r(opts.maxGroupSize),
        s(opts.maxNumGroups), start(Clock::now()), lastProgress(start) {
    for (unsigned i = 0; i < n; ++i)
      unitClass.push_back(mergeClass[pg.units[i]]);
    tc.assign(n, UnitSet());
    gb.assign(n, 0);
    gbExact.assign(n, 0);
    compStack.assign(size_t(n + 1) * (n + 1), UnitSet());
    if (prune && cc.terms)
      initTerms(*cc.terms);
    tables.clear();
  }

  /// Solves the part; returns its optimum (or, after a budget stop, the
  /// cost of the schedule completed greedily).
  double solve() {
    if (prune) {
      // Every unit alone: exact costs, and the base of every lower bound.
      unitCost.resize(n);
      bool batched = false;
      for (unsigned u = 0; u < n; ++u) {
        if (!batched && cc.cost.batchSize() > 1) {
          batched = true;
          std::vector<Wanted> units;
          for (unsigned v = u; v < n; ++v)
            units.push_back(wanted(UnitSet::bit(v), Strategy::Concurrent,
                                   {UnitSet::bit(v)}));
          costInBatches(units);
        }
        unitCost[u] = stageCost(UnitSet::bit(u), Strategy::Concurrent);
      }
    }
    UnitSet all = UnitSet::firstN(n);
    memo.insert(UnitSet(), {0.0, ~uint32_t(0)});
    level.push_back(UnitSet());
    UnitSet lastSolved; // the largest state solved so far
    for (unsigned d = 1; d <= n && !aborted; ++d) {
      // States of size d: a state of size d - 1 plus one of its ready units.
      next.clear();
      seen.clear();
      for (UnitSet S : level)
        (all - S).forEach([&](unsigned u) {
          if (pg.pred[u].isSubsetOf(S) && seen.insert(S | UnitSet::bit(u), 1).second)
            next.push_back(S | UnitSet::bit(u));
        });
      for (size_t i = 0, ahead = 0; i < next.size(); ++i) {
        UnitSet S = next[i];
        checkBudget();
        if (aborted)
          break;
        if (i == ahead && cc.cost.batchSize() > 1)
          ahead = prefetchStates(next, i);
        solveState(S);
        lastSolved = S;
      }
      std::swap(level, next);
    }
    if (!aborted)
      return memo.find(all)->value;
    return completeGreedily(lastSolved, all);
  }

  /// The solved part's stages, in order, as (ending, strategy).
  std::vector<std::pair<UnitSet, Strategy>> stages() const {
    std::vector<std::pair<UnitSet, Strategy>> rev;
    UnitSet S = UnitSet::firstN(n);
    while (!S.empty()) {
      const Entry &e = entries[memo.find(S)->entry];
      rev.push_back({e.ending, e.strategy});
      S -= e.ending;
    }
    return {rev.rbegin(), rev.rend()};
  }

  size_t numStates() const { return entries.size(); }
  /// With CostContext::parallel: the canonical keys looked up, in order.
  std::vector<StageKey> asked;
  /// Which budget stopped the search ("" if none) and its limit.
  llvm::StringRef cutReason() const { return cut; }
  llvm::StringRef cutLimit() const { return limit; }

private:
  /// Buffers of the stage being measured.
  NodeGroups nodeGroups;
  Stage scratch;
  struct PendingKey {
    double key;
    uint32_t order, index;
  };
  std::vector<PendingKey> pendingOrder;
  std::vector<Pending> sortedPending; ///< sortPending's scratch
  /// Shared resources of LowerBoundTerms used (the analytic model has two:
  /// host and device); further ones are left out (a weaker, valid bound).
  /// Loops over all of them (unused ones are 0) unroll.
  static constexpr unsigned kMaxShared = 2;
  /// Term sums of a set of units: per shared resource, the largest stream
  /// sum of a group, how many groups have a positive one and, over those,
  /// the smallest stream sum plus lead minus the group's share of the
  /// resource that serves the groups in turn (LowerBoundTerms::servedInTurn).
  struct TermSums {
    double shared[kMaxShared] = {};
    double streamMax = 0;
    double turnSlack = std::numeric_limits<double>::infinity();
    unsigned busyGroups = 0;
  };


  //===--------------------------------------------------------------------===//
  // Budget
  //===--------------------------------------------------------------------===//

  size_t memoryBytes() const {
    return memo.memoryBytes() + concCost.memoryBytes() +
           mergeCost.memoryBytes() +
           entries.capacity() * sizeof(Entry) +
           pending.capacity() * sizeof(Pending);
  }

  void stop(llvm::StringRef reason, std::string lim) {
    if (aborted)
      return;
    aborted = true;
    cut = reason.str();
    limit = std::move(lim);
  }

  /// Checks the budget before a state is solved (and reports progress).
  void checkBudget() {
    const SearchBudget &b = opts.budget;
    if (b.states && entries.size() >= b.states)
      return stop("state", std::to_string(b.states));
    if (b.transitions && ps.transitions >= b.transitions)
      return stop("transition", std::to_string(b.transitions));
    if ((entries.size() & 255) == 0 && b.memoryBytes &&
        memoryBytes() >= b.memoryBytes)
      return stop("memory", llvm::formatv("{0} MiB", b.memoryBytes >> 20));
    if ((entries.size() & 15) == 0)
      checkClock();
  }

  void checkClock() {
    if (!opts.budget.seconds && !opts.onProgress)
      return;
    Clock::time_point now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (opts.budget.seconds && elapsed >= opts.budget.seconds)
      return stop("time", llvm::formatv("{0} s", opts.budget.seconds));
    if (opts.onProgress &&
        std::chrono::duration<double>(now - lastProgress).count() >=
            opts.progressInterval) {
      lastProgress = now;
      SearchProgress p = progress;
      p.partStates = entries.size();
      p.partTransitions = ps.transitions;
      p.seconds += elapsed;
      opts.onProgress(p);
    }
  }

  /// How many more endings a state may enumerate (at least one: a state
  /// always gets an ending), and which budget says so.
  void setEnumerationCap() {
    const SearchBudget &b = opts.budget;
    enumCap = std::numeric_limits<uint64_t>::max();
    enumCapByMemory = false;
    if (b.transitions)
      enumCap =
          ps.transitions >= b.transitions ? 0 : b.transitions - ps.transitions;
    if (b.memoryBytes && b.memoryBytes / sizeof(Pending) < enumCap) {
      enumCap = b.memoryBytes / sizeof(Pending);
      enumCapByMemory = true;
    }
    enumCap = std::max<uint64_t>(enumCap, 1);
  }

  /// Whether the enumeration may produce another ending (else the budget
  /// stops the search; this state keeps the endings so far).
  bool roomForEnding() {
    if (LLVM_LIKELY(numEndings < enumCap && (numEndings & 0xFFFF) != 0xFFFF &&
                    !aborted))
      return true;
    return roomForEndingSlow();
  }
  LLVM_ATTRIBUTE_NOINLINE bool roomForEndingSlow() {
    if ((numEndings & 0xFFFF) == 0xFFFF && opts.budget.seconds && !aborted)
      checkClock();
    if (numEndings < enumCap && !aborted)
      return true;
    if (aborted)
      return false;
    if (enumCapByMemory)
      stop("memory", llvm::formatv("{0} MiB", opts.budget.memoryBytes >> 20));
    else
      stop("transition", std::to_string(opts.budget.transitions));
    return false;
  }

  //===--------------------------------------------------------------------===//
  // One state
  //===--------------------------------------------------------------------===//

  void record(UnitSet S, double cost, UnitSet ending, Strategy st) {
    memo.insert(S, {cost, uint32_t(entries.size())});
    entries.push_back({ending, st});
  }

  void solveState(UnitSet S) {
    enumerateState(S);
    if (prune || !pending.empty())
      resolvePending();
    // A budget stop inside the enumeration, or costs that break the
    // bounds, may have left only endings the upper bound pruned: its
    // witness is a valid ending that achieves it (with valid bounds and no
    // stop, best <= upper already).
    if (upper < best)
      consider(upperSet, upperStrategy, upper, bestOrder);
    record(S, best, bestSet, bestStrategy);
  }

  /// Enumerates the endings of S: those that cannot win are pruned, those
  /// of known cost considered, the others wait in `pending`.
  void enumerateState(UnitSet S) {
    curS = S;
    best = kInf;
    bestOrder = std::numeric_limits<uint32_t>::max();
    numEndings = 0;
    pending.clear();
    computeClosures(S);
    setEnumerationCap();
    upper = prune ? warmUpperBound(S) : kInf;
    if (doMerge)
      enumerateMerge();
    if (doConcurrent)
      enumerateConcurrent(S);
    ps.transitions += numEndings;
  }

  /// One ending of the current state, as it is enumerated. Without pruning
  /// every ending is costed (IOS's search). With pruning, an ending whose
  /// prefix plus lower bound cannot beat the best so far is skipped; one
  /// with a known cost is taken; the others wait for resolvePending. Either
  /// way the state's best ending is the first minimum in enumeration order,
  /// so both searches choose the same stages when the bounds hold.
  /// `unknown`: the caller knows E's cost is not in this part's tables.
  void visit(UnitSet E, UnitSet gens, Strategy st, double lb, bool exact,
             bool unknown = false) {
    uint32_t order;
    double prefix;
    if (!prune) {
      order = uint32_t(numEndings++);
      prefix = memo.find(curS - E)->value;
      // Batched costs: every ending is costed anyway; unknown ones wait for
      // resolvePending to ask for them together.
      if (cc.cost.batchSize() > 1 && !knownCost(E, st)) {
        pending.push_back({E, gens, prefix, 0, prefix, order, st});
        return;
      }
      consider(E, st, prefix + stageCost(E, st), order);
      return;
    }
    if (!admit(E, lb, prefix, order))
      return;
    if (exact) {
      consider(E, st, prefix + lb, order);
      return;
    }
    if (!unknown)
      if (const double *c = knownCost(E, st)) {
        consider(E, st, prefix + *c, order);
        return;
      }
    pending.push_back({E, gens, prefix, lb, prefix + lb, order, st});
  }

  /// Numbers the next ending E of the current state and finds its prefix
  /// dp(S - E); whether E may win at a cost of at least lb (else it is
  /// pruned).
  bool admit(UnitSet E, double lb, double &prefix, uint32_t &order) {
    order = uint32_t(numEndings++);
    prefix = memo.find(curS - E)->value;
    double key = prefix + lb;
    if (key > upper || !mayWin(key, order)) {
      ++ps.pruned;
      return false;
    }
    return true;
  }

  /// An upper bound of dp(S) before its endings are enumerated: a sink u
  /// of S alone after S - u; and the best ending of S - u, which is an
  /// ending of S too when no unit of it precedes u (same groups, known
  /// cost). Endings whose bound exceeds it cannot win (equal ones may, on
  /// order).
  double warmUpperBound(UnitSet S) {
    double ub = kInf;
    sinks.forEach([&](unsigned u) {
      UnitSet smaller = S - UnitSet::bit(u);
      if (smaller.empty())
        return;
      // u alone last.
      const StateValue &sv = *memo.find(smaller);
      double v = sv.value + unitCost[u];
      if (v < ub) {
        ub = v;
        upperSet = UnitSet::bit(u);
        upperStrategy = Strategy::Concurrent;
      }
      const Entry &e = entries[sv.entry];
      if (e.ending.intersects(pg.pred[u]))
        return;
      const double *c = knownCost(e.ending, e.strategy);
      if (!c)
        return;
      v = memo.find(S - e.ending)->value + *c;
      if (v < ub) {
        ub = v;
        upperSet = e.ending;
        upperStrategy = e.strategy;
      }
    });
    return ub;
  }

  /// Whether an ending of this value and enumeration order beats the best
  /// so far (the first of equal values wins; a state's first ending always
  /// does, even at +inf).
  bool mayWin(double v, uint32_t order) const {
    return v < best || (v == best && order < bestOrder);
  }
  /// The same, and not above the state's upper bound.
  bool mayWinWithin(double v, uint32_t order) const {
    return !(v > upper) && mayWin(v, order);
  }

  void consider(UnitSet E, Strategy st, double v, uint32_t order) {
    if (mayWin(v, order)) {
      best = v;
      bestOrder = order;
      bestSet = E;
      bestStrategy = st;
    }
  }

  /// The endings whose cost is unknown, in increasing order of prefix +
  /// bound, each bounded again from the stages costed since (its groups,
  /// the ending without one or two of them), costed only if it may still
  /// win.
  void resolvePending() {
    llvm::SmallVector<UnitSet, 8> groups;
    if (!prune) {
      // Unpruned with batched costs: all of them, then the first minimum.
      std::vector<Wanted> all;
      all.reserve(pending.size());
      for (const Pending &p : pending)
        all.push_back(wanted(p));
      costInBatches(all);
      for (auto [p, w] : llvm::zip_equal(pending, all))
        consider(p.set, p.strategy,
                 p.prefix + stageCost(p.set, p.strategy, w.groups), p.order);
      return;
    }
    sortPending();
    size_t scanned = 0; // pending[..scanned) were offered to a batch
    for (size_t k = 0; k < pending.size(); ++k) {
      const Pending &p = pending[k];
      // Sorted by (key, order): once one cannot win, none after it can.
      if (!mayWin(p.key, p.order) || (aborted && best < kInf)) {
        ps.pruned += pending.size() - k;
        return;
      }
      groups.clear();
      if (p.strategy == Strategy::Concurrent) {
        groupsOfPending(p, groups);
        if (!subStagesAllow(p, groups)) {
          ++ps.pruned;
          continue;
        }
      }
      if (opts.budget.seconds && !aborted)
        checkClock();
      if (cc.cost.batchSize() > 1 && !knownCost(p.set, p.strategy))
        scanned = costBatchFrom(k, scanned);
      consider(p.set, p.strategy,
               p.prefix + stageCost(p.set, p.strategy, groups), p.order);
    }
  }

  //===--------------------------------------------------------------------===//
  // Batched costs (StageCost::batchSize() > 1)
  //===--------------------------------------------------------------------===//

  /// A stage about to be costed: an ending of the current state, its groups
  /// and its canonical key.
  struct Wanted {
    UnitSet set;
    Strategy strategy;
    llvm::SmallVector<UnitSet, 8> groups;
    StageKey key;
  };

  Wanted wanted(UnitSet set, Strategy st, llvm::SmallVector<UnitSet, 8> groups) {
    llvm::SmallVector<StageKey, 8> keys;
    for (UnitSet grp : groups)
      keys.push_back(groupKey(grp));
    StageKey key = StageCostCache::combine(st, keys);
    return {set, st, std::move(groups), key};
  }

  Wanted wanted(const Pending &p) {
    llvm::SmallVector<UnitSet, 8> groups;
    if (p.strategy == Strategy::Merge)
      p.set.forEach([&](unsigned u) { groups.push_back(UnitSet::bit(u)); });
    else
      groupsOfPending(p, groups);
    return wanted(p.set, p.strategy, std::move(groups));
  }

  /// A stage's cost the cache knows, or, when parts are searched in
  /// parallel, that this thread measured (its local table).
  const double *cachedCost(StageKey key) {
    if (const double *v = cc.cache.lookup(key))
      return v;
    return cc.parallel ? localCosts.find(UnitSet(key.lo, key.hi)) : nullptr;
  }

  /// Costs the stages of `want` that neither this part's table nor the
  /// canonical cache knows, up to batchSize() per StageCost::getCosts call
  /// (equal canonical stages once). Each goes into the part's table, so
  /// stageCost finds it, and counts as a stage of the part.
  void costInBatches(llvm::ArrayRef<Wanted> want) {
    size_t w = std::max(1u, cc.cost.batchSize());
    std::vector<StageKey> keys;
    std::vector<Stage> stages;
    std::vector<const Wanted *> who;
    std::vector<double> out;
    auto flush = [&] {
      out.assign(stages.size(), 0);
      cc.measureBatch(keys, stages, out, ps, &localCosts);
      // In parallel, calls are counted by replay() from the keys asked.
      if (cc.parallel)
        llvm::append_range(asked, keys);
      for (auto [x, c] : llvm::zip_equal(who, out)) {
        (x->strategy == Strategy::Merge ? mergeCost : concCost)
            .insert(x->set, c);
        ++ps.partStages;
      }
      keys.clear();
      stages.clear();
      who.clear();
    };
    for (const Wanted &x : want) {
      if (knownCost(x.set, x.strategy) || cachedCost(x.key) ||
          llvm::is_contained(keys, x.key))
        continue;
      NodeGroups nodeGroups;
      groupsOf(pg, x.set, x.strategy, nodeGroups);
      stages.push_back(cc.makeStage(x.strategy, nodeGroups, ps.block, ps.part));
      keys.push_back(x.key);
      who.push_back(&x);
      if (stages.size() == w)
        flush();
    }
    if (!stages.empty())
      flush();
  }

  /// Pruned search: pending[k] is to be costed. Asks for it together with
  /// the next waiting endings that may still win, pass their sub-stage
  /// bounds and are unknown, up to batchSize() of them. pending[..scanned)
  /// were offered to an earlier batch already. Returns how far this scan
  /// got.
  size_t costBatchFrom(size_t k, size_t scanned) {
    size_t w = std::max(1u, cc.cost.batchSize());
    std::vector<Wanted> batch;
    batch.push_back(wanted(pending[k]));
    size_t j = std::max(scanned, k + 1);
    for (; j < pending.size() && batch.size() < w && !aborted; ++j) {
      const Pending &q = pending[j];
      if (!mayWin(q.key, q.order))
        return pending.size(); // sorted: none after it can win either
      if (knownCost(q.set, q.strategy))
        continue;
      Wanted x = wanted(q);
      if (cachedCost(x.key) ||
          (q.strategy == Strategy::Concurrent && !subStagesAllow(q, x.groups)))
        continue;
      batch.push_back(std::move(x));
    }
    costInBatches(batch);
    return j;
  }

  /// Drops the waiting endings that cannot win; sorts the others by prefix
  /// + bound.
  void sortPending() {
    size_t m = 0;
    for (const Pending &p : pending)
      if (p.key <= upper && mayWin(p.key, p.order))
        pending[m++] = p;
    ps.pruned += pending.size() - m;
    pending.resize(m);
    // Deterministic on ties: enumeration order (unique). Sorts small
    // (key, order, index) records, then moves each ending once.
    pendingOrder.clear();
    for (uint32_t i = 0; i < m; ++i)
      pendingOrder.push_back({pending[i].key, pending[i].order, i});
    std::sort(pendingOrder.begin(), pendingOrder.end(),
              [](const PendingKey &a, const PendingKey &b) {
                return a.key < b.key || (a.key == b.key && a.order < b.order);
              });
    sortedPending.clear();
    for (const PendingKey &k : pendingOrder)
      sortedPending.push_back(std::move(pending[k.index]));
    pending.swap(sortedPending);
  }

  /// Batched costs across states (states of one size depend only on
  /// smaller ones): enumerates states[from..] ahead, without solving them,
  /// and costs together the stages each will ask for first (all its unknown
  /// endings without pruning), up to batchSize() stages. The searches then
  /// find those costs known. Returns the index after the last state looked
  /// at.
  size_t prefetchStates(llvm::ArrayRef<UnitSet> states, size_t from) {
    // Looking ahead changes nothing but the costs known: the counters and a
    // budget stop belong to the real search.
    uint64_t transitions = ps.transitions, pruned = ps.pruned;
    bool wasAborted = aborted;
    std::string wasCut = cut, wasLimit = limit;
    std::vector<Wanted> want;
    size_t w = cc.cost.batchSize(), i = from;
    for (; i < states.size() && want.size() < w; ++i)
      lookAhead(states[i], want);
    ps.transitions = transitions;
    ps.pruned = pruned;
    aborted = wasAborted;
    cut = std::move(wasCut);
    limit = std::move(wasLimit);
    costInBatches(want);
    return i;
  }

  /// The unknown stages the search of S asks for first: pruned, the first
  /// kLookAhead of its waiting endings (in the order resolvePending costs
  /// them) that may still win; unpruned, all.
  void lookAhead(UnitSet S, std::vector<Wanted> &want) {
    enumerateState(S);
    if (!prune) {
      for (const Pending &p : pending)
        want.push_back(wanted(p));
      return;
    }
    sortPending();
    unsigned taken = 0;
    for (const Pending &p : pending) {
      if (!mayWin(p.key, p.order) || taken == kLookAhead)
        return;
      if (const double *c = knownCost(p.set, p.strategy)) {
        consider(p.set, p.strategy, p.prefix + *c, p.order);
        continue;
      }
      Wanted x = wanted(p);
      if (const double *c = cachedCost(x.key)) {
        consider(p.set, p.strategy, p.prefix + *c, p.order);
        continue;
      }
      if (p.strategy == Strategy::Concurrent && !subStagesAllow(p, x.groups))
        continue;
      want.push_back(std::move(x));
      ++taken;
    }
  }

  /// tc[u] = u plus its descendants inside S; sinks of S; for the
  /// concurrent candidates (|tc[u]| <= r) the bound gb[u] of tc[u] run as
  /// one group: its exact cost if known, else the largest bound of a unit or
  /// a sub-group it contains.
  void computeClosures(UnitSet S) {
    sinks = UnitSet();
    S.forEachDescending([&](unsigned u) {
      UnitSet sc = pg.succ[u] & S;
      UnitSet t = UnitSet::bit(u);
      if (sc.empty())
        sinks.set(u);
      else
        sc.forEach([&](unsigned v) { t |= tc[v]; });
      tc[u] = t;
      if (!prune || !doConcurrent)
        return;
      if (sc.empty()) {
        gb[u] = unitCost[u];
        gbExact[u] = 1;
        if (useTerms)
          candSums[u] = groupSums(t);
        return;
      }
      if (t.count() > r)
        return;
      if (useTerms)
        candSums[u] = groupSums(t);
      if (const double *c = concCost.find(t)) {
        gb[u] = *c;
        gbExact[u] = 1;
        return;
      }
      double bnd = unitCost[u];
      sc.forEach([&](unsigned v) { bnd = std::max(bnd, gb[v]); });
      if (useTerms)
        bnd = std::max(bnd, termBound(candSums[u]));
      gb[u] = bnd;
      gbExact[u] = 0;
    });
  }

  /// Whether the pending Concurrent ending `p` may still win given the costs
  /// known in this part: of each of its groups alone, and of the ending
  /// without one group (or, if one of those is unknown, without two), each
  /// a lower bound of its cost (assumptions C and M). Stops at the first
  /// bound that rules it out.
  bool subStagesAllow(const Pending &p, llvm::ArrayRef<UnitSet> groups) {
    size_t k = groups.size();
    if (k < 2)
      return true;
    auto allows = [&](const double *c) {
      return !c || mayWin(p.prefix + *c, p.order);
    };
    bool allKnown = true;
    for (UnitSet grp : groups) {
      const double *c = concCost.find(p.set - grp);
      if (!allows(c))
        return false;
      allKnown &= c != nullptr;
    }
    for (UnitSet grp : groups)
      if (grp.count() > 1 && !allows(concCost.find(grp)))
        return false;
    if (!allKnown && k >= 3 && k <= kMaxPairGroups)
      for (size_t i = 0; i < k; ++i)
        for (size_t j = i + 1; j < k; ++j)
          if (!allows(concCost.find(p.set - groups[i] - groups[j])))
            return false;
    return true;
  }

  /// The groups of a pending Concurrent ending (tc[] of the current state).
  void groupsOfPending(const Pending &p, llvm::SmallVectorImpl<UnitSet> &groups) {
    groups.clear();
    if (opts.mode == EnumerationMode::IOS) {
      p.gens.forEach([&](unsigned g) { groups.push_back(tc[g]); });
    } else {
      // Overlapping closures form one group.
      p.gens.forEach([&](unsigned m) {
        UnitSet grp = tc[m];
        for (size_t i = 0; i < groups.size();) {
          if (groups[i].intersects(grp)) {
            grp |= groups[i];
            groups[i] = groups.back();
            groups.pop_back();
          } else {
            ++i;
          }
        }
        groups.push_back(grp);
      });
    }
  }

  /// Merge endings: every sink alone, and every subset (>= 2) of the sinks
  /// of one merge class (docs/IOS.md, "Merge rule"; merge sets are independent
  /// convs reading the same value, hence always sinks).
  void enumerateMerge() {
    llvm::SmallVector<std::pair<int, unsigned>, 16> classed;
    bool room = true;
    sinks.forEach([&](unsigned u) {
      if (!room || !(room = roomForEnding()))
        return;
      visit(UnitSet::bit(u), UnitSet(), Strategy::Merge,
            prune ? unitCost[u] : 0, prune);
      if (unitClass[u] >= 0)
        classed.push_back({unitClass[u], u});
    });
    if (classed.size() < 2 || !room)
      return;
    llvm::sort(classed);
    for (size_t i = 0; i < classed.size();) {
      size_t j = i;
      while (j < classed.size() && classed[j].first == classed[i].first)
        ++j;
      size_t k = std::min<size_t>(j - i, kMaxMergeClass);
      for (uint64_t mask = 1; mask < (uint64_t(1) << k); ++mask) {
        if (UnitSet::popcount(mask) < 2)
          continue;
        if (!roomForEnding())
          return;
        UnitSet e;
        for (size_t b = 0; b < k; ++b)
          if (mask >> b & 1)
            e.set(classed[i + b].second);
        // No valid bound for a merged op (it may be faster than any of its
        // convs alone): always costed unless its prefix alone loses.
        visit(e, UnitSet(), Strategy::Merge, 0, false);
      }
      i = j;
    }
  }

  void enumerateConcurrent(UnitSet S) {
    cand.clear();
    S.forEach([&](unsigned u) {
      if (tc[u].count() <= r)
        cand.push_back(u);
    });
    if (opts.mode == EnumerationMode::IOS)
      dfsIOS(0, UnitSet(), UnitSet(), 0, 0, TermSums());
    else
      dfsFull(0, UnitSet(), UnitSet(), 0, 0, 0, TermSums());
  }

  /// 1..s pairwise-disjoint tc[u] with |tc[u]| <= r (section 2.5 closed
  /// form). Each generator set yields a distinct union. A stage is never
  /// faster than its slowest group alone: the bound is the largest group
  /// bound.
  void dfsIOS(unsigned ci, UnitSet U, UnitSet gens, unsigned k, double lb,
              const TermSums &sums) {
    for (unsigned j = ci; j < cand.size(); ++j) {
      unsigned u = cand[j];
      UnitSet t = tc[u];
      if (t.intersects(U))
        continue;
      if (!roomForEnding())
        return;
      UnitSet U2 = U | t, gens2 = gens | UnitSet::bit(u);
      if (k + 1 > ps.width)
        ps.width = k + 1;
      if (!prune) {
        visit(U2, gens2, Strategy::Concurrent, 0, false);
        if (k + 1 < s)
          dfsIOS(j + 1, U2, gens2, k + 1, 0, sums);
        continue;
      }
      // A stage is never faster than its slowest group alone, nor than
      // itself without a group (assumptions C and M): its extensions cost
      // at least what it costs, once known. The cost's terms grow with
      // every group (T).
      double lb2 = std::max(lb, gb[u]);
      TermSums sums2;
      if (useTerms)
        sums2 = addGroup(sums, candSums[u]);
      const double *known = nullptr;
      if (k == 0) {
        // computeClosures looked tc[u] up: exact if known, else unknown
        // (gb[u] has the terms of one group).
        visit(U2, gens2, Strategy::Concurrent, gbExact[u] ? gb[u] : lb2,
              gbExact[u], /*unknown=*/true);
      } else {
        // Most endings lose on their bound: look their cost up only after,
        // and add the terms only to a bound that has not lost yet.
        double prefix;
        uint32_t order = uint32_t(numEndings++);
        prefix = memo.find(curS - U2)->value;
        bool alive = mayWinWithin(prefix + lb2, order);
        if (alive && useTerms) {
          lb2 = std::max(lb2, termBound(sums2));
          alive = mayWinWithin(prefix + lb2, order);
        }
        if (!alive) {
          ++ps.pruned;
        } else {
          if ((known = concCost.find(U2))) {
            if (prefix + *known > upper)
              ++ps.pruned;
            else
              consider(U2, Strategy::Concurrent, prefix + *known, order);
          } else {
            pending.push_back({U2, gens2, prefix, lb2, prefix + lb2, order,
                               Strategy::Concurrent});
          }
        }
      }
      if (k + 1 < s)
        dfsIOS(j + 1, U2, gens2, k + 1, known ? std::max(lb2, *known) : lb2,
               sums2);
    }
  }

  /// Every successor-closed E within S is the union of tc[m] over its
  /// minimal elements m (an antichain). Enumerate antichains of candidates
  /// in ascending order (m is not a descendant of the chosen ones iff
  /// m is not in U); components = overlapping tc's, each <= r, at most s.
  /// A component contains tc[m], so the largest gb[m] bounds the stage.
  void dfsFull(unsigned ci, UnitSet U, UnitSet gens, size_t base, unsigned k,
               double lb, const TermSums &sums) {
    for (unsigned j = ci; j < cand.size(); ++j) {
      unsigned m = cand[j];
      if (U.test(m))
        continue;
      UnitSet merged = tc[m];
      size_t nb = base + k;
      unsigned nk = 0;
      for (unsigned c = 0; c < k; ++c) {
        UnitSet comp = compStack[base + c];
        if (comp.intersects(merged))
          merged |= comp;
        else
          compStack[nb + nk++] = comp;
      }
      if (merged.count() > r)
        continue;
      compStack[nb + nk++] = merged;
      UnitSet U2 = U | tc[m], gens2 = gens | UnitSet::bit(m);
      double lb2 = prune ? std::max(lb, gb[m]) : 0;
      TermSums sums2;
      if (useTerms) {
        // The new units join the shared sums; the merged component (a
        // superset of the components it absorbed) is one group.
        TermSums fresh = groupSums(tc[m] - U), grp = groupSums(merged);
        for (unsigned q = 0; q < kMaxShared; ++q)
          sums2.shared[q] = sums.shared[q] + fresh.shared[q];
        sums2.streamMax = std::max(sums.streamMax, grp.streamMax);
        // Per group: those left unmerged, plus the merged one.
        sums2.busyGroups = grp.busyGroups;
        sums2.turnSlack = grp.turnSlack;
        for (unsigned c = 0; c + 1 < nk; ++c) {
          TermSums other = groupSums(compStack[nb + c]);
          sums2.busyGroups += other.busyGroups;
          sums2.turnSlack = std::min(sums2.turnSlack, other.turnSlack);
        }
        lb2 = std::max(lb2, termBound(sums2));
      }
      // Once known, an ending's cost bounds its extensions (assumption M;
      // an extension only adds groups or grows them, G).
      const double *known = prune && k > 0 ? concCost.find(U2) : nullptr;
      if (nk <= s) {
        if (!roomForEnding())
          return;
        if (known)
          visit(U2, gens2, Strategy::Concurrent, *known, true);
        else if (prune && k == 0 && gbExact[m])
          visit(U2, gens2, Strategy::Concurrent, gb[m], true);
        else
          visit(U2, gens2, Strategy::Concurrent, lb2, false);
        ps.width = std::max(ps.width, nk);
      }
      dfsFull(j + 1, U2, gens2, nb, nk, known ? std::max(lb2, *known) : lb2,
              sums2);
      if (aborted)
        return;
    }
  }

  const double *knownCost(UnitSet E, Strategy st) const {
    return (st == Strategy::Merge ? mergeCost : concCost).find(E);
  }

  /// The cost of an ending: this part's table, else the canonical cache
  /// (its key combined from cached group keys), else the callback. `groups`
  /// (its groups as unit sets) when the caller has them.
  double stageCost(UnitSet E, Strategy st,
                   llvm::ArrayRef<UnitSet> groups = {}) {
    UnitSetMap<double> &map = st == Strategy::Merge ? mergeCost : concCost;
    if (const double *v = map.find(E))
      return *v;
    llvm::SmallVector<UnitSet, 8> own;
    if (groups.empty()) {
      if (st == Strategy::Merge)
        E.forEach([&](unsigned u) { own.push_back(UnitSet::bit(u)); });
      else
        componentsOf(pg, E, own);
      groups = own;
    }
    llvm::SmallVector<StageKey, 8> keys;
    for (UnitSet grp : groups)
      keys.push_back(groupKey(grp));
    StageKey key = StageCostCache::combine(st, keys);
    double c;
    if (cc.parallel)
      asked.push_back(key);
    if (!cc.lookup(key, ps, c, &localCosts)) {
      groupsOf(pg, E, st, nodeGroups);
      c = cc.measure(key, st, nodeGroups, ps.block, ps.part, ps, scratch,
                     &localCosts);
    }
    map.insert(E, c);
    ++ps.partStages;
    return c;
  }

  /// The canonical key of one group of this part (cached: groups recur in
  /// many endings).
  StageKey groupKey(UnitSet grp) {
    if (const StageKey *k = groupKeys.find(grp))
      return *k;
    llvm::SmallVector<unsigned, 16> nodes;
    grp.forEach([&](unsigned u) {
      for (unsigned v : pg.g.unit(pg.units[u]).nodes)
        nodes.push_back(v);
    });
    StageKey k = StageCostCache::groupKey(cc.g, nodes, cc.sigIds, cc.withIds);
    groupKeys.insert(grp, k);
    return k;
  }

  /// After a budget stop: the largest solved state `from` (its optimum),
  /// then forward waves of at most s ready units (one unit per group; one
  /// unit per stage without concurrent stages) up to `to`, each recorded as
  /// a state, so the part's schedule is complete.
  double completeGreedily(UnitSet from, UnitSet to) {
    UnitSet done = from;
    double cost = memo.find(from)->value;
    unsigned width = doConcurrent ? s : 1;
    while (done != to) {
      UnitSet wave;
      unsigned k = 0;
      (to - done).forEach([&](unsigned u) {
        if (k < width && pg.pred[u].isSubsetOf(done)) {
          wave.set(u);
          ++k;
        }
      });
      done |= wave;
      if (const StateValue *v = memo.find(done)) {
        cost = v->value; // solved before the stop: its optimum
        continue;
      }
      cost += stageCost(wave, Strategy::Concurrent);
      record(done, cost, wave, Strategy::Concurrent);
    }
    return cost;
  }

  //===--------------------------------------------------------------------===//
  // The cost's own lower bound terms (LowerBoundTerms)
  //===--------------------------------------------------------------------===//

  /// Per unit of the part, the sums of its nodes' terms. Shared resources
  /// past kMaxShared are left out (a weaker, still valid bound).
  void initTerms(const LowerBoundTerms &t) {
    useTerms = true;
    numShared = std::min<unsigned>(t.shared.size(), kMaxShared);
    for (unsigned r = 0; r < numShared; ++r)
      sharedMulti[r] = t.shared[r].multiGroup;
    streamMulti = t.stream.multiGroup;
    turn = t.servedInTurn && *t.servedInTurn < numShared ? int(*t.servedInTurn)
                                                         : -1;
    unitShared.assign(size_t(n) * kMaxShared, 0);
    unitStream.assign(n, 0);
    unitLead.assign(n, 0);
    auto term = [](const std::vector<double> &v, unsigned node) {
      return node < v.size() ? v[node] : 0.0;
    };
    for (unsigned u = 0; u < n; ++u)
      for (unsigned v : pg.g.unit(pg.units[u]).nodes) {
        for (unsigned r = 0; r < numShared; ++r)
          unitShared[size_t(u) * kMaxShared + r] += term(t.shared[r].perNode, v);
        unitStream[u] += term(t.stream.perNode, v);
      }
    // A group's stream starts with its first unit's first node.
    if (turn >= 0)
      for (unsigned u = 0; u < n; ++u)
        unitLead[u] = term(t.turnLead, pg.g.unit(pg.units[u]).nodes.front());
    candSums.assign(n, TermSums());
  }

  /// The sums of one group (a set of units).
  TermSums groupSums(UnitSet grp) const {
    TermSums t;
    double stream = 0;
    grp.forEach([&](unsigned u) {
      for (unsigned r = 0; r < numShared; ++r)
        t.shared[r] += unitShared[size_t(u) * kMaxShared + r];
      stream += unitStream[u];
    });
    t.streamMax = stream;
    t.busyGroups = stream > 0;
    if (turn >= 0 && stream > 0)
      t.turnSlack = stream - t.shared[turn] + unitLead[grp.first()];
    return t;
  }

  /// a + a disjoint group with sums b.
  TermSums addGroup(const TermSums &a, const TermSums &b) const {
    TermSums t;
    for (unsigned r = 0; r < kMaxShared; ++r)
      t.shared[r] = a.shared[r] + b.shared[r];
    t.streamMax = std::max(a.streamMax, b.streamMax);
    t.turnSlack = std::min(a.turnSlack, b.turnSlack);
    t.busyGroups = a.busyGroups + b.busyGroups;
    return t;
  }

  /// The bound the terms promise, lowered by a relative 1e-12 so that the
  /// rounding of sums taken in another order than the model's cannot lift
  /// it above the cost.
  double termBound(const TermSums &t) const {
    bool multi = t.busyGroups >= 2;
    double b = t.streamMax + (multi ? streamMulti : 0);
    for (unsigned r = 0; r < kMaxShared; ++r)
      b = std::max(b, t.shared[r] + (multi ? sharedMulti[r] : 0));
    // Served in turn: the group served last starts after all the others'
    // shares and its own lead, then needs its own stream.
    if (multi && turn >= 0)
      b = std::max(b, t.shared[turn] + t.turnSlack + streamMulti);
    return b * (1 - 1e-12);
  }

  static constexpr size_t kMaxMergeClass = 20;
  /// Stages per state a look-ahead asks for (prefetchStates).
  static constexpr unsigned kLookAhead = 3;
  /// Endings of more groups try the sub-stages without two groups only up
  /// to this many groups (k^2 lookups, rarely decisive for wide stages).
  static constexpr size_t kMaxPairGroups = 4;

  const PartGraph &pg;
  unsigned n;
  const SchedulerOptions &opts;
  CostContext &cc;
  PartStats &ps;
  SearchProgress &progress;
  // SolverTables, cleared for this part.
  UnitSetMap<StateValue> &memo;
  std::vector<Entry> &entries;
  UnitSetMap<double> &concCost, &mergeCost;
  UnitSetMap<StageKey> &groupKeys;
  UnitSetMap<char> &seen;
  std::vector<UnitSet> &level, &next;
  std::vector<Pending> &pending;
  UnitSetMap<double> &localCosts;
  bool doMerge, doConcurrent, prune;
  unsigned r, s;
  llvm::SmallVector<int, 0> unitClass;

  std::vector<double> unitCost;
  bool useTerms = false;
  unsigned numShared = 0;
  double sharedMulti[kMaxShared] = {}, streamMulti = 0;
  /// The shared resource serving the groups in turn, or -1.
  int turn = -1;
  std::vector<double> unitShared, unitStream, unitLead;
  std::vector<TermSums> candSums; ///< of tc[u], for candidates u

  // The state being solved.
  UnitSet curS, sinks;
  std::vector<UnitSet> tc;
  std::vector<double> gb;
  std::vector<uint8_t> gbExact;
  std::vector<UnitSet> compStack;
  llvm::SmallVector<unsigned, 0> cand;
  double best = kInf, upper = kInf;
  UnitSet upperSet; ///< an ending that achieves `upper`
  Strategy upperStrategy = Strategy::Concurrent;
  uint32_t bestOrder = 0;
  UnitSet bestSet;
  Strategy bestStrategy = Strategy::Concurrent;
  uint64_t numEndings = 0, enumCap = 0;
  bool enumCapByMemory = false;

  Clock::time_point start, lastProgress;
  bool aborted = false;
  std::string cut, limit;
};

/// Merge class per unit: interned mergeClassKey, -1 if never mergeable.
std::vector<int> computeMergeClasses(const Graph &g) {
  std::vector<int> cls(g.numUnits(), -1);
  llvm::StringMap<int> ids;
  for (unsigned u = 0; u < g.numUnits(); ++u) {
    if (g.unit(u).nodes.size() != 1)
      continue;
    llvm::StringRef key = mergeClassKey(g, g.unit(u).nodes[0]);
    if (key.empty())
      continue;
    cls[u] = ids.try_emplace(key, int(ids.size())).first->second;
  }
  return cls;
}

class DPDriver {
public:
  DPDriver(const Graph &g, const SchedulerOptions &opts, CostContext &cc,
           ScheduleResult &res)
      : g(g), opts(opts), cc(cc), res(res),
        mergeClass(computeMergeClasses(g)) {}

  /// Solves every part of the decomposition, in order, or independent
  /// parts on several threads (SchedulerOptions::threads) with the same
  /// result. Returns false when a stage cost failed (cc.error).
  bool solveAll(const Decomposition &d) {
    std::vector<Job> jobs;
    for (unsigned bi = 0; bi < d.blocks.size(); ++bi)
      for (unsigned pi = 0; pi < d.blocks[bi].parts.size(); ++pi)
        jobs.push_back({&d.blocks[bi].parts[pi], bi, pi});
    progress.numParts = jobs.size();
    bool reuse = opts.reuseParts && !cc.withIds;
    // A part is searched, or takes the schedule of its earlier twin.
    std::vector<int> twin(jobs.size(), -1);
    std::vector<unsigned> searched;
    UnitSetMap<uint32_t> firstOf;
    for (unsigned i = 0; i < jobs.size(); ++i) {
      if (reuse) {
        StageKey key = partKey(PartGraph(g, jobs[i].part->units));
        auto [slot, fresh] = firstOf.insert(UnitSet(key.lo, key.hi), i);
        if (!fresh) {
          twin[i] = int(*slot);
          continue;
        }
      }
      searched.push_back(i);
    }
    unsigned threads = std::min<size_t>(numThreads(), searched.size());
    std::vector<Outcome> outcomes(jobs.size());
    // A cost that batches and is thread-safe (an exec: server that does not
    // time this machine) is shared by the threads: one waits for its answer
    // while the other searches.
    if (threads <= 1 || !cc.cost.isThreadSafe()) {
      for (unsigned i = 0; i < jobs.size(); ++i) {
        if (twin[i] < 0)
          outcomes[i] = search(jobs[i], tables, progress, opts);
        commit(jobs[i], outcomes, i, twin[i]);
        if (!cc.error.empty())
          return false;
      }
      return true;
    }

    // Largest parts first (by states), so that the threads end together;
    // the order changes nothing else: parts are independent, the cache
    // gives every stage one value, and replay() counts calls as in order.
    std::vector<std::pair<uint64_t, unsigned>> order;
    for (unsigned i : searched) {
      std::optional<uint64_t> states =
          countDownClosedSets(g, jobs[i].part->units, uint64_t(1) << 24);
      order.push_back({states.value_or(uint64_t(1) << 24), i});
    }
    std::stable_sort(order.begin(), order.end(), [](const auto &a,
                                                    const auto &b) {
      return a.first > b.first;
    });
    SchedulerOptions threadOpts = opts;
    std::mutex progressMutex;
    if (opts.onProgress)
      threadOpts.onProgress = [&](const SearchProgress &p) {
        std::lock_guard<std::mutex> lock(progressMutex);
        opts.onProgress(p);
      };
    std::atomic<size_t> next{0};
    std::atomic<unsigned> done{0};
    auto worker = [&](SolverTables &tables) {
      SearchProgress local = progress;
      for (size_t k; (k = next++) < order.size();) {
        local.partsDone = done;
        outcomes[order[k].second] =
            search(jobs[order[k].second], tables, local, threadOpts);
        ++done;
      }
    };
    cc.parallel = true;
    std::vector<SolverTables> extra(threads - 1);
    std::vector<std::thread> pool;
    for (SolverTables &t : extra)
      pool.emplace_back(worker, std::ref(t));
    worker(tables);
    for (std::thread &t : pool)
      t.join();
    cc.parallel = false;
    std::vector<std::vector<StageKey>> asked;
    std::vector<PartStats *> stats;
    for (unsigned i : searched) {
      asked.push_back(std::move(outcomes[i].asked));
      stats.push_back(&outcomes[i].ps);
    }
    cc.replay(asked, stats);
    cc.merge(tables.localCosts);
    for (const SolverTables &t : extra)
      cc.merge(t.localCosts);
    tables.localCosts.clear();
    if (!cc.error.empty())
      return false;
    for (unsigned i = 0; i < jobs.size(); ++i)
      commit(jobs[i], outcomes, i, twin[i]);
    return true;
  }

  SearchProgress progress;

private:
  struct Job {
    const Part *part;
    unsigned block, index;
  };
  /// A searched part: its statistics, stages and warning.
  struct Outcome {
    PartStats ps;
    std::vector<std::pair<UnitSet, Strategy>> stages;
    std::string warning;
    std::vector<StageKey> asked;
    unsigned statsIndex = 0; ///< in res.stats.parts, once committed
  };

  /// The threads to search on: SchedulerOptions::threads, 0 = the
  /// IOS_SCHED_THREADS environment variable, else the hardware's.
  unsigned numThreads() const {
    if (opts.threads)
      return opts.threads;
    if (const char *env = std::getenv("IOS_SCHED_THREADS"))
      if (int n = std::atoi(env); n > 0)
        return unsigned(n);
    return std::max(1u, std::thread::hardware_concurrency());
  }

  Outcome search(const Job &job, SolverTables &tables, SearchProgress &prog,
                 const SchedulerOptions &o) {
    Outcome out;
    PartStats &ps = out.ps;
    PartGraph pg(g, job.part->units);
    ps.block = job.block;
    ps.part = job.index;
    ps.numUnits = job.part->units.size();
    ps.fallback = job.part->overBudget;
    prog.partUnits = ps.numUnits;
    Clock::time_point t0 = Clock::now();
    PartSolver solver(pg, o, mergeClass, cc, ps, prog, tables);
    ps.optimum = solver.solve();
    ps.states = solver.numStates();
    out.stages = solver.stages();
    out.asked = std::move(solver.asked);
    if (!solver.cutReason().empty()) {
      ps.fallback = true;
      ps.cut = solver.cutReason().str();
      out.warning = llvm::formatv(
          "block {0} part {1} ({2} units): search stopped by the {3} budget "
          "({4}) after {5} states and {6} transitions; the rest of the part "
          "was scheduled greedily (not optimal)",
          job.block, job.index, ps.numUnits, ps.cut, solver.cutLimit(),
          ps.states, ps.transitions);
    }
    ps.seconds = secondsSince(t0);
    return out;
  }

  /// Appends part i to the result: its own search, or its twin's schedule
  /// mapped onto its nodes.
  void commit(const Job &job, std::vector<Outcome> &outcomes, unsigned i,
              int twinOf) {
    Clock::time_point t0 = Clock::now();
    PartGraph pg(g, job.part->units);
    if (twinOf >= 0) {
      const Outcome &from = outcomes[twinOf];
      const PartStats &fs = res.stats.parts[from.statsIndex];
      PartStats ps;
      ps.block = job.block;
      ps.part = job.index;
      ps.numUnits = job.part->units.size();
      ps.fallback = job.part->overBudget || fs.fallback;
      ps.states = fs.states;
      ps.transitions = fs.transitions;
      ps.pruned = fs.pruned;
      ps.partStages = fs.partStages;
      ps.width = fs.width;
      ps.optimum = fs.optimum;
      ps.cut = fs.cut;
      ps.reusedFrom = int(from.statsIndex);
      emit(pg, from.stages, job.block, job.index, ps);
      ps.seconds = secondsSince(t0);
      finish(ps);
      return;
    }
    Outcome &out = outcomes[i];
    emit(pg, out.stages, job.block, job.index, out.ps);
    if (!out.warning.empty())
      res.stats.warnings.push_back(out.warning);
    out.statsIndex = res.stats.parts.size();
    finish(out.ps);
  }

  void finish(const PartStats &ps) {
    res.schedule.cost += ps.optimum;
    res.stats.parts.push_back(ps);
    progress.states += ps.states;
    progress.transitions += ps.transitions;
    progress.costCalls += ps.costCalls;
    progress.seconds += ps.seconds;
    progress.partsDone = res.stats.parts.size();
    if (opts.onPartSolved)
      opts.onPartSolved(res.stats.parts.back(), res.stats.parts.size(),
                        progress.numParts);
  }

  /// Everything the part's DP depends on, independent of node ids: its
  /// units (sizes, op signatures, merge class pattern) and node edges, in
  /// local order. Equal keys (up to hash collisions) give equal searches.
  StageKey partKey(const PartGraph &pg) const {
    Hasher h;
    h.add(pg.n);
    llvm::SmallVector<unsigned, 0> nodes;
    llvm::DenseMap<unsigned, unsigned> nodePos;
    llvm::DenseMap<int, unsigned> classRank;
    for (unsigned i = 0; i < pg.n; ++i) {
      const Unit &u = g.unit(pg.units[i]);
      int cls = mergeClass[pg.units[i]];
      h.add(u.nodes.size());
      h.add(cls < 0 ? 0 : 1 + classRank.try_emplace(cls, classRank.size())
                                  .first->second);
      for (unsigned v : u.nodes) {
        nodePos[v] = nodes.size();
        nodes.push_back(v);
        h.add(cc.sigIds[v]);
      }
    }
    for (unsigned a = 0; a < nodes.size(); ++a)
      for (unsigned sx : g.succs(nodes[a]))
        if (auto it = nodePos.find(sx); it != nodePos.end())
          h.add(uint64_t(a) << 32 | it->second);
    return h.key();
  }

  void emit(const PartGraph &pg,
            llvm::ArrayRef<std::pair<UnitSet, Strategy>> stages,
            unsigned block, unsigned partIdx, PartStats &ps) {
    for (const auto &[ending, strategy] : stages) {
      NodeGroups groups;
      groupsOf(pg, ending, strategy, groups);
      res.schedule.stages.push_back(
          cc.makeStage(strategy, groups, block, partIdx));
    }
    ps.numStages = stages.size();
  }

  const Graph &g;
  const SchedulerOptions &opts;
  CostContext &cc;
  ScheduleResult &res;
  std::vector<int> mergeClass;
  SolverTables tables;
};

} // namespace

/// Decomposes g into res (blocks and parts), as every scheduler starts.
static llvm::Error decomposeInto(const Graph &g,
                                 const DecompositionOptions &opts,
                                 ScheduleResult &res) {
  auto d = decompose(g, opts);
  if (!d)
    return d.takeError();
  res.decomposition = std::move(*d);
  res.stats.numBlocks = res.decomposition.blocks.size();
  res.stats.warnings = res.decomposition.warnings;
  return llvm::Error::success();
}

llvm::Expected<ScheduleResult>
ios::sched::scheduleDP(const Graph &g, StageCost &cost,
                       const SchedulerOptions &opts, StageCostCache *cache) {
  if (opts.maxGroupSize == 0 || opts.maxNumGroups == 0)
    return createStringError(inconvertibleErrorCode(),
                             "r (max group size) and s (max number of groups) "
                             "must be at least 1");
  if (unsigned(opts.variant) == 0 || unsigned(opts.variant) > 3)
    return createStringError(inconvertibleErrorCode(), "invalid variant");
  if (std::isnan(opts.budget.seconds) || opts.budget.seconds < 0)
    return createStringError(inconvertibleErrorCode(),
                             "the time budget must be a non-negative number "
                             "of seconds");
  ScheduleResult res;
  DecompositionOptions dopts = opts.decomposition;
  if (opts.budget.states &&
      (!dopts.maxPartStates || dopts.maxPartStates > opts.budget.states))
    dopts.maxPartStates = opts.budget.states;
  if (llvm::Error e = decomposeInto(g, dopts, res))
    return std::move(e);
  StageCostCache localCache;
  CostContext cc(g, cost, cache ? *cache : localCache,
                 !opts.shareCostsAcrossIds);
  if (opts.prune == PruneMode::Bound)
    cc.terms = cost.lowerBoundTerms(g);
  DPDriver driver(g, opts, cc, res);
  Clock::time_point t0 = Clock::now();
  if (!driver.solveAll(res.decomposition))
    return createStringError(inconvertibleErrorCode(), cc.error);
  res.stats.seconds = secondsSince(t0);
  return std::move(res);
}

//===----------------------------------------------------------------------===//
// Baselines
//===----------------------------------------------------------------------===//

namespace {
/// Costs a list of stages (groups of units) into a result.
void addStages(const Graph &g, CostContext &cc,
               llvm::ArrayRef<llvm::SmallVector<unsigned, 8>> unitStages,
               unsigned block, ScheduleResult &res) {
  PartStats ps;
  ps.block = block;
  Clock::time_point t0 = Clock::now();
  for (const auto &stageUnits : unitStages) {
    NodeGroups groups;
    for (unsigned u : stageUnits) {
      groups.emplace_back();
      for (unsigned v : g.unit(u).nodes)
        groups.back().push_back(v);
      ++ps.numUnits;
    }
    double c = cc.get(Strategy::Concurrent, groups, block, 0, ps);
    ++ps.partStages;
    ps.optimum += c;
    res.schedule.stages.push_back(
        cc.makeStage(Strategy::Concurrent, groups, block, 0));
  }
  ps.numStages = unitStages.size();
  ps.seconds = secondsSince(t0);
  res.schedule.cost += ps.optimum;
  res.stats.parts.push_back(ps);
}
} // namespace

llvm::Expected<ScheduleResult>
ios::sched::scheduleSequential(const Graph &g, StageCost &cost,
                               const DecompositionOptions &opts,
                               StageCostCache *cache,
                               std::optional<bool> share) {
  ScheduleResult res;
  if (llvm::Error e = decomposeInto(g, opts, res))
    return std::move(e);
  StageCostCache localCache;
  CostContext cc(g, cost, cache ? *cache : localCache,
                 !share.value_or(cache != nullptr));
  for (unsigned bi = 0; bi < res.decomposition.blocks.size(); ++bi) {
    std::vector<llvm::SmallVector<unsigned, 8>> stages;
    for (const Part &p : res.decomposition.blocks[bi].parts)
      for (unsigned u : p.units)
        stages.push_back({u});
    addStages(g, cc, stages, bi, res);
  }
  if (!cc.error.empty())
    return createStringError(inconvertibleErrorCode(), cc.error);
  return std::move(res);
}

llvm::Expected<ScheduleResult>
ios::sched::scheduleGreedy(const Graph &g, StageCost &cost,
                           unsigned maxNumGroups,
                           const DecompositionOptions &opts,
                           StageCostCache *cache,
                           std::optional<bool> share) {
  if (maxNumGroups == 0)
    return createStringError(inconvertibleErrorCode(),
                             "greedy: max number of groups must be >= 1");
  ScheduleResult res;
  if (llvm::Error e = decomposeInto(g, opts, res))
    return std::move(e);
  StageCostCache localCache;
  CostContext cc(g, cost, cache ? *cache : localCache,
                 !share.value_or(cache != nullptr));
  for (unsigned bi = 0; bi < res.decomposition.blocks.size(); ++bi) {
    const Block &b = res.decomposition.blocks[bi];
    llvm::DenseMap<unsigned, unsigned> indeg;
    llvm::DenseSet<unsigned> inBlock(b.units.begin(), b.units.end());
    for (unsigned u : b.units) {
      unsigned k = 0;
      for (unsigned p : g.unit(u).preds)
        k += inBlock.count(p);
      indeg[u] = k;
    }
    // FIFO wavefront (IOS Block.greedy_schedule).
    std::vector<unsigned> queue;
    size_t head = 0;
    for (unsigned u : b.units)
      if (indeg[u] == 0)
        queue.push_back(u);
    std::vector<llvm::SmallVector<unsigned, 8>> stages;
    while (head < queue.size()) {
      size_t take = std::min<size_t>(queue.size() - head, maxNumGroups);
      llvm::SmallVector<unsigned, 8> stage(queue.begin() + head,
                                           queue.begin() + head + take);
      head += take;
      for (unsigned u : stage)
        for (unsigned sx : g.unit(u).succs)
          if (inBlock.count(sx) && --indeg[sx] == 0)
            queue.push_back(sx);
      stages.push_back(std::move(stage));
    }
    addStages(g, cc, stages, bi, res);
  }
  if (!cc.error.empty())
    return createStringError(inconvertibleErrorCode(), cc.error);
  return std::move(res);
}

double ios::sched::evaluateSchedule(const Graph &g, const Schedule &schedule,
                                    StageCost &cost, StageCostCache *cache) {
  double total = 0;
  for (const Stage &st : schedule.stages)
    total += cache ? cache->getCost(g, st, cost) : cost.getCost(g, st);
  return total;
}

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

static PartStats sumParts(const ScheduleStats &s, bool searchedOnly) {
  PartStats t;
  t.block = s.numBlocks;
  for (const PartStats &p : s.parts) {
    if (searchedOnly && p.reusedFrom >= 0)
      continue;
    ++t.part;
    t.numUnits += p.numUnits;
    t.states += p.states;
    t.transitions += p.transitions;
    t.pruned += p.pruned;
    t.partStages += p.partStages;
    t.costCalls += p.costCalls;
    t.cacheHits += p.cacheHits;
    t.width = std::max(t.width, p.width);
    t.seconds += p.seconds;
    t.costSeconds += p.costSeconds;
    t.optimum += p.optimum;
    t.numStages += p.numStages;
    t.fallback |= p.fallback;
  }
  return t;
}

PartStats ScheduleStats::total() const { return sumParts(*this, false); }
PartStats ScheduleStats::searched() const { return sumParts(*this, true); }

void ScheduleStats::print(llvm::raw_ostream &os) const {
  os << llvm::formatv("{0,5} {1,4} {2,5} {3,9} {4,11} {5,9} {6,9} {7,9} "
                      "{8,5} {9,6} {10,10} {11,12}\n",
                      "block", "part", "units", "states", "transitions",
                      "stages", "calls", "hits", "width", "#stg", "time(s)",
                      "optimum");
  auto row = [&](const PartStats &p, llvm::StringRef b, llvm::StringRef pt) {
    os << llvm::formatv("{0,5} {1,4} {2,5} {3,9} {4,11} {5,9} {6,9} {7,9} "
                        "{8,5} {9,6} {10,10:f4} {11,12:f3}{12}{13}\n",
                        b, pt, p.numUnits, p.states, p.transitions,
                        p.partStages, p.costCalls, p.cacheHits, p.width,
                        p.numStages, p.seconds, p.optimum,
                        p.fallback ? " (not optimal)" : "",
                        p.reusedFrom >= 0
                            ? " (= part " + std::to_string(p.reusedFrom) + ")"
                            : std::string());
  };
  for (const PartStats &p : parts)
    row(p, std::to_string(p.block), std::to_string(p.part));
  row(total(), "total", "");
  for (const std::string &w : warnings)
    os << "warning: " << w << "\n";
}

llvm::json::Value ios::sched::toJSON(const PartStats &p) {
  return llvm::json::Object{
      {"block", p.block},           {"part", p.part},
      {"units", p.numUnits},        {"states", int64_t(p.states)},
      {"transitions", int64_t(p.transitions)},
      {"part_stages", int64_t(p.partStages)},
      {"cost_calls", int64_t(p.costCalls)},
      {"cache_hits", int64_t(p.cacheHits)},
      {"width", p.width},           {"seconds", p.seconds},
      {"cost_seconds", p.costSeconds}, {"optimum", p.optimum},
      {"stages", p.numStages},      {"fallback", p.fallback},
      {"optimal", !p.fallback},     {"pruned", int64_t(p.pruned)},
      {"cut", p.cut},               {"reused_from", p.reusedFrom}};
}

llvm::json::Value ios::sched::toJSON(const ScheduleStats &s) {
  llvm::json::Array parts, warnings;
  for (const PartStats &p : s.parts)
    parts.push_back(toJSON(p));
  for (const std::string &w : s.warnings)
    warnings.push_back(w);
  return llvm::json::Object{{"blocks", s.numBlocks},
                            {"parts", std::move(parts)},
                            {"total", toJSON(s.total())},
                            {"searched", toJSON(s.searched())},
                            {"seconds", s.seconds},
                            {"warnings", std::move(warnings)}};
}
