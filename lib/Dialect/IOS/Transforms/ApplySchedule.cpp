//===- ApplySchedule.cpp - Rewrite a function into its stages -------------===//
//
// Stages are built in schedule order just before the function's return. A
// group's ops are moved into its region in execution order; the values its
// ops produce for anyone outside the group leave through the group's and the
// stage's results. Ops not yet moved still sit at the top of the function
// while earlier stages are built; once every stage exists the function is
// back in dominance order.
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace ios;

namespace {

/// Values defined by `ops` that something outside `ops` uses.
SmallVector<Value> escapingValues(ArrayRef<Operation *> ops) {
  llvm::SmallPtrSet<Operation *, 8> inside(ops.begin(), ops.end());
  SmallVector<Value> escaping;
  for (Operation *op : ops)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !inside.count(user);
          }))
        escaping.push_back(result);
  return escaping;
}

/// Builds `ios.stage` with one `ios.group` per entry of `groups`, moving the
/// ops into them and rerouting outside uses through the stage's results.
StageOp buildStage(OpBuilder &b, Location loc, Strategy strategy,
                   double latencyMs,
                   ArrayRef<SmallVector<Operation *>> groups) {
  SmallVector<SmallVector<Value>> escaping;
  SmallVector<Type> stageTypes;
  for (const auto &ops : groups) {
    escaping.push_back(escapingValues(ops));
    for (Value v : escaping.back())
      stageTypes.push_back(v.getType());
  }
  auto stage = StageOp::create(b, loc, stageTypes,
                               StrategyAttr::get(b.getContext(), strategy),
                               b.getF64FloatAttr(latencyMs));
  Block *stageBody = b.createBlock(&stage.getBody());
  SmallVector<Value> stageYield;
  for (auto [ops, values] : llvm::zip(groups, escaping)) {
    b.setInsertionPointToEnd(stageBody);
    SmallVector<Type> types = llvm::to_vector(
        llvm::map_range(values, [](Value v) { return v.getType(); }));
    auto group = GroupOp::create(b, ops.front()->getLoc(), types);
    Block *groupBody = b.createBlock(&group.getBody());
    for (Operation *op : ops)
      op->moveBefore(groupBody, groupBody->end());
    b.setInsertionPointToEnd(groupBody);
    YieldOp::create(b, loc, values);
    llvm::append_range(stageYield, group.getResults());
  }
  b.setInsertionPointToEnd(stageBody);
  YieldOp::create(b, loc, stageYield);
  unsigned index = 0;
  for (const auto &values : escaping)
    for (Value v : values) {
      Value replacement = stage.getResult(index++);
      v.replaceUsesWithIf(replacement, [&](OpOperand &use) {
        return !stage->isAncestor(use.getOwner());
      });
    }
  b.setInsertionPointAfter(stage);
  return stage;
}

} // namespace

/// The ops of a merge stage (one per group), if the schedule's merge is one
/// their interface can build; emits an error otherwise.
static FailureOr<SmallVector<Operation *>>
mergeMembers(const ScheduleGraph &graph, const sched::Stage &stage) {
  SmallVector<Operation *> members;
  std::optional<std::string> key;
  for (const auto &group : stage.groups) {
    Operation *op = graph.ops[group.front()];
    auto iface = dyn_cast<SchedulableOpInterface>(op);
    std::optional<std::string> k =
        iface ? iface.getMergeKey() : std::optional<std::string>();
    if (group.size() != 1 || !k || (key && *k != *key))
      return op->emitOpError()
             << "internal error: the schedule merges ops that do not merge";
    key = k;
    members.push_back(op);
  }
  return members;
}

LogicalResult ios::applySchedule(FunctionOpInterface func,
                                 const ScheduleGraph &graph,
                                 const sched::Schedule &schedule,
                                 ArrayRef<double> latencies) {
  // All or nothing: check every stage before the first rewrite.
  size_t covered = 0;
  SmallVector<SmallVector<Operation *>> merges(schedule.stages.size());
  for (auto [index, stage] : llvm::enumerate(schedule.stages)) {
    for (const auto &group : stage.groups)
      covered += group.size();
    if (stage.strategy == sched::Strategy::Merge && stage.groups.size() > 1) {
      FailureOr<SmallVector<Operation *>> members = mergeMembers(graph, stage);
      if (failed(members))
        return failure();
      merges[index] = std::move(*members);
    }
  }
  if (covered != graph.ops.size())
    return emitError(func.getLoc())
           << "internal error: the schedule covers " << covered << " of "
           << graph.ops.size() << " ops";

  Operation *terminator = func.getFunctionBody().front().getTerminator();
  OpBuilder b(terminator);
  for (auto [index, stage] : llvm::enumerate(schedule.stages)) {
    double latency = index < latencies.size() ? latencies[index] : 0.0;
    Location loc = graph.ops[stage.groups.front().front()]->getLoc();
    if (!merges[index].empty()) {
      ArrayRef<Operation *> members = merges[index];
      FailureOr<SmallVector<Operation *>> ops =
          cast<SchedulableOpInterface>(members.front())
              .buildMerge(b, members);
      if (failed(ops))
        return failure();
      buildStage(b, (*ops)[0]->getLoc(), Strategy::merge, latency, {*ops});
      continue;
    }
    SmallVector<SmallVector<Operation *>> groups;
    for (const auto &group : stage.groups)
      groups.push_back(llvm::to_vector(llvm::map_range(
          group, [&](sched::NodeId id) { return graph.ops[id]; })));
    buildStage(b, loc, Strategy::concurrent, latency, groups);
  }
  return success();
}
