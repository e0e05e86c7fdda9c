//===- TestUtil.h - Random DAGs and an independent schedule oracle ---------===//
//
// The oracle works on the test's own description of the DAG (adjacency
// matrix over units, plain ints), never on the library's bitsets or ending
// enumeration, and enumerates schedules *forward* (next stage = any set of
// remaining units whose predecessors are done or inside the set), checking
// every rule by brute force.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_UNITTESTS_SCHEDULER_TESTUTIL_H
#define IOS_UNITTESTS_SCHEDULER_TESTUTIL_H

#include "ios/Scheduler/Scheduler.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace ios::sched::testutil {

/// A random unit DAG plus the node-level data the library needs.
struct RandomDag {
  unsigned n = 0;                       ///< units
  std::vector<std::vector<bool>> edge;  ///< edge[i][j]: unit i -> unit j
  std::vector<unsigned> unitSize;       ///< nodes per unit (1 or 2)
  // Merge data of single-node units (brute-force rules, independent of
  // checkMerge): conv?, input producer unit (-1 external) or -2 = none,
  // stride, activation, groups.
  std::vector<bool> isConv;
  std::vector<int> inputOf;
  std::vector<int> stride;
  std::vector<int> act;
  std::vector<int> groups;
  // Node ids of each unit, in order.
  std::vector<std::vector<NodeId>> nodesOf;
  std::map<NodeId, unsigned> unitOfNode;

  std::vector<NodeSpec> specs;
  std::vector<std::pair<NodeId, NodeId>> edges;

  unsigned predMask(unsigned u) const {
    unsigned m = 0;
    for (unsigned p = 0; p < n; ++p)
      if (edge[p][u])
        m |= 1u << p;
    return m;
  }
};

/// Units 0..n-1 in topological order; edges i->j (i<j) with probability p.
/// Some units have two nodes. Node signatures are unique (attr "uid"), so
/// the canonical cost cache never conflates two different stages.
inline RandomDag makeRandomDag(std::mt19937 &rng, unsigned n, double p,
                               bool allowMultiNodeUnits = true) {
  RandomDag d;
  d.n = n;
  d.edge.assign(n, std::vector<bool>(n, false));
  std::uniform_real_distribution<double> uni(0, 1);
  for (unsigned i = 0; i < n; ++i)
    for (unsigned j = i + 1; j < n; ++j)
      d.edge[i][j] = uni(rng) < p;
  d.unitSize.assign(n, 1);
  d.isConv.assign(n, false);
  d.inputOf.assign(n, -2);
  d.stride.assign(n, 1);
  d.act.assign(n, 0);
  d.groups.assign(n, 1);
  d.nodesOf.resize(n);
  static int64_t uid = 0;
  NodeId next = 100; // ids unrelated to unit numbers
  for (unsigned u = 0; u < n; ++u) {
    unsigned preds = 0;
    int onlyPred = -1;
    for (unsigned q = 0; q < u; ++q)
      if (d.edge[q][u]) {
        ++preds;
        onlyPred = int(q);
      }
    if (allowMultiNodeUnits && uni(rng) < 0.2)
      d.unitSize[u] = 2;
    if (d.unitSize[u] == 1 && preds <= 1 && uni(rng) < 0.75) {
      d.isConv[u] = true;
      d.inputOf[u] = preds == 0 ? -1 : onlyPred;
      d.stride[u] = uni(rng) < 0.15 ? 2 : 1;
      d.act[u] = uni(rng) < 0.15 ? 1 : 0;
      d.groups[u] = uni(rng) < 0.1 ? 2 : 1;
    }
    for (unsigned k = 0; k < d.unitSize[u]; ++k) {
      NodeSpec ns;
      ns.id = next;
      next += 7;
      OpSignature sig(d.isConv[u] ? "conv" : (k ? "relu" : "add"));
      sig.set("uid", ++uid);
      if (d.isConv[u]) {
        sig.set("stride", {d.stride[u], d.stride[u]});
        sig.set("act", d.act[u] ? "identity" : "relu");
        sig.set("groups", d.groups[u]);
        sig.inputShapes = {{16, 8, 8}};
        int64_t o = d.stride[u] == 2 ? 4 : 8;
        sig.outputShape = {16, o, o};
      }
      ns.sig = sig;
      if (d.unitSize[u] == 2)
        ns.unit = u;
      d.nodesOf[u].push_back(ns.id);
      d.unitOfNode[ns.id] = u;
      d.specs.push_back(ns);
    }
    if (d.unitSize[u] == 2)
      d.edges.push_back({d.nodesOf[u][0], d.nodesOf[u][1]});
  }
  // Inputs (needs producer node ids) and edges between units: from the last
  // node of the producer unit to the first node of the consumer unit.
  for (unsigned u = 0; u < n; ++u) {
    if (d.isConv[u]) {
      NodeId producer =
          d.inputOf[u] < 0 ? -1 : d.nodesOf[d.inputOf[u]].back();
      // The merge rule the oracle checks by brute force, as a key.
      for (NodeSpec &ns : d.specs)
        if (ns.id == d.nodesOf[u][0] && d.groups[u] == 1)
          ns.mergeKey = "in=" + std::to_string(producer) +
                        ";s=" + std::to_string(d.stride[u]) +
                        ";a=" + std::to_string(d.act[u]);
    }
    for (unsigned v = u + 1; v < n; ++v)
      if (d.edge[u][v])
        d.edges.push_back({d.nodesOf[u].back(), d.nodesOf[v].front()});
  }
  return d;
}

/// The merged op of a random DAG's merge stage: costs never look at it, so
/// it is just the first member's signature.
inline llvm::Expected<OpSignature> firstSignature(const Graph &g,
                                                  llvm::ArrayRef<unsigned> idxs) {
  return g.node(idxs.front()).sig;
}

inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Integer-valued random stage cost of (strategy, set of units): sums are
/// exact in double, so optima compare with ==.
inline double randomStageCost(uint64_t seed, bool merge, unsigned mask,
                              unsigned size) {
  uint64_t h = mix64(seed ^ mix64(mask * 2 + (merge ? 1 : 0)));
  return double(1 + h % (12 * size));
}

/// Stage costs that obey the bound-pruning assumptions (docs/Scheduler.md,
/// "Bound pruning"), on the test's own view of the DAG: a unit has a random
/// integer weight, a group costs the sum of its units' weights (so a group
/// is never faster than a part of it), and a concurrent stage of several
/// groups costs
///   max + join + alpha * (sum - max) + sum over its units of bonus(unit)
/// over its groups' costs, which never drops below its slowest group, nor
/// when a group is removed or shrinks (alpha in [0, 1], bonus >= 0). Merge
/// stages (no assumption) cost anything. All values are multiples of 1/4:
/// exact sums.
struct BoundedCost {
  const RandomDag &d;
  uint64_t seed;
  double alpha = 0.5, join = 1;
  /// Weakly connected components of a unit mask (the groups).
  std::vector<unsigned> groups(unsigned mask) const {
    std::vector<unsigned> out;
    unsigned rem = mask;
    while (rem) {
      unsigned comp = rem & -rem, grown = 0;
      while (grown != comp) {
        grown = comp;
        for (unsigned a = 0; a < d.n; ++a)
          for (unsigned b = 0; b < d.n; ++b)
            if ((comp >> a & 1) && (rem >> b & 1) &&
                (d.edge[a][b] || d.edge[b][a]))
              comp |= 1u << b;
      }
      out.push_back(comp);
      rem &= ~comp;
    }
    return out;
  }
  double weight(unsigned u) const { return double(1 + mix64(seed ^ u) % 9); }
  /// What unit u adds to a multi-group stage beyond the bound.
  double bonus(unsigned u) const { return double(mix64(seed * 31 + u) % 3); }
  double groupCost(unsigned g) const {
    double c = 0;
    for (unsigned u = 0; u < d.n; ++u)
      if (g >> u & 1)
        c += weight(u);
    return c;
  }
  double operator()(bool merge, unsigned mask) const {
    if (merge)
      return randomStageCost(seed, true, mask, __builtin_popcount(mask));
    std::vector<unsigned> gs = groups(mask);
    if (gs.size() == 1)
      return groupCost(gs[0]);
    double mx = 0, sum = 0, bonus = 0;
    for (unsigned g : gs) {
      double c = groupCost(g);
      mx = std::max(mx, c);
      sum += c;
      for (unsigned u = 0; u < d.n; ++u)
        if (g >> u & 1)
          bonus += this->bonus(u);
    }
    return mx + join + alpha * (sum - mx) + bonus;
  }
};

/// Expects two schedules to have the same stages (groups and strategies,
/// in order): the first minimum in enumeration order wins in either search.
inline void expectSameStages(const Schedule &a, const Schedule &b) {
  ASSERT_EQ(a.stages.size(), b.stages.size());
  for (size_t i = 0; i < a.stages.size(); ++i) {
    EXPECT_EQ(a.stages[i].groups, b.stages[i].groups) << "stage " << i;
    EXPECT_EQ(a.stages[i].strategy, b.stages[i].strategy) << "stage " << i;
  }
}

/// The test's cost callback: maps a Stage back to units via node ids.
struct RandomCost {
  const RandomDag &d;
  uint64_t seed;
  unsigned calls = 0;
  unsigned stageMask(const Stage &st) const {
    unsigned m = 0;
    for (const auto &grp : st.groups)
      for (NodeId id : grp)
        m |= 1u << d.unitOfNode.at(id);
    return m;
  }
  /// Bound-respecting costs instead of independent random ones.
  const BoundedCost *bounded = nullptr;
  double operator()(const Stage &st) {
    ++calls;
    unsigned m = stageMask(st);
    bool merge = st.strategy == Strategy::Merge && st.groups.size() > 1;
    if (bounded)
      return (*bounded)(merge, m);
    return randomStageCost(seed, merge, m, __builtin_popcount(m));
  }
};

struct OracleConfig {
  bool concurrent = true, merge = true, iosMode = true;
  unsigned r = 3, s = 8;
};

/// Brute-force legality of a next stage T given done set D (unit masks).
class Oracle {
public:
  Oracle(const RandomDag &d, OracleConfig cfg, uint64_t seed,
         const BoundedCost *bounded = nullptr)
      : d(d), cfg(cfg), seed(seed), bounded(bounded) {
    for (unsigned u = 0; u < d.n; ++u)
      preds.push_back(d.predMask(u));
  }

  bool ready(unsigned D, unsigned T) const {
    for (unsigned u = 0; u < d.n; ++u)
      if (T >> u & 1)
        if ((preds[u] & ~(D | T)) != 0)
          return false;
    return true;
  }

  /// Weakly connected components of T (unit masks), by union-find.
  std::vector<unsigned> components(unsigned T) const {
    std::vector<int> parent(d.n);
    for (unsigned i = 0; i < d.n; ++i)
      parent[i] = int(i);
    std::function<int(int)> find = [&](int x) {
      return parent[x] == x ? x : parent[x] = find(parent[x]);
    };
    for (unsigned a = 0; a < d.n; ++a)
      for (unsigned b = 0; b < d.n; ++b)
        if ((T >> a & 1) && (T >> b & 1) && d.edge[a][b])
          parent[find(int(a))] = find(int(b));
    std::map<int, unsigned> comp;
    for (unsigned a = 0; a < d.n; ++a)
      if (T >> a & 1)
        comp[find(int(a))] |= 1u << a;
    std::vector<unsigned> out;
    for (auto &kv : comp)
      out.push_back(kv.second);
    return out;
  }

  bool concurrentLegal(unsigned T) const {
    auto comps = components(T);
    if (comps.size() > cfg.s)
      return false;
    for (unsigned c : comps) {
      if (unsigned(__builtin_popcount(c)) > cfg.r)
        return false;
      if (cfg.iosMode) {
        unsigned sources = 0;
        for (unsigned u = 0; u < d.n; ++u)
          if ((c >> u & 1) && (preds[u] & c) == 0)
            ++sources;
        if (sources != 1)
          return false;
      }
    }
    return true;
  }

  bool mergeLegal(unsigned T) const {
    if (__builtin_popcount(T) < 2)
      return false;
    int first = -1;
    for (unsigned u = 0; u < d.n; ++u) {
      if (!(T >> u & 1))
        continue;
      if (d.unitSize[u] != 1 || !d.isConv[u] || d.groups[u] != 1)
        return false;
      if ((preds[u] & T) != 0)
        return false;
      if (first < 0) {
        first = int(u);
        continue;
      }
      if (d.inputOf[u] != d.inputOf[first] ||
          d.stride[u] != d.stride[first] || d.act[u] != d.act[first])
        return false;
    }
    return true;
  }

  /// All (cost) options for the next stage T.
  template <typename Fn> void forEachStage(unsigned D, Fn fn) const {
    unsigned all = (1u << d.n) - 1, R = all & ~D;
    for (unsigned T = R; T; T = (T - 1) & R) {
      if (!ready(D, T))
        continue;
      unsigned size = __builtin_popcount(T);
      bool single = size == 1;
      if (single || (cfg.concurrent && concurrentLegal(T)))
        fn(T, cost(false, T, size));
      if (cfg.merge && mergeLegal(T))
        fn(T, cost(true, T, size));
    }
  }

  /// Exhaustive over all stage sequences (no memo). Also counts schedules.
  double exhaustive(unsigned D = 0, double acc = 0) {
    if (D == (1u << d.n) - 1) {
      ++numSchedules;
      return acc;
    }
    double best = std::numeric_limits<double>::infinity();
    forEachStage(D, [&](unsigned T, double c) {
      best = std::min(best, exhaustive(D | T, acc + c));
    });
    return best;
  }

  /// Forward DP over done sets (memoized), for larger n.
  double memoized(unsigned D = 0) {
    if (D == (1u << d.n) - 1)
      return 0;
    auto it = memo.find(D);
    if (it != memo.end())
      return it->second;
    double best = std::numeric_limits<double>::infinity();
    forEachStage(D, [&](unsigned T, double c) {
      best = std::min(best, c + memoized(D | T));
    });
    memo[D] = best;
    return best;
  }

  uint64_t numSchedules = 0;

private:
  double cost(bool merge, unsigned T, unsigned size) const {
    return bounded ? (*bounded)(merge, T)
                   : randomStageCost(seed, merge, T, size);
  }
  const RandomDag &d;
  OracleConfig cfg;
  uint64_t seed;
  const BoundedCost *bounded;
  std::vector<unsigned> preds;
  std::map<unsigned, double> memo;
};

/// Number of non-empty down-closed subsets of the unit DAG, by brute force.
inline uint64_t bruteForceIdeals(const RandomDag &d) {
  uint64_t count = 0;
  for (unsigned S = 1; S < (1u << d.n); ++S) {
    bool ok = true;
    for (unsigned u = 0; u < d.n && ok; ++u)
      if (S >> u & 1)
        ok = (d.predMask(u) & ~S) == 0;
    count += ok;
  }
  return count;
}

} // namespace ios::sched::testutil

#endif // IOS_UNITTESTS_SCHEDULER_TESTUTIL_H
