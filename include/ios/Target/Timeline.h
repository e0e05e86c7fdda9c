//===- Timeline.h - Simulated timelines of scheduled ios IR -----*- C++ -*-===//
//
// `--ios-to-timeline`: when every op of a scheduled function runs, and on
// which stream, as the analytic GPU model simulates it (the same event
// simulation that costs a stage for the scheduler). The JSON it prints is
// described in docs/Timeline.md; `python3 -m ios.timeline` draws it.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TARGET_TIMELINE_H
#define IOS_TARGET_TIMELINE_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
class Operation;
} // namespace mlir

namespace ios {

struct TimelineOptions {
  /// The analytic model's device (a built-in name or a JSON device file);
  /// empty: the device each function's `ios.schedule` attribute names.
  std::string device;
};

/// Prints the timeline JSON of every scheduled function in `op`. Fails with
/// an error at the function for one that is not scheduled or whose device
/// the model does not know.
mlir::LogicalResult translateToTimeline(mlir::Operation *op,
                                        llvm::raw_ostream &os,
                                        const TimelineOptions &opts);

} // namespace ios

#endif // IOS_TARGET_TIMELINE_H
