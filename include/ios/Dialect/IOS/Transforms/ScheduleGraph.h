//===- ScheduleGraph.h - ios functions as scheduler graphs ------*- C++ -*-===//
//
// The adapter between MLIR and the scheduler core: a function's ops become
// sched::NodeSpecs (signatures and merge keys from the SchedulableOpInterface,
// units, part hints), its SSA edges the graph's edges. The scheduler never
// sees MLIR; the rewrite maps its node ids back to ops.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOS_TRANSFORMS_SCHEDULEGRAPH_H
#define IOS_DIALECT_IOS_TRANSFORMS_SCHEDULEGRAPH_H

#include "ios/Scheduler/Graph.h"
#include "ios/Scheduler/Schedule.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

#include <optional>

namespace ios {

struct ScheduleGraphOptions {
  /// Fuse maximal chains (an op whose only user is the next op, which has no
  /// other scheduled operand) into one unit, on top of ios.unit.
  bool chainUnits = false;
};

/// A function as the scheduler sees it. Node id i is ops[i].
struct ScheduleGraph {
  std::optional<sched::Graph> graph;
  llvm::SmallVector<mlir::Operation *> ops;
  int64_t batch = 1;
};

/// The op signature the scheduler and the profilers see for `op`: its
/// SchedulableOpInterface signature, or for other ops what their types say
/// (kind = the op name, no declared work).
sched::OpSignature signatureOf(mlir::Operation *op);

/// Builds the graph of `func`'s body. Emits an error at the offending op and
/// fails for IR it cannot schedule (several blocks, ops with regions, an
/// already scheduled function, a unit whose ops do not form a DAG, ...).
mlir::FailureOr<ScheduleGraph>
buildScheduleGraph(mlir::FunctionOpInterface func,
                   const ScheduleGraphOptions &opts);

/// Rewrites `func` into the stages of `schedule` (whose node ids index
/// `graph.ops`); `latencies[i]` becomes stage i's `latency_ms`. Merge stages
/// are built by their ops' SchedulableOpInterface. Every stage is checked
/// before the IR changes: on failure (an error is emitted) the function is
/// left as it was.
mlir::LogicalResult applySchedule(mlir::FunctionOpInterface func,
                                  const ScheduleGraph &graph,
                                  const sched::Schedule &schedule,
                                  llvm::ArrayRef<double> latencies);

} // namespace ios

#endif // IOS_DIALECT_IOS_TRANSFORMS_SCHEDULEGRAPH_H
