//===- IOSSchedule.cpp - The ios-schedule pass ----------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/Passes.h"
#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"
#include "ios/Profiler/Profiler.h"
#include "ios/Scheduler/Scheduler.h"
#include "ios/Scheduler/UnitSet.h"
#include "ios/Support/FileOutput.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <mutex>

#define DEBUG_TYPE "ios-schedule"

namespace ios {
#define GEN_PASS_DEF_IOSSCHEDULE
#include "ios/Dialect/IOS/Transforms/Passes.h.inc"
} // namespace ios

using namespace mlir;
using namespace ios;

namespace {

/// compare=sequential's margin (%): on the machines measured here (2 vCPUs
/// of a shared host) two runs of one program differ by 2-3%, and a
/// concurrent program timed 0.1-2% faster than the sequential one by the
/// stage server ran 3-4% slower alone (docs/Profilers.md, "Whole programs").
constexpr double kDefaultCompareMargin = 3;

/// Search progress on stderr. With the `progress` option: a line per
/// solved part, or, when stderr is a terminal, one line redrawn in place (a
/// bar of the parts solved, states, transitions, elapsed time). Without it,
/// the bar appears on a terminal once a search has run for 2 s; nothing is
/// printed otherwise.
class ProgressReporter {
public:
  ProgressReporter(StringRef function, bool requested)
      : function(function.str()), requested(requested),
        terminal(llvm::sys::Process::StandardErrIsDisplayed()),
        start(std::chrono::steady_clock::now()) {}
  ~ProgressReporter() {
    if (barShown)
      llvm::errs() << "\n";
  }

  /// Whether the search should report progress at all.
  bool wanted() const { return requested || terminal; }

  void partSolved(const sched::PartStats &part, unsigned done,
                  unsigned total) {
    states += part.states;
    transitions += part.transitions;
    std::string line = llvm::formatv(
        "ios-schedule: @{0}: part {1}/{2} solved ({3} units, {4} states, {5} "
        "transitions), {6} states in all, {7:F2} s",
        function, done, total, part.numUnits, part.states, part.transitions,
        states, elapsed());
    LLVM_DEBUG(llvm::dbgs() << line << "\n");
    if (requested && !terminal)
      llvm::errs() << line << "\n";
    else
      drawBar(done, total, states, transitions);
  }

  void searching(const sched::SearchProgress &p) {
    drawBar(p.partsDone, p.numParts, p.states + p.partStates,
            p.transitions + p.partTransitions);
  }

private:
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  }

  void drawBar(unsigned done, unsigned total, uint64_t st, uint64_t tr) {
    if (!terminal || (!requested && elapsed() < 2))
      return;
    constexpr unsigned width = 24;
    unsigned filled = total ? done * width / total : width;
    llvm::errs() << llvm::formatv(
        "\rios-schedule @{0} [{1}{2}] {3}/{4} parts, {5} states, {6} "
        "transitions, {7:F1} s   ",
        function, std::string(filled, '#'), std::string(width - filled, '.'),
        done, total, st, tr, elapsed());
    barShown = true;
  }

  std::string function;
  bool requested, terminal;
  std::chrono::steady_clock::time_point start;
  uint64_t states = 0, transitions = 0;
  bool barShown = false;
};

/// Gives every scheduled op its layer name as `ios.name`: locations are not
/// printed by default, and the name must reach the report, the generated
/// code and runtime errors whatever the printing flags. An op without a
/// name gets `kind_index` (unique in the function).
void materializeNames(ArrayRef<Operation *> ops) {
  llvm::StringSet<> used;
  SmallVector<std::optional<std::string>> names;
  for (Operation *op : ops) {
    names.push_back(layerName(op));
    if (names.back())
      used.insert(*names.back());
  }
  for (auto [i, op] : llvm::enumerate(ops)) {
    if (op->hasAttr(IOSDialect::kNameAttrName))
      continue;
    std::string name = names[i].value_or("");
    if (name.empty()) {
      name = (op->getName().stripDialect() + "_" + Twine(i)).str();
      while (!used.insert(name).second)
        name += "_";
    }
    op->setAttr(IOSDialect::kNameAttrName,
                StringAttr::get(op->getContext(), name));
  }
}

/// The report's view of the schedule: stages with their strategy, estimated
/// latency and groups as lists of layer names (in launch order).
llvm::json::Array stagesToJSON(const ScheduleGraph &graph,
                               const sched::Schedule &schedule,
                               ArrayRef<double> latencies) {
  llvm::json::Array stages;
  for (auto [i, stage] : llvm::enumerate(schedule.stages)) {
    llvm::json::Array groups;
    for (const std::vector<sched::NodeId> &group : stage.groups) {
      llvm::json::Array names;
      for (sched::NodeId id : group)
        names.push_back(layerName(graph.ops[id]).value_or(""));
      groups.push_back(std::move(names));
    }
    stages.push_back(llvm::json::Object{
        {"index", int64_t(i)},
        {"strategy", sched::toString(stage.strategy)},
        {"latency_ms", latencies[i]},
        {"groups", std::move(groups)}});
  }
  return stages;
}

/// What every copy of the pass shares (the pass manager clones a function
/// pass per thread): the profiler, the stage-cost cache and the report.
struct SharedState {
  std::mutex mutex;
  std::shared_ptr<prof::Profiler> profiler;
  /// The profiler could not be created (reported once).
  bool profilerFailed = false;
  sched::StageCostCache cache;
  /// Report entries of the functions scheduled so far.
  llvm::json::Object functions;
};

struct IOSSchedulePass : ios::impl::IOSScheduleBase<IOSSchedulePass> {
  using Base::Base;
  IOSSchedulePass(const IOSScheduleOptions &options,
                  std::shared_ptr<prof::Profiler> profiler)
      : Base(options) {
    state->profiler = std::move(profiler);
  }

  void runOnOperation() override;

private:
  LogicalResult checkOptions(Location loc);
  FailureOr<sched::SchedulerOptions> schedulerOptions();
  prof::Profiler *getProfiler(Location loc);
  LogicalResult scheduleFunction(FunctionOpInterface func,
                                 prof::Profiler &profiler);
  LogicalResult checkCostModels(const ScheduleGraph &graph,
                                const prof::Profiler &profiler);
  FailureOr<std::optional<std::pair<double, double>>> timeAgainstSequential(
      FunctionOpInterface func, const ScheduleGraphOptions &graphOpts,
      int64_t batch, const sched::Schedule &searched,
      const sched::Schedule &sequential, prof::Profiler &profiler);
  void writeReport(Location loc);

  std::shared_ptr<SharedState> state = std::make_shared<SharedState>();
  /// compare=: how much faster (%) the searched schedule must run than the
  /// sequential one to be kept; none: no comparison.
  std::optional<double> compareMargin;
};

LogicalResult IOSSchedulePass::checkOptions(Location loc) {
  if (maxGroupSize == 0 || maxGroups == 0)
    return emitError(loc)
           << "ios-schedule: max-group-size and max-groups must be positive";
  if (maxPartSize == 0 || maxPartSize > sched::UnitSet::kCapacity)
    return emitError(loc) << "ios-schedule: max-part-size must be in [1, "
                          << sched::UnitSet::kCapacity << "], got "
                          << unsigned(maxPartSize);
  if (prune != "bound" && prune != "none")
    return emitError(loc) << "ios-schedule: for the --prune option: '"
                          << prune << "' is not one of: bound, none";
  StringRef cmp = compare;
  double margin = kDefaultCompareMargin;
  if (cmp.consume_front("sequential:") &&
      (cmp.getAsDouble(margin) || !(margin >= 0 && margin < 100)))
    return emitError(loc) << "ios-schedule: for the --compare option: '"
                          << compare
                          << "': the margin must be a percentage in [0, 100)";
  if (cmp != "sequential" && cmp != "none" && cmp == compare)
    return emitError(loc) << "ios-schedule: for the --compare option: '"
                          << compare
                          << "' is not one of: sequential, sequential:PERCENT, "
                             "none";
  compareMargin = cmp == "none" ? std::nullopt : std::optional(margin);
  if (!(timeBudget >= 0))
    return emitError(loc)
           << "ios-schedule: time-budget must be a non-negative number of "
              "seconds, got "
           << timeBudget;
  return success();
}

FailureOr<sched::SchedulerOptions> IOSSchedulePass::schedulerOptions() {
  sched::SchedulerOptions opts;
  switch (strategy) {
  case ScheduleStrategy::concurrent:
    opts.variant = sched::Variant::Concurrent;
    break;
  case ScheduleStrategy::merge:
    opts.variant = sched::Variant::Merge;
    break;
  default:
    opts.variant = sched::Variant::Both;
    break;
  }
  opts.mode = enumeration == Enumeration::full ? sched::EnumerationMode::Full
                                               : sched::EnumerationMode::IOS;
  opts.maxGroupSize = maxGroupSize;
  opts.maxNumGroups = maxGroups;
  opts.decomposition.maxPartSize = maxPartSize;
  opts.prune =
      prune == "none" ? sched::PruneMode::None : sched::PruneMode::Bound;
  opts.budget.states = stateBudget;
  opts.budget.transitions = transitionBudget;
  opts.budget.memoryBytes = uint64_t(memoryBudget) << 20;
  opts.budget.seconds = timeBudget;
  return opts;
}

prof::Profiler *IOSSchedulePass::getProfiler(Location loc) {
  if (state->profiler)
    return state->profiler.get();
  if (state->profilerFailed)
    return nullptr;
  prof::ProfilerOptions popts;
  popts.spec = profiler;
  popts.device = device;
  popts.record = record;
  popts.execTimeoutSeconds = execTimeout;
  llvm::Expected<std::unique_ptr<prof::Profiler>> p =
      prof::createProfiler(popts);
  if (!p) {
    state->profilerFailed = true;
    emitError(loc) << "ios-schedule: " << llvm::toString(p.takeError());
    return nullptr;
  }
  state->profiler = std::move(*p);
  return state->profiler.get();
}

/// Ops the profiler would cost without knowing what they compute.
LogicalResult IOSSchedulePass::checkCostModels(const ScheduleGraph &graph,
                                               const prof::Profiler &profiler) {
  if (!profiler.usesDeclaredWork())
    return success();
  bool ok = true;
  for (auto [i, op] : llvm::enumerate(graph.ops)) {
    if (graph.graph->node(i).sig.modeled)
      continue;
    InFlightDiagnostic diag =
        strict ? emitError(op->getLoc()) : emitWarning(op->getLoc());
    diag << "'" << op->getName()
         << "' has no cost model (it does not implement the schedulable-op "
            "interface): the "
         << profiler.describe()
         << " profiler costs it as one memory-bound pass over its operands";
    ok &= !strict;
  }
  return success(ok);
}

/// The IR is the schedule: drops the scheduling hints it consumed.
void dropSchedulingHints(Operation *func) {
  func->walk([](Operation *op) {
    op->removeAttr(IOSDialect::kUnitAttrName);
    op->removeAttr(IOSDialect::kPartAttrName);
  });
}

/// Whether two schedules run the same stages in the same order.
bool sameStages(const sched::Schedule &a, const sched::Schedule &b) {
  return llvm::equal(a.stages, b.stages,
                     [](const sched::Stage &x, const sched::Stage &y) {
                       return x.strategy == y.strategy && x.groups == y.groups;
                     });
}

/// The text of a module holding `func` scheduled by `schedule`: what a
/// profiler that times programs runs. Stage latencies are left out, so the
/// text (a database's key) depends on the schedule alone.
FailureOr<std::string> scheduledProgram(FunctionOpInterface func,
                                        const ScheduleGraphOptions &graphOpts,
                                        const sched::Schedule &schedule) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(func.getLoc());
  auto copy = cast<FunctionOpInterface>(func->clone());
  module->getBody()->push_back(copy);
  // The copy's graph numbers its ops as the original's does.
  FailureOr<ScheduleGraph> graph = buildScheduleGraph(copy, graphOpts);
  if (failed(graph) || failed(applySchedule(copy, *graph, schedule, {})))
    return failure();
  dropSchedulingHints(copy);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

/// The searched and the sequential schedule's latencies as programs, timed
/// by the profiler; nothing when it cannot time programs.
FailureOr<std::optional<std::pair<double, double>>>
IOSSchedulePass::timeAgainstSequential(FunctionOpInterface func,
                                       const ScheduleGraphOptions &graphOpts,
                                       int64_t batch,
                                       const sched::Schedule &searched,
                                       const sched::Schedule &sequential,
                                       prof::Profiler &profiler) {
  StringRef name = SymbolTable::getSymbolName(func).getValue();
  std::vector<std::string> texts;
  for (const sched::Schedule *s : {&searched, &sequential}) {
    FailureOr<std::string> text = scheduledProgram(func, graphOpts, *s);
    if (failed(text))
      return emitError(func.getLoc())
             << "ios-schedule: @" << name
             << ": cannot build the schedules to compare as programs";
    texts.push_back(std::move(*text));
  }
  llvm::Expected<std::optional<std::vector<double>>> ms =
      profiler.timePrograms(batch, texts);
  if (!ms)
    return emitError(func.getLoc())
           << "ios-schedule failed on @" << name
           << ": timing the schedule against the sequential one: "
           << llvm::toString(ms.takeError());
  if (!*ms)
    return std::optional<std::pair<double, double>>();
  if ((*ms)->size() != 2 || !prof::isValidLatency((**ms)[0]) ||
      !prof::isValidLatency((**ms)[1]))
    return emitError(func.getLoc())
           << "ios-schedule failed on @" << name << ": profiler '"
           << profiler.describe()
           << "' gave no valid latencies for the programs compared";
  return std::optional<std::pair<double, double>>(
      std::make_pair((**ms)[0], (**ms)[1]));
}

LogicalResult IOSSchedulePass::scheduleFunction(FunctionOpInterface func,
                                                prof::Profiler &profiler) {
  StringRef name = SymbolTable::getSymbolName(func).getValue();
  Location loc = func.getLoc();
  ScheduleGraphOptions graphOpts;
  graphOpts.chainUnits = units == UnitMode::chain;
  FailureOr<ScheduleGraph> graph = buildScheduleGraph(func, graphOpts);
  if (failed(graph))
    return failure();
  if (graph->ops.empty())
    return success();
  materializeNames(graph->ops);
  if (failed(checkCostModels(*graph, profiler)))
    return failure();
  const sched::Graph &g = *graph->graph;
  FailureOr<sched::SchedulerOptions> optsOr = schedulerOptions();
  if (failed(optsOr))
    return failure();
  sched::SchedulerOptions opts = *optsOr;

  opts.shareCostsAcrossIds = profiler.isSignatureDeterministic();
  sched::StageCostCache *sharedCache =
      opts.shareCostsAcrossIds ? &state->cache : nullptr;
  prof::ProfilerCost cost(profiler);
  uint64_t callsBefore = state->cache.numCalls,
           hitsBefore = state->cache.numHits;

  auto fail = [&](llvm::Error error) {
    // A profiler failure is the real cause of a NaN cost: report it.
    llvm::Error profilerError = cost.takeError();
    std::string message = profilerError
                              ? llvm::toString(std::move(profilerError))
                              : llvm::toString(std::move(error));
    if (!profilerError)
      llvm::consumeError(std::move(profilerError));
    else
      llvm::consumeError(std::move(error));
    return emitError(loc) << "ios-schedule failed on @" << name << ": "
                          << message;
  };

  ProgressReporter reporter(name, progress);
  opts.onPartSolved = [&](const sched::PartStats &part, unsigned done,
                          unsigned total) {
    reporter.partSolved(part, done, total);
  };
  if (reporter.wanted())
    opts.onProgress = [&](const sched::SearchProgress &p) {
      reporter.searching(p);
    };

  llvm::Expected<sched::ScheduleResult> result =
      strategy == ScheduleStrategy::sequential
          ? sched::scheduleSequential(g, cost, opts.decomposition, sharedCache)
      : strategy == ScheduleStrategy::greedy
          ? sched::scheduleGreedy(g, cost, maxGroups, opts.decomposition,
                                  sharedCache)
          : sched::scheduleDP(g, cost, opts, sharedCache);
  if (!result)
    return fail(result.takeError());
  // One line per function: the first part cut or split, and how many more
  // (the report lists every part).
  if (!result->stats.warnings.empty()) {
    InFlightDiagnostic diag = emitWarning(loc);
    diag << "ios-schedule: @" << name << ": " << result->stats.warnings[0];
    if (size_t more = result->stats.warnings.size() - 1)
      diag << "; " << more << " more part" << (more > 1 ? "s" : "")
           << " cut or split (report= lists them)";
  }

  // The sequential baseline under the same profiler, for the record.
  llvm::Expected<sched::ScheduleResult> sequential =
      sched::scheduleSequential(g, cost, opts.decomposition, sharedCache);
  if (!sequential)
    return fail(sequential.takeError());

  // A profiler that times programs decides between the searched schedule
  // and the sequential one by running both: stages timed alone miss what
  // happens between them in a program (hand-offs, data produced on another
  // core), and on a CPU running one op on all cores may beat groups that
  // share them.
  std::optional<std::pair<double, double>> programMs;
  const sched::Schedule *chosen = &result->schedule;
  double total = result->schedule.cost;
  double seqTotal = sequential->schedule.cost;
  if (compareMargin && !sameStages(result->schedule, sequential->schedule)) {
    FailureOr<std::optional<std::pair<double, double>>> timed =
        timeAgainstSequential(func, graphOpts, graph->batch, result->schedule,
                              sequential->schedule, profiler);
    if (failed(timed))
      return failure();
    programMs = *timed;
    // Concurrency must pay by more than the measurements' noise: within
    // the margin, the simpler program is the safer one.
    if (programMs &&
        programMs->first > programMs->second * (1 - *compareMargin / 100)) {
      emitRemark(loc) << "ios-schedule: @" << name
                      << ": as programs, the searched schedule took "
                      << llvm::formatv("{0:F3}", programMs->first)
                      << " ms and the sequential one "
                      << llvm::formatv("{0:F3}", programMs->second)
                      << " ms (the searched must be "
                      << std::string(llvm::formatv(
                             "{0}", llvm::format("%g", *compareMargin)))
                      << "% faster): keeping the sequential schedule";
      chosen = &sequential->schedule;
      total = seqTotal;
      ++numSequentialKept;
    }
  }

  // Per-stage estimates (answered from the caches: no new profiler calls
  // for stages the search already costed).
  SmallVector<double> latencies;
  for (const sched::Stage &stage : chosen->stages) {
    sched::Schedule one;
    one.stages.push_back(stage);
    latencies.push_back(sched::evaluateSchedule(g, one, cost, sharedCache));
  }
  if (llvm::Error error = cost.takeError())
    return emitError(loc) << "ios-schedule failed on @" << name << ": "
                          << llvm::toString(std::move(error));

  // Before the rewrite: merged ops are replaced by one.
  llvm::json::Array stageReport = stagesToJSON(*graph, *chosen, latencies);
  if (failed(applySchedule(func, *graph, *chosen, latencies)))
    return failure();

  MLIRContext *ctx = func.getContext();
  Builder b(ctx);
  std::string scheduledDevice = profiler.targetDevice();
  if (scheduledDevice.empty())
    scheduledDevice = device;
  func->setAttr(IOSDialect::kScheduleAttrName,
                ScheduleAttr::get(ctx, scheduledDevice, graph->batch,
                                  profiler.describe(), strategy, enumeration,
                                  maxGroupSize, maxGroups,
                                  b.getF64FloatAttr(total),
                                  b.getF64FloatAttr(seqTotal)));
  dropSchedulingHints(func);

  sched::PartStats totals = result->stats.total();
  ++numFunctions;
  numParts += result->stats.parts.size();
  numStates += totals.states;
  numTransitions += totals.transitions;
  numDistinctStages += totals.partStages;
  numProfilerCalls += state->cache.numCalls - callsBefore;
  numCacheHits += state->cache.numHits - hitsBefore;
  numStages += chosen->stages.size();
  numFallbacks += llvm::count_if(result->stats.parts,
                                 [](const auto &p) { return p.fallback; });
  numPruned += totals.pruned;
  numReusedParts += llvm::count_if(
      result->stats.parts, [](const auto &p) { return p.reusedFrom >= 0; });

  state->functions[name] = llvm::json::Object{
      {"strategy", stringifyScheduleStrategy(strategy)},
      {"enumeration", stringifyEnumeration(enumeration)},
      {"profiler", profiler.describe()},
      {"device", scheduledDevice},
      {"batch", graph->batch},
      {"ops", int64_t(graph->ops.size())},
      {"units", int64_t(g.numUnits())},
      {"latency_ms", total},
      {"sequential_ms", seqTotal},
      {"optimal", !totals.fallback},
      {"prune", sched::toString(opts.prune)},
      {"stages", std::move(stageReport)},
      {"programs",
       programMs ? llvm::json::Value(llvm::json::Object{
                       {"searched_ms", programMs->first},
                       {"sequential_ms", programMs->second},
                       {"margin_percent", *compareMargin},
                       {"kept", chosen == &result->schedule ? "searched"
                                                            : "sequential"}})
                 : llvm::json::Value(nullptr)},
      {"stats", sched::toJSON(result->stats)},
      {"schedule", sched::toJSON(*chosen)}};
  return success();
}

/// Rewrites the whole report (every function so far) in place, atomically.
void IOSSchedulePass::writeReport(Location loc) {
  if (report.empty())
    return;
  llvm::json::Value json(llvm::json::Object{
      {"functions", llvm::json::Object(state->functions)},
      {"profiler_calls", int64_t(state->cache.numCalls)},
      {"cache_hits", int64_t(state->cache.numHits)}});
  llvm::Error error =
      writeFileAtomically(report, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", json) << "\n";
        return llvm::Error::success();
      });
  if (error) {
    emitError(loc) << "ios-schedule: " << llvm::toString(std::move(error));
    signalPassFailure();
  }
}

void IOSSchedulePass::runOnOperation() {
  // A function, or every function nested in the op (e.g. a module).
  SmallVector<FunctionOpInterface> funcs;
  if (auto func = dyn_cast<FunctionOpInterface>(getOperation()))
    funcs.push_back(func);
  else
    getOperation()->walk<WalkOrder::PreOrder>([&](FunctionOpInterface f) {
      funcs.push_back(f);
      return WalkResult::skip();
    });
  if (failed(checkOptions(getOperation()->getLoc())))
    return signalPassFailure();
  // Functions share the profiler and its cache: one at a time.
  std::lock_guard<std::mutex> lock(state->mutex);
  bool ok = true;
  for (FunctionOpInterface func : funcs) {
    if (func.isExternal())
      continue;
    prof::Profiler *p = getProfiler(func.getLoc());
    ok &= p && succeeded(scheduleFunction(func, *p));
  }
  if (!ok)
    return signalPassFailure();
  writeReport(getOperation()->getLoc());
}

} // namespace

std::unique_ptr<Pass>
ios::createIOSSchedulePass(const IOSScheduleOptions &options,
                           std::shared_ptr<prof::Profiler> profiler) {
  return std::make_unique<IOSSchedulePass>(options, std::move(profiler));
}
