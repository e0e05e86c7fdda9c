//===- Decompose.cpp - Blocks and parts -----------------------------------===//
//
// Blocks are the regions between cut units (or the hinted blocks); parts are
// the hinted parts, or pieces of a block cut where the graph is narrow
// (docs/Scheduler.md, "Graph, units, blocks, parts").
//
//===----------------------------------------------------------------------===//

#include "PartGraph.h"

#include "ios/Scheduler/Scheduler.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <limits>
#include <map>
#include <queue>

using namespace ios::sched;
using namespace ios::sched::detail;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

//===----------------------------------------------------------------------===//
// Local unit graphs and their down-closed sets
//===----------------------------------------------------------------------===//

PartGraph::PartGraph(const Graph &g, llvm::ArrayRef<unsigned> unitList)
    : g(g), units(unitList.begin(), unitList.end()), n(unitList.size()) {
  assert(n <= UnitSet::kCapacity);
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

namespace {
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
} // namespace

std::optional<uint64_t> ios::sched::detail::countIdeals(const PartGraph &pg,
                                                        uint64_t cap) {
  return IdealCounter(pg, cap).run();
}

std::optional<uint64_t>
ios::sched::countDownClosedSets(const Graph &g, llvm::ArrayRef<unsigned> units,
                                uint64_t cap) {
  assert(units.size() <= UnitSet::kCapacity);
  return countIdeals(PartGraph(g, units), cap);
}

//===----------------------------------------------------------------------===//
// Decomposition
//===----------------------------------------------------------------------===//

unsigned Decomposition::numParts() const {
  unsigned n = 0;
  for (const Block &b : blocks)
    n += b.parts.size();
  return n;
}

unsigned Decomposition::maxPartUnits() const {
  unsigned m = 0;
  for (const Block &b : blocks)
    for (const Part &p : b.parts)
      m = std::max<unsigned>(m, p.units.size());
  return m;
}

void Decomposition::print(llvm::raw_ostream &os) const {
  os << blocks.size() << " blocks:";
  for (const Block &b : blocks) {
    os << " [" << b.units.size();
    if (b.parts.size() > 1) {
      os << ":";
      for (const Part &p : b.parts)
        os << " " << p.units.size();
    }
    os << "]";
  }
  os << "\n";
}

llvm::SmallVector<unsigned> ios::sched::findCutUnits(const Graph &g) {
  unsigned n = g.numUnits();
  // cover[i] > 0 iff some edge (a, b) of the augmented DAG has a < i < b.
  // Virtual source at position -1, virtual sink at position n.
  std::vector<int> diff(n + 1, 0);
  auto addSpan = [&](int a, int b) { // cover positions a+1 .. b-1
    if (b - a <= 1)
      return;
    diff[a + 1] += 1;
    diff[b] -= 1;
  };
  for (unsigned u = 0; u < n; ++u) {
    const Unit &unit = g.unit(u);
    if (unit.preds.empty())
      addSpan(-1, int(u));
    if (unit.succs.empty())
      addSpan(int(u), int(n));
    for (unsigned s : unit.succs)
      addSpan(int(u), int(s));
  }
  llvm::SmallVector<unsigned> cuts;
  int cover = 0;
  for (unsigned i = 0; i < n; ++i) {
    cover += diff[i];
    if (cover == 0)
      cuts.push_back(i);
  }
  return cuts;
}

/// Groups `units` (ascending) by hint: one group per hint value, each
/// maximal run of consecutive unhinted units a group of its own; returns the
/// groups in a topological order of the quotient graph (ties: first unit).
static llvm::Expected<std::vector<llvm::SmallVector<unsigned, 0>>>
groupByHint(const Graph &g, llvm::ArrayRef<unsigned> units,
            llvm::function_ref<std::optional<int64_t>(unsigned)> hintOf,
            llvm::StringRef what) {
  unsigned bn = units.size();
  llvm::DenseMap<unsigned, unsigned> local; // unit -> position
  for (unsigned i = 0; i < bn; ++i)
    local[units[i]] = i;
  std::vector<unsigned> grp(bn);
  std::vector<unsigned> firstPos;
  // Not a DenseMap: hints are any int64 (ios.part), and DenseMap reserves
  // INT64_MAX and INT64_MIN as its empty and tombstone keys.
  std::map<int64_t, unsigned> hintGroup;
  bool prevUnhinted = false;
  for (unsigned i = 0; i < bn; ++i) {
    std::optional<int64_t> hint = hintOf(units[i]);
    if (hint) {
      auto [it, ins] = hintGroup.try_emplace(*hint, firstPos.size());
      if (ins)
        firstPos.push_back(i);
      grp[i] = it->second;
      prevUnhinted = false;
    } else {
      if (!prevUnhinted)
        firstPos.push_back(i);
      grp[i] = firstPos.size() - 1;
      prevUnhinted = true;
    }
  }
  unsigned ng = firstPos.size();
  std::vector<llvm::SmallVector<unsigned, 4>> gsucc(ng);
  std::vector<unsigned> indeg(ng, 0);
  llvm::DenseSet<std::pair<unsigned, unsigned>> gseen;
  for (unsigned i = 0; i < bn; ++i)
    for (unsigned s : g.unit(units[i]).succs) {
      auto it = local.find(s);
      if (it == local.end())
        continue;
      unsigned a = grp[i], b = grp[it->second];
      if (a != b && gseen.insert({a, b}).second) {
        gsucc[a].push_back(b);
        ++indeg[b];
      }
    }
  using Item = std::pair<unsigned, unsigned>; // (first position, group)
  std::priority_queue<Item, std::vector<Item>, std::greater<>> ready;
  for (unsigned gi = 0; gi < ng; ++gi)
    if (!indeg[gi])
      ready.push({firstPos[gi], gi});
  std::vector<unsigned> order;
  while (!ready.empty()) {
    unsigned gi = ready.top().second;
    ready.pop();
    order.push_back(gi);
    for (unsigned s : gsucc[gi])
      if (--indeg[s] == 0)
        ready.push({firstPos[s], s});
  }
  if (order.size() != ng)
    return createStringError(inconvertibleErrorCode(),
                             "%s hints are inconsistent: hinted %ss depend on "
                             "each other cyclically",
                             what.str().c_str(), what.str().c_str());
  std::vector<llvm::SmallVector<unsigned, 0>> members(ng), out;
  for (unsigned i = 0; i < bn; ++i)
    members[grp[i]].push_back(units[i]);
  for (unsigned gi : order)
    out.push_back(std::move(members[gi]));
  return out;
}

namespace {

/// Splits a region (units ascending, i.e. in topological order) into
/// consecutive parts of at most maxSize units and maxStates states, cutting
/// where the graph is narrow (DecompositionOptions::splitCharge).
class RegionSplitter {
public:
  RegionSplitter(const Graph &g, llvm::ArrayRef<unsigned> units,
                 unsigned maxSize, uint64_t maxStates, uint64_t charge)
      : g(g), units(units), m(units.size()), maxSize(maxSize),
        maxStates(maxStates), charge(charge),
        countCap(maxStates ? maxStates : kCountCap) {}

  /// The parts; `overBudget` when the region fits maxSize but has too many
  /// states.
  std::vector<Part> split(bool &overBudget) {
    overBudget = false;
    if (m == 0)
      return {};
    if (m <= maxSize) {
      if (!maxStates || states(0, m, maxStates) <= maxStates)
        return {wholePart(0, m)};
      overBudget = true;
    }
    std::vector<unsigned> width = cutWidths();
    std::vector<unsigned> levels(width.begin(), width.end());
    llvm::sort(levels);
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    for (unsigned w : levels)
      if (auto parts = splitAt(width, w))
        return std::move(*parts);
    // Every position: single units always fit.
    auto parts = splitAt(width, std::numeric_limits<unsigned>::max());
    assert(parts && "cutting at every position always fits");
    return std::move(*parts);
  }

private:
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
  /// Without a state limit, pieces are compared by at most this many states
  /// (counting more would cost as much as searching them).
  static constexpr uint64_t kCountCap = uint64_t(1) << 22;

  Part wholePart(unsigned a, unsigned b) const {
    Part p;
    p.units.append(units.begin() + a, units.begin() + b);
    return p;
  }

  /// Non-empty down-closed sets of units[a, b), or cap + 1 if more.
  uint64_t states(unsigned a, unsigned b, uint64_t cap) const {
    std::optional<uint64_t> n =
        countIdeals(PartGraph(g, units.slice(a, b - a)), cap + 1);
    if (!n || *n - 1 > cap)
      return cap + 1;
    return *n - 1;
  }

  /// width[p]: units at positions <= p that a unit after p, or anything
  /// outside the region (its exit), still needs; plus one if a unit after p
  /// reads something from outside (the region's entry).
  std::vector<unsigned> cutWidths() const {
    llvm::DenseMap<unsigned, unsigned> pos;
    for (unsigned i = 0; i < m; ++i)
      pos[units[i]] = i;
    std::vector<int> diff(m + 1, 0);
    int lastEntry = -1; // last position reading from outside the region
    for (unsigned i = 0; i < m; ++i) {
      const Unit &u = g.unit(units[i]);
      unsigned live = i; // last cut position this unit is live across
      bool leaves = u.succs.empty();
      for (unsigned s : u.succs) {
        auto it = pos.find(s);
        if (it == pos.end())
          leaves = true;
        else
          live = std::max(live, it->second);
      }
      unsigned end = leaves ? m - 1 : live; // live across cuts [i, end)
      if (end > i) {
        diff[i] += 1;
        diff[end] -= 1;
      }
      bool entry = u.preds.empty();
      for (unsigned p : u.preds)
        entry |= !pos.count(p);
      if (entry)
        lastEntry = int(i);
    }
    std::vector<unsigned> width(m > 0 ? m - 1 : 0);
    int cover = 0;
    for (unsigned p = 0; p + 1 < m; ++p) {
      cover += diff[p];
      width[p] = unsigned(cover) + (int(p) < lastEntry ? 1 : 0);
    }
    return width;
  }

  /// The best split cutting only where width <= maxWidth, if every gap fits
  /// maxSize and every piece between consecutive candidates fits maxStates.
  std::optional<std::vector<Part>> splitAt(llvm::ArrayRef<unsigned> width,
                                           unsigned maxWidth) const {
    std::vector<unsigned> cand = {0};
    for (unsigned p = 0; p < width.size(); ++p)
      if (width[p] <= maxWidth)
        cand.push_back(p + 1);
    cand.push_back(m);
    for (size_t k = 0; k + 1 < cand.size(); ++k)
      if (cand[k + 1] - cand[k] > maxSize)
        return std::nullopt;
    // The finest split bounds the best one: a piece with more states than
    // that whole split costs can never be chosen.
    uint64_t finest = 0;
    for (size_t k = 0; k + 1 < cand.size(); ++k) {
      uint64_t st = states(cand[k], cand[k + 1], countCap);
      if (maxStates && st > maxStates)
        return std::nullopt;
      finest += st + charge;
    }
    uint64_t cap = std::min(countCap, finest);
    // best[k]: cheapest split of units[cand[k], m); ties prefer longer first
    // pieces (IOS's chunking keeps its parts at the front full).
    size_t K = cand.size() - 1;
    std::vector<uint64_t> best(K + 1, kUnlimited);
    std::vector<size_t> next(K + 1, K);
    best[K] = 0;
    for (size_t k = K; k-- > 0;) {
      for (size_t j = k + 1; j <= K && cand[j] - cand[k] <= maxSize; ++j) {
        uint64_t st = states(cand[k], cand[j], cap);
        // Longer pieces only have more states; a piece beyond the finest
        // split's whole cost cannot be chosen (the finest piece from k,
        // j == k + 1, always stays).
        if (st > cap && j > k + 1)
          break;
        if (best[j] == kUnlimited)
          continue;
        uint64_t v = st + charge + best[j];
        if (v <= best[k]) {
          best[k] = v;
          next[k] = j;
        }
      }
    }
    std::vector<Part> parts;
    for (size_t k = 0; k < K; k = next[k])
      parts.push_back(wholePart(cand[k], cand[next[k]]));
    return parts;
  }

  const Graph &g;
  llvm::ArrayRef<unsigned> units;
  unsigned m;
  unsigned maxSize;
  uint64_t maxStates, charge, countCap;
};

} // namespace

llvm::Expected<Decomposition>
ios::sched::decompose(const Graph &g, const DecompositionOptions &opts) {
  if (opts.maxPartSize == 0 || opts.maxPartSize > UnitSet::kCapacity)
    return createStringError(inconvertibleErrorCode(),
                             "max part size must be in [1, %u], got %u",
                             UnitSet::kCapacity, opts.maxPartSize);
  Decomposition d;
  unsigned n = g.numUnits();
  if (n == 0)
    return d;

  // Blocks.
  std::vector<llvm::SmallVector<unsigned, 0>> blocks;
  bool blockHinted = false;
  if (opts.useBlockHints)
    for (unsigned u = 0; u < n; ++u)
      blockHinted |= g.unit(u).blockHint.has_value();
  if (blockHinted) {
    llvm::SmallVector<unsigned, 0> all;
    for (unsigned u = 0; u < n; ++u)
      all.push_back(u);
    auto groups = groupByHint(
        g, all, [&](unsigned u) { return g.unit(u).blockHint; }, "block");
    if (!groups)
      return groups.takeError();
    blocks = std::move(*groups);
  } else if (opts.detectBlocks) {
    llvm::SmallVector<unsigned> cuts = findCutUnits(g);
    unsigned start = 0;
    for (unsigned c : cuts) {
      llvm::SmallVector<unsigned, 0> b;
      for (unsigned u = start; u <= c; ++u)
        b.push_back(u);
      blocks.push_back(std::move(b));
      start = c + 1;
    }
    if (start < n) {
      llvm::SmallVector<unsigned, 0> b;
      for (unsigned u = start; u < n; ++u)
        b.push_back(u);
      blocks.push_back(std::move(b));
    }
    if (opts.coalesceChains) {
      // Runs of consecutive single-unit blocks (chains) become one block.
      std::vector<llvm::SmallVector<unsigned, 0>> merged;
      std::vector<bool> isRun;
      for (auto &b : blocks) {
        if (b.size() == 1 && !merged.empty() && isRun.back()) {
          merged.back().push_back(b[0]);
          continue;
        }
        isRun.push_back(b.size() == 1);
        merged.push_back(std::move(b));
      }
      blocks = std::move(merged);
    }
  } else {
    llvm::SmallVector<unsigned, 0> b;
    for (unsigned u = 0; u < n; ++u)
      b.push_back(u);
    blocks.push_back(std::move(b));
  }

  // Parts: each region (a hinted part, or the whole block) split where it
  // exceeds maxPartSize or maxPartStates.
  auto splitRegion = [&](llvm::ArrayRef<unsigned> region, unsigned blockIdx,
                         Block &block) {
    bool overBudget = false;
    std::vector<Part> parts =
        RegionSplitter(g, region, opts.maxPartSize, opts.maxPartStates,
                       opts.splitCharge)
            .split(overBudget);
    if (overBudget) {
      d.warnings.push_back(llvm::formatv(
          "block {0}: a region of {1} units has more than {2} down-closed "
          "subsets (DP states); split at its narrowest cuts into {3} parts "
          "(optimal only within each)",
          blockIdx, region.size(), opts.maxPartStates, parts.size()));
      for (Part &p : parts)
        p.overBudget = true;
    }
    for (Part &p : parts)
      block.parts.push_back(std::move(p));
  };
  for (auto &bu : blocks) {
    unsigned blockIdx = d.blocks.size();
    Block block;
    block.units = std::move(bu);
    bool hinted = false;
    if (opts.usePartHints)
      for (unsigned u : block.units)
        hinted |= g.unit(u).partHint.has_value();
    if (!hinted) {
      splitRegion(block.units, blockIdx, block);
      d.blocks.push_back(std::move(block));
      continue;
    }
    auto groups = groupByHint(
        g, block.units,
        [&](unsigned u) { return g.unit(u).partHint; }, "part");
    if (!groups)
      return groups.takeError();
    for (auto &members : *groups)
      splitRegion(members, blockIdx, block);
    d.blocks.push_back(std::move(block));
  }
  return d;
}
