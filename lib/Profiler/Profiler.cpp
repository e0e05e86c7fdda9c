//===- Profiler.cpp - Profiler factory, stage descriptions, JSON ----------===//

#include "ios/Profiler/Profiler.h"

#include "ios/Profiler/AnalyticProfiler.h"
#include "ios/Profiler/DatabaseProfiler.h"
#include "ios/Profiler/ExecProfiler.h"
#include "ios/Profiler/TableProfiler.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

using namespace ios;
using namespace ios::prof;
using llvm::Expected;
using llvm::StringRef;

Profiler::~Profiler() = default;

llvm::Error Profiler::measureBatch(const sched::Graph &g,
                                  llvm::ArrayRef<sched::Stage> stages,
                                  std::vector<double> &out) {
  for (const sched::Stage &stage : stages) {
    Expected<double> ms = measure(g, stage);
    if (!ms)
      return ms.takeError();
    out.push_back(*ms);
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The registry
//===----------------------------------------------------------------------===//

namespace {
struct Entry {
  std::string name, help;
  ProfilerFactory factory;
};

Expected<std::unique_ptr<Profiler>> analytic(StringRef arg,
                                             const ProfilerOptions &opts) {
  if (!arg.empty())
    return llvm::createStringError(
        "profiler 'analytic' takes no argument; choose the GPU with "
        "device=NAME|FILE");
  Expected<DeviceSpec> device = DeviceSpec::get(opts.device);
  if (!device)
    return device.takeError();
  return std::make_unique<AnalyticProfiler>(std::move(*device));
}

Expected<std::unique_ptr<Profiler>> table(StringRef arg,
                                          const ProfilerOptions &) {
  if (arg.empty())
    return llvm::createStringError("profiler 'table:FILE' needs a file");
  return TableProfiler::load(arg);
}

/// exec:COMMAND, or with `parallel` exec-parallel:COMMAND: a server whose
/// answers do not depend on this machine's load, so parts are searched on
/// several threads while it answers (never the stage servers: they time
/// this machine).
ProfilerFactory exec(bool parallel) {
  return [parallel](StringRef arg, const ProfilerOptions &opts)
             -> Expected<std::unique_ptr<Profiler>> {
    if (arg.empty())
      return llvm::createStringError(
          llvm::formatv("profiler '{0}:COMMAND' needs a command",
                        parallel ? "exec-parallel" : "exec")
              .str());
    return ExecProfiler::start(arg, opts.execTimeoutSeconds, opts.device,
                               parallel ? opts.spec : "", "", opts.execBatch,
                               /*programs=*/false, parallel);
  };
}

/// Measured on the runtime by the stage server next to this tool: a
/// separate process, so the compiler never links a runtime backend and the
/// CUDA one can fail alone on a machine without a GPU.
ProfilerFactory stageServer(StringRef backend) {
  return [backend = backend.str()](StringRef arg, const ProfilerOptions &opts)
             -> Expected<std::unique_ptr<Profiler>> {
    std::string self = llvm::sys::fs::getMainExecutable(
        nullptr, reinterpret_cast<void *>(&createProfiler));
    llvm::SmallString<256> server(llvm::sys::path::parent_path(self));
    llvm::sys::path::append(server, "ios-stage-server-" + backend);
    if (!llvm::sys::fs::can_execute(server))
      return llvm::createStringError(
          llvm::formatv("profiler '{0}' needs '{1}', which was not built{2}",
                        backend, server,
                        backend == "cuda" ? " (no CUDA toolkit and cuDNN "
                                            "found at configure time)"
                                          : "")
              .str());
    std::string command = ("'" + server + "'").str();
    if (!arg.empty())
      command += " " + arg.str();
    // The CPU runtime is the device; a GPU's name is the user's to give.
    return ExecProfiler::start(command, opts.execTimeoutSeconds, opts.device,
                               opts.spec, backend == "cpu" ? "cpu" : "",
                               opts.execBatch, /*programs=*/true);
  };
}

Expected<std::unique_ptr<Profiler>> database(StringRef arg,
                                             const ProfilerOptions &opts) {
  if (arg.empty())
    return llvm::createStringError("profiler 'db:FILE' needs a file");
  std::unique_ptr<Profiler> recorder;
  if (!opts.record.empty()) {
    ProfilerOptions inner = opts;
    inner.spec = opts.record;
    inner.record.clear();
    if (StringRef(inner.spec).starts_with("db:"))
      return llvm::createStringError(
          "record=PROFILER cannot itself be a database");
    Expected<std::unique_ptr<Profiler>> r = createProfiler(inner);
    if (!r)
      return r.takeError();
    recorder = std::move(*r);
  }
  return DatabaseProfiler::open(arg, opts.device, std::move(recorder));
}

std::vector<Entry> &registry() {
  static std::vector<Entry> entries = {
      {"analytic", "a model of the GPU named by device=", analytic},
      {"table", "table:FILE, costs per op name and stage from JSON", table},
      {"exec", "exec:COMMAND, a process speaking JSON lines", exec(false)},
      {"exec-parallel",
       "exec-parallel:COMMAND, an exec: server whose answers do not depend "
       "on this machine's load: parts are searched on several threads",
       exec(true)},
      {"db", "db:FILE, a database of measured stages (record= fills it)",
       database},
      {"cpu", "measured on the CPU runtime (cpu[:ARGS])", stageServer("cpu")},
      {"cuda", "measured on the CUDA runtime (cuda[:ARGS])",
       stageServer("cuda")},
  };
  return entries;
}
} // namespace

void ios::prof::registerProfiler(StringRef name, StringRef help,
                                 ProfilerFactory factory) {
  for (Entry &e : registry())
    if (e.name == name) {
      e = {name.str(), help.str(), std::move(factory)};
      return;
    }
  registry().push_back({name.str(), help.str(), std::move(factory)});
}

std::vector<std::pair<std::string, std::string>>
ios::prof::registeredProfilers() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry &e : registry())
    out.push_back({e.name, e.help});
  return out;
}

Expected<std::unique_ptr<Profiler>>
ios::prof::createProfiler(const ProfilerOptions &opts) {
  auto [kind, arg] = StringRef(opts.spec).split(':');
  for (const Entry &e : registry())
    if (e.name == kind)
      return e.factory(arg, opts);
  std::string known;
  for (const Entry &e : registry())
    known += (known.empty() ? "" : ", ") + e.name;
  return llvm::createStringError(
      llvm::formatv("unknown profiler '{0}': expected one of {1}", opts.spec,
                    known)
          .str());
}

double ProfilerCost::getCost(const sched::Graph &g, const sched::Stage &stage) {
  ++calls;
  Expected<double> ms = profiler.measure(g, stage);
  if (!ms) {
    keepError(llvm::toString(ms.takeError()));
    return std::numeric_limits<double>::quiet_NaN();
  }
  return accept(g, stage, *ms);
}

void ProfilerCost::getCosts(const sched::Graph &g,
                            llvm::ArrayRef<sched::Stage> stages,
                            llvm::MutableArrayRef<double> out) {
  calls += stages.size();
  std::vector<double> ms;
  ms.reserve(stages.size());
  llvm::Error error = profiler.measureBatch(g, stages, ms);
  if (!error && ms.size() != stages.size())
    error = llvm::createStringError(
        llvm::formatv("profiler '{0}' gave {1} latencies for {2} stages",
                      profiler.describe(), ms.size(), stages.size())
            .str());
  // In order, as one at a time: the first problem is the one reported.
  size_t got = std::min(ms.size(), stages.size());
  for (size_t i = 0; i < got; ++i)
    out[i] = accept(g, stages[i], ms[i]);
  if (error) {
    keepError(llvm::toString(std::move(error)));
    std::fill(out.begin() + got, out.end(),
              std::numeric_limits<double>::quiet_NaN());
  }
}

double ProfilerCost::accept(const sched::Graph &g, const sched::Stage &stage,
                            double ms) {
  // Every profiler's answer passes here: one bound for all of them.
  if (!isValidLatency(ms)) {
    keepError(
        llvm::formatv("profiler '{0}' returned latency {1:e} ms for stage "
                      "{2}; a latency must be finite and in [0, {3:e0}] ms",
                      profiler.describe(), ms,
                      sched::canonicalStageSignature(g, stage), kMaxLatencyMs)
            .str());
    return std::numeric_limits<double>::quiet_NaN();
  }
  return ms;
}

llvm::Error ProfilerCost::takeError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    return llvm::Error::success();
  return llvm::createStringError(std::exchange(firstError, std::string()));
}

//===----------------------------------------------------------------------===//
// Stage descriptions
//===----------------------------------------------------------------------===//

Expected<sched::OpSignature>
ios::prof::mergedSignature(const sched::Graph &g, const sched::Stage &s) {
  if (s.strategy != sched::Strategy::Merge || s.groups.size() < 2)
    return llvm::createStringError("not a merge stage of two or more ops");
  llvm::SmallVector<unsigned> idxs;
  for (const auto &group : s.groups) {
    if (group.size() != 1)
      return llvm::createStringError("a merge group must hold one op");
    std::optional<unsigned> idx = g.indexOf(group.front());
    if (!idx)
      return llvm::createStringError(
          llvm::formatv("stage names unknown node {0}", group.front()).str());
    idxs.push_back(*idx);
  }
  return g.mergedSignature(idxs);
}

namespace {
/// A concurrent stage as node indices per group, in execution order, and
/// the producer -> consumer edges inside each group as (from, to)
/// positions: what describeStage and writeStageJSON share.
struct StageShape {
  std::vector<llvm::SmallVector<unsigned, 8>> groups;
  std::vector<std::vector<std::pair<unsigned, unsigned>>> edges;
};

llvm::Error shapeOf(const sched::Graph &g, const sched::Stage &stage,
                    StageShape &shape) {
  for (const auto &group : stage.groups) {
    llvm::SmallVector<unsigned, 8> nodes;
    std::vector<std::pair<unsigned, unsigned>> edges;
    llvm::SmallDenseMap<unsigned, unsigned, 8> position;
    for (sched::NodeId id : group) {
      std::optional<unsigned> idx = g.indexOf(id);
      if (!idx)
        return llvm::createStringError(
            llvm::formatv("stage names unknown node {0}", id).str());
      for (unsigned pred : g.preds(*idx))
        if (auto it = position.find(pred); it != position.end())
          edges.push_back({it->second, unsigned(nodes.size())});
      position[*idx] = nodes.size();
      nodes.push_back(*idx);
    }
    shape.groups.push_back(std::move(nodes));
    shape.edges.push_back(std::move(edges));
  }
  return llvm::Error::success();
}

bool isMergeOfSeveral(const sched::Stage &stage) {
  return stage.strategy == sched::Strategy::Merge && stage.groups.size() > 1;
}
} // namespace

Expected<StageDescription> ios::prof::describeStage(const sched::Graph &g,
                                                    const sched::Stage &stage) {
  StageDescription desc;
  desc.strategy = stage.strategy;
  if (isMergeOfSeveral(stage)) {
    Expected<sched::OpSignature> merged = mergedSignature(g, stage);
    if (!merged)
      return merged.takeError();
    desc.batch = merged->batch;
    desc.groups.push_back({std::move(*merged)});
    for (const auto &group : stage.groups)
      desc.members.push_back(g.node(*g.indexOf(group.front())).sig);
    desc.edges.emplace_back();
    return desc;
  }
  desc.strategy = sched::Strategy::Concurrent;
  StageShape shape;
  if (llvm::Error e = shapeOf(g, stage, shape))
    return std::move(e);
  for (const auto &group : shape.groups) {
    std::vector<sched::OpSignature> sigs;
    for (unsigned v : group) {
      sigs.push_back(g.node(v).sig);
      desc.batch = sigs.back().batch;
    }
    desc.groups.push_back(std::move(sigs));
  }
  desc.edges = std::move(shape.edges);
  return desc;
}

llvm::Error ios::prof::writeStageJSON(llvm::raw_ostream &os,
                                      const sched::Graph &g,
                                      const sched::Stage &stage,
                                      OpTexts &texts) {
  if (isMergeOfSeveral(stage)) {
    Expected<StageDescription> desc = describeStage(g, stage);
    if (!desc)
      return desc.takeError();
    os << toJSON(*desc);
    return llvm::Error::success();
  }
  StageShape shape;
  if (llvm::Error e = shapeOf(g, stage, shape))
    return e;
  // toJSON(StageDescription)'s object, its keys in the order llvm::json
  // prints them.
  int64_t batch = 1;
  for (const auto &group : shape.groups)
    for (unsigned v : group)
      batch = g.node(v).sig.batch;
  os << "{\"batch\":" << batch << ",\"edges\":[";
  for (auto [gi, edges] : llvm::enumerate(shape.edges)) {
    os << (gi ? ",[" : "[");
    for (auto [ei, e] : llvm::enumerate(edges))
      os << (ei ? ",[" : "[") << e.first << "," << e.second << "]";
    os << "]";
  }
  os << "],\"groups\":[";
  for (auto [gi, group] : llvm::enumerate(shape.groups)) {
    os << (gi ? ",[" : "[");
    for (auto [i, v] : llvm::enumerate(group)) {
      auto [it, fresh] = texts.ops.try_emplace(g.signatureText(v));
      OpTexts::Op &op = it->second;
      if (fresh)
        llvm::raw_string_ostream(op.text) << toJSON(g.node(v).sig);
      os << (i ? "," : "");
      if (!texts.refs) {
        os << op.text;
        continue;
      }
      if (op.index < 0) {
        op.index = texts.sent++;
        if (!texts.fresh.empty())
          texts.fresh += ',';
        texts.fresh += op.text;
      }
      os << op.index;
    }
    os << "]";
  }
  os << "],\"strategy\":\"" << sched::toString(sched::Strategy::Concurrent)
     << "\"}";
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static llvm::json::Value attrToJSON(const sched::AttrValue &v) {
  if (v.isInt())
    return v.getInt();
  if (v.isStr())
    return v.getStr();
  llvm::json::Array a;
  for (int64_t x : v.getInts())
    a.push_back(x);
  return a;
}

static llvm::json::Array shapeToJSON(llvm::ArrayRef<int64_t> shape) {
  llvm::json::Array a;
  for (int64_t d : shape)
    a.push_back(d);
  return a;
}

llvm::json::Value ios::prof::toJSON(const sched::OpSignature &sig) {
  llvm::json::Object attrs;
  for (const auto &[key, value] : sig.attrs)
    attrs[key] = attrToJSON(value);
  llvm::json::Array inputs;
  for (const auto &shape : sig.inputShapes)
    inputs.push_back(shapeToJSON(shape));
  llvm::json::Object op{{"kind", sig.kind},
                        {"attrs", std::move(attrs)},
                        {"inputs", std::move(inputs)},
                        {"output", shapeToJSON(sig.outputShape)},
                        {"batch", sig.batch}};
  // What the op computes, so a server needs no table of op kinds.
  if (sig.modeled) {
    op["flops"] = sig.flops();
    op["bytes"] = sig.bytes();
  }
  return op;
}

llvm::json::Value ios::prof::toJSON(const StageDescription &stage) {
  llvm::json::Array groups;
  for (const auto &group : stage.groups) {
    llvm::json::Array ops;
    for (const sched::OpSignature &sig : group)
      ops.push_back(toJSON(sig));
    groups.push_back(std::move(ops));
  }
  llvm::json::Array edges;
  for (const auto &group : stage.edges) {
    llvm::json::Array e;
    for (auto [from, to] : group)
      e.push_back(llvm::json::Array{from, to});
    edges.push_back(std::move(e));
  }
  llvm::json::Object o{{"strategy", sched::toString(stage.strategy)},
                       {"batch", stage.batch},
                       {"groups", std::move(groups)},
                       {"edges", std::move(edges)}};
  if (!stage.members.empty()) {
    llvm::json::Array members;
    for (const sched::OpSignature &sig : stage.members)
      members.push_back(toJSON(sig));
    o["members"] = std::move(members);
  }
  return o;
}

bool ios::prof::fromJSON(const llvm::json::Value &v, sched::OpSignature &sig,
                         llvm::json::Path path) {
  llvm::json::ObjectMapper m(v, path);
  std::vector<std::vector<int64_t>> inputs;
  std::vector<int64_t> output;
  if (!m || !m.map("kind", sig.kind) || !m.map("inputs", inputs) ||
      !m.map("output", output) || !m.map("batch", sig.batch))
    return false;
  for (auto &shape : inputs)
    sig.inputShapes.emplace_back(shape.begin(), shape.end());
  sig.outputShape.assign(output.begin(), output.end());
  const llvm::json::Object *attrs = v.getAsObject()->getObject("attrs");
  if (!attrs)
    return true;
  for (const auto &[key, value] : *attrs) {
    if (auto i = value.getAsInteger()) {
      sig.set(key, *i);
    } else if (auto s = value.getAsString()) {
      sig.set(key, s->str());
    } else if (const llvm::json::Array *a = value.getAsArray()) {
      llvm::SmallVector<int64_t, 4> ints;
      for (const llvm::json::Value &x : *a) {
        auto i = x.getAsInteger();
        if (!i) {
          path.field("attrs").field(key).report("expected integers");
          return false;
        }
        ints.push_back(*i);
      }
      sig.set(key, llvm::ArrayRef<int64_t>(ints));
    } else {
      path.field("attrs").field(key).report(
          "expected an integer, a string or a list of integers");
      return false;
    }
  }
  return true;
}

/// A JSON list of op signatures.
static Expected<std::vector<sched::OpSignature>>
opsFromJSON(const llvm::json::Array &ops) {
  std::vector<sched::OpSignature> sigs;
  for (const llvm::json::Value &op : ops) {
    sched::OpSignature sig;
    llvm::json::Path::Root root("op");
    if (!fromJSON(op, sig, root))
      return llvm::createStringError("stage: bad op: " +
                                     llvm::toString(root.getError()));
    sigs.push_back(std::move(sig));
  }
  return sigs;
}

llvm::Expected<StageDescription> ios::prof::stageFromJSON(const llvm::json::Value &v) {
  const llvm::json::Object *o = v.getAsObject();
  if (!o)
    return llvm::createStringError("stage: expected an object");
  StageDescription d;
  std::optional<sched::Strategy> strategy =
      sched::parseStrategy(o->getString("strategy").value_or(""));
  if (!strategy)
    return llvm::createStringError(
        "stage: \"strategy\" must be \"concurrent\" or \"merge\"");
  d.strategy = *strategy;
  std::optional<int64_t> batch = o->getInteger("batch");
  if (!batch)
    return llvm::createStringError("stage: \"batch\" must be an integer");
  d.batch = *batch;
  const llvm::json::Array *groups = o->getArray("groups");
  if (!groups || groups->empty())
    return llvm::createStringError("stage: \"groups\" must be a non-empty list");
  const llvm::json::Array *edges = o->getArray("edges");
  for (auto [gi, group] : llvm::enumerate(*groups)) {
    const llvm::json::Array *ops = group.getAsArray();
    if (!ops || ops->empty())
      return llvm::createStringError("stage: every group must list ops");
    Expected<std::vector<sched::OpSignature>> sigs = opsFromJSON(*ops);
    if (!sigs)
      return sigs.takeError();
    d.groups.push_back(std::move(*sigs));
    std::vector<std::pair<unsigned, unsigned>> groupEdges;
    if (edges && gi < edges->size())
      if (const llvm::json::Array *e = (*edges)[gi].getAsArray())
        for (const llvm::json::Value &pair : *e) {
          const llvm::json::Array *p = pair.getAsArray();
          if (!p || p->size() != 2 || !(*p)[0].getAsInteger() ||
              !(*p)[1].getAsInteger())
            return llvm::createStringError("stage: edges must be [from, to]");
          unsigned from = *(*p)[0].getAsInteger(), to = *(*p)[1].getAsInteger();
          if (from >= to || to >= d.groups.back().size())
            return llvm::createStringError("stage: edge out of range");
          groupEdges.push_back({from, to});
        }
    d.edges.push_back(std::move(groupEdges));
  }
  if (d.strategy == sched::Strategy::Merge) {
    const llvm::json::Array *members = o->getArray("members");
    if (!members || members->size() < 2)
      return llvm::createStringError(
          "stage: a merge stage needs \"members\", the two or more ops it "
          "merges");
    Expected<std::vector<sched::OpSignature>> sigs = opsFromJSON(*members);
    if (!sigs)
      return sigs.takeError();
    d.members = std::move(*sigs);
  }
  return d;
}
