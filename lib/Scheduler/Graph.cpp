//===- Graph.cpp - Scheduler graph, units, blocks, parts ------------------===//

#include <atomic>
#include "ios/Scheduler/Graph.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <queue>

using namespace ios::sched;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

std::optional<unsigned> Graph::indexOf(NodeId id) const {
  auto it = idToIndex.find(id);
  if (it == idToIndex.end())
    return std::nullopt;
  return it->second;
}

const NodeSpec &Graph::nodeById(NodeId id) const {
  auto idx = indexOf(id);
  assert(idx && "unknown node id");
  return nodes[*idx];
}

llvm::Expected<OpSignature>
Graph::mergedSignature(llvm::ArrayRef<unsigned> nodeIdxs) const {
  if (!merge)
    return createStringError(inconvertibleErrorCode(),
                             "the graph has no merge function");
  return merge(*this, nodeIdxs);
}

llvm::Expected<Graph>
Graph::build(std::vector<NodeSpec> specs,
             llvm::ArrayRef<std::pair<NodeId, NodeId>> edges, MergeFn merge) {
  Graph g;
  static std::atomic<uint64_t> nextId{1};
  g.uniqueId = nextId++;
  g.nodes = std::move(specs);
  g.merge = std::move(merge);
  unsigned n = g.nodes.size();
  g.sigTexts.reserve(n);
  for (const NodeSpec &node : g.nodes)
    g.sigTexts.push_back(node.sig.str());
  for (unsigned i = 0; i < n; ++i) {
    if (!g.idToIndex.try_emplace(g.nodes[i].id, i).second)
      return createStringError(inconvertibleErrorCode(),
                               "duplicate node id %lld",
                               (long long)g.nodes[i].id);
    if (g.nodes[i].mergeKey && !g.merge)
      return createStringError(inconvertibleErrorCode(),
                               "node %lld has a merge key but the graph has "
                               "no merge function",
                               (long long)g.nodes[i].id);
  }

  // Node edges.
  g.nodePreds.assign(n, {});
  g.nodeSuccs.assign(n, {});
  llvm::DenseSet<std::pair<unsigned, unsigned>> seen;
  for (auto [from, to] : edges) {
    auto a = g.indexOf(from), b = g.indexOf(to);
    if (!a || !b)
      return createStringError(inconvertibleErrorCode(),
                               "edge %lld -> %lld names an unknown node",
                               (long long)from, (long long)to);
    if (*a == *b)
      return createStringError(inconvertibleErrorCode(),
                               "self loop on node %lld", (long long)from);
    if (!seen.insert({*a, *b}).second)
      continue;
    g.nodeSuccs[*a].push_back(*b);
    g.nodePreds[*b].push_back(*a);
  }

  // Node topological order (Kahn, smallest index first).
  std::vector<unsigned> nodePos(n, ~0u);
  {
    std::vector<unsigned> indeg(n);
    std::priority_queue<unsigned, std::vector<unsigned>, std::greater<>> ready;
    for (unsigned i = 0; i < n; ++i)
      if (!(indeg[i] = g.nodePreds[i].size()))
        ready.push(i);
    unsigned pos = 0;
    while (!ready.empty()) {
      unsigned v = ready.top();
      ready.pop();
      nodePos[v] = pos++;
      for (unsigned w : g.nodeSuccs[v])
        if (--indeg[w] == 0)
          ready.push(w);
    }
    if (pos != n)
      return createStringError(inconvertibleErrorCode(),
                               "the node graph has a cycle");
  }

  // Units (provisional numbering by first appearance).
  std::vector<unsigned> provUnit(n);
  std::vector<Unit> prov;
  {
    llvm::DenseMap<int64_t, unsigned> keyToUnit;
    for (unsigned i = 0; i < n; ++i) {
      const NodeSpec &ns = g.nodes[i];
      unsigned u;
      if (ns.unit) {
        auto [it, inserted] = keyToUnit.try_emplace(*ns.unit, prov.size());
        if (inserted) {
          prov.emplace_back();
          prov.back().key = ns.unit;
          prov.back().partHint = ns.partHint;
          prov.back().blockHint = ns.blockHint;
        } else if (prov[it->second].partHint != ns.partHint ||
                   prov[it->second].blockHint != ns.blockHint) {
          return createStringError(
              inconvertibleErrorCode(),
              "nodes of unit %lld have different part or block hints",
              (long long)*ns.unit);
        }
        u = it->second;
      } else {
        u = prov.size();
        prov.emplace_back();
        prov.back().partHint = ns.partHint;
        prov.back().blockHint = ns.blockHint;
      }
      prov[u].nodes.push_back(i);
      provUnit[i] = u;
    }
  }
  unsigned numUnits = prov.size();
  std::vector<llvm::SmallVector<unsigned, 4>> uSuccs(numUnits), uPreds(numUnits);
  {
    llvm::DenseSet<std::pair<unsigned, unsigned>> useen;
    for (unsigned a = 0; a < n; ++a)
      for (unsigned b : g.nodeSuccs[a]) {
        unsigned ua = provUnit[a], ub = provUnit[b];
        if (ua != ub && useen.insert({ua, ub}).second) {
          uSuccs[ua].push_back(ub);
          uPreds[ub].push_back(ua);
        }
      }
  }
  // Unit topological order, ties by first node index.
  std::vector<unsigned> unitOrder;
  {
    std::vector<unsigned> indeg(numUnits);
    using Item = std::pair<unsigned, unsigned>; // (first node, unit)
    std::priority_queue<Item, std::vector<Item>, std::greater<>> ready;
    for (unsigned u = 0; u < numUnits; ++u)
      if (!(indeg[u] = uPreds[u].size()))
        ready.push({prov[u].nodes.front(), u});
    while (!ready.empty()) {
      unsigned u = ready.top().second;
      ready.pop();
      unitOrder.push_back(u);
      for (unsigned w : uSuccs[u])
        if (--indeg[w] == 0)
          ready.push({prov[w].nodes.front(), w});
    }
    if (unitOrder.size() != numUnits)
      return createStringError(
          inconvertibleErrorCode(),
          "the unit graph has a cycle (a unit's nodes are connected through "
          "a node outside the unit)");
  }
  std::vector<unsigned> newIndex(numUnits);
  for (unsigned i = 0; i < numUnits; ++i)
    newIndex[unitOrder[i]] = i;
  g.units.resize(numUnits);
  g.nodeUnit.assign(n, 0);
  for (unsigned i = 0; i < numUnits; ++i) {
    Unit &dst = g.units[i];
    Unit &src = prov[unitOrder[i]];
    dst.key = src.key;
    dst.partHint = src.partHint;
    dst.blockHint = src.blockHint;
    dst.nodes = src.nodes;
    llvm::sort(dst.nodes,
               [&](unsigned a, unsigned b) { return nodePos[a] < nodePos[b]; });
    for (unsigned p : uPreds[unitOrder[i]])
      dst.preds.push_back(newIndex[p]);
    for (unsigned s : uSuccs[unitOrder[i]])
      dst.succs.push_back(newIndex[s]);
    llvm::sort(dst.preds);
    llvm::sort(dst.succs);
    for (unsigned v : dst.nodes) {
      g.nodeUnit[v] = i;
      g.topo.push_back(v);
    }
  }
  return std::move(g);
}

void Graph::print(llvm::raw_ostream &os) const {
  os << "graph: " << nodes.size() << " nodes, " << units.size() << " units\n";
  for (unsigned u = 0; u < units.size(); ++u) {
    os << "  unit " << u << ":";
    for (unsigned v : units[u].nodes) {
      os << " " << nodes[v].id;
      if (!nodes[v].name.empty())
        os << "(" << nodes[v].name << ")";
    }
    os << " <-";
    for (unsigned p : units[u].preds)
      os << " " << p;
    os << "\n";
  }
}
