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
  case MergeRejection::NotConv:
    return "not a convolution";
  case MergeRejection::GroupedConv:
    return "grouped convolution (groups != 1)";
  case MergeRejection::NoSingleInput:
    return "input is not a single value";
  case MergeRejection::DifferentInput:
    return "different input value";
  case MergeRejection::DifferentStride:
    return "different stride";
  case MergeRejection::DifferentInputSpatial:
    return "different input spatial size";
  case MergeRejection::DifferentOutputSpatial:
    return "different output spatial size";
  case MergeRejection::DifferentActivation:
    return "different activation";
  case MergeRejection::DifferentBatch:
    return "different batch";
  case MergeRejection::Dependent:
    return "the convolutions depend on each other";
  }
  return "?";
}

namespace {
llvm::SmallVector<int64_t, 2> spatial(llvm::ArrayRef<int64_t> shape) {
  if (shape.size() < 2)
    return llvm::SmallVector<int64_t, 2>(shape.begin(), shape.end());
  return {shape[shape.size() - 2], shape[shape.size() - 1]};
}
llvm::SmallVector<int64_t, 2> stride(const OpSignature &s) {
  if (auto v = s.getInts("stride"))
    return llvm::SmallVector<int64_t, 2>(v->begin(), v->end());
  if (auto v = s.getInt("stride"))
    return {*v, *v};
  return {1, 1};
}
int64_t groups(const OpSignature &s) { return s.getInt("groups").value_or(1); }
std::string act(const OpSignature &s) {
  return s.getStr("act").value_or("identity").str();
}
llvm::SmallVector<int64_t, 2> inSpatial(const OpSignature &s) {
  if (s.inputShapes.empty())
    return {};
  return spatial(s.inputShapes[0]);
}
} // namespace

MergeRejection ios::sched::checkMerge(const Graph &g,
                                      llvm::ArrayRef<unsigned> idxs) {
  if (idxs.empty())
    return MergeRejection::Empty;
  if (idxs.size() == 1)
    return MergeRejection::None;
  for (unsigned v : idxs) {
    const NodeSpec &n = g.node(v);
    if (g.unit(g.unitOf(v)).nodes.size() != 1)
      return MergeRejection::MultiNodeUnit;
    if (n.sig.kind != "conv")
      return MergeRejection::NotConv;
    if (groups(n.sig) != 1)
      return MergeRejection::GroupedConv;
    if (!n.input)
      return MergeRejection::NoSingleInput;
  }
  const NodeSpec &f = g.node(idxs[0]);
  for (unsigned v : idxs.drop_front()) {
    const NodeSpec &n = g.node(v);
    if (*n.input != *f.input)
      return MergeRejection::DifferentInput;
    if (stride(n.sig) != stride(f.sig))
      return MergeRejection::DifferentStride;
    if (inSpatial(n.sig) != inSpatial(f.sig))
      return MergeRejection::DifferentInputSpatial;
    if (spatial(n.sig.outputShape) != spatial(f.sig.outputShape))
      return MergeRejection::DifferentOutputSpatial;
    if (act(n.sig) != act(f.sig))
      return MergeRejection::DifferentActivation;
    if (n.sig.batch != f.sig.batch)
      return MergeRejection::DifferentBatch;
  }
  for (unsigned a : idxs)
    for (unsigned s : g.succs(a))
      if (llvm::is_contained(idxs, s))
        return MergeRejection::Dependent;
  return MergeRejection::None;
}

std::string ios::sched::mergeClassKey(const Graph &g, unsigned v) {
  const NodeSpec &n = g.node(v);
  if (g.unit(g.unitOf(v)).nodes.size() != 1 || n.sig.kind != "conv" ||
      groups(n.sig) != 1 || !n.input)
    return "";
  std::string key;
  llvm::raw_string_ostream os(key);
  auto ints = [&](llvm::ArrayRef<int64_t> a) {
    os << '[';
    for (int64_t x : a)
      os << x << ',';
    os << ']';
  };
  os << n.input->producer << ':' << n.input->begin << ':' << n.input->end
     << ";s";
  ints(stride(n.sig));
  os << ";i";
  ints(inSpatial(n.sig));
  os << ";o";
  ints(spatial(n.sig.outputShape));
  os << ";a=" << act(n.sig) << ";b=" << n.sig.batch;
  return key;
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
