//===- StageCost.cpp - Canonical stage signatures and cost cache ----------===//

#include "ios/Scheduler/StageCost.h"

#include <algorithm>

using namespace ios::sched;

StageCost::~StageCost() = default;

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

std::string ios::sched::canonicalStageSignature(const Graph &g,
                                                const Stage &stage) {
  std::vector<std::string> groups;
  llvm::SmallVector<std::pair<uint32_t, uint32_t>, 8> edges;
  for (const auto &grp : stage.groups) {
    llvm::SmallVector<unsigned, 8> idxs;
    for (NodeId id : grp)
      idxs.push_back(*g.indexOf(id));
    std::string s;
    llvm::raw_string_ostream os(s);
    os << "(";
    for (size_t i = 0; i < idxs.size(); ++i)
      os << (i ? ";" : "") << g.node(idxs[i]).sig.str();
    os << "|";
    groupEdges(g, idxs, edges);
    for (size_t i = 0; i < edges.size(); ++i)
      os << (i ? "," : "") << edges[i].first << ">" << edges[i].second;
    os << ")";
    groups.push_back(std::move(s));
  }
  std::sort(groups.begin(), groups.end());
  std::string out =
      toString(normalize(stage.strategy, stage.groups.size())).str();
  for (const std::string &s : groups)
    out += s;
  return out;
}

unsigned StageCostCache::intern(const OpSignature &sig) {
  auto [it, inserted] = sigIds.try_emplace(sig.str(), sigIds.size());
  (void)inserted;
  return it->second;
}

std::vector<unsigned> StageCostCache::internAll(const Graph &g) {
  std::vector<unsigned> ids(g.numNodes());
  for (unsigned v = 0; v < g.numNodes(); ++v)
    ids[v] = intern(g.node(v).sig);
  return ids;
}

void StageCostCache::packKey(
    const Graph &g, Strategy strategy,
    llvm::ArrayRef<llvm::SmallVector<unsigned, 8>> groups,
    llvm::ArrayRef<unsigned> sigIds, bool withIds, std::string &out) {
  // Each group: [numNodes, sig..., numEdges, (i, j)...], groups sorted.
  llvm::SmallVector<llvm::SmallVector<uint32_t, 16>, 8> enc(groups.size());
  llvm::SmallVector<std::pair<uint32_t, uint32_t>, 8> edges;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto &e = enc[gi];
    const auto &grp = groups[gi];
    e.push_back(grp.size());
    for (unsigned v : grp)
      e.push_back(sigIds[v]);
    groupEdges(g, grp, edges);
    e.push_back(edges.size());
    for (auto [a, b] : edges) {
      e.push_back(a);
      e.push_back(b);
    }
    if (withIds)
      for (unsigned v : grp)
        e.push_back(v);
  }
  llvm::SmallVector<unsigned, 8> order(groups.size());
  for (unsigned i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
    return std::lexicographical_compare(enc[a].begin(), enc[a].end(),
                                        enc[b].begin(), enc[b].end());
  });
  out.clear();
  auto put = [&](uint32_t x) {
    out.append(reinterpret_cast<const char *>(&x), sizeof(x));
  };
  put(uint32_t(normalize(strategy, groups.size())));
  put(groups.size());
  for (unsigned i : order)
    for (uint32_t x : enc[i])
      put(x);
}

std::string StageCostCache::canonicalKey(const Graph &g, const Stage &stage,
                                         bool withIds) {
  llvm::SmallVector<llvm::SmallVector<unsigned, 8>, 8> groups;
  std::vector<unsigned> ids(g.numNodes(), 0);
  for (const auto &grp : stage.groups) {
    groups.emplace_back();
    for (NodeId id : grp) {
      unsigned v = *g.indexOf(id);
      groups.back().push_back(v);
      ids[v] = intern(g.node(v).sig);
    }
  }
  std::string key;
  packKey(g, stage.strategy, groups, ids, withIds, key);
  return key;
}

double StageCostCache::getCost(const Graph &g, const Stage &stage,
                               StageCost &cost, bool withIds) {
  std::string key = canonicalKey(g, stage, withIds);
  if (const double *v = lookup(key)) {
    ++numHits;
    return *v;
  }
  double c = cost.getCost(g, stage);
  ++numCalls;
  insert(key, c);
  return c;
}

const double *StageCostCache::lookup(llvm::StringRef key) const {
  auto it = costs.find(key);
  return it == costs.end() ? nullptr : &it->second;
}

void StageCostCache::insert(llvm::StringRef key, double value) {
  costs[key] = value;
}
