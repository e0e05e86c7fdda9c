//===- SchedulableOps.cpp - What each ios op means to the scheduler -------===//
//
// The SchedulableOpInterface implementations of the graph ops: signatures
// (what the scheduler, the cost cache and the profilers see, with the
// kernels each op launches as the original IOS runtime launches them:
// cuDNN convolutions with fused bias + activation, a separate bias add when
// there is no activation, one copy per concat operand, ...), memory layout
// facts, the convolution merge, and each op built back from its signature
// (what the stage server measures).
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace ios;
using sched::KernelWork;
using sched::OpSignature;

namespace {

/// Per-sample shape: the tensor's shape without its leading batch dimension.
SmallVector<int64_t, 4> perSample(Type type) {
  auto t = cast<RankedTensorType>(type);
  return SmallVector<int64_t, 4>(t.getShape().drop_front());
}

double elements(int64_t batch, ArrayRef<int64_t> perSampleShape) {
  double e = double(batch);
  for (int64_t d : perSampleShape)
    e *= double(d);
  return e;
}

/// The signature every op starts from: `activations` are its operands that
/// are tensors of the network (not parameters); the result is result 0.
OpSignature baseSignature(Operation *op, StringRef kind,
                          ValueRange activations) {
  OpSignature sig(kind.str());
  for (Value v : activations)
    sig.inputShapes.push_back(perSample(v.getType()));
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  sig.outputShape = perSample(result);
  sig.batch = result.getDimSize(0);
  sig.modeled = true;
  return sig;
}

double outputElements(const OpSignature &sig) {
  return elements(sig.batch, sig.outputShape);
}

double inputElements(const OpSignature &sig) {
  double e = 0;
  for (const auto &shape : sig.inputShapes)
    e += elements(sig.batch, shape);
  return e;
}

KernelWork memoryPass(const char *what, double bytes, double outElements) {
  KernelWork k;
  k.kind = KernelWork::Kind::Memory;
  k.what = what;
  k.bytes = bytes;
  k.elements = outElements;
  return k;
}

/// One read of the inputs and one write of the output.
KernelWork elementwise(const OpSignature &sig) {
  double out = outputElements(sig);
  return memoryPass("elementwise", 4 * (inputElements(sig) + out), out);
}

StringRef actName(Activation act) {
  return act == Activation::none ? "identity" : stringifyActivation(act);
}

/// A convolution as the scheduler sees it, for ops that exist and for the
/// merged convolution of a merge stage before it is built.
struct ConvShape {
  RankedTensorType input;
  int64_t outChannels, kh, kw;
  ArrayRef<int64_t> strides, padding, dilations;
  int64_t groups;
  Activation act;
  ArrayRef<int64_t> outputShape; ///< N, C, H, W
};

OpSignature convSignature(const ConvShape &c) {
  OpSignature sig(Conv2dOp::getScheduleKind().str());
  sig.inputShapes.push_back(perSample(c.input));
  sig.outputShape.assign(c.outputShape.begin() + 1, c.outputShape.end());
  sig.batch = c.outputShape[0];
  sig.modeled = true;
  sig.set("out_channels", c.outChannels)
      .set("kernel", {c.kh, c.kw})
      .set("stride", c.strides)
      .set("padding", c.padding)
      .set("dilation", c.dilations)
      .set("groups", c.groups)
      .set("act", actName(c.act).str());

  // cuDNN's implicit-GEMM (or Winograd, 3x3 stride 1) convolution, or a
  // depthwise kernel; the bias is fused with the activation, else a
  // separate cudnnAddTensor.
  double out = outputElements(sig), in = inputElements(sig);
  double cin = double(c.input.getDimSize(1)), groups = double(c.groups);
  double cout = double(c.outChannels), window = double(c.kh * c.kw);
  double macs = out * (cin / groups) * window;
  KernelWork k;
  k.what = "conv";
  k.flops = 2 * macs;
  k.bytes = 4 * (in + cout * (cin / groups) * window + out);
  k.libraryCall = true;
  if (c.groups > 1 && c.groups == c.input.getDimSize(1)) {
    k.kind = KernelWork::Kind::Depthwise;
    k.what = "dwconv";
    k.elements = out;
  } else {
    k.kind = KernelWork::Kind::Gemm;
    k.rows = out / std::max(cout, 1.0); // batch x output pixels
    k.cols = cout / groups;
    k.tiles = groups;
    k.winograd = c.kh == 3 && c.kw == 3 && c.strides[0] == 1 &&
                 c.strides[1] == 1 && c.groups == 1;
  }
  sig.work.push_back(k);
  // cuDNN fuses bias and ReLU into the convolution; without an activation
  // the bias is a separate add, and other activations a separate pass.
  if (c.act == Activation::none)
    sig.work.push_back(memoryPass("bias", 8 * out, out));
  else if (c.act != Activation::relu)
    sig.work.push_back(memoryPass("activation", 8 * out, out));
  return sig;
}

ConvShape shapeOf(Conv2dOp op) {
  auto w = op.getWeight().getType().getShape();
  return {op.getInput().getType(),
          w[0],
          w[2],
          w[3],
          op.getStrides(),
          op.getPadding(),
          op.getDilations(),
          op.getGroups(),
          op.getAct(),
          op.getType().getShape()};
}

/// Zero-pads `weight` (O x C x kh x kw) to O x C x KH x KW, centred.
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
      b.getIndexAttr(kh - shape[2] - top),
      b.getIndexAttr(kw - shape[3] - left)};
  auto padded = RankedTensorType::get({shape[0], shape[1], kh, kw},
                                      type.getElementType());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return tensor::PadOp::create(b, loc, padded, weight, low, high, zero);
}

/// The merged convolution of `members` (equal merge keys): the largest
/// kernel and padding (the keys make the smaller kernels centred in it),
/// output channels summed.
struct MergedConv {
  int64_t kh = 0, kw = 0, ph = 0, pw = 0, outChannels = 0;
};
MergedConv mergedConv(ArrayRef<Operation *> members) {
  MergedConv m;
  for (Operation *op : members) {
    auto c = cast<Conv2dOp>(op);
    auto w = c.getWeight().getType().getShape();
    m.kh = std::max(m.kh, w[2]);
    m.kw = std::max(m.kw, w[3]);
    m.ph = std::max(m.ph, c.getPadding()[0]);
    m.pw = std::max(m.pw, c.getPadding()[1]);
    m.outChannels += w[0];
  }
  return m;
}

/// Reads the attributes of a signature an op is built from; every error is
/// located and names the signature's kind and the attribute.
class SignatureReader {
public:
  SignatureReader(const OpSignature &sig, Location loc) : sig(sig), loc(loc) {}

  InFlightDiagnostic error() {
    return emitError(loc) << "'" << sig.kind << "' signature: ";
  }

  /// Between `min` and `max` inputs.
  LogicalResult inputs(size_t min, size_t max) {
    size_t n = sig.inputShapes.size();
    if (n >= min && n <= max)
      return success();
    InFlightDiagnostic d = error() << "takes ";
    if (min == max)
      d << min;
    else
      d << min << " to " << max;
    return d << " input" << (max == 1 ? "" : "s") << ", got " << n;
  }

  /// A per-sample shape of rank `rank` (a role: "input", "output").
  LogicalResult rank(ArrayRef<int64_t> shape, StringRef role, size_t rank,
                     StringRef what) {
    if (shape.size() == rank)
      return success();
    std::string dims;
    llvm::raw_string_ostream os(dims);
    llvm::interleaveComma(shape, os);
    return error() << role << " [" << dims << "] must be " << what;
  }

  /// Integer list `key` of `n` values; `fallback` when absent (nullopt:
  /// required).
  FailureOr<SmallVector<int64_t>>
  ints(StringRef key, size_t n,
       std::optional<ArrayRef<int64_t>> fallback = std::nullopt) {
    const sched::AttrValue *v = sig.get(key);
    if (!v && fallback)
      return SmallVector<int64_t>(*fallback);
    if (!v)
      return error() << "needs \"" << key << "\"";
    if (!v->isInts() || v->getInts().size() != n)
      return error() << "\"" << key << "\" must be " << n << " integers";
    return SmallVector<int64_t>(v->getInts());
  }

  FailureOr<int64_t> integer(StringRef key,
                             std::optional<int64_t> fallback = std::nullopt) {
    const sched::AttrValue *v = sig.get(key);
    if (!v && fallback)
      return *fallback;
    if (!v)
      return error() << "needs \"" << key << "\"";
    if (!v->isInt())
      return error() << "\"" << key << "\" must be an integer";
    return v->getInt();
  }

  /// String `key` parsed by `parse` (an enum's symbolize function).
  template <typename T>
  FailureOr<T> name(StringRef key, std::optional<StringRef> fallback,
                    std::optional<T> (*parse)(StringRef)) {
    const sched::AttrValue *v = sig.get(key);
    if (!v && !fallback)
      return error() << "needs \"" << key << "\"";
    if (v && !v->isStr())
      return error() << "\"" << key << "\" must be a string";
    StringRef text = v ? v->getStr() : *fallback;
    if (std::optional<T> value = parse(text))
      return *value;
    return error() << "unknown \"" << key << "\" '" << text << "'";
  }

  /// The output's tensor type (with the batch).
  RankedTensorType outputType(MLIRContext *ctx) const {
    return tensorType(ctx, sig.outputShape);
  }
  RankedTensorType tensorType(MLIRContext *ctx,
                              ArrayRef<int64_t> perSample) const {
    SmallVector<int64_t, 4> shape = {sig.batch};
    llvm::append_range(shape, perSample);
    return RankedTensorType::get(shape, Float32Type::get(ctx));
  }

  const OpSignature &sig;
  Location loc;
};

/// A parameter of the given shape.
Value param(ParamBuilder params, MLIRContext *ctx, StringRef role,
            ArrayRef<int64_t> shape) {
  return params(role, RankedTensorType::get(shape, Float32Type::get(ctx)));
}

/// A conv's "act": the signature's name of an activation ("identity" is
/// none).
std::optional<Activation> parseAct(StringRef name) {
  if (name == "identity")
    return Activation::none;
  std::optional<Activation> act = symbolizeActivation(name);
  if (act == Activation::none)
    return std::nullopt;
  return act;
}

/// Builds a one-input op with no attributes (flatten, softmax).
template <typename OpTy>
FailureOr<Operation *> buildUnary(OpBuilder &b, Location loc,
                                  const OpSignature &sig, ValueRange inputs) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  return OpTy::create(b, loc, r.outputType(b.getContext()), inputs[0])
      .getOperation();
}

} // namespace

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

OpSignature Conv2dOp::getScheduleSignature() {
  return convSignature(shapeOf(*this));
}

StringRef Conv2dOp::getScheduleKind() { return "conv"; }

FailureOr<Operation *> Conv2dOp::buildFromSignature(OpBuilder &b, Location loc,
                                                    const OpSignature &sig,
                                                    ValueRange inputs,
                                                    ParamBuilder params) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)) ||
      failed(r.rank(sig.inputShapes[0], "input", 3,
                    "[channels, height, width]")) ||
      failed(r.rank(sig.outputShape, "output", 3,
                    "[channels, height, width]")))
    return failure();
  auto kernel = r.ints("kernel", 2);
  auto strides = r.ints("stride", 2, kDefaultOnes);
  auto padding = r.ints("padding", 2, kDefaultZeros);
  auto dilations = r.ints("dilation", 2, kDefaultOnes);
  auto groups = r.integer("groups", 1);
  auto act = r.name<Activation>("act", "identity", parseAct);
  if (failed(kernel) || failed(strides) || failed(padding) ||
      failed(dilations) || failed(groups) || failed(act))
    return failure();
  if (*groups < 1)
    return r.error() << "\"groups\" must be >= 1, got " << *groups;
  // The weight's channels per group (the verifier checks that groups
  // divide the channels).
  int64_t out = sig.outputShape[0], in = sig.inputShapes[0][0] / *groups;
  MLIRContext *ctx = b.getContext();
  Value weight =
      param(params, ctx, "weight", {out, in, (*kernel)[0], (*kernel)[1]});
  Value bias = param(params, ctx, "bias", {out});
  return Conv2dOp::create(b, loc, r.outputType(ctx), inputs[0], weight, bias,
                          *strides, *padding, *dilations, *groups, *act)
      .getOperation();
}

std::optional<std::string> Conv2dOp::getMergeKey() {
  // The merged convolution is dense and undilated.
  if (getGroups() != 1 ||
      llvm::any_of(getDilations(), [](int64_t d) { return d != 1; }))
    return std::nullopt;
  // Zero-padding a kernel to a larger one, centred, computes the same
  // function iff the padding grows by half the kernel growth: iff
  // kernel - 2 * padding (the window's extent beyond the output grid) is
  // equal. With the same input and stride the outputs then have one shape.
  auto w = getWeight().getType().getShape();
  auto s = getStrides(), p = getPadding();
  return llvm::formatv("conv;in={0};stride={1}x{2};centre={3}x{4};act={5}",
                       getInput().getAsOpaquePointer(), s[0], s[1],
                       w[2] - 2 * p[0], w[3] - 2 * p[1],
                       stringifyActivation(getAct()))
      .str();
}

FailureOr<OpSignature>
Conv2dOp::getMergedSignature(ArrayRef<Operation *> members) {
  MergedConv m = mergedConv(members);
  int64_t pad[] = {m.ph, m.pw};
  SmallVector<int64_t, 4> out(getType().getShape());
  out[1] = m.outChannels;
  return convSignature({getInput().getType(), m.outChannels, m.kh, m.kw,
                        getStrides(), pad, kDefaultOnes, 1, getAct(), out});
}

FailureOr<SmallVector<Operation *>>
Conv2dOp::buildMerge(OpBuilder &b, ArrayRef<Operation *> members) {
  std::optional<std::string> key = getMergeKey();
  for (Operation *op : members) {
    auto c = dyn_cast<Conv2dOp>(op);
    if (!key || !c || c.getMergeKey() != key)
      return op->emitOpError()
             << "cannot be merged exactly with " << getOperationName()
             << " at " << getLoc();
  }
  MergedConv m = mergedConv(members);
  Location loc = b.getFusedLoc(llvm::to_vector(
      llvm::map_range(members, [](Operation *op) { return op->getLoc(); })));
  SmallVector<Value> weights, biases;
  for (Operation *op : members) {
    auto c = cast<Conv2dOp>(op);
    weights.push_back(padWeight(b, c.getLoc(), c.getWeight(), m.kh, m.kw));
    biases.push_back(c.getBias());
  }
  Value weight = tensor::ConcatOp::create(b, loc, 0, weights);
  Value bias = tensor::ConcatOp::create(b, loc, 0, biases);
  auto merged = Conv2dOp::create(
      b, loc, getInput(), weight, bias, getStridesAttr(),
      b.getDenseI64ArrayAttr({m.ph, m.pw}), b.getDenseI64ArrayAttr({1, 1}),
      b.getI64IntegerAttr(1), getActAttr());
  // Named members name the merged op (and each slice keeps its member's
  // name), so names survive whatever the printing flags.
  SmallVector<std::string> names;
  for (Operation *op : members)
    if (std::optional<std::string> name = layerName(op))
      names.push_back(*name);
  if (!names.empty())
    merged->setAttr(IOSDialect::kNameAttrName,
                    b.getStringAttr(llvm::join(names, "+")));
  SmallVector<Operation *> ops = {merged};
  int64_t offset = 0;
  for (Operation *op : members) {
    auto c = cast<Conv2dOp>(op);
    int64_t channels = c.getType().getDimSize(1);
    auto slice =
        SliceOp::create(b, c.getLoc(), merged, offset, offset + channels);
    if (auto name = c->getAttr(IOSDialect::kNameAttrName))
      slice->setAttr(IOSDialect::kNameAttrName, name);
    offset += channels;
    c.getResult().replaceAllUsesWith(slice.getResult());
    ops.push_back(slice);
  }
  for (Operation *op : members)
    op->erase();
  return ops;
}

//===----------------------------------------------------------------------===//
// The other graph ops
//===----------------------------------------------------------------------===//

StringRef Pool2dOp::getScheduleKind() { return "pool"; }

FailureOr<Operation *> Pool2dOp::buildFromSignature(OpBuilder &b, Location loc,
                                                    const OpSignature &sig,
                                                    ValueRange inputs,
                                                    ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto kind = r.name<PoolKind>("pool_type", std::nullopt, symbolizePoolKind);
  auto ceilMode = r.integer("ceil_mode", 0);
  auto countIncludePad = r.integer("count_include_pad", 1);
  if (failed(kind) || failed(ceilMode) || failed(countIncludePad))
    return failure();
  MLIRContext *ctx = b.getContext();
  DenseI64ArrayAttr kernel, strides, padding;
  if (*kind != PoolKind::global_max && *kind != PoolKind::global_avg) {
    // Strides default to the kernel, as the op's do.
    auto k = r.ints("kernel", 2);
    if (failed(k))
      return failure();
    auto st = r.ints("stride", 2, ArrayRef<int64_t>(*k));
    auto p = r.ints("padding", 2, kDefaultZeros);
    if (failed(st) || failed(p))
      return failure();
    kernel = b.getDenseI64ArrayAttr(*k);
    strides = b.getDenseI64ArrayAttr(*st);
    padding = b.getDenseI64ArrayAttr(*p);
  }
  return Pool2dOp::create(b, loc, r.outputType(ctx), inputs[0],
                          PoolKindAttr::get(ctx, *kind), kernel, strides,
                          padding, *ceilMode ? b.getUnitAttr() : UnitAttr(),
                          b.getBoolAttr(*countIncludePad != 0))
      .getOperation();
}

OpSignature Pool2dOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("pool_type", stringifyPoolKind(getKind()).str());
  if (auto k = getKernel()) {
    sig.set("kernel", *k);
    sig.set("stride", getStrides() ? *getStrides() : *k);
    sig.set("padding", getPadding() ? *getPadding()
                                    : ArrayRef<int64_t>(kDefaultZeros));
  }
  // Set only when not the default, so signatures (and stage database keys)
  // of plain pools stay as they were.
  if (getCeilMode())
    sig.set("ceil_mode", 1);
  if (!getCountIncludePad())
    sig.set("count_include_pad", 0);
  double out = outputElements(sig);
  KernelWork k = memoryPass("pool", 4 * (inputElements(sig) + out), out);
  // Global pooling reduces whole planes.
  if (isGlobal())
    k.planes = out;
  sig.work.push_back(k);
  return sig;
}

StringRef ActivationOp::getScheduleKind() { return "activation"; }

FailureOr<Operation *>
ActivationOp::buildFromSignature(OpBuilder &b, Location loc,
                                 const OpSignature &sig, ValueRange inputs,
                                 ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto kind = r.name<Activation>("act_type", std::nullopt, symbolizeActivation);
  if (failed(kind))
    return failure();
  return ActivationOp::create(b, loc, r.outputType(b.getContext()), inputs[0],
                              *kind)
      .getOperation();
}

OpSignature ActivationOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("act_type", stringifyActivation(getKind()).str());
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef AddOp::getScheduleKind() { return "add"; }

FailureOr<Operation *> AddOp::buildFromSignature(OpBuilder &b, Location loc,
                                                 const OpSignature &sig,
                                                 ValueRange inputs,
                                                 ParamBuilder) {
  SignatureReader r(sig, loc);
  return AddOp::create(b, loc, r.outputType(b.getContext()), inputs)
      .getOperation();
}

OpSignature AddOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInputs());
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef MulOp::getScheduleKind() { return "mul"; }

FailureOr<Operation *> MulOp::buildFromSignature(OpBuilder &b, Location loc,
                                                 const OpSignature &sig,
                                                 ValueRange inputs,
                                                 ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(2, 2)))
    return failure();
  return MulOp::create(b, loc, r.outputType(b.getContext()), inputs[0],
                       inputs[1])
      .getOperation();
}

OpSignature MulOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getOperands());
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef AffineOp::getScheduleKind() { return "affine"; }

FailureOr<Operation *> AffineOp::buildFromSignature(OpBuilder &b, Location loc,
                                                    const OpSignature &sig,
                                                    ValueRange inputs,
                                                    ParamBuilder params) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  if (sig.inputShapes[0].empty())
    return r.error() << "input [] must have channels";
  MLIRContext *ctx = b.getContext();
  int64_t channels = sig.inputShapes[0][0];
  Value scale = param(params, ctx, "scale", {channels});
  Value shift = param(params, ctx, "shift", {channels});
  return AffineOp::create(b, loc, r.outputType(ctx), inputs[0], scale, shift)
      .getOperation();
}

OpSignature AffineOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef PadOp::getScheduleKind() { return "pad"; }

/// The signature's text of a pad's value ("%e": exact for the values
/// importers make, and parsed back by buildFromSignature).
static std::string padValueText(float value) {
  return llvm::formatv("{0:e}", value).str();
}

FailureOr<Operation *> PadOp::buildFromSignature(OpBuilder &b, Location loc,
                                                 const OpSignature &sig,
                                                 ValueRange inputs,
                                                 ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto pads = r.ints("pads", 4);
  if (failed(pads))
    return failure();
  double value = 0;
  if (const sched::AttrValue *v = sig.get("value"))
    if (!v->isStr() || v->getStr().getAsDouble(value) || !std::isfinite(value))
      return r.error() << "\"value\" must be a finite number as text";
  return PadOp::create(b, loc, r.outputType(b.getContext()), inputs[0],
                       b.getDenseI64ArrayAttr(*pads),
                       b.getF32FloatAttr(float(value)))
      .getOperation();
}

OpSignature PadOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("pads", getPads());
  sig.set("value", padValueText(getValue().convertToFloat()));
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef UpsampleOp::getScheduleKind() { return "upsample"; }

FailureOr<Operation *>
UpsampleOp::buildFromSignature(OpBuilder &b, Location loc,
                               const OpSignature &sig, ValueRange inputs,
                               ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto mode = r.name<UpsampleMode>("mode", "nearest", symbolizeUpsampleMode);
  auto scale = r.ints("scale", 2);
  if (failed(mode) || failed(scale))
    return failure();
  MLIRContext *ctx = b.getContext();
  return UpsampleOp::create(b, loc, r.outputType(ctx), inputs[0],
                            UpsampleModeAttr::get(ctx, *mode),
                            b.getDenseI64ArrayAttr(*scale))
      .getOperation();
}

OpSignature UpsampleOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("mode", stringifyUpsampleMode(getMode()).str());
  sig.set("scale", getScale());
  sig.work.push_back(elementwise(sig));
  return sig;
}

StringRef ChannelShuffleOp::getScheduleKind() { return "channel_shuffle"; }

FailureOr<Operation *>
ChannelShuffleOp::buildFromSignature(OpBuilder &b, Location loc,
                                     const OpSignature &sig, ValueRange inputs,
                                     ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto groups = r.integer("groups");
  if (failed(groups))
    return failure();
  return ChannelShuffleOp::create(b, loc, r.outputType(b.getContext()),
                                  inputs[0], *groups)
      .getOperation();
}

OpSignature ChannelShuffleOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("groups", int64_t(getGroups()));
  sig.work.push_back(elementwise(sig)); // a strided copy
  return sig;
}

StringRef ConcatOp::getScheduleKind() { return "concat"; }

FailureOr<Operation *> ConcatOp::buildFromSignature(OpBuilder &b, Location loc,
                                                    const OpSignature &sig,
                                                    ValueRange inputs,
                                                    ParamBuilder) {
  SignatureReader r(sig, loc);
  return ConcatOp::create(b, loc, r.outputType(b.getContext()), inputs)
      .getOperation();
}

OpSignature ConcatOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInputs());
  // The original runtime materialises a concat with one copy per operand.
  for (const auto &shape : sig.inputShapes) {
    double e = elements(sig.batch, shape);
    sig.work.push_back(memoryPass("copy", 8 * e, e));
  }
  return sig;
}

bool ConcatOp::concatenatesOperands() { return true; }

StringRef SliceOp::getScheduleKind() { return "slice"; }

FailureOr<Operation *> SliceOp::buildFromSignature(OpBuilder &b, Location loc,
                                                   const OpSignature &sig,
                                                   ValueRange inputs,
                                                   ParamBuilder) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)))
    return failure();
  auto begin = r.integer("begin"), end = r.integer("end");
  if (failed(begin) || failed(end))
    return failure();
  return SliceOp::create(b, loc, r.outputType(b.getContext()), inputs[0],
                         *begin, *end)
      .getOperation();
}

OpSignature SliceOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("begin", int64_t(getBegin()));
  sig.set("end", int64_t(getEnd()));
  // A channel slice is a view at batch 1 (contiguous in NCHW); the original
  // runtime copies it otherwise.
  if (sig.batch != 1) {
    double out = outputElements(sig);
    sig.work.push_back(memoryPass("copy", 8 * out, out));
  }
  return sig;
}

ResultLayout SliceOp::getResultLayout() {
  return ResultLayout::channelSlice(getBegin());
}

StringRef FlattenOp::getScheduleKind() { return "flatten"; }

FailureOr<Operation *> FlattenOp::buildFromSignature(OpBuilder &b,
                                                     Location loc,
                                                     const OpSignature &sig,
                                                     ValueRange inputs,
                                                     ParamBuilder) {
  return buildUnary<FlattenOp>(b, loc, sig, inputs);
}

OpSignature FlattenOp::getScheduleSignature() {
  return baseSignature(*this, getScheduleKind(), getInput()); // a view
}

ResultLayout FlattenOp::getResultLayout() { return ResultLayout::reshape(); }

StringRef LinearOp::getScheduleKind() { return "linear"; }

FailureOr<Operation *> LinearOp::buildFromSignature(OpBuilder &b, Location loc,
                                                    const OpSignature &sig,
                                                    ValueRange inputs,
                                                    ParamBuilder params) {
  SignatureReader r(sig, loc);
  if (failed(r.inputs(1, 1)) ||
      failed(r.rank(sig.inputShapes[0], "input", 1, "[features]")) ||
      failed(r.rank(sig.outputShape, "output", 1, "[features]")))
    return failure();
  MLIRContext *ctx = b.getContext();
  int64_t out = sig.outputShape[0];
  Value weight = param(params, ctx, "weight", {out, sig.inputShapes[0][0]});
  Value bias = param(params, ctx, "bias", {out});
  return LinearOp::create(b, loc, r.outputType(ctx), inputs[0], weight, bias)
      .getOperation();
}

OpSignature LinearOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.set("out_features", getWeight().getType().getDimSize(0));
  double n = double(sig.batch);
  double k = double(getInput().getType().getDimSize(1));
  double m = double(getWeight().getType().getDimSize(0));
  KernelWork gemm;
  gemm.kind = KernelWork::Kind::Gemm;
  gemm.what = "gemm";
  gemm.flops = 2 * n * k * m;
  gemm.bytes = 4 * (n * k + k * m + n * m);
  gemm.rows = n;
  gemm.cols = m;
  gemm.libraryCall = true;
  sig.work.push_back(gemm);
  double out = outputElements(sig);
  sig.work.push_back(memoryPass("bias", 8 * out, out));
  return sig;
}

StringRef SoftmaxOp::getScheduleKind() { return "softmax"; }

FailureOr<Operation *> SoftmaxOp::buildFromSignature(OpBuilder &b,
                                                     Location loc,
                                                     const OpSignature &sig,
                                                     ValueRange inputs,
                                                     ParamBuilder) {
  return buildUnary<SoftmaxOp>(b, loc, sig, inputs);
}

OpSignature SoftmaxOp::getScheduleSignature() {
  OpSignature sig = baseSignature(*this, getScheduleKind(), getInput());
  sig.work.push_back(elementwise(sig));
  return sig;
}
