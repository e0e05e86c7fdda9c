//===- ScheduleGraph.h - ios functions as scheduler graphs ------*- C++ -*-===//
//
// The adapter between MLIR and the scheduler core: a function's ops become
// sched::NodeSpecs (op signatures with per-sample shapes and the batch, the
// value a conv reads, units, part hints), its SSA edges the graph's edges.
// The scheduler never sees MLIR; the rewrite maps its node ids back to ops.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TRANSFORMS_SCHEDULEGRAPH_H
#define IOS_TRANSFORMS_SCHEDULEGRAPH_H

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/Schedule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>

namespace ios::prof {}

namespace mlir::ios {

// Inside mlir::ios, `ios::` would name this namespace: alias the scheduler
// core's and the profilers' namespaces.
namespace sched = ::ios::sched;
namespace prof = ::ios::prof;

struct ScheduleGraphOptions {
  /// Fuse maximal chains (an op whose only user is the next op, which has no
  /// other scheduled operand) into one unit, on top of ios.unit.
  bool chainUnits = false;
};

/// A function as the scheduler sees it. Node id i is ops[i].
struct ScheduleGraph {
  std::optional<sched::Graph> graph;
  SmallVector<Operation *> ops;
  int64_t batch = 1;
};

/// The op signature the scheduler and the profilers see for `op`: kind
/// ("conv", "pool", "activation", "add", "mul", "concat", "slice",
/// "flatten", "linear", "softmax", or the op name for other ops), attributes,
/// per-sample input/output shapes (batch dropped) and the batch.
sched::OpSignature signatureOf(Operation *op);

/// Builds the graph of `func`'s body. Emits an error at the offending op and
/// fails for IR it cannot schedule (several blocks, ops with regions, an
/// already scheduled function, a unit whose ops do not form a DAG, ...).
FailureOr<ScheduleGraph> buildScheduleGraph(func::FuncOp func,
                                            const ScheduleGraphOptions &opts);

/// Rewrites `func` into the stages of `schedule` (whose node ids index
/// `graph.ops`); `latencies[i]` becomes stage i's `latency_ms`. Merge stages
/// get packed weights and slices. Fails (with an error) if the schedule does
/// not cover every op or a merge cannot be built exactly.
LogicalResult applySchedule(func::FuncOp func, const ScheduleGraph &graph,
                            const sched::Schedule &schedule,
                            ArrayRef<double> latencies);

} // namespace mlir::ios

#endif // IOS_TRANSFORMS_SCHEDULEGRAPH_H
