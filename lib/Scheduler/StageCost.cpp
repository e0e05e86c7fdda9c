//===- StageCost.cpp - Canonical stage signatures and cost cache ----------===//

#include "ios/Scheduler/StageCost.h"

#include "Hash.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cassert>
#include <string>

using namespace ios::sched;
using ios::sched::detail::Hasher;

StageCost::~StageCost() = default;

std::optional<LowerBoundTerms> StageCost::lowerBoundTerms(const Graph &) {
  return std::nullopt;
}

void StageCost::getCosts(const Graph &g, llvm::ArrayRef<Stage> stages,
                         llvm::MutableArrayRef<double> out) {
  assert(stages.size() == out.size() && "one cost per stage");
  for (auto [stage, c] : llvm::zip_equal(stages, out))
    c = getCost(g, stage);
}

namespace {
/// Normalized strategy: a merge of one op is just running it.
Strategy normalize(Strategy s, size_t numGroups) {
  return numGroups <= 1 ? Strategy::Concurrent : s;
}

/// Edges inside one group as (local src, local dst), sorted.
void groupEdges(const Graph &g, llvm::ArrayRef<unsigned> grp,
                llvm::SmallVectorImpl<std::pair<uint32_t, uint32_t>> &out) {
  out.clear();
  for (uint32_t i = 0; i < grp.size(); ++i)
    for (unsigned s : g.succs(grp[i]))
      for (uint32_t j = 0; j < grp.size(); ++j)
        if (grp[j] == s)
          out.push_back({i, j});
  llvm::sort(out);
}
} // namespace

/// Appends the canonical text of one group: its nodes' signatures in
/// execution order and its internal edges.
static void appendGroupSignature(const Graph &g,
                                 const std::vector<NodeId> &group,
                                 std::string &out) {
  llvm::SmallVector<unsigned, 8> idxs;
  for (NodeId id : group)
    idxs.push_back(*g.indexOf(id));
  out += '(';
  for (size_t i = 0; i < idxs.size(); ++i) {
    if (i)
      out += ';';
    out += g.signatureText(idxs[i]);
  }
  out += '|';
  llvm::SmallVector<std::pair<uint32_t, uint32_t>, 8> edges;
  groupEdges(g, idxs, edges);
  for (size_t i = 0; i < edges.size(); ++i) {
    if (i)
      out += ',';
    out += std::to_string(edges[i].first);
    out += '>';
    out += std::to_string(edges[i].second);
  }
  out += ')';
}

void ios::sched::canonicalStageSignature(const Graph &g, const Stage &stage,
                                         std::string &out) {
  out.clear();
  out += toString(normalize(stage.strategy, stage.groups.size()));
  size_t begin = out.size();
  // Formatted in place, then reordered only if not already sorted.
  llvm::SmallVector<std::pair<size_t, size_t>, 8> spans; // [from, to)
  for (const auto &grp : stage.groups) {
    size_t from = out.size();
    appendGroupSignature(g, grp, out);
    spans.push_back({from, out.size()});
  }
  auto text = [&](std::pair<size_t, size_t> span) {
    return llvm::StringRef(out).slice(span.first, span.second);
  };
  auto less = [&](std::pair<size_t, size_t> a, std::pair<size_t, size_t> b) {
    return text(a) < text(b);
  };
  if (std::is_sorted(spans.begin(), spans.end(), less))
    return;
  std::sort(spans.begin(), spans.end(), less);
  std::string sorted;
  sorted.reserve(out.size() - begin);
  for (auto span : spans)
    sorted += text(span);
  out.resize(begin);
  out += sorted;
}

std::string ios::sched::canonicalStageSignature(const Graph &g,
                                                const Stage &stage) {
  std::string out;
  canonicalStageSignature(g, stage, out);
  return out;
}

unsigned StageCostCache::intern(const OpSignature &sig) {
  return intern(sig.str());
}

unsigned StageCostCache::intern(llvm::StringRef signatureText) {
  return sigIds.try_emplace(signatureText, sigIds.size()).first->second;
}

std::vector<unsigned> StageCostCache::internAll(const Graph &g) {
  std::vector<unsigned> ids(g.numNodes());
  for (unsigned v = 0; v < g.numNodes(); ++v)
    ids[v] = intern(g.signatureText(v));
  return ids;
}


StageKey StageCostCache::groupKey(const Graph &g, llvm::ArrayRef<unsigned> grp,
                                  llvm::ArrayRef<unsigned> sigIds,
                                  bool withIds) {
  // [numNodes, sig..., numEdges, (i, j) sorted, ids...], as packed words.
  Hasher h;
  h.add(grp.size());
  for (unsigned v : grp)
    h.add(sigIds[v]);
  llvm::SmallVector<uint64_t, 16> edges;
  for (uint32_t i = 0; i < grp.size(); ++i)
    for (unsigned sx : g.succs(grp[i]))
      for (uint32_t j = 0; j < grp.size(); ++j)
        if (grp[j] == sx) {
          edges.push_back(uint64_t(i) << 32 | j);
          break;
        }
  if (edges.size() > 1)
    std::sort(edges.begin(), edges.end());
  h.add(uint64_t(1) << 40 | edges.size());
  for (uint64_t e : edges)
    h.add(e);
  if (withIds)
    for (unsigned v : grp)
      h.add(uint64_t(2) << 40 | v);
  return h.key();
}

StageKey StageCostCache::combine(Strategy strategy,
                                 llvm::MutableArrayRef<StageKey> groupKeys) {
  if (groupKeys.size() > 1)
    std::sort(groupKeys.begin(), groupKeys.end(),
              [](const StageKey &x, const StageKey &y) {
                return x.hi != y.hi ? x.hi < y.hi : x.lo < y.lo;
              });
  Hasher h;
  h.add(uint64_t(normalize(strategy, groupKeys.size())));
  h.add(groupKeys.size());
  for (const StageKey &k : groupKeys)
    h.add(k);
  return h.key();
}

StageKey StageCostCache::stageKey(
    const Graph &g, Strategy strategy,
    llvm::ArrayRef<llvm::SmallVector<unsigned, 8>> groups,
    llvm::ArrayRef<unsigned> sigIds, bool withIds) {
  llvm::SmallVector<StageKey, 8> keys;
  for (const auto &grp : groups)
    keys.push_back(groupKey(g, grp, sigIds, withIds));
  return combine(strategy, keys);
}

StageKey StageCostCache::canonicalKey(const Graph &g, const Stage &stage,
                                      bool withIds) {
  llvm::SmallVector<llvm::SmallVector<unsigned, 8>, 8> groups;
  std::vector<unsigned> ids(g.numNodes(), 0);
  for (const auto &grp : stage.groups) {
    groups.emplace_back();
    for (NodeId id : grp) {
      unsigned v = *g.indexOf(id);
      groups.back().push_back(v);
      ids[v] = intern(g.signatureText(v));
    }
  }
  return stageKey(g, stage.strategy, groups, ids, withIds);
}

double StageCostCache::getCost(const Graph &g, const Stage &stage,
                               StageCost &cost, bool withIds) {
  StageKey key = canonicalKey(g, stage, withIds);
  if (const double *v = lookup(key)) {
    ++numHits;
    return *v;
  }
  double c = cost.getCost(g, stage);
  ++numCalls;
  insert(key, c);
  return c;
}

const double *StageCostCache::lookup(StageKey key) const {
  return costs.find(UnitSet(key.lo, key.hi));
}

void StageCostCache::insert(StageKey key, double value) {
  auto [slot, inserted] = costs.insert(UnitSet(key.lo, key.hi), value);
  if (!inserted)
    *slot = value;
}
