//===- ScheduleGraph.cpp - ios functions as scheduler graphs --------------===//

#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace ios;

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

namespace {

/// Whether `v` is a parameter: a function argument marked ios.param, or a
/// constant. Parameters are not activations: they are not part of an op's
/// input shapes and create no edges.
bool isParameter(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    return func && func.getArgAttr(arg.getArgNumber(),
                                   IOSDialect::kParamAttrName);
  }
  return matchPattern(v, m_Constant());
}

/// Per-sample shape of a ranked tensor (batch dropped); empty otherwise.
SmallVector<int64_t, 4> perSample(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() == 0)
    return {};
  return SmallVector<int64_t, 4>(t.getShape().drop_front());
}

} // namespace

sched::OpSignature ios::signatureOf(Operation *op) {
  if (auto iface = dyn_cast<SchedulableOpInterface>(op))
    return iface.getScheduleSignature();
  // An op that does not implement the interface: what can be read off its
  // types. It declares no work (`modeled` stays false).
  sched::OpSignature sig(op->getName().getStringRef().str());
  for (Value operand : op->getOperands())
    if (!isParameter(operand))
      sig.inputShapes.push_back(perSample(operand.getType()));
  Type shaped = op->getNumResults() ? op->getResult(0).getType()
                : op->getNumOperands() ? op->getOperand(0).getType()
                                       : Type();
  if (op->getNumResults())
    sig.outputShape = perSample(shaped);
  if (auto t = dyn_cast_or_null<RankedTensorType>(shaped);
      t && t.getRank() > 0 && !t.isDynamicDim(0))
    sig.batch = t.getDimSize(0);
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
ios::buildScheduleGraph(FunctionOpInterface func,
                        const ScheduleGraphOptions &opts) {
  if (!func.getFunctionBody().hasOneBlock())
    return emitError(func.getLoc())
           << "ios-schedule expects a function with a single block";
  ScheduleGraph result;
  Block &body = func.getFunctionBody().front();
  llvm::DenseMap<Operation *, sched::NodeId> ids;
  for (Operation &op : body.without_terminator()) {
    if (isa<StageOp>(op))
      return emitError(op.getLoc())
             << "'" << op.getName() << "' op function @"
             << SymbolTable::getSymbolName(func).getValue()
             << " is already scheduled; ios-schedule takes graph-level IR";
    // Parameters and their preparation stay outside the schedule.
    if (op.hasTrait<OpTrait::ConstantLike>() ||
        (!isa<SchedulableOpInterface>(op) && op.getNumOperands() > 0 &&
         llvm::all_of(op.getOperands(), isParameter)))
      continue;
    if (op.getNumRegions() != 0)
      return emitError(op.getLoc())
             << "'" << op.getName()
             << "' op cannot be scheduled: ops with regions are not supported "
                "by ios-schedule";
    if (op.getNumResults() == 0)
      return emitError(op.getLoc())
             << "'" << op.getName()
             << "' op cannot be scheduled: it has no results (ios-schedule "
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
    if (auto iface = dyn_cast<SchedulableOpInterface>(op))
      node.mergeKey = iface.getMergeKey();
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
  // A merge stage runs what the first member's interface says.
  sched::MergeFn merge = [ops = result.ops](const sched::Graph &g,
                                            ArrayRef<unsigned> idxs)
      -> llvm::Expected<sched::OpSignature> {
    SmallVector<Operation *> members;
    for (unsigned i : idxs)
      members.push_back(ops[g.node(i).id]);
    FailureOr<sched::OpSignature> sig =
        cast<SchedulableOpInterface>(members.front())
            .getMergedSignature(members);
    if (failed(sig))
      return llvm::createStringError("'" +
                                     members.front()->getName().getStringRef() +
                                     "' gave no merged signature");
    return std::move(*sig);
  };
  llvm::Expected<sched::Graph> graph =
      sched::Graph::build(std::move(nodes), edges, std::move(merge));
  if (!graph)
    return emitError(func.getLoc())
           << "cannot be scheduled: " << llvm::toString(graph.takeError());
  result.graph.emplace(std::move(*graph));
  return result;
}
