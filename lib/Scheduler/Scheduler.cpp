//===- Scheduler.cpp - The IOS dynamic program ----------------------------===//
//
// dp[S] = min over endings E of S (non-empty, no edge from E to S - E) of
//         dp[S - E] + cost(E),   dp[{}] = 0,
// over the down-closed unit sets S of one part (docs/IOS.md, "Search space").
//
//===----------------------------------------------------------------------===//

#include "ios/Scheduler/Scheduler.h"
#include "ios/Scheduler/UnitSet.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

using namespace ios::sched;
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

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

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
    StageCostCache::packKey(g, st, groups, sigIds, withIds, key);
    if (const double *v = cache.lookup(key)) {
      ++ps.cacheHits;
      ++cache.numHits;
      return *v;
    }
    Stage stage = makeStage(st, groups, block, part);
    Clock::time_point t0 = Clock::now();
    double c = cost.getCost(g, stage);
    ps.costSeconds += secondsSince(t0);
    ++ps.costCalls;
    ++cache.numCalls;
    if (std::isnan(c) || c < 0) {
      if (error.empty()) {
        std::string s;
        llvm::raw_string_ostream os(s);
        os << "stage cost callback returned " << c << " for ";
        print(os, g, stage);
        error = s;
      }
      c = std::numeric_limits<double>::infinity();
    }
    cache.insert(key, c);
    return c;
  }

  Stage makeStage(Strategy st, const NodeGroups &groups, unsigned block,
                  unsigned part) const {
    Stage stage;
    stage.strategy = groups.size() <= 1 ? Strategy::Concurrent : st;
    stage.block = block;
    stage.part = part;
    // Groups in canonical order (their interned signatures, then internal
    // edges; equal groups by first unit), so that every stage with one cache
    // key reaches the callback, and runs, in one order.
    llvm::SmallVector<std::pair<llvm::SmallVector<uint32_t, 16>, unsigned>, 8>
        order;
    for (auto [gi, grp] : llvm::enumerate(groups)) {
      llvm::SmallVector<uint32_t, 16> enc;
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
      order.push_back({std::move(enc), unsigned(gi)});
    }
    // By encoding, equal groups by position (std::stable_sort's temporary
    // buffer is deprecated in libstdc++ 12 under clang).
    std::sort(order.begin(), order.end());
    for (const auto &entry : order) {
      stage.groups.emplace_back();
      for (unsigned v : groups[entry.second])
        stage.groups.back().push_back(g.node(v).id);
    }
    return stage;
  }

  const Graph &g;
  StageCost &cost;
  StageCostCache &cache;
  bool withIds;
  std::vector<unsigned> sigIds;
  std::string key;
  std::string error;
};

/// Local view of a set of units (at most 128): in-part edges as bitsets.
struct PartGraph {
  PartGraph(const Graph &g, llvm::ArrayRef<unsigned> units)
      : g(g), units(units.begin(), units.end()), n(units.size()) {
    succ.assign(n, UnitSet());
    pred.assign(n, UnitSet());
    reach.assign(n, UnitSet());
    llvm::DenseMap<unsigned, unsigned> local;
    for (unsigned i = 0; i < n; ++i)
      local[units[i]] = i;
    for (unsigned i = 0; i < n; ++i)
      for (unsigned s : g.unit(units[i]).succs) {
        auto it = local.find(s);
        if (it == local.end())
          continue;
        assert(it->second > i && "part units must be in topological order");
        succ[i].set(it->second);
        pred[it->second].set(i);
      }
    for (unsigned i = n; i-- > 0;) {
      reach[i] = UnitSet::bit(i);
      succ[i].forEach([&](unsigned v) { reach[i] |= reach[v]; });
    }
  }
  const Graph &g;
  llvm::SmallVector<unsigned, 0> units;
  unsigned n;
  std::vector<UnitSet> succ, pred, reach;
};

/// Counts down-closed sets with f(P) = f(P - x) + f(P - reach(x)), x = the
/// first (minimal) unit of P; memo over the remaining sets.
class IdealCounter {
public:
  IdealCounter(const PartGraph &pg, uint64_t cap) : pg(pg), cap(cap) {}
  std::optional<uint64_t> run() {
    uint64_t r = f(UnitSet::firstN(pg.n));
    if (over)
      return std::nullopt;
    return r;
  }

private:
  uint64_t f(UnitSet P) {
    if (over)
      return 0;
    if (P.empty())
      return 1;
    if (const uint64_t *v = memo.find(P))
      return *v;
    unsigned x = P.first();
    uint64_t a = f(P - UnitSet::bit(x));
    uint64_t b = f(P - (pg.reach[x] & P));
    uint64_t r = a + b;
    if (r > cap || memo.size() > cap)
      over = true;
    memo.insert(P, r);
    return r;
  }
  const PartGraph &pg;
  uint64_t cap;
  bool over = false;
  UnitSetMap<uint64_t> memo;
};

/// The DP over one part.
class PartSolver {
public:
  PartSolver(const PartGraph &pg, const SchedulerOptions &opts,
             llvm::ArrayRef<int> mergeClass, CostContext &cc, PartStats &ps)
      : pg(pg), n(pg.n), opts(opts), cc(cc), ps(ps),
        doMerge(unsigned(opts.variant) & unsigned(Variant::Merge)),
        doConcurrent(unsigned(opts.variant) & unsigned(Variant::Concurrent)),
        r(opts.maxGroupSize), s(opts.maxNumGroups) {
    for (unsigned i = 0; i < n; ++i)
      unitClass.push_back(mergeClass[pg.units[i]]);
    endings.resize(n + 1);
    tc.assign(n, UnitSet());
    compStack.assign(size_t(n + 1) * (n + 1), UnitSet());
  }

  double solve() { return dp(UnitSet::firstN(n)); }

  void reconstruct(std::vector<Stage> &out, unsigned block, unsigned part) {
    std::vector<Stage> rev;
    UnitSet S = UnitSet::firstN(n);
    while (!S.empty()) {
      const Entry &e = entries[*memo.find(S)];
      NodeGroups groups;
      groupsOf(e.ending, e.strategy, groups);
      rev.push_back(cc.makeStage(e.strategy, groups, block, part));
      S -= e.ending;
    }
    out.insert(out.end(), rev.rbegin(), rev.rend());
    ps.numStages = rev.size();
  }

  size_t numStates() const { return entries.size(); }

private:
  struct Entry {
    double cost;
    UnitSet ending;
    Strategy strategy;
  };
  struct Ending {
    UnitSet set;
    Strategy strategy;
  };
  /// Growable array with an inlined append (the DP's hottest push).
  struct EndingBuf {
    std::vector<Ending> data;
    size_t n = 0;
    void clear() { n = 0; }
    void push(UnitSet set, Strategy st) {
      if (n == data.size())
        data.resize(2 * n + 64);
      data[n++] = {set, st};
    }
    const Ending *begin() const { return data.data(); }
    const Ending *end() const { return data.data() + n; }
    size_t size() const { return n; }
  };

  double dp(UnitSet S) {
    if (S.empty())
      return 0;
    if (const uint32_t *idx = memo.find(S))
      return entries[*idx].cost;
    unsigned d = S.count();
    EndingBuf &buf = endings[d];
    buf.clear();

    // tc[u] = u plus its descendants inside S; sinks of S.
    UnitSet sinks;
    S.forEachDescending([&](unsigned u) {
      UnitSet sc = pg.succ[u] & S;
      UnitSet t = UnitSet::bit(u);
      if (sc.empty())
        sinks.set(u);
      else
        sc.forEach([&](unsigned v) { t |= tc[v]; });
      tc[u] = t;
    });

    if (doMerge)
      enumerateMerge(sinks, buf);
    if (doConcurrent)
      enumerateConcurrent(S, buf);

    double best = std::numeric_limits<double>::infinity();
    Ending bestE = *buf.begin();
    for (const Ending &e : buf) {
      UnitSet rest = S - e.set;
      const uint32_t *idx = memo.find(rest);
      double prefix = rest.empty() ? 0.0 : idx ? entries[*idx].cost : dp(rest);
      double v = prefix + stageCost(e);
      if (v < best) {
        best = v;
        bestE = e;
      }
    }
    ps.transitions += buf.size();
    memo.insert(S, uint32_t(entries.size()));
    entries.push_back({best, bestE.set, bestE.strategy});
    return best;
  }

  /// Merge endings: every sink alone, and every subset (>= 2) of the sinks
  /// of one merge class (docs/IOS.md, "Merge rule"; merge sets are independent
  /// convs reading the same value, hence always sinks).
  void enumerateMerge(UnitSet sinks, EndingBuf &buf) {
    llvm::SmallVector<std::pair<int, unsigned>, 16> classed;
    sinks.forEach([&](unsigned u) {
      buf.push(UnitSet::bit(u), Strategy::Merge);
      if (unitClass[u] >= 0)
        classed.push_back({unitClass[u], u});
    });
    if (classed.size() < 2)
      return;
    llvm::sort(classed);
    for (size_t i = 0; i < classed.size();) {
      size_t j = i;
      while (j < classed.size() && classed[j].first == classed[i].first)
        ++j;
      size_t k = std::min<size_t>(j - i, kMaxMergeClass);
      for (uint64_t mask = 1; mask < (uint64_t(1) << k); ++mask) {
        if (__builtin_popcountll(mask) < 2)
          continue;
        UnitSet e;
        for (size_t b = 0; b < k; ++b)
          if (mask >> b & 1)
            e.set(classed[i + b].second);
        buf.push(e, Strategy::Merge);
      }
      i = j;
    }
  }

  void enumerateConcurrent(UnitSet S, EndingBuf &buf) {
    cand.clear();
    S.forEach([&](unsigned u) {
      if (tc[u].count() <= r)
        cand.push_back(u);
    });
    out = &buf;
    if (opts.mode == EnumerationMode::IOS)
      dfsIOS(0, UnitSet(), 0);
    else
      dfsFull(0, UnitSet(), 0, 0);
  }

  /// 1..s pairwise-disjoint tc[u] with |tc[u]| <= r (section 2.5 closed
  /// form). Each generator set yields a distinct union.
  void dfsIOS(unsigned ci, UnitSet U, unsigned k) {
    for (unsigned j = ci; j < cand.size(); ++j) {
      UnitSet t = tc[cand[j]];
      if (t.intersects(U))
        continue;
      UnitSet U2 = U | t;
      out->push(U2, Strategy::Concurrent);
      ps.width = std::max(ps.width, k + 1);
      if (k + 1 < s)
        dfsIOS(j + 1, U2, k + 1);
    }
  }

  /// Every successor-closed E within S is the union of tc[m] over its
  /// minimal elements m (an antichain). Enumerate antichains of candidates
  /// in ascending order (m is not a descendant of the chosen ones iff
  /// m is not in U); components = overlapping tc's, each <= r, at most s.
  void dfsFull(unsigned ci, UnitSet U, size_t base, unsigned k) {
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
      UnitSet U2 = U | tc[m];
      if (nk <= s) {
        out->push(U2, Strategy::Concurrent);
        ps.width = std::max(ps.width, nk);
      }
      dfsFull(j + 1, U2, nb, nk);
    }
  }

  double stageCost(const Ending &e) {
    UnitSetMap<double> &map =
        e.strategy == Strategy::Merge ? mergeCost : concCost;
    if (const double *v = map.find(e.set))
      return *v;
    NodeGroups groups;
    groupsOf(e.set, e.strategy, groups);
    double c = cc.get(e.strategy, groups, ps.block, ps.part, ps);
    map.insert(e.set, c);
    ++ps.partStages;
    return c;
  }

  /// Groups of an ending as node indices: for Merge one group per unit, for
  /// Concurrent the weakly connected components, by first unit.
  void groupsOf(UnitSet E, Strategy st, NodeGroups &groups) const {
    const Graph &g = pg.g;
    auto addUnits = [&](UnitSet comp) {
      groups.emplace_back();
      comp.forEach([&](unsigned u) {
        for (unsigned v : g.unit(pg.units[u]).nodes)
          groups.back().push_back(v);
      });
    };
    if (st == Strategy::Merge) {
      E.forEach([&](unsigned u) { addUnits(UnitSet::bit(u)); });
      return;
    }
    UnitSet rem = E;
    while (!rem.empty()) {
      UnitSet comp = UnitSet::bit(rem.first());
      UnitSet frontier = comp;
      while (!frontier.empty()) {
        UnitSet nbr;
        frontier.forEach(
            [&](unsigned v) { nbr |= pg.succ[v] | pg.pred[v]; });
        nbr = (nbr & rem) - comp;
        comp |= nbr;
        frontier = nbr;
      }
      rem -= comp;
      addUnits(comp);
    }
  }

  static constexpr size_t kMaxMergeClass = 20;

  const PartGraph &pg;
  unsigned n;
  const SchedulerOptions &opts;
  CostContext &cc;
  PartStats &ps;
  bool doMerge, doConcurrent;
  unsigned r, s;
  llvm::SmallVector<int, 0> unitClass;

  UnitSetMap<uint32_t> memo;
  std::vector<Entry> entries;
  std::vector<EndingBuf> endings; // per depth |S|
  std::vector<UnitSet> tc;
  std::vector<UnitSet> compStack;
  llvm::SmallVector<unsigned, 0> cand;
  EndingBuf *out = nullptr;
  UnitSetMap<double> concCost, mergeCost;
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

  void solveUnits(llvm::ArrayRef<unsigned> units, unsigned block,
                  unsigned part, bool fallback) {
    PartGraph pg(g, units);
    if (opts.stateBudget) {
      std::optional<uint64_t> ideals =
          countDownClosedSets(pg, opts.stateBudget + 1);
      if (!ideals && units.size() > 1) {
        size_t half = (units.size() + 1) / 2;
        res.stats.warnings.push_back(llvm::formatv(
            "block {0} part {1}: {2} units have more than {3} down-closed "
            "subsets (DP states); split into halves of {4} and {5} units "
            "(optimal only within each half)",
            block, part, units.size(), opts.stateBudget, half,
            units.size() - half).str());
        solveUnits(units.take_front(half), block, part, true);
        solveUnits(units.drop_front(half), block, part, true);
        return;
      }
    }
    PartStats ps;
    ps.block = block;
    ps.part = part;
    ps.numUnits = units.size();
    ps.fallback = fallback;
    Clock::time_point t0 = Clock::now();
    PartSolver solver(pg, opts, mergeClass, cc, ps);
    ps.optimum = solver.solve();
    ps.states = solver.numStates();
    solver.reconstruct(res.schedule.stages, block, part);
    ps.seconds = secondsSince(t0);
    res.schedule.cost += ps.optimum;
    res.stats.parts.push_back(ps);
  }

  static std::optional<uint64_t> countDownClosedSets(const PartGraph &pg,
                                                     uint64_t cap) {
    return IdealCounter(pg, cap).run();
  }

private:
  const Graph &g;
  const SchedulerOptions &opts;
  CostContext &cc;
  ScheduleResult &res;
  std::vector<int> mergeClass;
};

} // namespace

std::optional<uint64_t>
ios::sched::countDownClosedSets(const Graph &g, llvm::ArrayRef<unsigned> units,
                                uint64_t cap) {
  assert(units.size() <= UnitSet::kCapacity);
  PartGraph pg(g, units);
  return IdealCounter(pg, cap).run();
}

/// Decomposes g into res (blocks and parts), as every scheduler starts.
static llvm::Error decomposeInto(const Graph &g,
                                 const DecompositionOptions &opts,
                                 ScheduleResult &res) {
  auto d = decompose(g, opts);
  if (!d)
    return d.takeError();
  res.decomposition = std::move(*d);
  res.stats.numBlocks = res.decomposition.blocks.size();
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
  ScheduleResult res;
  if (llvm::Error e = decomposeInto(g, opts.decomposition, res))
    return std::move(e);
  StageCostCache localCache;
  CostContext cc(g, cost, cache ? *cache : localCache,
                 !opts.shareCostsAcrossIds);
  DPDriver driver(g, opts, cc, res);
  unsigned done = 0, total = res.decomposition.numParts();
  for (unsigned bi = 0; bi < res.decomposition.blocks.size(); ++bi) {
    const Block &b = res.decomposition.blocks[bi];
    for (unsigned pi = 0; pi < b.parts.size(); ++pi) {
      driver.solveUnits(b.parts[pi].units, bi, pi, false);
      if (opts.onPartSolved)
        opts.onPartSolved(res.stats.parts.back(), ++done, total);
    }
  }
  if (!cc.error.empty())
    return createStringError(inconvertibleErrorCode(), cc.error);
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

PartStats ScheduleStats::total() const {
  PartStats t;
  t.block = numBlocks;
  t.part = parts.size();
  for (const PartStats &p : parts) {
    t.numUnits += p.numUnits;
    t.states += p.states;
    t.transitions += p.transitions;
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

void ScheduleStats::print(llvm::raw_ostream &os) const {
  os << llvm::formatv("{0,5} {1,4} {2,5} {3,9} {4,11} {5,9} {6,9} {7,9} "
                      "{8,5} {9,6} {10,10} {11,12}\n",
                      "block", "part", "units", "states", "transitions",
                      "stages", "calls", "hits", "width", "#stg", "time(s)",
                      "optimum");
  auto row = [&](const PartStats &p, llvm::StringRef b, llvm::StringRef pt) {
    os << llvm::formatv("{0,5} {1,4} {2,5} {3,9} {4,11} {5,9} {6,9} {7,9} "
                        "{8,5} {9,6} {10,10:f4} {11,12:f3}{12}\n",
                        b, pt, p.numUnits, p.states, p.transitions,
                        p.partStages, p.costCalls, p.cacheHits, p.width,
                        p.numStages, p.seconds, p.optimum,
                        p.fallback ? " (fallback)" : "");
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
      {"stages", p.numStages},      {"fallback", p.fallback}};
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
                            {"warnings", std::move(warnings)}};
}
