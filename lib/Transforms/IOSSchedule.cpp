//===- IOSSchedule.cpp - The ios-schedule pass ----------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Profiler/Profiler.h"
#include "ios/Scheduler/Scheduler.h"
#include "ios/Transforms/Passes.h"
#include "ios/Transforms/ScheduleGraph.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

namespace mlir::ios {
#define GEN_PASS_DEF_IOSSCHEDULE
#include "ios/Transforms/Passes.h.inc"
} // namespace mlir::ios

using namespace mlir;
using namespace mlir::ios;

namespace {

/// Latencies are recorded in the IR to the nanosecond: estimates carry no
/// more precision, and sums of table costs then print as written.
double roundToNs(double ms) { return std::round(ms * 1e6) / 1e6; }

struct IOSSchedulePass
    : mlir::ios::impl::IOSScheduleBase<IOSSchedulePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Schedules one function; appends its report entry.
  LogicalResult scheduleFunction(func::FuncOp func,
                                 sched::SchedulerOptions opts,
                                 prof::Profiler &profiler,
                                 sched::StageCostCache &cache,
                                 llvm::json::Object &report);
  FailureOr<sched::SchedulerOptions> schedulerOptions();
};

FailureOr<sched::SchedulerOptions> IOSSchedulePass::schedulerOptions() {
  ModuleOp module = getOperation();
  sched::SchedulerOptions opts;
  if (strategy == "both")
    opts.variant = sched::Variant::Both;
  else if (strategy == "concurrent")
    opts.variant = sched::Variant::Concurrent;
  else if (strategy == "merge")
    opts.variant = sched::Variant::Merge;
  else if (strategy != "sequential" && strategy != "greedy")
    return module.emitError()
           << "ios-schedule: unknown strategy '" << strategy
           << "'; expected both, concurrent, merge, sequential or greedy";
  if (enumeration == "ios")
    opts.mode = sched::EnumerationMode::IOS;
  else if (enumeration == "full")
    opts.mode = sched::EnumerationMode::Full;
  else
    return module.emitError() << "ios-schedule: unknown enumeration '"
                              << enumeration << "'; expected ios or full";
  if (units != "op" && units != "chain")
    return module.emitError() << "ios-schedule: unknown units '" << units
                              << "'; expected op or chain";
  if (maxGroupSize == 0 || maxGroups == 0)
    return module.emitError()
           << "ios-schedule: max-group-size and max-groups must be positive";
  if (maxPartSize == 0 || maxPartSize > 128)
    return module.emitError()
           << "ios-schedule: max-part-size must be in [1, 128], got "
           << unsigned(maxPartSize);
  opts.maxGroupSize = maxGroupSize;
  opts.maxNumGroups = maxGroups;
  opts.decomposition.maxPartSize = maxPartSize;
  opts.stateBudget = stateBudget;
  return opts;
}

LogicalResult IOSSchedulePass::scheduleFunction(func::FuncOp func,
                                                sched::SchedulerOptions opts,
                                                prof::Profiler &profiler,
                                                sched::StageCostCache &cache,
                                                llvm::json::Object &report) {
  ScheduleGraphOptions graphOpts;
  graphOpts.chainUnits = units == "chain";
  FailureOr<ScheduleGraph> graph = buildScheduleGraph(func, graphOpts);
  if (failed(graph))
    return failure();
  if (graph->ops.empty())
    return success();
  const sched::Graph &g = *graph->graph;

  opts.shareCostsAcrossIds = profiler.isSignatureDeterministic();
  sched::StageCostCache *sharedCache =
      opts.shareCostsAcrossIds ? &cache : nullptr;
  prof::ProfilerCost cost(profiler);

  auto fail = [&](llvm::Error error) {
    // A profiler failure is the real cause of a NaN cost: report it.
    llvm::Error profilerError = cost.takeError();
    std::string message = profilerError ? llvm::toString(std::move(profilerError))
                                        : llvm::toString(std::move(error));
    if (!profilerError)
      llvm::consumeError(std::move(profilerError));
    else
      llvm::consumeError(std::move(error));
    return func.emitOpError() << "ios-schedule failed: " << message;
  };

  // Long searches say how far they are, on stderr, once they pass 2 s.
  auto searchStart = std::chrono::steady_clock::now();
  uint64_t statesSoFar = 0;
  opts.onPartSolved = [&](const sched::PartStats &part, unsigned done,
                          unsigned total) {
    statesSoFar += part.states;
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - searchStart)
                         .count();
    if (elapsed >= 2.0)
      llvm::errs() << llvm::formatv(
          "ios-schedule: @{0}: part {1}/{2} solved, {3} states, {4:F1} s\n",
          func.getSymName(), done, total, statesSoFar, elapsed);
  };

  llvm::Expected<sched::ScheduleResult> result =
      strategy == "sequential"
          ? sched::scheduleSequential(g, cost, opts.decomposition, sharedCache)
      : strategy == "greedy"
          ? sched::scheduleGreedy(g, cost, maxGroups, opts.decomposition,
                                  sharedCache)
          : sched::scheduleDP(g, cost, opts, sharedCache);
  if (!result)
    return fail(result.takeError());
  for (const std::string &warning : result->stats.warnings)
    func.emitWarning() << "ios-schedule: " << warning;

  // The sequential baseline under the same profiler, for the record.
  llvm::Expected<sched::ScheduleResult> sequential =
      sched::scheduleSequential(g, cost, opts.decomposition, sharedCache);
  if (!sequential)
    return fail(sequential.takeError());

  // Per-stage estimates (answered from the caches: no new profiler calls
  // for stages the search already costed).
  SmallVector<double> latencies;
  for (const sched::Stage &stage : result->schedule.stages) {
    sched::Schedule one;
    one.stages.push_back(stage);
    latencies.push_back(
        roundToNs(sched::evaluateSchedule(g, one, cost, sharedCache)));
  }
  if (llvm::Error error = cost.takeError())
    return func.emitOpError() << "ios-schedule failed: "
                              << llvm::toString(std::move(error));

  double total = roundToNs(result->schedule.cost);
  double seqTotal = roundToNs(sequential->schedule.cost);
  if (failed(applySchedule(func, *graph, result->schedule, latencies)))
    return failure();

  MLIRContext *ctx = func.getContext();
  Builder b(ctx);
  func->setAttr(IOSDialect::kScheduleAttrName,
                ScheduleAttr::get(ctx, device, graph->batch,
                                  profiler.describe(), strategy, enumeration,
                                  maxGroupSize, maxGroups,
                                  b.getF64FloatAttr(total),
                                  b.getF64FloatAttr(seqTotal)));
  // The IR is the schedule: drop the scheduling hints it consumed.
  func.walk([](Operation *op) {
    op->removeAttr(IOSDialect::kUnitAttrName);
    op->removeAttr(IOSDialect::kPartAttrName);
  });

  report[func.getSymName()] = llvm::json::Object{
      {"strategy", strategy},
      {"enumeration", enumeration},
      {"profiler", profiler.describe()},
      {"batch", graph->batch},
      {"ops", int64_t(graph->ops.size())},
      {"units", int64_t(g.numUnits())},
      {"latency_ms", total},
      {"sequential_ms", seqTotal},
      {"stages", int64_t(result->schedule.stages.size())},
      {"stats", sched::toJSON(result->stats)},
      {"schedule", sched::toJSON(result->schedule)}};
  return success();
}

void IOSSchedulePass::runOnOperation() {
  ModuleOp module = getOperation();
  FailureOr<sched::SchedulerOptions> opts = schedulerOptions();
  if (failed(opts))
    return signalPassFailure();
  prof::ProfilerOptions popts;
  popts.spec = profiler;
  popts.device = device;
  popts.record = record;
  popts.execTimeoutSeconds = execTimeout;
  llvm::Expected<std::unique_ptr<prof::Profiler>> p =
      prof::createProfiler(popts);
  if (!p) {
    module.emitError() << "ios-schedule: " << llvm::toString(p.takeError());
    return signalPassFailure();
  }

  // One cache for the whole module: identical stages in different functions
  // cost one profiler call.
  sched::StageCostCache cache;
  llvm::json::Object functions;
  bool failedAny = false;
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
    if (func.isExternal())
      continue;
    if (failed(scheduleFunction(func, *opts, **p, cache, functions)))
      failedAny = true;
  }
  if (failedAny)
    return signalPassFailure();

  if (!report.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(report, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      module.emitError() << "ios-schedule: cannot write report '" << report
                         << "': " << ec.message();
      return signalPassFailure();
    }
    os << llvm::formatv("{0:2}",
                        llvm::json::Value(llvm::json::Object{
                            {"functions", std::move(functions)},
                            {"profiler_calls", int64_t(cache.numCalls)},
                            {"cache_hits", int64_t(cache.numHits)}}))
       << "\n";
  }
}

} // namespace
