//===- IOSToEmitC.cpp - Scheduled ios functions to runtime calls ----------===//

#include "ios/Dialect/IOS/Analysis/MemoryPlan.h"
#include "ios/Conversion/Passes.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <tuple>

namespace ios {
#define GEN_PASS_DEF_CONVERTIOSTOEMITC
#include "ios/Conversion/Passes.h.inc"
} // namespace ios

using namespace mlir;
using namespace ios;

namespace {

/// `s` as a C string literal: quotes, backslashes and every byte outside
/// printable ASCII escaped (three-digit octal, so no following character can
/// extend the escape).
std::string cString(StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += '\\';
      out += char('0' + (c >> 6));
      out += char('0' + ((c >> 3) & 7));
      out += char('0' + (c & 7));
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

/// `s` safe inside a `//` comment: no line breaks (which would end it) and no
/// backslashes (one at the end of the line would splice the next line in).
std::string commentText(StringRef s) {
  std::string out;
  for (unsigned char c : s)
    out += (c < 0x20 || c >= 0x7f || c == '\\') ? '?' : char(c);
  return out;
}

/// Builds the emitc functions of one scheduled function.
class Lowering {
public:
  Lowering(func::FuncOp func, const MemoryPlan &plan, OpBuilder &b)
      : func(func), plan(plan), b(b), ctx(func.getContext()),
        loc(func.getLoc()) {
    contextPtr = emitc::PointerType::get(
        emitc::OpaqueType::get(ctx, "ios::rt::Context"));
    voidPtr = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "void"));
    floatPtr = emitc::PointerType::get(b.getF32Type());
    constFloatPtr =
        emitc::PointerType::get(emitc::OpaqueType::get(ctx, "const float"));
    constCharPtr =
        emitc::PointerType::get(emitc::OpaqueType::get(ctx, "const char"));
    viewType = emitc::OpaqueType::get(ctx, "ios::rt::View");
  }

  LogicalResult run(bool emitMain);

private:
  // --- small emitters -----------------------------------------------------
  Attribute str(StringRef s) { return emitc::OpaqueAttr::get(ctx, cString(s)); }
  Attribute i64(int64_t v) { return b.getI64IntegerAttr(v); }
  Attribute i32(int32_t v) { return b.getI32IntegerAttr(v); }
  Attribute opaque(StringRef s) { return emitc::OpaqueAttr::get(ctx, s); }
  Attribute operand(unsigned i) { return b.getIndexAttr(i); }

  Value call(Type result, StringRef callee, ValueRange operands,
             ArrayRef<Attribute> args) {
    auto op = emitc::CallOpaqueOp::create(
        b, loc, result ? TypeRange(result) : TypeRange(), callee, operands,
        b.getArrayAttr(args));
    return result ? op.getResult(0) : Value();
  }
  void callVoid(StringRef callee, ValueRange operands,
                ArrayRef<Attribute> args) {
    call(Type(), callee, operands, args);
  }
  void verbatim(StringRef text, ValueRange args = {}) {
    emitc::VerbatimOp::create(b, loc, b.getStringAttr(text), args);
  }

  std::string nameOf(Operation *op) {
    Location l = op->getLoc();
    if (auto fused = dyn_cast<FusedLoc>(l)) {
      SmallVector<std::string> names;
      for (Location inner : fused.getLocations())
        if (auto n = dyn_cast<NameLoc>(inner))
          names.push_back(n.getName().str());
      if (!names.empty())
        return llvm::join(names, "+");
    }
    if (auto n = dyn_cast<NameLoc>(l))
      return n.getName().str();
    return (op->getName().getStringRef().drop_front(4) + "#" +
            Twine(opIndex.lookup(op)))
        .str();
  }

  /// The view of an activation in the arena (cached per value).
  Value viewOf(Value v);
  /// The weight pointer of a parameter (an ios.param argument or a packed
  /// merged weight).
  FailureOr<Value> weightOf(Value param, Operation *user);
  FailureOr<std::string> packedName(Value packed, Operation *user);

  LogicalResult lowerOp(Operation *op, int32_t stream);
  /// kh, kw, strides, padding, dilations, groups, activation of a conv, as
  /// the runtime's conv2d / prepareConv2d take them.
  SmallVector<Attribute> convWindow(Conv2dOp c);
  LogicalResult emitCreate();
  LogicalResult emitRun();
  void emitDestroy();

  func::FuncOp func;
  const MemoryPlan &plan;
  OpBuilder &b;
  MLIRContext *ctx;
  Location loc;
  Type contextPtr, voidPtr, floatPtr, constFloatPtr, constCharPtr, viewType;

  // Per function being built.
  Value context, arenaBase;
  llvm::DenseMap<Value, Value> views;
  /// Whole-buffer views by (arena offset, channels, height, width).
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, Value> rootViews;
  llvm::DenseMap<Operation *, unsigned> opIndex;
  /// Merged weights/biases (top-level tensor.concat results) -> packed name.
  llvm::DenseMap<Value, std::string> packed;
  SmallVector<Value> packOrder;
  int32_t numStreams = 1;
  Value input, output;
};

Value Lowering::viewOf(Value v) {
  v = plan.resolve(v);
  if (Value cached = views.lookup(v))
    return cached;
  auto shape = cast<RankedTensorType>(v.getType()).getShape();
  int64_t n = shape[0], c = shape[1];
  int64_t h = shape.size() == 4 ? shape[2] : 1;
  int64_t w = shape.size() == 4 ? shape[3] : 1;
  const Storage &s = plan.storageOf(v);
  const Buffer &buf = plan.buffer(s.buffer);
  Value &root = rootViews[{buf.offset, s.rootChannels, h, w}];
  if (!root)
    root = call(viewType, "ios::rt::view", {arenaBase},
                {operand(0), i64(buf.offset), i64(n), i64(s.rootChannels),
                 i64(h), i64(w)});
  Value view = root;
  if (s.channelOffset != 0 || s.rootChannels != c)
    view = call(viewType, "ios::rt::channels", {view},
                {operand(0), i64(s.channelOffset), i64(s.channelOffset + c)});
  views[v] = view;
  return view;
}

FailureOr<std::string> Lowering::packedName(Value packedValue,
                                            Operation *user) {
  auto it = packed.find(packedValue);
  if (it == packed.end())
    return user->emitOpError()
           << "reads a weight computed by '"
           << packedValue.getDefiningOp()->getName()
           << "'; the lowering supports ios.param arguments and the packed "
              "weights of merge stages only";
  return it->second;
}

FailureOr<Value> Lowering::weightOf(Value param, Operation *user) {
  auto type = cast<RankedTensorType>(param.getType());
  std::string name;
  if (auto arg = dyn_cast<BlockArgument>(param)) {
    auto attr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                  IOSDialect::kParamAttrName);
    if (!attr)
      return user->emitOpError()
             << "reads argument #" << arg.getArgNumber()
             << " as a weight, but it has no ios.param name";
    name = attr.getValue().str();
  } else {
    FailureOr<std::string> p = packedName(param, user);
    if (failed(p))
      return failure();
    name = *p;
  }
  return call(floatPtr, "ios::rt::weight", {context},
              {operand(0), str(name), i64(type.getNumElements())});
}

/// Whole-window parameters of a pool.
static void poolWindow(Pool2dOp p, SmallVectorImpl<int64_t> &k,
                       SmallVectorImpl<int64_t> &s,
                       SmallVectorImpl<int64_t> &pad) {
  auto in = p.getInput().getType().getShape();
  if (p.isGlobal()) {
    k.assign({in[2], in[3]});
    s.assign({1, 1});
    pad.assign({0, 0});
    return;
  }
  k.assign(p.getKernel()->begin(), p.getKernel()->end());
  if (p.getStrides())
    s.assign(p.getStrides()->begin(), p.getStrides()->end());
  else
    s.assign(k.begin(), k.end());
  if (p.getPadding())
    pad.assign(p.getPadding()->begin(), p.getPadding()->end());
  else
    pad.assign({0, 0});
}

static StringRef actName(Activation a) {
  switch (a) {
  case Activation::none:
    return "ios::rt::ActNone";
  case Activation::relu:
    return "ios::rt::ActRelu";
  case Activation::sigmoid:
    return "ios::rt::ActSigmoid";
  case Activation::tanh:
    return "ios::rt::ActTanh";
  }
  llvm_unreachable("unknown activation");
}

SmallVector<Attribute> Lowering::convWindow(Conv2dOp c) {
  auto ws = c.getWeight().getType().getShape();
  return {i64(ws[2]),
          i64(ws[3]),
          i64(c.getStrides()[0]),
          i64(c.getStrides()[1]),
          i64(c.getPadding()[0]),
          i64(c.getPadding()[1]),
          i64(c.getDilations()[0]),
          i64(c.getDilations()[1]),
          i64(c.getGroups()),
          opaque(actName(c.getAct()))};
}

LogicalResult Lowering::lowerOp(Operation *op, int32_t stream) {
  std::string name = nameOf(op);
  Attribute s = i32(stream), n = str(name);
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](Conv2dOp c) -> LogicalResult {
        FailureOr<Value> w = weightOf(c.getWeight(), op);
        FailureOr<Value> bias = weightOf(c.getBias(), op);
        if (failed(w) || failed(bias))
          return failure();
        SmallVector<Attribute> args = {operand(0), s,          n,
                                       operand(1), operand(2), operand(3),
                                       operand(4)};
        llvm::append_range(args, convWindow(c));
        callVoid("ios::rt::conv2d",
                 {context, viewOf(c.getInput()), viewOf(c.getResult()), *w,
                  *bias},
                 args);
        return success();
      })
      .Case([&](Pool2dOp p) -> LogicalResult {
        SmallVector<int64_t, 2> k, st, pad;
        poolWindow(p, k, st, pad);
        StringRef kind = llvm::StringSwitch<StringRef>(
                             stringifyPoolKind(p.getKind()))
                             .Case("max", "ios::rt::PoolMax")
                             .Case("avg", "ios::rt::PoolAvg")
                             .Case("global_max", "ios::rt::PoolGlobalMax")
                             .Default("ios::rt::PoolGlobalAvg");
        callVoid("ios::rt::pool2d",
                 {context, viewOf(p.getInput()), viewOf(p.getResult())},
                 {operand(0), s, n, operand(1), operand(2), opaque(kind),
                  i64(k[0]), i64(k[1]), i64(st[0]), i64(st[1]), i64(pad[0]),
                  i64(pad[1])});
        return success();
      })
      .Case([&](ActivationOp a) -> LogicalResult {
        callVoid("ios::rt::activation",
                 {context, viewOf(a.getInput()), viewOf(a.getResult())},
                 {operand(0), s, n, operand(1), operand(2),
                  opaque(actName(a.getKind()))});
        return success();
      })
      .Case([&](AddOp a) -> LogicalResult {
        SmallVector<Value> operands = {context, viewOf(a.getResult())};
        SmallVector<Attribute> args = {operand(0), s, n, operand(1)};
        for (Value in : a.getInputs()) {
          args.push_back(operand(operands.size()));
          operands.push_back(viewOf(in));
        }
        callVoid("ios::rt::addN", operands, args);
        return success();
      })
      .Case([&](MulOp m) -> LogicalResult {
        callVoid("ios::rt::mul",
                 {context, viewOf(m.getLhs()), viewOf(m.getRhs()),
                  viewOf(m.getResult())},
                 {operand(0), s, n, operand(1), operand(2), operand(3)});
        return success();
      })
      .Case([&](ConcatOp c) -> LogicalResult {
        // Operands not written in place are copied into their channels.
        int64_t offset = 0;
        for (Value in : c.getInputs()) {
          int64_t channels = cast<RankedTensorType>(in.getType()).getDimSize(1);
          if (!plan.isInPlace(plan.resolve(in), c)) {
            Value slot = call(viewType, "ios::rt::channels",
                              {viewOf(c.getResult())},
                              {operand(0), i64(offset), i64(offset + channels)});
            callVoid("ios::rt::copy", {context, viewOf(in), slot},
                     {operand(0), s, n, operand(1), operand(2)});
          }
          offset += channels;
        }
        return success();
      })
      .Case([&](SliceOp) { return success(); }) // a view
      .Case([&](FlattenOp f) -> LogicalResult {
        if (!plan.isView(f)) {
          // Copy the strided input into the flat buffer, image by image.
          auto in = f.getInput().getType().getShape();
          Value flat = viewOf(f.getResult());
          Value asImage =
              call(viewType, "ios::rt::reshape", {flat},
                   {operand(0), i64(in[0]), i64(in[1]), i64(in[2]), i64(in[3])});
          callVoid("ios::rt::copy", {context, viewOf(f.getInput()), asImage},
                   {operand(0), s, n, operand(1), operand(2)});
        }
        return success();
      })
      .Case([&](LinearOp l) -> LogicalResult {
        FailureOr<Value> w = weightOf(l.getWeight(), op);
        FailureOr<Value> bias = weightOf(l.getBias(), op);
        if (failed(w) || failed(bias))
          return failure();
        callVoid("ios::rt::linear",
                 {context, viewOf(l.getInput()), viewOf(l.getResult()), *w,
                  *bias},
                 {operand(0), s, n, operand(1), operand(2), operand(3),
                  operand(4)});
        return success();
      })
      .Case([&](SoftmaxOp sm) -> LogicalResult {
        callVoid("ios::rt::softmax",
                 {context, viewOf(sm.getInput()), viewOf(sm.getResult())},
                 {operand(0), s, n, operand(1), operand(2)});
        return success();
      })
      .Default([&](Operation *op) {
        return op->emitOpError()
               << "cannot be lowered to the IOS runtime (no kernel for it)";
      });
}

LogicalResult Lowering::emitCreate() {
  std::string fname = ("ios_" + func.getSymName() + "_create").str();
  auto fn = emitc::FuncOp::create(b, loc, fname,
                                  b.getFunctionType({constCharPtr}, {voidPtr}));
  fn.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
  OpBuilder::InsertionGuard guard(b);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value path = entry->getArgument(0);
  verbatim("const char *ios_error = nullptr;");
  context = call(contextPtr, "ios::rt::createContext", {},
                 {i32(numStreams), i32(numStreams), i64(plan.arenaFloats()),
                  opaque("&ios_error")});
  verbatim("if (!{}) {{ std::fprintf(stderr, \"ios: %s\\n\", ios_error); "
           "return nullptr; }",
           {context});
  Value ok = call(b.getI1Type(), "ios::rt::loadWeights", {context, path},
                  {operand(0), operand(1)});
  auto failIfNot = [&](Value ok) {
    verbatim("if (!{}) {{ std::fprintf(stderr, \"ios: %s\\n\", "
             "ios::rt::lastError({})); ios::rt::destroyContext({}); return "
             "nullptr; }",
             {ok, context, context});
  };
  failIfNot(ok);

  // Merged convolutions' weights and biases, packed once.
  for (Value packedValue : packOrder) {
    auto concat = cast<tensor::ConcatOp>(packedValue.getDefiningOp());
    const std::string &name = packed[packedValue];
    auto type = cast<RankedTensorType>(packedValue.getType());
    int64_t offset = 0;
    for (Value src : concat.getInputs()) {
      Value source = src;
      if (auto pad = src.getDefiningOp<tensor::PadOp>())
        source = pad.getSource();
      auto arg = dyn_cast<BlockArgument>(source);
      StringAttr srcName =
          arg ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                  IOSDialect::kParamAttrName)
              : StringAttr();
      if (!srcName)
        return concat.emitOpError()
               << "packs a weight that is not an ios.param argument";
      auto st = cast<RankedTensorType>(source.getType()).getShape();
      Value packedOk;
      if (type.getRank() == 4)
        packedOk = call(b.getI1Type(), "ios::rt::packConvWeight", {context},
                        {operand(0), str(name), i64(type.getDimSize(0)),
                         i64(type.getDimSize(1)), i64(type.getDimSize(2)),
                         i64(type.getDimSize(3)), str(srcName.getValue()),
                         i64(offset), i64(st[0]), i64(st[2]), i64(st[3])});
      else
        packedOk = call(b.getI1Type(), "ios::rt::packBias", {context},
                        {operand(0), str(name), i64(type.getDimSize(0)),
                         str(srcName.getValue()), i64(offset), i64(st[0])});
      failIfNot(packedOk);
      offset += st[0];
    }
  }
  // Every convolution is planned now, at load (the CUDA backend chooses its
  // cuDNN algorithm and sizes the workspace), not at the first inference.
  arenaBase = call(floatPtr, "ios::rt::arena", {context}, {operand(0)});
  views.clear();
  rootViews.clear();
  for (auto stage : func.getBody().front().getOps<StageOp>())
    for (auto [s, group] : llvm::enumerate(stage.getGroups()))
      for (auto conv : group.getBody().front().getOps<Conv2dOp>()) {
        SmallVector<Attribute> args = {operand(0), i32(s),
                                       str(nameOf(conv)), operand(1),
                                       operand(2)};
        llvm::append_range(args, convWindow(conv));
        args.push_back(b.getBoolAttr(true));
        failIfNot(call(b.getI1Type(), "ios::rt::prepareConv2d",
                       {context, viewOf(conv.getInput()),
                        viewOf(conv.getResult())},
                       args));
      }
  views.clear();
  rootViews.clear();

  Value handle = emitc::CastOp::create(b, loc, voidPtr, context);
  emitc::ReturnOp::create(b, loc, handle);
  return success();
}

LogicalResult Lowering::emitRun() {
  std::string fname = ("ios_" + func.getSymName() + "_run").str();
  auto fn = emitc::FuncOp::create(
      b, loc, fname,
      b.getFunctionType({voidPtr, constFloatPtr, floatPtr}, {b.getI32Type()}));
  fn.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
  OpBuilder::InsertionGuard guard(b);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  views.clear();
  rootViews.clear();
  context = emitc::CastOp::create(b, loc, contextPtr, entry->getArgument(0));
  arenaBase = call(floatPtr, "ios::rt::arena", {context}, {operand(0)});

  auto arenaAt = [&](Value v) {
    const Storage &s = plan.storageOf(v);
    Value offset = emitc::ConstantOp::create(
        b, loc, b.getI64Type(), b.getI64IntegerAttr(plan.buffer(s.buffer).offset));
    return emitc::AddOp::create(b, loc, floatPtr, arenaBase, offset)
        .getResult();
  };
  auto count = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getNumElements();
  };
  Value ok = call(b.getI1Type(), "ios::rt::upload",
                  {context, arenaAt(input), entry->getArgument(1)},
                  {operand(0), operand(1), operand(2), i64(count(input))});
  verbatim("if (!{}) return 0;", {ok});

  unsigned index = 0;
  for (auto stage : func.getBody().front().getOps<StageOp>()) {
    SmallVector<GroupOp> groups = llvm::to_vector(stage.getGroups());
    std::string title =
        llvm::formatv("// stage {0}: {1}, {2} group(s){3}", index++,
                      stringifyStrategy(stage.getStrategy()), groups.size(),
                      stage.getLatencyMs()
                          ? llvm::formatv(", estimated {0:F4} ms",
                                          stage.getLatencyMs()->convertToDouble())
                                .str()
                          : std::string())
            .str();
    verbatim(title);
    int32_t g = groups.size();
    // Fork: streams 1.. start after everything stream 0 has done.
    if (g > 1) {
      callVoid("ios::rt::record", {context}, {operand(0), i32(0), i32(0)});
      for (int32_t s = 1; s < g; ++s)
        callVoid("ios::rt::wait", {context}, {operand(0), i32(s), i32(0)});
    }
    for (auto [s, group] : llvm::enumerate(groups))
      for (Operation &op : group.getBody().front().without_terminator())
        if (failed(lowerOp(&op, s)))
          return failure();
    // Join: stream 0 continues once every other stream has finished.
    if (g > 1)
      for (int32_t s = 1; s < g; ++s) {
        callVoid("ios::rt::record", {context}, {operand(0), i32(s), i32(s)});
        callVoid("ios::rt::wait", {context}, {operand(0), i32(0), i32(s)});
      }
  }

  Value downloaded = call(b.getI1Type(), "ios::rt::download",
                          {context, entry->getArgument(2), arenaAt(output)},
                          {operand(0), operand(1), operand(2),
                           i64(count(output))});
  Value synced = call(b.getI1Type(), "ios::rt::synchronize", {context},
                      {operand(0)});
  verbatim("if (!{}) std::fprintf(stderr, \"ios: %s\\n\", "
           "ios::rt::lastError({}));",
           {synced, context});
  Value both =
      emitc::LogicalAndOp::create(b, loc, b.getI1Type(), downloaded, synced);
  Value result = emitc::CastOp::create(b, loc, b.getI32Type(), both);
  emitc::ReturnOp::create(b, loc, result);
  return success();
}

void Lowering::emitDestroy() {
  std::string fname = ("ios_" + func.getSymName() + "_destroy").str();
  auto fn = emitc::FuncOp::create(b, loc, fname,
                                  b.getFunctionType({voidPtr}, {}));
  fn.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
  OpBuilder::InsertionGuard guard(b);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value c = emitc::CastOp::create(b, loc, contextPtr, entry->getArgument(0));
  callVoid("ios::rt::destroyContext", {c}, {operand(0)});
  emitc::ReturnOp::create(b, loc, Value());
}

LogicalResult Lowering::run(bool emitMain) {
  // The program's interface: one input, one result.
  SmallVector<BlockArgument> inputs;
  for (BlockArgument arg : func.getArguments())
    if (!func.getArgAttr(arg.getArgNumber(), IOSDialect::kParamAttrName))
      inputs.push_back(arg);
  if (inputs.size() != 1 || func.getNumResults() != 1)
    return func.emitOpError()
           << "has " << inputs.size() << " input(s) and "
           << func.getNumResults()
           << " result(s); the runtime's C API runs networks of one input "
              "and one result";
  input = inputs.front();
  output = plan.resolve(func.getBody().front().getTerminator()->getOperand(0));
  {
    const Storage &s = plan.storageOf(output);
    if (s.channelOffset != 0 ||
        s.rootChannels != cast<RankedTensorType>(output.getType()).getDimSize(1))
      return func.emitOpError()
             << "returns a channel slice of a wider tensor; return a whole "
                "tensor (e.g. a concat or a conv result)";
  }

  unsigned counter = 0;
  for (Operation &op : func.getBody().front()) {
    if (auto stage = dyn_cast<StageOp>(op)) {
      numStreams = std::max<int32_t>(numStreams,
                                     llvm::range_size(stage.getGroups()));
      stage.walk([&](Operation *inner) {
        if (isa<SchedulableOpInterface>(inner))
          opIndex[inner] = counter++;
      });
      continue;
    }
    if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      packed[concat.getResult()] =
          llvm::formatv("{0}.merge{1}.{2}", func.getSymName(),
                        packOrder.size() / 2,
                        cast<RankedTensorType>(concat.getType()).getRank() == 4
                            ? "weight"
                            : "bias")
              .str();
      packOrder.push_back(concat.getResult());
      continue;
    }
    if (isa<tensor::PadOp, arith::ConstantOp, func::ReturnOp>(op))
      continue;
    return op.emitOpError()
           << "cannot be lowered: a scheduled function holds ios.stage ops "
              "and the packing of merged weights only";
  }

  double mb = 4.0 / (1 << 20);
  verbatim(llvm::formatv(
               "// @{0}: {1} stage(s) on {2} stream(s); arena {3:F2} MiB for "
               "{4:F2} MiB of tensors ({5} buffers)",
               func.getSymName(), plan.numStages(), numStreams,
               plan.arenaFloats() * mb, plan.tensorFloats() * mb,
               plan.getBuffers().size())
               .str());
  if (auto attr = func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName))
    verbatim(llvm::formatv("// scheduled for {0}, batch {1}, by {2} ({3}): "
                           "estimated {4:F3} ms, sequential {5:F3} ms",
                           commentText(attr.getDevice()), attr.getBatch(),
                           commentText(attr.getProfiler()),
                           stringifyScheduleStrategy(attr.getStrategy()),
                           attr.getLatencyMs().getValueAsDouble(),
                           attr.getSequentialMs().getValueAsDouble())
                 .str());
  if (failed(emitCreate()) || failed(emitRun()))
    return failure();
  emitDestroy();
  if (emitMain) {
    int64_t in = cast<RankedTensorType>(input.getType()).getNumElements();
    int64_t out = cast<RankedTensorType>(output.getType()).getNumElements();
    verbatim("#ifdef IOS_MAIN");
    verbatim(llvm::formatv(
                 "int main(int argc, char **argv) {{ return "
                 "ios::rt::runMain(argc, argv, \"{0}\", &ios_{0}_create, "
                 "&ios_{0}_run, &ios_{0}_destroy, {1}, {2}); }",
                 func.getSymName(), in, out)
                 .str());
    verbatim("#endif");
  }
  return success();
}

struct ConvertIOSToEmitCPass
    : ios::impl::ConvertIOSToEmitCBase<ConvertIOSToEmitCPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (func.getBody().front().getOps<StageOp>().empty()) {
        func.emitOpError()
            << "is not scheduled; run --ios-schedule first (strategy="
               "sequential gives the plain program)";
        return signalPassFailure();
      }
      if (!device.empty()) {
        auto attr =
            func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName);
        if (attr && attr.getDevice() != device) {
          func.emitOpError() << "was scheduled for device '"
                             << attr.getDevice() << "', not '" << device
                             << "'; schedule it again for this device";
          return signalPassFailure();
        }
      }
      funcs.push_back(func);
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    emitc::IncludeOp::create(b, module.getLoc(), "cstdint", true);
    emitc::IncludeOp::create(b, module.getLoc(), "cstdio", true);
    emitc::IncludeOp::create(b, module.getLoc(), "ios/Runtime/Runtime.h",
                             false);
    for (func::FuncOp func : funcs) {
      FailureOr<MemoryPlan> plan = MemoryPlan::compute(func);
      if (failed(plan))
        return signalPassFailure();
      b.setInsertionPoint(func);
      Lowering lowering(func, *plan, b);
      if (failed(lowering.run(emitMain)))
        return signalPassFailure();
      func.erase();
    }
  }
};

} // namespace
