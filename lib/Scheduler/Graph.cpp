//===- Graph.cpp - Scheduler graph, units, blocks, parts ------------------===//

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/UnitSet.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>
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
  g.nodes = std::move(specs);
  g.merge = std::move(merge);
  unsigned n = g.nodes.size();
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

static void chunk(llvm::ArrayRef<unsigned> units, unsigned size,
                  std::vector<Part> &out) {
  for (size_t i = 0; i < units.size(); i += size) {
    Part p;
    size_t e = std::min(units.size(), i + size);
    p.units.append(units.begin() + i, units.begin() + e);
    out.push_back(std::move(p));
  }
}

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

  // Parts.
  for (auto &bu : blocks) {
    Block block;
    block.units = std::move(bu);
    bool hinted = false;
    if (opts.usePartHints)
      for (unsigned u : block.units)
        hinted |= g.unit(u).partHint.has_value();
    if (!hinted) {
      chunk(block.units, opts.maxPartSize, block.parts);
      d.blocks.push_back(std::move(block));
      continue;
    }
    auto groups = groupByHint(
        g, block.units,
        [&](unsigned u) { return g.unit(u).partHint; }, "part");
    if (!groups)
      return groups.takeError();
    for (auto &members : *groups)
      chunk(members, opts.maxPartSize, block.parts);
    d.blocks.push_back(std::move(block));
  }
  return d;
}
