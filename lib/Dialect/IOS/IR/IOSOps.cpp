//===- IOSOps.cpp - IOS op verifiers, type inference, custom syntax -------===//
//
// Each graph op has one `inferResultType` function that both checks its
// operands/attributes and computes its result type. The op verifier calls it
// with `emitOpError` (precise, located diagnostics); InferTypeOpInterface
// calls it so that builders need no result type (silently when it is given
// no location, as InferTypeOpInterface's contract asks).
//
// Shape arithmetic is overflow-checked, and no tensor may be empty or have
// a dimension or an element count beyond what the runtimes index (cuDNN
// describes tensors with 32-bit sizes and strides).
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <cmath>

using namespace mlir;
using namespace ios;

std::optional<int64_t> ios::indexableElements(ArrayRef<int64_t> shape) {
  int64_t elements = 1;
  for (int64_t d : shape) {
    std::optional<int64_t> product = llvm::checkedMul(elements, d);
    if (!product || *product > kMaxTensorElements)
      return std::nullopt;
    elements = *product;
  }
  return elements;
}

namespace {
/// The error of a check that may be silent: inference without a location
/// reports nothing (InferTypeOpInterface's contract), and an inactive
/// InFlightDiagnostic may not be streamed into.
class CheckError {
public:
  CheckError() = default;
  CheckError(InFlightDiagnostic d) : diag(std::move(d)) {}
  template <typename Arg> CheckError &operator<<(Arg &&arg) {
    if (diag)
      *diag << std::forward<Arg>(arg);
    return *this;
  }
  operator LogicalResult() const { return failure(); }
  template <typename T> operator FailureOr<T>() const { return failure(); }

private:
  std::optional<InFlightDiagnostic> diag;
};
using EmitFn = llvm::function_ref<CheckError()>;

/// Checks that a shape stays within what the runtimes index.
LogicalResult checkSize(EmitFn emit, ArrayRef<int64_t> shape, StringRef what) {
  // An empty tensor has nothing to compute, and a merge or a memory plan
  // of one would need views of no channels.
  if (llvm::is_contained(shape, 0))
    return emit() << what
                  << " has a dimension of size 0: empty tensors "
                     "are not supported";
  if (!indexableElements(shape))
    return emit() << what << " has more than " << kMaxTensorElements
                  << " elements, more than the runtimes index";
  return success();
}

/// Returns the static shape of `type`, or fails with "expects <what> to be a
/// statically shaped f32 tensor".
FailureOr<ArrayRef<int64_t>> staticShape(EmitFn emit, Type type,
                                         StringRef what) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape() || !t.getElementType().isF32()) {
    emit() << "expects " << what << " to be a statically shaped f32 tensor, got "
           << type;
    return failure();
  }
  if (failed(checkSize(emit, t.getShape(), what)))
    return failure();
  return t.getShape();
}

/// The result type of `shape`, after checking its size.
FailureOr<Type> resultType(EmitFn emit, Type like, ArrayRef<int64_t> shape) {
  if (failed(checkSize(emit, shape, "the result")))
    return failure();
  return Type(RankedTensorType::get(shape, Float32Type::get(like.getContext())));
}

/// Checks a 2-element window attribute (strides, padding, ...).
LogicalResult checkPair(EmitFn emit, ArrayRef<int64_t> v, StringRef name,
                        int64_t min) {
  if (v.size() != 2)
    return emit() << "expects '" << name << "' to have 2 elements (h, w), got "
                  << v.size();
  for (int64_t x : v)
    if (x < min)
      return emit() << "expects " << (min == 0 ? "non-negative" : "positive")
                    << " '" << name << "', got [" << v[0] << ", " << v[1]
                    << "]";
  return success();
}

/// Output size of one spatial dimension of a window op, or failure.
FailureOr<int64_t> windowOutput(EmitFn emit, int64_t in, int64_t k,
                                int64_t stride, int64_t pad, int64_t dilation,
                                StringRef dim) {
  // effective = dilation * (k - 1) + 1, padded = in + 2 * pad, checked.
  std::optional<int64_t> effective = llvm::checkedMulAdd(dilation, k - 1, int64_t(1));
  std::optional<int64_t> padded = llvm::checkedMulAdd(int64_t(2), pad, in);
  if (!effective || !padded || *effective > kMaxTensorElements ||
      *padded > kMaxTensorElements) {
    emit() << "window or padding along " << dim
           << " is larger than the runtimes index";
    return failure();
  }
  if (*padded < *effective) {
    emit() << "window of " << *effective << " along " << dim
           << " exceeds the padded input size " << *padded;
    return failure();
  }
  return (*padded - *effective) / stride + 1;
}

//===----------------------------------------------------------------------===//
// Per-op inference.
//===----------------------------------------------------------------------===//

/// The static shapes of an (input, weight, bias) op: conv2d and linear.
struct WeightedShapes {
  ArrayRef<int64_t> in, weight, bias;
};
template <typename AdaptorTy>
FailureOr<WeightedShapes> weightedShapes(AdaptorTy op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  auto w = staticShape(emit, op.getWeight().getType(), "the weight");
  if (failed(w))
    return failure();
  auto b = staticShape(emit, op.getBias().getType(), "the bias");
  if (failed(b))
    return failure();
  return WeightedShapes{*in, *w, *b};
}

FailureOr<Type> inferResultType(Conv2dOp::Adaptor op, EmitFn emit) {
  auto shapes = weightedShapes(op, emit);
  if (failed(shapes))
    return failure();
  auto in = &shapes->in, w = &shapes->weight, b = &shapes->bias;
  if (failed(checkPair(emit, op.getStrides(), "strides", 1)) ||
      failed(checkPair(emit, op.getPadding(), "padding", 0)) ||
      failed(checkPair(emit, op.getDilations(), "dilations", 1)))
    return failure();
  int64_t n = (*in)[0], c = (*in)[1], h = (*in)[2], wd = (*in)[3];
  int64_t o = (*w)[0], ci = (*w)[1], kh = (*w)[2], kw = (*w)[3];
  int64_t g = op.getGroups();
  if (g < 1) {
    emit() << "expects a positive group count, got " << g;
    return failure();
  }
  if (c % g != 0 || o % g != 0) {
    emit() << "group count " << g << " must divide the input channels (" << c
           << ") and the output channels (" << o << ")";
    return failure();
  }
  if (ci * g != c) {
    emit() << "weight has " << ci << " input channels per group, expected "
           << c / g << " (" << c << " input channels / " << g << " groups)";
    return failure();
  }
  if ((*b)[0] != o) {
    emit() << "bias has " << (*b)[0] << " elements, expected " << o
           << " (one per output channel)";
    return failure();
  }
  auto s = op.getStrides(), p = op.getPadding(), d = op.getDilations();
  auto oh = windowOutput(emit, h, kh, s[0], p[0], d[0], "height");
  if (failed(oh))
    return failure();
  auto ow = windowOutput(emit, wd, kw, s[1], p[1], d[1], "width");
  if (failed(ow))
    return failure();
  return resultType(emit, op.getInput().getType(), {n, o, *oh, *ow});
}

/// Output size of one spatial dimension of a pool: PyTorch's rule, also
/// with ceil_mode (the last window must start inside the input or its left
/// padding).
FailureOr<int64_t> poolOutput(EmitFn emit, int64_t in, int64_t k,
                              int64_t stride, int64_t pad, bool ceilMode,
                              StringRef dim) {
  FailureOr<int64_t> out = windowOutput(emit, in, k, stride, pad, 1, dim);
  if (failed(out) || !ceilMode)
    return out;
  int64_t span = in + 2 * pad - k; // checked by windowOutput
  int64_t ceiled = (span + stride - 1) / stride + 1;
  if ((ceiled - 1) * stride >= in + pad)
    --ceiled;
  return ceiled;
}

FailureOr<Type> inferResultType(Pool2dOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  int64_t n = (*in)[0], c = (*in)[1], h = (*in)[2], w = (*in)[3];
  PoolKind kind = op.getKind();
  // Inference runs before default-valued properties are filled in (a
  // builder given no count_include_pad): a missing one is the default.
  BoolAttr countIncludePad = op.getCountIncludePadAttr();
  if (countIncludePad && !countIncludePad.getValue() &&
      kind != PoolKind::avg) {
    emit() << "count_include_pad applies to avg pooling only";
    return failure();
  }
  if (kind == PoolKind::global_max || kind == PoolKind::global_avg) {
    if (op.getKernel() || op.getStrides() || op.getPadding() ||
        op.getCeilMode()) {
      emit() << "global pooling takes no kernel, strides, padding or "
                "ceil_mode";
      return failure();
    }
    return resultType(emit, op.getInput().getType(), {n, c, 1, 1});
  }
  if (!op.getKernel()) {
    emit() << "expects a 'kernel' for " << stringifyPoolKind(kind)
           << " pooling";
    return failure();
  }
  ArrayRef<int64_t> k = *op.getKernel();
  // Strides default to the kernel (PyTorch's convention), padding to zero.
  ArrayRef<int64_t> s = op.getStrides() ? *op.getStrides() : k;
  ArrayRef<int64_t> p =
      op.getPadding() ? *op.getPadding() : ArrayRef<int64_t>(kDefaultZeros);
  if (failed(checkPair(emit, k, "kernel", 1)) ||
      failed(checkPair(emit, s, "strides", 1)) ||
      failed(checkPair(emit, p, "padding", 0)))
    return failure();
  if (2 * p[0] > k[0] || 2 * p[1] > k[1]) {
    emit() << "padding [" << p[0] << ", " << p[1]
           << "] must be at most half the kernel [" << k[0] << ", " << k[1]
           << "]";
    return failure();
  }
  bool ceilMode = op.getCeilMode();
  auto oh = poolOutput(emit, h, k[0], s[0], p[0], ceilMode, "height");
  if (failed(oh))
    return failure();
  auto ow = poolOutput(emit, w, k[1], s[1], p[1], ceilMode, "width");
  if (failed(ow))
    return failure();
  return resultType(emit, op.getInput().getType(), {n, c, *oh, *ow});
}

FailureOr<Type> inferResultType(ActivationOp::Adaptor op, EmitFn emit) {
  if (failed(staticShape(emit, op.getInput().getType(), "the input")))
    return failure();
  if (op.getKind() == Activation::none) {
    emit() << "expects an activation kind other than none";
    return failure();
  }
  return op.getInput().getType();
}

/// The result of an element-wise op (add, mul): every operand has the
/// result's type, or (NCHW) is (N, C, 1, 1) and broadcasts over H and W;
/// at least one operand has the full type.
FailureOr<Type> inferBroadcast(ValueRange operands, EmitFn emit) {
  if (operands.size() < 2) {
    emit() << "expects at least two operands, got " << operands.size();
    return failure();
  }
  // The full type: the operand with the most elements.
  Value full = operands.front();
  for (auto [i, v] : llvm::enumerate(operands)) {
    if (failed(staticShape(emit, v.getType(),
                           ("operand #" + Twine(i)).str())))
      return failure();
    if (cast<RankedTensorType>(v.getType()).getNumElements() >
        cast<RankedTensorType>(full.getType()).getNumElements())
      full = v;
  }
  auto fullType = cast<RankedTensorType>(full.getType());
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t == fullType)
      continue;
    bool broadcast = t.getRank() == 4 && fullType.getRank() == 4 &&
                     t.getDimSize(0) == fullType.getDimSize(0) &&
                     t.getDimSize(1) == fullType.getDimSize(1) &&
                     t.getDimSize(2) == 1 && t.getDimSize(3) == 1;
    if (!broadcast) {
      emit() << "operand #" << i << " has type " << t << ", expected "
             << fullType << " or its (N, C, 1, 1) broadcast";
      return failure();
    }
  }
  return Type(fullType);
}

FailureOr<Type> inferResultType(AddOp::Adaptor op, EmitFn emit) {
  return inferBroadcast(op.getInputs(), emit);
}

FailureOr<Type> inferResultType(MulOp::Adaptor op, EmitFn emit) {
  return inferBroadcast(op.getOperands(), emit);
}

FailureOr<Type> inferResultType(AffineOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  if (in->size() != 4 && in->size() != 2) {
    emit() << "expects an NCHW or an N x C input, got "
           << op.getInput().getType();
    return failure();
  }
  int64_t c = (*in)[1];
  for (auto [name, v] : {std::pair<StringRef, Value>{"scale", op.getScale()},
                         {"shift", op.getShift()}}) {
    auto shape = staticShape(emit, v.getType(), ("the " + name).str());
    if (failed(shape))
      return failure();
    if ((*shape)[0] != c) {
      emit() << name << " has " << (*shape)[0] << " elements, expected " << c
             << " (one per channel)";
      return failure();
    }
  }
  return op.getInput().getType();
}

FailureOr<Type> inferResultType(PadOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  ArrayRef<int64_t> pads = op.getPads();
  if (pads.size() != 4 || llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
    emit() << "expects 'pads' to be 4 non-negative values (top, left, bottom, "
              "right)";
    return failure();
  }
  if (!std::isfinite(op.getValue().convertToFloat())) {
    emit() << "expects a finite padding value";
    return failure();
  }
  std::optional<int64_t> h = llvm::checkedAdd((*in)[2], pads[0]),
                         w = llvm::checkedAdd((*in)[3], pads[1]);
  if (h)
    h = llvm::checkedAdd(*h, pads[2]);
  if (w)
    w = llvm::checkedAdd(*w, pads[3]);
  if (!h || !w) {
    emit() << "padded size overflows";
    return failure();
  }
  return resultType(emit, op.getInput().getType(),
                    {(*in)[0], (*in)[1], *h, *w});
}

FailureOr<Type> inferResultType(UpsampleOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  ArrayRef<int64_t> scale = op.getScale();
  if (failed(checkPair(emit, scale, "scale", 1)))
    return failure();
  std::optional<int64_t> h = llvm::checkedMul((*in)[2], scale[0]),
                         w = llvm::checkedMul((*in)[3], scale[1]);
  if (!h || !w) {
    emit() << "upsampled size overflows";
    return failure();
  }
  return resultType(emit, op.getInput().getType(),
                    {(*in)[0], (*in)[1], *h, *w});
}

FailureOr<Type> inferResultType(ChannelShuffleOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  // While the custom parser infers the type, the attribute is not in the
  // properties yet (the type does not depend on it); the verifier checks it.
  if (!op.getGroupsAttr())
    return op.getInput().getType();
  int64_t g = op.getGroups(), c = (*in)[1];
  if (g < 1 || c % g != 0) {
    emit() << "groups (" << g << ") must be positive and divide the "
           << c << " channels";
    return failure();
  }
  return op.getInput().getType();
}

FailureOr<Type> inferResultType(ConcatOp::Adaptor op, EmitFn emit) {
  ValueRange inputs = op.getInputs();
  if (inputs.size() < 2) {
    emit() << "expects at least two operands, got " << inputs.size();
    return failure();
  }
  auto first = staticShape(emit, inputs.front().getType(), "operand #0");
  if (failed(first))
    return failure();
  int64_t channels = 0;
  for (auto [i, v] : llvm::enumerate(inputs)) {
    auto shape = staticShape(emit, v.getType(), "every operand");
    if (failed(shape))
      return failure();
    if ((*shape)[0] != (*first)[0] || (*shape)[2] != (*first)[2] ||
        (*shape)[3] != (*first)[3]) {
      emit() << "operand #" << i << " has type " << v.getType()
             << ", whose batch or spatial size differs from operand #0 ("
             << inputs.front().getType() << ")";
      return failure();
    }
    std::optional<int64_t> sum = llvm::checkedAdd(channels, (*shape)[1]);
    if (!sum) {
      emit() << "concatenated channels overflow";
      return failure();
    }
    channels = *sum;
  }
  return resultType(emit, inputs.front().getType(),
                    {(*first)[0], channels, (*first)[2], (*first)[3]});
}

FailureOr<Type> inferResultType(SliceOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  int64_t b = op.getBegin(), e = op.getEnd(), c = (*in)[1];
  if (b < 0 || e > c || b >= e) {
    emit() << "channel range [" << b << ", " << e
           << ") is empty or out of bounds for " << c << " channels";
    return failure();
  }
  return resultType(emit, op.getInput().getType(),
                    {(*in)[0], e - b, (*in)[2], (*in)[3]});
}

FailureOr<Type> inferResultType(FlattenOp::Adaptor op, EmitFn emit) {
  auto in = staticShape(emit, op.getInput().getType(), "the input");
  if (failed(in))
    return failure();
  // The input's element count is bounded, so its per-sample size is too.
  return resultType(emit, op.getInput().getType(),
                    {(*in)[0], (*in)[1] * (*in)[2] * (*in)[3]});
}

FailureOr<Type> inferResultType(LinearOp::Adaptor op, EmitFn emit) {
  auto shapes = weightedShapes(op, emit);
  if (failed(shapes))
    return failure();
  auto in = &shapes->in, w = &shapes->weight, b = &shapes->bias;
  if ((*w)[1] != (*in)[1]) {
    emit() << "weight has " << (*w)[1] << " input features, expected "
           << (*in)[1] << " (the input's)";
    return failure();
  }
  if ((*b)[0] != (*w)[0]) {
    emit() << "bias has " << (*b)[0] << " elements, expected " << (*w)[0]
           << " (one per output feature)";
    return failure();
  }
  return resultType(emit, op.getInput().getType(), {(*in)[0], (*w)[0]});
}

FailureOr<Type> inferResultType(SoftmaxOp::Adaptor op, EmitFn emit) {
  if (failed(staticShape(emit, op.getInput().getType(), "the input")))
    return failure();
  return op.getInput().getType();
}

/// The verifier of every graph op: the checks of inference, then the
/// declared result type against the inferred one.
template <typename OpTy>
LogicalResult verifyGraphOp(OpTy op) {
  auto emit = [&]() { return CheckError(op.emitOpError()); };
  // An attribute the op does not define would be silently ignored (a
  // misspelt or unsupported option computing something else): only the
  // op's own and dialect-prefixed attributes are allowed.
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (!attr.getName().getValue().contains('.'))
      return op.emitOpError()
             << "has no attribute '" << attr.getName().getValue()
             << "' (it would be ignored)";
  FailureOr<Type> inferred =
      inferResultType(typename OpTy::Adaptor(op), emit);
  if (failed(inferred))
    return failure();
  if (op.getType() != *inferred)
    return op.emitOpError() << "result type " << op.getType()
                            << " does not match the inferred type "
                            << *inferred;
  return success();
}

template <typename OpTy>
LogicalResult inferGraphOp(MLIRContext *ctx, std::optional<Location> loc,
                           typename OpTy::Adaptor adaptor,
                           SmallVectorImpl<Type> &inferred) {
  // Without a location, inference only answers: it reports nothing.
  auto emit = [&]() {
    if (!loc)
      return CheckError();
    return CheckError(mlir::emitError(*loc)
                      << "'" << OpTy::getOperationName() << "' op ");
  };
  FailureOr<Type> t = inferResultType(adaptor, emit);
  if (failed(t))
    return failure();
  inferred.push_back(*t);
  return success();
}
} // namespace

#define IOS_GRAPH_OP_IMPL(OpTy)                                                \
  LogicalResult OpTy::verify() { return verifyGraphOp(*this); }                \
  LogicalResult OpTy::inferReturnTypes(MLIRContext *ctx,                       \
                                       std::optional<Location> loc,            \
                                       Adaptor adaptor,                        \
                                       SmallVectorImpl<Type> &inferred) {      \
    return inferGraphOp<OpTy>(ctx, loc, adaptor, inferred);                    \
  }

IOS_GRAPH_OP_IMPL(Conv2dOp)
IOS_GRAPH_OP_IMPL(Pool2dOp)
IOS_GRAPH_OP_IMPL(ActivationOp)
IOS_GRAPH_OP_IMPL(AddOp)
IOS_GRAPH_OP_IMPL(MulOp)
IOS_GRAPH_OP_IMPL(AffineOp)
IOS_GRAPH_OP_IMPL(PadOp)
IOS_GRAPH_OP_IMPL(UpsampleOp)
IOS_GRAPH_OP_IMPL(ChannelShuffleOp)
IOS_GRAPH_OP_IMPL(ConcatOp)
IOS_GRAPH_OP_IMPL(SliceOp)
IOS_GRAPH_OP_IMPL(FlattenOp)
IOS_GRAPH_OP_IMPL(LinearOp)
IOS_GRAPH_OP_IMPL(SoftmaxOp)
#undef IOS_GRAPH_OP_IMPL

//===----------------------------------------------------------------------===//
// Schedule ops
//===----------------------------------------------------------------------===//

// `custom<EnumKeyword>`: an enum attribute as a bare keyword
// (`ios.stage merge`, `ios.pool2d max`, `ios.activation relu`). Parsing it
// in the format (not the attr-dict) also stores it in the op's properties
// before result-type inference runs in the parser.
template <typename AttrTy>
static ParseResult parseEnumKeyword(OpAsmParser &parser, AttrTy &attr) {
  using EnumTy = decltype(std::declval<AttrTy>().getValue());
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumTy> value = symbolizeEnum<EnumTy>(keyword);
  if (!value) {
    InFlightDiagnostic diag = parser.emitError(loc) << "expected one of";
    for (int64_t i = 0;; ++i) {
      StringRef name = stringifyEnum(static_cast<EnumTy>(i));
      if (name.empty())
        break;
      diag << (i ? ", '" : " '") << name << "'";
    }
    return diag << ", got '" << keyword << "'";
  }
  attr = AttrTy::get(parser.getContext(), *value);
  return success();
}

template <typename AttrTy>
static void printEnumKeyword(OpAsmPrinter &printer, Operation *, AttrTy attr) {
  printer << stringifyEnum(attr.getValue());
}

// `custom<OperandTypes>`: the operands' types, once when they are all equal
// (`: T`), else each (`: T1, T2, ...`).
static ParseResult
parseOperandTypes(OpAsmParser &parser,
                  ArrayRef<OpAsmParser::UnresolvedOperand> operands,
                  SmallVectorImpl<Type> &types) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseTypeList(types))
    return failure();
  if (types.size() == 1)
    types.resize(operands.size(), types.front());
  if (types.size() != operands.size())
    return parser.emitError(loc) << "expected one type or " << operands.size()
                                 << " types, got " << types.size();
  return success();
}

static void printOperandTypes(OpAsmPrinter &printer, Operation *,
                              OperandRange, TypeRange types) {
  if (llvm::all_equal(types))
    printer << types.front();
  else
    llvm::interleaveComma(types, printer);
}

// `custom<BinaryOperandTypes>`: the same for two operands.
static ParseResult parseBinaryOperandTypes(OpAsmParser &parser, Type &lhs,
                                           Type &rhs) {
  if (parser.parseType(lhs))
    return failure();
  rhs = lhs;
  if (succeeded(parser.parseOptionalComma()))
    return parser.parseType(rhs);
  return success();
}

static void printBinaryOperandTypes(OpAsmPrinter &printer, Operation *,
                                    Type lhs, Type rhs) {
  printer << lhs;
  if (rhs != lhs)
    printer << ", " << rhs;
}

/// Checks that a stage/group body's terminator yields the op's result types.
static LogicalResult verifyYieldTypes(Operation *op, Region &body) {
  auto yield = dyn_cast<YieldOp>(body.front().getTerminator());
  if (!yield)
    return op->emitOpError() << "body must end with 'ios.yield'";
  if (yield.getValues().getTypes() != op->getResultTypes())
    return op->emitOpError()
           << "yields " << yield.getValues().size()
           << " value(s) whose types do not match its "
           << op->getNumResults() << " result type(s)";
  return success();
}

/// Checks the shape of a merge stage: one group with one mergeable op (the
/// merged op) whose result is split by >= 2 channel slices covering its
/// channels exactly once, and used by nothing else.
static LogicalResult verifyMergeStage(StageOp stage,
                                      MutableArrayRef<GroupOp> groups) {
  if (groups.size() != 1)
    return stage.emitOpError()
           << "merge stage must have exactly one group, has " << groups.size();
  Block &body = groups.front().getBody().front();
  Operation *merged = nullptr;
  SmallVector<SchedulableOpInterface> slices;
  for (Operation &op : body.without_terminator()) {
    auto iface = dyn_cast<SchedulableOpInterface>(op);
    if (iface && iface.getResultLayout().kind ==
                     ResultLayout::Kind::ChannelSlice) {
      slices.push_back(iface);
      continue;
    }
    if (merged || !iface)
      return stage.emitOpError()
             << "merge stage may hold only one merged op and the channel "
                "slices that split its result, found '"
             << op.getName() << "'";
    merged = &op;
  }
  if (!merged)
    return stage.emitOpError() << "merge stage holds no merged op";
  if (!cast<SchedulableOpInterface>(merged).getMergeKey())
    return merged->emitOpError()
           << "cannot be the op of a merge stage (it does not merge; e.g. "
              "a grouped or dilated convolution)";
  if (slices.size() < 2)
    return stage.emitOpError()
           << "merge stage must split its merged op into at least two "
              "channel slices, has "
           << slices.size();
  if (merged->getNumResults() != 1)
    return merged->emitOpError() << "in a merge stage must have one result";
  Value result = merged->getResult(0);
  int64_t channels = cast<RankedTensorType>(result.getType()).getDimSize(1);
  SmallVector<std::pair<int64_t, int64_t>> ranges;
  for (SchedulableOpInterface s : slices) {
    if (s->getOperand(0) != result)
      return s->emitOpError()
             << "in a merge stage must slice the merged op's result";
    int64_t begin = s.getResultLayout().channelOffset;
    ranges.push_back(
        {begin,
         begin + cast<RankedTensorType>(s->getResult(0).getType()).getDimSize(1)});
  }
  llvm::sort(ranges);
  int64_t next = 0;
  for (auto [b, e] : ranges) {
    if (b != next)
      return stage.emitOpError()
             << "merge stage slices must cover channels [0, " << channels
             << ") exactly once; " << (b < next ? "overlap" : "gap")
             << " at channel " << std::min(b, next);
    next = e;
  }
  if (next != channels)
    return stage.emitOpError()
           << "merge stage slices must cover channels [0, " << channels
           << ") exactly once; gap at channel " << next;
  // The merged result itself must not escape: consumers read the slices.
  for (Operation *user : result.getUsers())
    if (!llvm::is_contained(slices, user))
      return merged->emitOpError()
             << "result of a merged op may only be used by its slices";
  return success();
}

LogicalResult StageOp::verifyRegions() {
  Block &body = getBody().front();
  SmallVector<GroupOp> groups;
  for (Operation &op : body.without_terminator()) {
    auto group = dyn_cast<GroupOp>(op);
    if (!group)
      return emitOpError() << "may only contain 'ios.group' ops, found '"
                           << op.getName() << "'";
    groups.push_back(group);
  }
  if (groups.empty())
    return emitOpError() << "must contain at least one 'ios.group'";
  if (failed(verifyYieldTypes(*this, getBody())))
    return failure();

  // Groups of a stage run concurrently: none may read another's results.
  for (auto [index, group] : llvm::enumerate(groups)) {
    WalkResult walk = group.getBody().walk([&](Operation *op) {
      for (Value operand : op->getOperands()) {
        auto producer = operand.getDefiningOp<GroupOp>();
        if (!producer || producer->getParentOp() != getOperation())
          continue;
        auto it = llvm::find(groups, producer);
        InFlightDiagnostic diag =
            op->emitOpError()
            << "in group #" << index << " of a stage uses a value of group #"
            << (it - groups.begin())
            << " of the same stage; groups of one stage run concurrently and "
               "exchange no values";
        diag.attachNote(producer.getLoc()) << "value produced here";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }

  auto yield = cast<YieldOp>(body.getTerminator());
  for (auto [i, v] : llvm::enumerate(yield.getValues())) {
    auto producer = v.getDefiningOp<GroupOp>();
    if (!producer || producer->getParentOp() != getOperation())
      return emitOpError() << "yield operand #" << i
                           << " must be a result of one of the stage's groups";
  }

  if (getStrategy() == Strategy::merge)
    return verifyMergeStage(*this, groups);
  return success();
}

/// Stages and groups run their body once, and their results are what the
/// body yields.
static void bodySuccessors(Operation *op, Region &body, RegionBranchPoint point,
                           SmallVectorImpl<RegionSuccessor> &regions) {
  if (point.isParent())
    regions.push_back(RegionSuccessor(&body));
  else
    regions.push_back(RegionSuccessor(op, op->getResults()));
}

void StageOp::getSuccessorRegions(RegionBranchPoint point,
                                  SmallVectorImpl<RegionSuccessor> &regions) {
  bodySuccessors(*this, getBody(), point, regions);
}

void GroupOp::getSuccessorRegions(RegionBranchPoint point,
                                  SmallVectorImpl<RegionSuccessor> &regions) {
  bodySuccessors(*this, getBody(), point, regions);
}

LogicalResult GroupOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.without_terminator().empty())
    return emitOpError() << "must contain at least one op";
  for (Operation &op : body.without_terminator())
    if (isa<StageOp, GroupOp>(op))
      return emitOpError() << "must not contain schedule ops, found '"
                           << op.getName() << "'";
  return verifyYieldTypes(*this, getBody());
}

#define GET_OP_CLASSES
#include "ios/Dialect/IOS/IR/IOSOps.cpp.inc"
