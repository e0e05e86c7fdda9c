//===- IOSRT.cpp - The IOS runtime program dialect ------------------------===//
//
// Verifiers check what the runtime assumes of its calls: every kernel's
// views have the shapes its arguments imply, and every view lies inside
// the function's arena, so no kernel can run off its memory.
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace ios::rtir;
using ios::PoolKind;

#include "ios/Dialect/IOSRT/IR/IOSRTDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "ios/Dialect/IOSRT/IR/IOSRTTypes.cpp.inc"

void IOSRTDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "ios/Dialect/IOSRT/IR/IOSRTTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "ios/Dialect/IOSRT/IR/IOSRTOps.cpp.inc"
      >();
}

/// The lowering reads a program function's attributes as integers (and a
/// function with `iosrt.arena` as a program): malformed ones are errors
/// here, not crashes there.
LogicalResult IOSRTDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kArenaAttrName || name == kStreamsAttrName ||
      name == kEventsAttrName) {
    if (!isa<FunctionOpInterface>(op))
      return op->emitError() << "'" << name << "' is only valid on functions";
    // Streams and events are counted in 32 bits by the runtime.
    for (auto [required, min, max] :
         {std::tuple(kArenaAttrName, 0, INT64_MAX),
          std::tuple(kStreamsAttrName, 1, int64_t(INT32_MAX)),
          std::tuple(kEventsAttrName, 0, int64_t(INT32_MAX))}) {
      auto value = op->getAttrOfType<IntegerAttr>(required);
      if (!value || !value.getType().isSignlessInteger() ||
          value.getType().getIntOrFloatBitWidth() > 64 ||
          value.getInt() < min || value.getInt() > max)
        return op->emitError() << "a program function needs '" << required
                               << "': an integer in [" << min << ", " << max
                               << "]";
    }
    return success();
  }
  if (name == kTargetAttrName) {
    auto target = dyn_cast<StringAttr>(attr.getValue());
    if (!target || (target.getValue() != "cpu" && target.getValue() != "cuda"))
      return op->emitError() << "'" << name << "' must be \"cpu\" or \"cuda\"";
    return success();
  }
  return op->emitError() << "unknown iosrt attribute '" << name << "'";
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

LogicalResult ViewOp::verify() {
  ArrayRef<int64_t> s = getShape();
  if (s.size() != 4 || llvm::any_of(s, [](int64_t d) { return d < 1; }))
    return emitOpError() << "expects a positive [N, C, H, W] shape";
  int64_t stride = getBatchStride(), offset = getOffset();
  if (offset < 0)
    return emitOpError() << "expects a non-negative offset";
  std::optional<int64_t> image = llvm::checkedMul(s[1], s[2]);
  if (image)
    image = llvm::checkedMul(*image, s[3]);
  if (!image || stride < *image)
    return emitOpError() << "batch stride " << getBatchStride()
                         << " is smaller than an image (C x H x W)";
  // The view's last element lies inside the arena.
  std::optional<int64_t> end = llvm::checkedMul(s[0] - 1, stride);
  if (end)
    end = llvm::checkedAdd(*end, *image);
  if (end)
    end = llvm::checkedAdd(*end, offset);
  auto func = (*this)->getParentOfType<FunctionOpInterface>();
  auto arena =
      func ? func->getAttrOfType<IntegerAttr>(kArenaAttrName) : IntegerAttr();
  if (!end || (arena && *end > arena.getInt()))
    return emitOpError() << "ends past the arena of "
                         << (arena ? arena.getInt() : 0) << " floats";
  return success();
}

namespace {

/// The shape of a kernel operand, which must come from an iosrt.view.
FailureOr<ArrayRef<int64_t>> shapeOf(Operation *op, Value v) {
  auto view = v.getDefiningOp<ViewOp>();
  if (!view) {
    op->emitOpError() << "expects its operands to be iosrt.view results";
    return failure();
  }
  return view.getShape();
}

LogicalResult checkPair(Operation *op, ArrayRef<int64_t> v, StringRef name,
                        int64_t min) {
  if (v.size() != 2 || v[0] < min || v[1] < min)
    return op->emitOpError() << "expects '" << name << "' to be 2 values >= "
                             << min;
  return success();
}

/// Same shape in and out.
LogicalResult sameShape(Operation *op, Value in, Value out) {
  auto a = shapeOf(op, in), b = shapeOf(op, out);
  if (failed(a) || failed(b))
    return failure();
  if (*a != *b)
    return op->emitOpError() << "expects input and output views of one shape";
  return success();
}

/// `in` has `out`'s shape or is its (N, C, 1, 1) broadcast.
LogicalResult broadcastable(Operation *op, Value in, ArrayRef<int64_t> out) {
  auto s = shapeOf(op, in);
  if (failed(s))
    return failure();
  if (*s == out || ((*s)[0] == out[0] && (*s)[1] == out[1] && (*s)[2] == 1 &&
                    (*s)[3] == 1))
    return success();
  return op->emitOpError()
         << "expects inputs of the output's shape or its (N, C, 1, 1) "
            "broadcast";
}

int64_t windowOut(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

} // namespace

//===----------------------------------------------------------------------===//
// Weight preparation
//===----------------------------------------------------------------------===//

/// I64Attr getters return uint64_t: read the values as the signed numbers
/// the IR spells (a negative offset must fail, not wrap).
static int64_t signedValue(uint64_t v) { return static_cast<int64_t>(v); }

LogicalResult PackConvWeightOp::verify() {
  int64_t totalOut = signedValue(getTotalOut()), out = signedValue(getOut()),
          offset = signedValue(getOutOffset()), kh = signedValue(getKh()),
          kw = signedValue(getKw()), srcKh = signedValue(getSrcKh()),
          srcKw = signedValue(getSrcKw()), top = signedValue(getTop()),
          left = signedValue(getLeft());
  if (totalOut < 1 || signedValue(getInChannels()) < 1 || kh < 1 || kw < 1 ||
      out < 1 || srcKh < 1 || srcKw < 1 || offset < 0 || top < 0 || left < 0)
    return emitOpError() << "expects positive sizes and non-negative offsets";
  if (offset > totalOut - out || top > kh - srcKh || left > kw - srcKw)
    return emitOpError() << "places the source outside the packed weight";
  return success();
}

LogicalResult PackBiasOp::verify() {
  int64_t total = signedValue(getTotal()), size = signedValue(getSize()),
          offset = signedValue(getOffset());
  if (total < 1 || size < 1 || offset < 0 || offset > total - size)
    return emitOpError() << "places the source outside the packed bias";
  return success();
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::verify() {
  auto in = shapeOf(*this, getInput()), out = shapeOf(*this, getOutput());
  if (failed(in) || failed(out) || failed(checkPair(*this, getKernel(), "kernel", 1)) ||
      failed(checkPair(*this, getStrides(), "strides", 1)) ||
      failed(checkPair(*this, getPadding(), "padding", 0)) ||
      failed(checkPair(*this, getDilations(), "dilations", 1)))
    return failure();
  int64_t g = getGroups();
  if (g < 1 || (*in)[1] % g || (*out)[1] % g)
    return emitOpError() << "groups must divide the input and output channels";
  auto k = getKernel(), s = getStrides(), p = getPadding(),
       d = getDilations();
  if ((*out)[0] != (*in)[0] ||
      (*out)[2] != windowOut((*in)[2], k[0], s[0], p[0], d[0]) ||
      (*out)[3] != windowOut((*in)[3], k[1], s[1], p[1], d[1]))
    return emitOpError() << "output view does not match the convolution of "
                            "its input view";
  return success();
}

LogicalResult Pool2dOp::verify() {
  auto in = shapeOf(*this, getInput()), out = shapeOf(*this, getOutput());
  if (failed(in) || failed(out))
    return failure();
  if ((*in)[0] != (*out)[0] || (*in)[1] != (*out)[1])
    return emitOpError() << "expects the batch and channels to be kept";
  bool global =
      getKind() == PoolKind::global_max || getKind() == PoolKind::global_avg;
  if (global) {
    if ((*out)[2] != 1 || (*out)[3] != 1)
      return emitOpError() << "expects a 1 x 1 output for global pooling";
    return success();
  }
  return failure(failed(checkPair(*this, getKernel(), "kernel", 1)) ||
                 failed(checkPair(*this, getStrides(), "strides", 1)) ||
                 failed(checkPair(*this, getPadding(), "padding", 0)));
}

LogicalResult ActivationOp::verify() {
  return sameShape(*this, getInput(), getOutput());
}

LogicalResult AddOp::verify() {
  auto out = shapeOf(*this, getOutput());
  if (failed(out))
    return failure();
  if (getInputs().size() < 2)
    return emitOpError() << "expects at least two inputs";
  for (Value in : getInputs())
    if (failed(broadcastable(*this, in, *out)))
      return failure();
  return success();
}

LogicalResult MulOp::verify() {
  auto out = shapeOf(*this, getOutput());
  if (failed(out) || failed(broadcastable(*this, getLhs(), *out)) ||
      failed(broadcastable(*this, getRhs(), *out)))
    return failure();
  return success();
}

LogicalResult AffineOp::verify() {
  return sameShape(*this, getInput(), getOutput());
}

LogicalResult PadOp::verify() {
  auto in = shapeOf(*this, getInput()), out = shapeOf(*this, getOutput());
  if (failed(in) || failed(out))
    return failure();
  ArrayRef<int64_t> p = getPads();
  if (p.size() != 4 || llvm::any_of(p, [](int64_t x) { return x < 0; }))
    return emitOpError() << "expects 4 non-negative pads";
  if ((*out)[0] != (*in)[0] || (*out)[1] != (*in)[1] ||
      (*out)[2] != (*in)[2] + p[0] + p[2] || (*out)[3] != (*in)[3] + p[1] + p[3])
    return emitOpError() << "output view does not match the padded input";
  return success();
}

LogicalResult UpsampleOp::verify() {
  auto in = shapeOf(*this, getInput()), out = shapeOf(*this, getOutput());
  if (failed(in) || failed(out) ||
      failed(checkPair(*this, getScale(), "scale", 1)))
    return failure();
  if ((*out)[0] != (*in)[0] || (*out)[1] != (*in)[1] ||
      (*out)[2] != (*in)[2] * getScale()[0] ||
      (*out)[3] != (*in)[3] * getScale()[1])
    return emitOpError() << "output view does not match the upsampled input";
  return success();
}

LogicalResult ChannelShuffleOp::verify() {
  if (failed(sameShape(*this, getInput(), getOutput())))
    return failure();
  int64_t c = (*shapeOf(*this, getInput()))[1];
  if (getGroups() < 1 || c % getGroups())
    return emitOpError() << "groups must divide the channels";
  return success();
}

LogicalResult CopyOp::verify() {
  return sameShape(*this, getInput(), getOutput());
}

LogicalResult LinearOp::verify() {
  auto in = shapeOf(*this, getInput()), out = shapeOf(*this, getOutput());
  if (failed(in) || failed(out))
    return failure();
  if ((*in)[0] != (*out)[0] || (*in)[2] != 1 || (*in)[3] != 1 ||
      (*out)[2] != 1 || (*out)[3] != 1)
    return emitOpError() << "expects N x F views (H = W = 1) of one batch";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return sameShape(*this, getInput(), getOutput());
}

//===----------------------------------------------------------------------===//
// Runtime calls
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOSRT/IR/IOSRTInterfaces.cpp.inc"

namespace {

using Arg = RuntimeArg;

/// The runtime's enumerator of an activation (include/ios/Runtime/Runtime.h:
/// same values as the dialect's enum).
Arg act(ios::Activation a) {
  static const char *const names[] = {"ActNone",        "ActRelu",
                                      "ActSigmoid",     "ActTanh",
                                      "ActRelu6",       "ActHardSigmoid",
                                      "ActHardSwish",   "ActSilu"};
  auto i = static_cast<uint32_t>(a);
  assert(i < std::size(names) && "activation without a runtime enumerator");
  return Arg::enumerator(i, std::string("ios::rt::") + names[i]);
}

Arg pool(PoolKind k) {
  static const char *const names[] = {"PoolMax", "PoolAvg", "PoolGlobalMax",
                                      "PoolGlobalAvg"};
  auto i = static_cast<uint32_t>(k);
  assert(i < std::size(names) && "pool kind without a runtime enumerator");
  return Arg::enumerator(i, std::string("ios::rt::") + names[i]);
}

/// A kernel's call: stream and layer first.
template <typename OpTy>
RuntimeCall kernel(OpTy op, StringRef callee,
                   std::initializer_list<Arg> args) {
  RuntimeCall call{RuntimePhase::Kernel, callee.str(),
                   {Arg::int32(op.getStream()), Arg::string(op.getLayer())}};
  call.args.append(args.begin(), args.end());
  return call;
}

} // namespace

RuntimeCall ViewOp::getRuntimeCall() {
  ArrayRef<int64_t> s = getShape();
  return {RuntimePhase::Load,
          "view",
          {Arg::int64(getOffset()), Arg::int64(s[0]), Arg::int64(s[1]),
           Arg::int64(s[2]), Arg::int64(s[3]), Arg::int64(getBatchStride())}};
}

RuntimeCall InputOp::getRuntimeCall() {
  return {RuntimePhase::Load,
          "bindInput",
          {Arg::int32(getIndex()), Arg::view(getView())}};
}

RuntimeCall OutputOp::getRuntimeCall() {
  return {RuntimePhase::Load,
          "bindOutput",
          {Arg::int32(getIndex()), Arg::view(getView())}};
}

RuntimeCall ConstantOp::getRuntimeCall() {
  return {RuntimePhase::Load,
          "addWeight",
          {Arg::string(getName()), Arg::floats(getValue()),
           Arg::int64(getValue().getNumElements())}};
}

RuntimeCall PackConvWeightOp::getRuntimeCall() {
  return {RuntimePhase::Load,
          "packConvWeight",
          {Arg::string(getName()), Arg::int64(getTotalOut()),
           Arg::int64(getInChannels()), Arg::int64(getKh()),
           Arg::int64(getKw()), Arg::string(getSource()),
           Arg::int64(getOutOffset()), Arg::int64(getOut()),
           Arg::int64(getSrcKh()), Arg::int64(getSrcKw()), Arg::int64(getTop()),
           Arg::int64(getLeft())}};
}

RuntimeCall PackBiasOp::getRuntimeCall() {
  return {RuntimePhase::Load,
          "packBias",
          {Arg::string(getName()), Arg::int64(getTotal()),
           Arg::string(getSource()), Arg::int64(getOffset()),
           Arg::int64(getSize())}};
}

RuntimeCall StageOp::getRuntimeCall() {
  return {RuntimePhase::Run, "stage", {Arg::int32(getIndex())}};
}

RuntimeCall RecordOp::getRuntimeCall() {
  return {RuntimePhase::Run,
          "record",
          {Arg::int32(getEvent()), Arg::int32(getStream())}};
}

RuntimeCall WaitOp::getRuntimeCall() {
  return {RuntimePhase::Run,
          "wait",
          {Arg::int32(getStream()), Arg::int32(getEvent())}};
}

RuntimeCall Conv2dOp::getRuntimeCall() {
  auto k = getKernel(), s = getStrides(), p = getPadding(),
       d = getDilations();
  return kernel(*this, "prepareConv2d",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 Arg::string(getWeight()), Arg::string(getBias()),
                 Arg::int64(k[0]), Arg::int64(k[1]), Arg::int64(s[0]),
                 Arg::int64(s[1]), Arg::int64(p[0]), Arg::int64(p[1]),
                 Arg::int64(d[0]), Arg::int64(d[1]), Arg::int64(getGroups()),
                 act(getAct())});
}

RuntimeCall Pool2dOp::getRuntimeCall() {
  auto k = getKernel(), s = getStrides(), p = getPadding();
  return kernel(*this, "preparePool2d",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 pool(getKind()), Arg::int64(k[0]), Arg::int64(k[1]),
                 Arg::int64(s[0]), Arg::int64(s[1]), Arg::int64(p[0]),
                 Arg::int64(p[1]), Arg::boolean(getCountIncludePad())});
}

RuntimeCall ActivationOp::getRuntimeCall() {
  return kernel(*this, "prepareActivation",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 act(getKind())});
}

RuntimeCall AddOp::getRuntimeCall() {
  RuntimeCall call = kernel(*this, "prepareAddN", {Arg::view(getOutput())});
  for (Value in : getInputs())
    call.args.push_back(Arg::view(in));
  return call;
}

RuntimeCall MulOp::getRuntimeCall() {
  return kernel(*this, "prepareMul",
                {Arg::view(getLhs()), Arg::view(getRhs()),
                 Arg::view(getOutput())});
}

RuntimeCall AffineOp::getRuntimeCall() {
  return kernel(*this, "prepareAffine",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 Arg::string(getScale()), Arg::string(getShift())});
}

RuntimeCall PadOp::getRuntimeCall() {
  ArrayRef<int64_t> p = getPads();
  return kernel(*this, "preparePad",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 Arg::int64(p[0]), Arg::int64(p[1]), Arg::int64(p[2]),
                 Arg::int64(p[3]), Arg::real(getValue().convertToFloat())});
}

RuntimeCall UpsampleOp::getRuntimeCall() {
  return kernel(*this, "prepareUpsample",
                {Arg::view(getInput()), Arg::view(getOutput())});
}

RuntimeCall ChannelShuffleOp::getRuntimeCall() {
  return kernel(*this, "prepareChannelShuffle",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 Arg::int64(getGroups())});
}

RuntimeCall CopyOp::getRuntimeCall() {
  return kernel(*this, "prepareCopy",
                {Arg::view(getInput()), Arg::view(getOutput())});
}

RuntimeCall LinearOp::getRuntimeCall() {
  return kernel(*this, "prepareLinear",
                {Arg::view(getInput()), Arg::view(getOutput()),
                 Arg::string(getWeight()), Arg::string(getBias())});
}

RuntimeCall SoftmaxOp::getRuntimeCall() {
  return kernel(*this, "prepareSoftmax",
                {Arg::view(getInput()), Arg::view(getOutput())});
}

#define GET_OP_CLASSES
#include "ios/Dialect/IOSRT/IR/IOSRTOps.cpp.inc"
