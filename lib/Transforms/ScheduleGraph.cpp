//===- ScheduleGraph.cpp - ios functions as scheduler graphs --------------===//

#include "ios/Transforms/ScheduleGraph.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ios;

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

namespace {

/// Per-sample shape: the tensor's shape without its leading batch dimension.
SmallVector<int64_t, 4> perSample(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() == 0)
    return {};
  return SmallVector<int64_t, 4>(t.getShape().drop_front());
}

int64_t batchOf(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() == 0 || t.isDynamicDim(0))
    return 1;
  return t.getDimSize(0);
}

/// Whether `v` is a parameter: a function argument marked ios.param, or a
/// constant. Parameters are not activations: they are not part of an op's
/// input shapes and create no edges.
bool isParameter(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    return func && func.getArgAttr(arg.getArgNumber(),
                                   IOSDialect::kParamAttrName);
  }
  return matchPattern(v, m_Constant());
}

StringRef actName(Activation act) {
  return act == Activation::none ? "identity" : stringifyActivation(act);
}

} // namespace

sched::OpSignature mlir::ios::signatureOf(Operation *op) {
  sched::OpSignature sig;
  for (Value operand : op->getOperands())
    if (!isParameter(operand))
      sig.inputShapes.push_back(perSample(operand.getType()));
  if (op->getNumResults() >= 1) {
    sig.outputShape = perSample(op->getResult(0).getType());
    sig.batch = batchOf(op->getResult(0).getType());
  } else if (op->getNumOperands() >= 1) {
    sig.batch = batchOf(op->getOperand(0).getType());
  }
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](Conv2dOp c) {
        auto w = c.getWeight().getType().getShape();
        sig.kind = "conv";
        // The conv's only activation input is its input; a weight or bias
        // computed by graph ops is still an edge but not an input shape.
        sig.inputShapes = {perSample(c.getInput().getType())};
        sig.set("out_channels", w[0]);
        sig.set("kernel", {w[2], w[3]});
        sig.set("stride", c.getStrides());
        sig.set("padding", c.getPadding());
        sig.set("dilation", c.getDilations());
        sig.set("groups", int64_t(c.getGroups()));
        sig.set("act", actName(c.getAct()).str());
      })
      .Case([&](Pool2dOp p) {
        sig.kind = "pool";
        sig.set("pool_type", stringifyPoolKind(p.getKind()).str());
        if (auto k = p.getKernel()) {
          sig.set("kernel", *k);
          sig.set("stride", p.getStrides() ? *p.getStrides() : *k);
          static const int64_t zeros[] = {0, 0};
          sig.set("padding", p.getPadding() ? *p.getPadding()
                                            : ArrayRef<int64_t>(zeros));
        }
      })
      .Case([&](ActivationOp a) {
        sig.kind = "activation";
        sig.set("act_type", stringifyActivation(a.getKind()).str());
      })
      .Case([&](AddOp) { sig.kind = "add"; })
      .Case([&](MulOp) { sig.kind = "mul"; })
      .Case([&](ConcatOp) { sig.kind = "concat"; })
      .Case([&](SliceOp s) {
        sig.kind = "slice";
        sig.set("begin", int64_t(s.getBegin()));
        sig.set("end", int64_t(s.getEnd()));
      })
      .Case([&](FlattenOp) { sig.kind = "flatten"; })
      .Case([&](LinearOp l) {
        sig.kind = "linear";
        sig.set("out_features", l.getWeight().getType().getDimSize(0));
      })
      .Case([&](SoftmaxOp) { sig.kind = "softmax"; })
      .Default([&](Operation *op) {
        sig.kind = op->getName().getStringRef().str();
      });
  return sig;
}

//===----------------------------------------------------------------------===//
// Building the graph
//===----------------------------------------------------------------------===//

/// The display / table name of an op: its NameLoc, else kind#index.
static std::string nodeName(Operation *op, unsigned index) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner)) {
        loc = inner;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return (op->getName().getStringRef() + "#" + Twine(index)).str();
}

FailureOr<ScheduleGraph>
mlir::ios::buildScheduleGraph(func::FuncOp func,
                              const ScheduleGraphOptions &opts) {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError()
           << "ios-schedule expects a function with a single block";
  ScheduleGraph result;
  Block &body = func.getBody().front();
  llvm::DenseMap<Operation *, sched::NodeId> ids;
  for (Operation &op : body.without_terminator()) {
    if (isa<StageOp>(op))
      return op.emitOpError()
             << "function @" << func.getSymName()
             << " is already scheduled; ios-schedule takes graph-level IR";
    // Parameters and their preparation stay outside the schedule.
    if (op.hasTrait<OpTrait::ConstantLike>() ||
        (!isGraphOp(&op) && op.getNumOperands() > 0 &&
         llvm::all_of(op.getOperands(), isParameter)))
      continue;
    if (op.getNumRegions() != 0)
      return op.emitOpError() << "cannot be scheduled: ops with regions are "
                                 "not supported by ios-schedule";
    if (op.getNumResults() == 0)
      return op.emitOpError()
             << "cannot be scheduled: it has no results (ios-schedule "
                "schedules value-semantic ops)";
    ids[&op] = result.ops.size();
    result.ops.push_back(&op);
  }

  // Units: ios.unit names, then (optionally) chains of ops outside units.
  llvm::StringMap<int64_t> unitKeys;
  SmallVector<std::optional<int64_t>> unitOf(result.ops.size());
  int64_t nextKey = 0;
  for (auto [i, op] : llvm::enumerate(result.ops))
    if (auto name = op->getAttrOfType<StringAttr>(IOSDialect::kUnitAttrName))
      unitOf[i] =
          unitKeys.try_emplace(name.getValue(), nextKey++).first->second;
  if (opts.chainUnits) {
    for (auto [i, op] : llvm::enumerate(result.ops)) {
      if (unitOf[i])
        continue;
      // Extend the chain of the single scheduled predecessor when this op is
      // its only user and it is this op's only scheduled operand.
      SmallVector<Operation *> preds;
      for (Value v : op->getOperands())
        if (Operation *def = v.getDefiningOp(); def && ids.count(def))
          if (!llvm::is_contained(preds, def))
            preds.push_back(def);
      if (preds.size() == 1 && preds.front()->hasOneUse() &&
          preds.front()->getNumResults() == 1) {
        unsigned p = ids[preds.front()];
        if (!result.ops[p]->hasAttr(IOSDialect::kUnitAttrName)) {
          if (!unitOf[p])
            unitOf[p] = nextKey++;
          unitOf[i] = unitOf[p];
          continue;
        }
      }
    }
  }

  std::vector<sched::NodeSpec> nodes;
  std::vector<std::pair<sched::NodeId, sched::NodeId>> edges;
  for (auto [i, op] : llvm::enumerate(result.ops)) {
    sched::NodeSpec node;
    node.id = i;
    node.name = nodeName(op, i);
    node.sig = signatureOf(op);
    node.unit = unitOf[i];
    if (auto part = op->getAttrOfType<IntegerAttr>(IOSDialect::kPartAttrName))
      node.partHint = part.getInt();
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp(); def && ids.count(def))
        edges.push_back({ids[def], sched::NodeId(i)});
    // The merge rules need the exact value a conv reads. Dilated convs never
    // merge (the merged conv is undilated): they get no single input.
    if (auto conv = dyn_cast<Conv2dOp>(op)) {
      bool dilated = llvm::any_of(conv.getDilations(),
                                  [](int64_t d) { return d != 1; });
      Value in = conv.getInput();
      int64_t channels = cast<RankedTensorType>(in.getType()).getDimSize(1);
      sched::ValueRef ref;
      ref.begin = 0;
      ref.end = channels;
      if (Operation *def = in.getDefiningOp(); def && ids.count(def))
        ref.producer = ids[def];
      else if (auto arg = dyn_cast<BlockArgument>(in))
        ref.producer = -1 - sched::NodeId(arg.getArgNumber());
      else
        dilated = true; // a constant input: nothing to share
      if (!dilated)
        node.input = ref;
    }
    result.batch = node.sig.batch;
    nodes.push_back(std::move(node));
  }
  // When every op carries a part hint, the hinted parts are also the blocks:
  // automatic cut detection must not split a part the IR asked for (IOS's
  // own blocks and parts nest that way).
  if (llvm::all_of(nodes, [](const sched::NodeSpec &n) {
        return n.partHint.has_value();
      }))
    for (sched::NodeSpec &n : nodes)
      n.blockHint = n.partHint;
  llvm::Expected<sched::Graph> graph =
      sched::Graph::build(std::move(nodes), edges);
  if (!graph)
    return func.emitOpError()
           << "cannot be scheduled: " << llvm::toString(graph.takeError());
  result.graph.emplace(std::move(*graph));
  return result;
}
