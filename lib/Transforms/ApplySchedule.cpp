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

#include "ios/Transforms/ScheduleGraph.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::ios;

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

/// Zero-pads `weight` (O x C x kh x kw) to K (O x C x KH x KW), centred.
Value padWeight(OpBuilder &b, Location loc, Value weight, int64_t kh,
                int64_t kw) {
  auto type = cast<RankedTensorType>(weight.getType());
  auto shape = type.getShape();
  if (shape[2] == kh && shape[3] == kw)
    return weight;
  int64_t top = (kh - shape[2]) / 2, left = (kw - shape[3]) / 2;
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                   b.getIndexAttr(top), b.getIndexAttr(left)};
  SmallVector<OpFoldResult> high = {
      b.getIndexAttr(0), b.getIndexAttr(0),
      b.getIndexAttr(kh - shape[2] - top), b.getIndexAttr(kw - shape[3] - left)};
  auto padded =
      RankedTensorType::get({shape[0], shape[1], kh, kw}, type.getElementType());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return tensor::PadOp::create(b, loc, padded, weight, low, high, zero);
}

/// Replaces the convs of a merge stage by one conv over packed weights and
/// slices of its result; returns the ops of the stage's single group.
FailureOr<SmallVector<Operation *>> buildMerge(OpBuilder &b,
                                               ArrayRef<Conv2dOp> convs) {
  assert(convs.size() >= 2 && "a merge of fewer than two convs");
  Conv2dOp first = convs[0];
  int64_t kh = 0, kw = 0, ph = 0, pw = 0;
  for (Conv2dOp c : convs) {
    auto w = c.getWeight().getType().getShape();
    kh = std::max(kh, w[2]);
    kw = std::max(kw, w[3]);
    ph = std::max(ph, c.getPadding()[0]);
    pw = std::max(pw, c.getPadding()[1]);
  }
  // Centred zero-padding of the kernel computes the same function only if
  // the padding grows by exactly half the kernel growth.
  for (Conv2dOp c : convs) {
    auto w = c.getWeight().getType().getShape();
    auto p = c.getPadding();
    if ((kh - w[2]) != 2 * (ph - p[0]) || (kw - w[3]) != 2 * (pw - p[1]) ||
        c.getInput() != first.getInput() || c.getStrides() != first.getStrides() ||
        c.getAct() != first.getAct() || c.getGroups() != 1)
      return c.emitOpError()
             << "cannot be merged exactly with the stage's first conv: "
                "kernel/padding alignment, input, stride, activation or "
                "groups differ";
  }
  Location loc =
      b.getFusedLoc(llvm::to_vector(llvm::map_range(
          convs, [](Conv2dOp c) { return Location(c.getLoc()); })));
  SmallVector<Value> weights, biases;
  for (Conv2dOp c : convs) {
    weights.push_back(padWeight(b, c.getLoc(), c.getWeight(), kh, kw));
    biases.push_back(c.getBias());
  }
  Value weight = tensor::ConcatOp::create(b, loc, 0, weights);
  Value bias = tensor::ConcatOp::create(b, loc, 0, biases);
  auto merged = Conv2dOp::create(
      b, loc, first.getInput(), weight, bias, first.getStridesAttr(),
      b.getDenseI64ArrayAttr({ph, pw}), b.getDenseI64ArrayAttr({1, 1}),
      b.getI64IntegerAttr(1), first.getActAttr());
  SmallVector<Operation *> ops = {merged};
  int64_t offset = 0;
  for (Conv2dOp c : convs) {
    int64_t channels = c.getType().getDimSize(1);
    auto slice = SliceOp::create(b, c.getLoc(), merged, offset,
                                 offset + channels);
    offset += channels;
    c.getResult().replaceAllUsesWith(slice.getResult());
    ops.push_back(slice);
    c.erase();
  }
  return ops;
}

} // namespace

LogicalResult mlir::ios::applySchedule(func::FuncOp func,
                                       const ScheduleGraph &graph,
                                       const sched::Schedule &schedule,
                                       ArrayRef<double> latencies) {
  size_t covered = 0;
  for (const sched::Stage &stage : schedule.stages)
    for (const auto &group : stage.groups)
      covered += group.size();
  if (covered != graph.ops.size())
    return func.emitOpError() << "internal error: the schedule covers "
                              << covered << " of " << graph.ops.size()
                              << " ops";

  Operation *terminator = func.getBody().front().getTerminator();
  OpBuilder b(terminator);
  for (auto [index, stage] : llvm::enumerate(schedule.stages)) {
    double latency = index < latencies.size() ? latencies[index] : 0.0;
    Location loc = graph.ops[stage.groups.front().front()]->getLoc();
    if (stage.strategy == sched::Strategy::Merge && stage.groups.size() > 1) {
      SmallVector<Conv2dOp, 0> convs; // no inline storage: g++ 12 misreads it
      for (const auto &group : stage.groups) {
        auto conv = dyn_cast<Conv2dOp>(graph.ops[group.front()]);
        if (!conv || group.size() != 1)
          return graph.ops[group.front()]->emitOpError()
                 << "internal error: merge stage member is not a single conv";
        convs.push_back(conv);
      }
      FailureOr<SmallVector<Operation *>> ops = buildMerge(b, convs);
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
