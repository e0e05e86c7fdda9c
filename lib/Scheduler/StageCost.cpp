//===- StageCost.cpp - Canonical stage signatures and cost cache ----------===//

#include "ios/Scheduler/StageCost.h"

#include <algorithm>
#include <cstring>

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

/// The canonical text of one group: its nodes' signatures in execution order
/// and its internal edges.
static std::string groupSignature(const Graph &g,
                                  const std::vector<NodeId> &group) {
  llvm::SmallVector<unsigned, 8> idxs;
  for (NodeId id : group)
    idxs.push_back(*g.indexOf(id));
  llvm::SmallVector<std::pair<uint32_t, uint32_t>, 8> edges;
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
  return s;
}

std::string ios::sched::canonicalStageSignature(const Graph &g,
                                                const Stage &stage) {
  std::vector<std::string> groups;
  for (const auto &grp : stage.groups)
    groups.push_back(groupSignature(g, grp));
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
  // Each group: [numNodes, sig..., numEdges, (i, j)... sorted, ids...];
  // groups sorted lexicographically by their encodings.
  llvm::SmallVector<uint32_t, 128> enc;
  llvm::SmallVector<std::pair<uint32_t, uint32_t>, 16> range(groups.size());
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto &grp = groups[gi];
    uint32_t begin = enc.size();
    enc.push_back(grp.size());
    for (unsigned v : grp)
      enc.push_back(sigIds[v]);
    size_t countPos = enc.size();
    enc.push_back(0);
    uint32_t numEdges = 0;
    for (uint32_t i = 0; i < grp.size(); ++i) {
      size_t first = enc.size();
      for (unsigned sx : g.succs(grp[i]))
        for (uint32_t j = 0; j < grp.size(); ++j)
          if (grp[j] == sx) {
            enc.push_back(i);
            enc.push_back(j);
            ++numEdges;
            break;
          }
      // Sort this node's (i, j) pairs by j (insertion sort, few entries).
      for (size_t x = first + 3; x < enc.size(); x += 2)
        for (size_t y = x; y > first + 1 && enc[y - 2] > enc[y]; y -= 2)
          std::swap(enc[y - 2], enc[y]);
    }
    enc[countPos] = numEdges;
    if (withIds)
      for (unsigned v : grp)
        enc.push_back(v);
    range[gi] = {begin, uint32_t(enc.size())};
  }
  if (range.size() > 1)
    std::sort(range.begin(), range.end(), [&](auto a, auto b) {
      return std::lexicographical_compare(enc.begin() + a.first,
                                          enc.begin() + a.second,
                                          enc.begin() + b.first,
                                          enc.begin() + b.second);
    });
  out.resize(4 * (2 + enc.size()));
  char *p = &out[0];
  auto put = [&](uint32_t x) {
    std::memcpy(p, &x, 4);
    p += 4;
  };
  put(uint32_t(normalize(strategy, groups.size())));
  put(groups.size());
  for (auto [b, e] : range)
    for (uint32_t k = b; k < e; ++k)
      put(enc[k]);
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
