//===- Schedule.cpp - Stages, merge legality, verification ----------------===//

#include "ios/Scheduler/Schedule.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace ios::sched;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

llvm::StringRef ios::sched::toString(Strategy s) {
  return s == Strategy::Merge ? "merge" : "concurrent";
}

std::optional<Strategy> ios::sched::parseStrategy(llvm::StringRef s) {
  if (s == "merge")
    return Strategy::Merge;
  if (s == "concurrent")
    return Strategy::Concurrent;
  return std::nullopt;
}

size_t Stage::numNodes() const {
  size_t n = 0;
  for (const auto &grp : groups)
    n += grp.size();
  return n;
}

void ios::sched::print(llvm::raw_ostream &os, const Graph &g,
                       const Stage &stage) {
  os << toString(stage.strategy) << " [";
  for (size_t i = 0; i < stage.groups.size(); ++i) {
    os << (i ? " | " : "");
    for (size_t j = 0; j < stage.groups[i].size(); ++j) {
      NodeId id = stage.groups[i][j];
      os << (j ? " " : "");
      auto idx = g.indexOf(id);
      if (idx && !g.node(*idx).name.empty())
        os << g.node(*idx).name;
      else
        os << id;
    }
  }
  os << "]";
}

void ios::sched::print(llvm::raw_ostream &os, const Graph &g,
                       const Schedule &schedule) {
  os << "schedule: " << schedule.stages.size()
     << " stages, cost " << llvm::formatv("{0:f4}", schedule.cost) << "\n";
  for (size_t i = 0; i < schedule.stages.size(); ++i) {
    const Stage &st = schedule.stages[i];
    os << "  " << i << " (block " << st.block << ", part " << st.part
       << "): ";
    print(os, g, st);
    os << "\n";
  }
}

llvm::json::Value ios::sched::toJSON(const Stage &stage) {
  llvm::json::Array groups;
  for (const auto &grp : stage.groups) {
    llvm::json::Array a;
    for (NodeId id : grp)
      a.push_back(id);
    groups.push_back(std::move(a));
  }
  return llvm::json::Object{{"strategy", toString(stage.strategy)},
                            {"block", stage.block},
                            {"part", stage.part},
                            {"groups", std::move(groups)}};
}

llvm::json::Value ios::sched::toJSON(const Schedule &schedule) {
  llvm::json::Array stages;
  for (const Stage &st : schedule.stages)
    stages.push_back(toJSON(st));
  return llvm::json::Object{{"cost", schedule.cost},
                            {"stages", std::move(stages)}};
}

//===----------------------------------------------------------------------===//
// Merge legality
//===----------------------------------------------------------------------===//

llvm::StringRef ios::sched::toString(MergeRejection r) {
  switch (r) {
  case MergeRejection::None:
    return "mergeable";
  case MergeRejection::Empty:
    return "empty set";
  case MergeRejection::MultiNodeUnit:
    return "node belongs to a multi-node unit";
  case MergeRejection::NotMergeable:
    return "node cannot be merged";
  case MergeRejection::DifferentKey:
    return "nodes do not merge exactly (different input, stride, activation, "
           "kernel centre or shape)";
  case MergeRejection::Dependent:
    return "the nodes depend on each other";
  }
  return "?";
}

MergeRejection ios::sched::checkMerge(const Graph &g,
                                      llvm::ArrayRef<unsigned> idxs) {
  if (idxs.empty())
    return MergeRejection::Empty;
  if (idxs.size() == 1)
    return MergeRejection::None;
  for (unsigned v : idxs) {
    if (g.unit(g.unitOf(v)).nodes.size() != 1)
      return MergeRejection::MultiNodeUnit;
    if (!g.node(v).mergeKey)
      return MergeRejection::NotMergeable;
  }
  const std::string &key = *g.node(idxs[0]).mergeKey;
  for (unsigned v : idxs.drop_front())
    if (*g.node(v).mergeKey != key)
      return MergeRejection::DifferentKey;
  for (unsigned a : idxs)
    for (unsigned s : g.succs(a))
      if (llvm::is_contained(idxs, s))
        return MergeRejection::Dependent;
  return MergeRejection::None;
}

llvm::StringRef ios::sched::mergeClassKey(const Graph &g, unsigned v) {
  const NodeSpec &n = g.node(v);
  if (g.unit(g.unitOf(v)).nodes.size() != 1 || !n.mergeKey)
    return "";
  return *n.mergeKey;
}

//===----------------------------------------------------------------------===//
// Verification
//===----------------------------------------------------------------------===//

llvm::Error ios::sched::verifySchedule(const Graph &g,
                                       const Schedule &schedule,
                                       const VerifyOptions &opts) {
  struct Where {
    unsigned stage, group, pos;
  };
  std::vector<std::optional<Where>> where(g.numNodes());
  for (unsigned si = 0; si < schedule.stages.size(); ++si) {
    const Stage &st = schedule.stages[si];
    if (st.groups.empty())
      return createStringError(inconvertibleErrorCode(),
                               "stage %u is empty", si);
    for (unsigned gi = 0; gi < st.groups.size(); ++gi) {
      if (st.groups[gi].empty())
        return createStringError(inconvertibleErrorCode(),
                                 "stage %u group %u is empty", si, gi);
      for (unsigned p = 0; p < st.groups[gi].size(); ++p) {
        NodeId id = st.groups[gi][p];
        auto idx = g.indexOf(id);
        if (!idx)
          return createStringError(inconvertibleErrorCode(),
                                   "stage %u names unknown node %lld", si,
                                   (long long)id);
        if (where[*idx])
          return createStringError(inconvertibleErrorCode(),
                                   "node %lld scheduled twice", (long long)id);
        where[*idx] = Where{si, gi, p};
      }
    }
  }
  for (unsigned v = 0; v < g.numNodes(); ++v)
    if (!where[v])
      return createStringError(inconvertibleErrorCode(),
                               "node %lld is not scheduled",
                               (long long)g.node(v).id);
  // Units whole.
  for (unsigned u = 0; u < g.numUnits(); ++u) {
    const Unit &unit = g.unit(u);
    Where w0 = *where[unit.nodes[0]];
    for (unsigned v : unit.nodes)
      if (where[v]->stage != w0.stage || where[v]->group != w0.group)
        return createStringError(inconvertibleErrorCode(),
                                 "unit %u is split across groups", u);
  }
  // Dependencies.
  for (unsigned v = 0; v < g.numNodes(); ++v)
    for (unsigned p : g.preds(v)) {
      Where wv = *where[v], wp = *where[p];
      bool ok = wp.stage < wv.stage ||
                (wp.stage == wv.stage && wp.group == wv.group &&
                 wp.pos < wv.pos);
      if (!ok)
        return createStringError(
            inconvertibleErrorCode(),
            "dependency %lld -> %lld violated (stage %u group %u -> stage %u "
            "group %u)",
            (long long)g.node(p).id, (long long)g.node(v).id, wp.stage,
            wp.group, wv.stage, wv.group);
    }
  // Per-stage rules.
  for (unsigned si = 0; si < schedule.stages.size(); ++si) {
    const Stage &st = schedule.stages[si];
    if (st.strategy == Strategy::Merge) {
      if (st.groups.size() < 2)
        return createStringError(inconvertibleErrorCode(),
                                 "merge stage %u has fewer than 2 groups", si);
      llvm::SmallVector<unsigned> idxs;
      for (const auto &grp : st.groups) {
        if (grp.size() != 1)
          return createStringError(inconvertibleErrorCode(),
                                   "merge stage %u has a group of %zu nodes",
                                   si, grp.size());
        idxs.push_back(*g.indexOf(grp[0]));
      }
      MergeRejection r = checkMerge(g, idxs);
      if (r != MergeRejection::None)
        return createStringError(inconvertibleErrorCode(),
                                 "merge stage %u is illegal: %s", si,
                                 toString(r).str().c_str());
      continue;
    }
    if (opts.maxNumGroups && st.groups.size() > opts.maxNumGroups)
      return createStringError(inconvertibleErrorCode(),
                               "stage %u has %zu groups > s = %u", si,
                               st.groups.size(), opts.maxNumGroups);
    for (unsigned gi = 0; gi < st.groups.size(); ++gi) {
      llvm::SmallVector<unsigned, 8> units;
      for (NodeId id : st.groups[gi]) {
        unsigned u = g.unitOf(*g.indexOf(id));
        if (!llvm::is_contained(units, u))
          units.push_back(u);
      }
      if (opts.maxGroupSize && units.size() > opts.maxGroupSize)
        return createStringError(inconvertibleErrorCode(),
                                 "stage %u group %u has %zu units > r = %u",
                                 si, gi, units.size(), opts.maxGroupSize);
      if (opts.requireSingleSourceGroups) {
        unsigned sources = 0;
        for (unsigned u : units) {
          bool hasPred = false;
          for (unsigned p : g.unit(u).preds)
            hasPred |= llvm::is_contained(units, p);
          sources += !hasPred;
        }
        if (sources != 1)
          return createStringError(
              inconvertibleErrorCode(),
              "stage %u group %u has %u source units (IOS groups have one)",
              si, gi, sources);
      }
    }
  }
  return llvm::Error::success();
}
