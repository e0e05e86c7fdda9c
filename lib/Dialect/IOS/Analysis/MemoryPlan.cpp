//===- MemoryPlan.cpp - Arena layout of a scheduled function --------------===//

#include "ios/Dialect/IOS/Analysis/MemoryPlan.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace ios;

namespace {
/// Buffers start on 256-byte boundaries (what cudaMalloc gives a tensor).
constexpr int64_t kAlignFloats = 64;

int64_t alignUp(int64_t x) {
  return (x + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

/// N, C, H, W of an activation (rank-2 tensors are N x F x 1 x 1).
std::optional<std::array<int64_t, 4>> dims(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape())
    return std::nullopt;
  if (t.getRank() == 4)
    return std::array<int64_t, 4>{t.getDimSize(0), t.getDimSize(1),
                                  t.getDimSize(2), t.getDimSize(3)};
  if (t.getRank() == 2)
    return std::array<int64_t, 4>{t.getDimSize(0), t.getDimSize(1), 1, 1};
  return std::nullopt;
}

/// Why an activation of `type` cannot be placed in the arena, or "" if it
/// can: graph ops check their own types, but a function input or a foreign
/// op's result reaches the plan unchecked.
std::string unplaceable(Type type) {
  std::optional<std::array<int64_t, 4>> d = dims(type);
  if (!d)
    return "cannot be placed in the arena (expected a static rank-4 or "
           "rank-2 f32 tensor)";
  if (!indexableElements(*d))
    return "has more than " + std::to_string(kMaxTensorElements) +
           " elements, more than the runtimes index";
  return "";
}

/// Ops that write their whole result themselves, so they can write it into
/// a concat's channels.
bool isWriter(Operation *op) {
  auto iface = dyn_cast_or_null<SchedulableOpInterface>(op);
  return iface && iface.writesWholeResult();
}

/// The view `op`'s result is of its first operand, if any.
std::optional<ResultLayout> viewLayout(Operation *op) {
  auto iface = dyn_cast_or_null<SchedulableOpInterface>(op);
  if (!iface)
    return std::nullopt;
  ResultLayout layout = iface.getResultLayout();
  if (!layout.isView())
    return std::nullopt;
  return layout;
}
} // namespace

Value MemoryPlan::resolve(Value v) const {
  for (auto it = resolved.find(v); it != resolved.end(); it = resolved.find(v))
    v = it->second;
  return v;
}

const Storage *MemoryPlan::lookup(Value v) const {
  auto it = storage.find(resolve(v));
  return it == storage.end() ? nullptr : &it->second;
}

const Storage &MemoryPlan::storageOf(Value v) const {
  auto it = storage.find(resolve(v));
  assert(it != storage.end() && "value has no storage");
  return it->second;
}

FailureOr<MemoryPlan> MemoryPlan::compute(FunctionOpInterface func) {
  MemoryPlan plan;
  Block &body = func.getFunctionBody().front();
  SmallVector<StageOp> stageOps = llvm::to_vector(body.getOps<StageOp>());
  plan.stages = stageOps.size();

  // Stage and group results stand for the op results their yields carry.
  for (StageOp stage : stageOps) {
    for (GroupOp group : stage.getGroups()) {
      auto yield = cast<YieldOp>(group.getBody().front().getTerminator());
      for (auto [r, v] : llvm::zip(group.getResults(), yield.getValues()))
        plan.resolved[r] = v;
    }
    auto yield = cast<YieldOp>(stage.getBody().front().getTerminator());
    for (auto [r, v] : llvm::zip(stage.getResults(), yield.getValues()))
      plan.resolved[r] = v;
  }

  // Activations in program order, where they are defined and last read.
  SmallVector<Value> values;
  llvm::DenseMap<Value, int> defStage, lastUse;
  llvm::DenseMap<Value, SmallVector<OpOperand *, 2>> users;
  for (BlockArgument arg : body.getArguments())
    if (!func.getArgAttr(arg.getArgNumber(), IOSDialect::kParamAttrName)) {
      if (std::string why = unplaceable(arg.getType()); !why.empty())
        return func.emitOpError() << "input " << arg.getArgNumber()
                                  << " of type " << arg.getType() << " " << why;
      values.push_back(arg);
      defStage[arg] = -1;
    }
  auto use = [&](OpOperand &operand, int stage) {
    Value v = plan.resolve(operand.get());
    auto it = defStage.find(v);
    if (it == defStage.end())
      return; // a parameter
    int &last = lastUse.try_emplace(v, it->second).first->second;
    last = std::max(last, stage);
    users[v].push_back(&operand);
  };
  for (auto [k, stage] : llvm::enumerate(stageOps))
    for (GroupOp group : stage.getGroups())
      for (Operation &op : group.getBody().front().without_terminator()) {
        for (OpOperand &operand : op.getOpOperands())
          use(operand, k);
        for (Value r : op.getResults()) {
          if (std::string why = unplaceable(r.getType()); !why.empty())
            return op.emitOpError()
                   << "result type " << r.getType() << " " << why;
          values.push_back(r);
          defStage[r] = k;
        }
      }
  for (OpOperand &operand : body.getTerminator()->getOpOperands())
    use(operand, plan.stages);

  // Concat operands their producer can write in place: produced by a writer,
  // read by nothing but this one use of this concat.
  llvm::DenseMap<Value, std::pair<Value, int64_t>> parent;
  for (StageOp stage : stageOps)
    stage.walk([&](SchedulableOpInterface concat) {
      if (!concat.concatenatesOperands())
        return;
      int64_t offset = 0;
      for (OpOperand &operand : concat->getOpOperands()) {
        Value v = plan.resolve(operand.get());
        int64_t channels = (*dims(v.getType()))[1];
        auto it = users.find(v);
        if (isWriter(v.getDefiningOp()) && !parent.count(v) &&
            it != users.end() && it->second.size() == 1 &&
            it->second.front() == &operand) {
          parent[v] = {concat->getResult(0), offset};
          plan.inPlace.insert({v, concat});
        }
        offset += channels;
      }
    });

  // Storage: views and in-place operands follow their root; the rest own a
  // buffer.
  std::function<Storage(Value)> place = [&](Value v) -> Storage {
    if (auto it = plan.storage.find(v); it != plan.storage.end())
      return it->second;
    Storage s;
    auto d = *dims(v.getType());
    Operation *def = v.getDefiningOp();
    if (auto link = parent.find(v); link != parent.end()) {
      s = place(link->second.first);
      s.channelOffset += link->second.second;
    } else if (std::optional<ResultLayout> layout = viewLayout(def);
               layout &&
               layout->kind == ResultLayout::Kind::ChannelSlice) {
      s = place(plan.resolve(def->getOperand(0)));
      s.channelOffset += layout->channelOffset;
    } else if (layout && layout->kind == ResultLayout::Kind::Reshape && [&] {
                 // A view only of a whole (contiguous) tensor.
                 Value in = def->getOperand(0);
                 Storage is = place(plan.resolve(in));
                 return is.channelOffset == 0 &&
                        is.rootChannels == (*dims(in.getType()))[1];
               }()) {
      s = place(plan.resolve(def->getOperand(0)));
      s.rootChannels = d[1];
      plan.views.insert(def);
    } else {
      Buffer b;
      b.size = d[0] * d[1] * d[2] * d[3];
      b.firstStage = defStage.lookup(v);
      b.lastStage = b.firstStage;
      s.buffer = plan.buffers.size();
      s.rootChannels = d[1];
      plan.buffers.push_back(b);
    }
    plan.storage[v] = s;
    return s;
  };
  for (Value v : values)
    place(v);

  // Live ranges of buffers: every value stored in them, through views.
  for (Value v : values) {
    Buffer &b = plan.buffers[plan.storage[v].buffer];
    int def = defStage.lookup(v);
    b.firstStage = std::min(b.firstStage, def);
    auto last = lastUse.find(v);
    b.lastStage = std::max(b.lastStage,
                           last == lastUse.end() ? def : last->second);
  }

  // Greedy placement, largest first: the lowest aligned offset that does not
  // overlap a placed buffer whose live range overlaps.
  SmallVector<unsigned> order = llvm::to_vector(
      llvm::seq<unsigned>(0, plan.buffers.size()));
  llvm::sort(order, [&](unsigned a, unsigned b) {
    return plan.buffers[a].size > plan.buffers[b].size ||
           (plan.buffers[a].size == plan.buffers[b].size && a < b);
  });
  SmallVector<unsigned> placed;
  for (unsigned i : order) {
    Buffer &b = plan.buffers[i];
    plan.tensors += b.size;
    SmallVector<int64_t> candidates = {0};
    SmallVector<const Buffer *> live;
    for (unsigned j : placed) {
      const Buffer &o = plan.buffers[j];
      if (o.firstStage <= b.lastStage && b.firstStage <= o.lastStage) {
        live.push_back(&o);
        candidates.push_back(alignUp(o.offset + o.size));
      }
    }
    llvm::sort(candidates);
    for (int64_t offset : candidates) {
      if (llvm::none_of(live, [&](const Buffer *o) {
            return offset < o->offset + o->size && o->offset < offset + b.size;
          })) {
        b.offset = offset;
        break;
      }
    }
    plan.arena = std::max(plan.arena, b.offset + b.size);
    placed.push_back(i);
  }
  return plan;
}
