//===- TosaToIOS.cpp - fp32 TOSA graphs to graph-level ios ops ------------===//
//
// TOSA is NHWC with OHWI (conv) and HWCM (depthwise) weights; ios is NCHW
// with OIHW weights. Activations change layout with the function: a rank-4
// argument or result [N, H, W, C] becomes [N, C, H, W]. Constants change
// layout per use (a conv weight, a depthwise weight, a broadcast operand,
// a matmul's right-hand side), so they are converted where they are used,
// and become either `ios.param` arguments written to a weights file or
// `arith.constant`s.
//
// A function is checked completely before anything changes: an op or an
// attribute value the dialect cannot express is an error at that op. (Zero
// points of f32 graphs are zero: TOSA's verifier checks them.)
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Passes.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Support/Safetensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

namespace ios {
#define GEN_PASS_DEF_TOSATOIOS
#include "ios/Conversion/Passes.h.inc"
} // namespace ios

using namespace mlir;
using namespace ios;

namespace {

constexpr float kLowest = -std::numeric_limits<float>::max();

RankedTensorType f32(ArrayRef<int64_t> shape, MLIRContext *ctx) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

/// A tensor's ios type: rank 4 NHWC -> NCHW; [1, N, K] -> [N, K] (TOSA's
/// matmul is batched; a network's fully connected layer has one batch).
FailureOr<RankedTensorType> iosType(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape() || !t.getElementType().isF32())
    return failure();
  ArrayRef<int64_t> s = t.getShape();
  if (t.getRank() == 4)
    return f32({s[0], s[3], s[1], s[2]}, t.getContext());
  if (t.getRank() == 3 && s[0] == 1)
    return f32({s[1], s[2]}, t.getContext());
  if (t.getRank() == 2)
    return t;
  return failure();
}

/// Row-major data permuted: out[i_perm[0], ...] = in[i_0, ...], i.e.
/// out's dimension d is in's dimension perm[d].
std::vector<float> permute(ArrayRef<float> in, ArrayRef<int64_t> shape,
                           ArrayRef<int64_t> perm) {
  size_t rank = shape.size();
  SmallVector<int64_t> outShape, inStride(rank, 1);
  for (int64_t d = int64_t(rank) - 2; d >= 0; --d)
    inStride[d] = inStride[d + 1] * shape[d + 1];
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  std::vector<float> out(in.size());
  SmallVector<int64_t> index(rank, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d)
      src += index[d] * inStride[perm[d]];
    out[i] = in[src];
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return out;
}

class Converter {
public:
  Converter(func::FuncOp func, bool externalize, StringSet<> &usedNames,
            std::vector<NamedTensor> &weights)
      : src(func), ctx(func.getContext()), b(ctx), externalize(externalize),
        usedNames(usedNames), weights(weights) {}

  /// Checks the whole function; emits an error at the first op that cannot
  /// be converted.
  LogicalResult check();
  /// Builds the converted function in place of the original.
  void convert();

private:
  InFlightDiagnostic error(Operation *op) {
    return emitError(op->getLoc()) << "'" << op->getName() << "' ";
  }
  /// The op's own check (attributes, operands that must be constants);
  /// what it builds when `build` is set.
  LogicalResult visit(Operation *op, bool build);

  /// The values of an f32 tosa.const (dense or a dense resource blob).
  std::optional<std::vector<float>> constant(Value v) {
    auto c = v.getDefiningOp<tosa::ConstOp>();
    if (!c)
      return std::nullopt;
    if (auto dense = dyn_cast<DenseElementsAttr>(c.getValues());
        dense && dense.getElementType().isF32())
      return std::vector<float>(dense.getValues<float>().begin(),
                                dense.getValues<float>().end());
    if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(c.getValues()))
      if (std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef())
        return std::vector<float>(values->begin(), values->end());
    return std::nullopt;
  }
  /// A parameter of the new function (or a constant) holding `data`.
  Value param(Location loc, StringRef name, ArrayRef<int64_t> shape,
              std::vector<float> data);
  /// The ios value of a TOSA activation operand, or a converted constant.
  Value operand(Value v, StringRef role);
  StringRef layerName(Operation *op);

  Value convBias(Operation *op, Value bias, int64_t channels);
  void buildConv(tosa::Conv2DOp op);
  void buildDepthwise(tosa::DepthwiseConv2DOp op);
  template <typename PoolOp>
  void buildPool(PoolOp op, PoolKind kind);

  func::FuncOp src, dst;
  MLIRContext *ctx;
  OpBuilder b;
  bool externalize;
  StringSet<> &usedNames;
  std::vector<NamedTensor> &weights;
  IRMapping map;
  unsigned anonymous = 0;
};

StringRef Converter::layerName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName();
  return op->getName().stripDialect();
}

Value Converter::param(Location loc, StringRef name, ArrayRef<int64_t> shape,
                       std::vector<float> data) {
  RankedTensorType type = f32(shape, ctx);
  if (!externalize)
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(data)));
  std::string unique = name.str();
  for (unsigned i = 1; !usedNames.insert(unique).second; ++i)
    unique = (name + "#" + Twine(i)).str();
  unsigned index = dst.getNumArguments();
  (void)dst.insertArgument(index, type,
                           b.getDictionaryAttr(b.getNamedAttr(
                               IOSDialect::kParamAttrName,
                               b.getStringAttr(unique))),
                           loc);
  weights.push_back(
      {unique, std::vector<int64_t>(shape.begin(), shape.end()), std::move(data)});
  return dst.getArgument(index);
}

Value Converter::operand(Value v, StringRef role) {
  if (Value mapped = map.lookupOrNull(v))
    return mapped;
  // A constant used as an activation (e.g. a broadcast addend): the layout
  // of its type, NHWC -> NCHW.
  std::vector<float> data = *constant(v);
  auto type = cast<RankedTensorType>(v.getType());
  ArrayRef<int64_t> s = type.getShape();
  RankedTensorType target = *iosType(type);
  if (type.getRank() == 4)
    data = permute(data, s, {0, 3, 1, 2});
  std::string name = (layerName(v.getDefiningOp()) + "." + role).str();
  Value p = param(v.getLoc(), name, target.getShape(), std::move(data));
  map.map(v, p);
  return p;
}

Value Converter::convBias(Operation *op, Value bias, int64_t channels) {
  std::vector<float> data = *constant(bias);
  // TOSA broadcasts a one-element bias.
  if (data.size() == 1)
    data.assign(channels, data.front());
  return param(bias.getLoc(), (layerName(op) + ".bias").str(), {channels},
               std::move(data));
}

void Converter::buildConv(tosa::Conv2DOp op) {
  std::vector<float> data = *constant(op.getWeight());
  auto ws = cast<RankedTensorType>(op.getWeight().getType()).getShape();
  Value weight =
      param(op.getWeight().getLoc(), (layerName(op) + ".weight").str(),
            {ws[0], ws[3], ws[1], ws[2]},
            permute(data, ws, {0, 3, 1, 2})); // OHWI -> OIHW
  Value bias = convBias(op, op.getBias(), ws[0]);
  ArrayRef<int64_t> pad = op.getPad(); // top, bottom, left, right
  Value input = map.lookup(op.getInput());
  int64_t ph = std::min(pad[0], pad[1]), pw = std::min(pad[2], pad[3]);
  if (pad[0] != pad[1] || pad[2] != pad[3])
    input = PadOp::create(b, op.getLoc(), input,
                          b.getDenseI64ArrayAttr({pad[0] - ph, pad[2] - pw,
                                                  pad[1] - ph, pad[3] - pw}),
                          b.getF32FloatAttr(0));
  auto conv = Conv2dOp::create(
      b, op.getLoc(), input, weight, bias,
      b.getDenseI64ArrayAttr(op.getStride()), b.getDenseI64ArrayAttr({ph, pw}),
      b.getDenseI64ArrayAttr(op.getDilation()), b.getI64IntegerAttr(1),
      ActivationAttr::get(ctx, Activation::none));
  map.map(op.getResult(), conv.getResult());
}

void Converter::buildDepthwise(tosa::DepthwiseConv2DOp op) {
  std::vector<float> data = *constant(op.getWeight());
  // [KH, KW, C, M] -> [C * M, 1, KH, KW]: output channel c * M + m.
  auto ws = cast<RankedTensorType>(op.getWeight().getType()).getShape();
  std::vector<float> oihw = permute(data, ws, {2, 3, 0, 1});
  int64_t channels = ws[2] * ws[3];
  Value weight =
      param(op.getWeight().getLoc(), (layerName(op) + ".weight").str(),
            {channels, 1, ws[0], ws[1]}, std::move(oihw));
  Value bias = convBias(op, op.getBias(), channels);
  ArrayRef<int64_t> pad = op.getPad();
  Value input = map.lookup(op.getInput());
  int64_t ph = std::min(pad[0], pad[1]), pw = std::min(pad[2], pad[3]);
  if (pad[0] != pad[1] || pad[2] != pad[3])
    input = PadOp::create(b, op.getLoc(), input,
                          b.getDenseI64ArrayAttr({pad[0] - ph, pad[2] - pw,
                                                  pad[1] - ph, pad[3] - pw}),
                          b.getF32FloatAttr(0));
  auto conv = Conv2dOp::create(
      b, op.getLoc(), input, weight, bias,
      b.getDenseI64ArrayAttr(op.getStride()), b.getDenseI64ArrayAttr({ph, pw}),
      b.getDenseI64ArrayAttr(op.getDilation()), b.getI64IntegerAttr(ws[2]),
      ActivationAttr::get(ctx, Activation::none));
  map.map(op.getResult(), conv.getResult());
}

template <typename PoolOp>
void Converter::buildPool(PoolOp op, PoolKind kind) {
  ArrayRef<int64_t> k = op.getKernel(), s = op.getStride(),
                    pad = op.getPad(); // top, bottom, left, right
  Value input = map.lookup(op.getInput());
  int64_t ph = std::min(pad[0], pad[1]), pw = std::min(pad[2], pad[3]);
  // ios pools pad symmetrically, at most half the kernel; a max pool pads
  // the rest explicitly with the lowest float (never the maximum). check()
  // ensured an average pool needs no explicit padding.
  ph = std::min(ph, k[0] / 2);
  pw = std::min(pw, k[1] / 2);
  if (pad[0] != ph || pad[1] != ph || pad[2] != pw || pad[3] != pw)
    input = PadOp::create(b, op.getLoc(), input,
                          b.getDenseI64ArrayAttr({pad[0] - ph, pad[2] - pw,
                                                  pad[1] - ph, pad[3] - pw}),
                          b.getF32FloatAttr(kLowest));
  auto pool = Pool2dOp::create(
      b, op.getLoc(), input, PoolKindAttr::get(ctx, kind),
      b.getDenseI64ArrayAttr(k), b.getDenseI64ArrayAttr(s),
      b.getDenseI64ArrayAttr({ph, pw}), /*ceil_mode=*/UnitAttr(),
      /*count_include_pad=*/b.getBoolAttr(kind != PoolKind::avg));
  map.map(op.getResult(), pool.getResult());
}

LogicalResult Converter::visit(Operation *op, bool build) {
  auto requireActivations = [&](ValueRange values) -> LogicalResult {
    for (Value v : values)
      if (failed(iosType(v.getType())) && !constant(v))
        return error(op) << "operand of type " << v.getType()
                         << " has no ios layout (f32 tensors of rank 2 or "
                            "4, or [1, N, K])";
    return success();
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<tosa::ConstOp, tosa::ConstShapeOp>([](auto) { return success(); })
      .Case([&](tosa::Conv2DOp c) -> LogicalResult {
        if (!constant(c.getWeight()) || !constant(c.getBias()))
          return error(op) << "needs constant f32 weights and bias";
        if (build)
          buildConv(c);
        return success();
      })
      .Case([&](tosa::DepthwiseConv2DOp c) -> LogicalResult {
        if (!constant(c.getWeight()) || !constant(c.getBias()))
          return error(op) << "needs constant f32 weights and bias";
        if (build)
          buildDepthwise(c);
        return success();
      })
      .Case([&](tosa::MaxPool2dOp p) -> LogicalResult {
        if (build)
          buildPool(p, PoolKind::max);
        return success();
      })
      .Case([&](tosa::AvgPool2dOp p) -> LogicalResult {
        ArrayRef<int64_t> pad = p.getPad(), k = p.getKernel();
        // TOSA averages over the taps inside the input; explicit padding
        // would count.
        if (pad[0] != pad[1] || pad[2] != pad[3] || 2 * pad[0] > k[0] ||
            2 * pad[2] > k[1])
          return error(op) << "pads [" << pad[0] << ", " << pad[1] << ", "
                           << pad[2] << ", " << pad[3]
                           << "] are asymmetric or exceed half the kernel, "
                              "which ios cannot average over";
        if (build)
          buildPool(p, PoolKind::avg);
        return success();
      })
      .Case([&](tosa::ClampOp c) -> LogicalResult {
        auto lo = dyn_cast<FloatAttr>(c.getMinValAttr());
        auto hi = dyn_cast<FloatAttr>(c.getMaxValAttr());
        double min = lo ? lo.getValueAsDouble() : NAN;
        double max = hi ? hi.getValueAsDouble() : NAN;
        Activation act;
        if (min == 0 && max == 6)
          act = Activation::relu6;
        else if (min == 0 && max >= std::numeric_limits<float>::max())
          act = Activation::relu;
        else
          return error(op) << "clamps to ["
                           << llvm::formatv("{0}", llvm::format("%g", min))
                           << ", "
                           << llvm::formatv("{0}", llvm::format("%g", max))
                           << "]; ios has relu [0, inf) and relu6 [0, 6]";
        if (failed(requireActivations(c.getInput())))
          return failure();
        if (build)
          map.map(c.getResult(),
                  ActivationOp::create(b, op->getLoc(),
                                       map.lookup(c.getInput()),
                                       ActivationAttr::get(ctx, act)));
        return success();
      })
      .Case<tosa::SigmoidOp, tosa::TanhOp>([&](auto u) -> LogicalResult {
        Activation act = isa<tosa::SigmoidOp>(op) ? Activation::sigmoid
                                                  : Activation::tanh;
        if (build)
          map.map(u.getResult(),
                  ActivationOp::create(b, op->getLoc(),
                                       map.lookup(u.getInput()),
                                       ActivationAttr::get(ctx, act)));
        return success();
      })
      .Case<tosa::AddOp, tosa::MulOp>([&](auto e) -> LogicalResult {
        if (failed(requireActivations({e.getInput1(), e.getInput2()})))
          return failure();
        auto out = cast<RankedTensorType>(e.getType());
        // A [1, N, M] + [1, 1, M] bias after a matmul: a per-feature shift.
        Value rhsConst = e.getInput2();
        if (out.getRank() == 3 && isa<tosa::AddOp>(op) && constant(rhsConst) &&
            cast<RankedTensorType>(rhsConst.getType()).getDimSize(1) == 1 &&
            out.getDimSize(1) != 1) {
          if (build) {
            int64_t m = out.getDimSize(2);
            std::vector<float> shift = *constant(rhsConst);
            Value scale = param(op->getLoc(), (layerName(op) + ".scale").str(),
                                {m}, std::vector<float>(m, 1.0f));
            Value sh = param(rhsConst.getLoc(),
                             (layerName(op) + ".shift").str(), {m},
                             std::move(shift));
            map.map(e.getResult(),
                    AffineOp::create(b, op->getLoc(),
                                     map.lookup(e.getInput1()), scale, sh));
          }
          return success();
        }
        if (!build) {
          // ios broadcasts only (N, C, 1, 1) operands over NCHW ones.
          RankedTensorType l = *iosType(e.getInput1().getType()),
                           r = *iosType(e.getInput2().getType());
          auto small = [](RankedTensorType t, RankedTensorType full) {
            return t.getRank() == 4 && full.getRank() == 4 &&
                   t.getDimSize(0) == full.getDimSize(0) &&
                   t.getDimSize(1) == full.getDimSize(1) &&
                   t.getDimSize(2) == 1 && t.getDimSize(3) == 1;
          };
          if (l != r && !small(l, r) && !small(r, l))
            return error(op) << "broadcasts " << e.getInput1().getType()
                             << " against " << e.getInput2().getType()
                             << "; ios broadcasts [N, 1, 1, C] over "
                                "[N, H, W, C] only";
          return success();
        }
        Value lhs = operand(e.getInput1(), "lhs"),
              rhs = operand(e.getInput2(), "rhs");
        Value result =
            isa<tosa::AddOp>(op)
                ? AddOp::create(b, op->getLoc(), ValueRange{lhs, rhs})
                      .getResult()
                : MulOp::create(b, op->getLoc(), lhs, rhs).getResult();
        map.map(e.getResult(), result);
        return success();
      })
      .Case([&](tosa::ConcatOp c) -> LogicalResult {
        if (cast<RankedTensorType>(c.getType()).getRank() != 4 ||
            c.getAxis() != 3)
          return error(op) << "concatenates along axis " << c.getAxis()
                           << " of a rank-"
                           << cast<RankedTensorType>(c.getType()).getRank()
                           << " tensor; ios concatenates NHWC channels "
                              "(axis 3) only";
        if (build) {
          SmallVector<Value> inputs;
          for (Value v : c.getInput1())
            inputs.push_back(operand(v, "concat"));
          map.map(c.getResult(), ConcatOp::create(b, op->getLoc(), inputs));
        }
        return success();
      })
      .Case([&](tosa::ReshapeOp r) -> LogicalResult {
        auto in = cast<RankedTensorType>(r.getInput1().getType());
        auto out = cast<RankedTensorType>(r.getType());
        ArrayRef<int64_t> s = in.getShape(), o = out.getShape();
        // [N, 1, 1, C] -> [N, C]: NHWC and NCHW flatten alike.
        bool flatten = in.getRank() == 4 && out.getRank() == 2 && s[1] == 1 &&
                       s[2] == 1 && o[0] == s[0] && o[1] == s[3];
        // [N, K] <-> [1, N, K]: the same ios value.
        bool batch = (in.getRank() == 2 && out.getRank() == 3 && o[0] == 1 &&
                      o[1] == s[0] && o[2] == s[1]) ||
                     (in.getRank() == 3 && out.getRank() == 2 && s[0] == 1 &&
                      s[1] == o[0] && s[2] == o[1]);
        if (!flatten && !batch)
          return error(op) << "reshapes " << in << " to " << out
                           << "; ios reshapes [N, 1, 1, C] to [N, C] and "
                              "[N, K] to and from [1, N, K] only (other "
                              "reshapes depend on the NHWC element order)";
        if (build) {
          Value v = map.lookup(r.getInput1());
          map.map(r.getResult(),
                  flatten ? FlattenOp::create(b, op->getLoc(), v).getResult()
                          : v);
        }
        return success();
      })
      .Case([&](tosa::MatMulOp m) -> LogicalResult {
        if (!constant(m.getB()))
          return error(op) << "needs a constant right-hand side (a fully "
                              "connected layer)";
        auto a = cast<RankedTensorType>(m.getA().getType());
        if (a.getDimSize(0) != 1)
          return error(op) << "is batched (" << a.getDimSize(0)
                           << " matrices); ios has one fully connected "
                              "layer per op";
        if (build) {
          std::vector<float> data = *constant(m.getB());
          auto ws = cast<RankedTensorType>(m.getB().getType()).getShape();
          // [1, K, M] -> the linear layer's [M, K].
          Value weight = param(m.getB().getLoc(),
                               (layerName(op) + ".weight").str(),
                               {ws[2], ws[1]},
                               permute(data, {ws[1], ws[2]}, {1, 0}));
          Value bias = param(op->getLoc(), (layerName(op) + ".bias").str(),
                             {ws[2]}, std::vector<float>(ws[2], 0.0f));
          map.map(m.getResult(),
                  LinearOp::create(b, op->getLoc(), map.lookup(m.getA()),
                                   weight, bias));
        }
        return success();
      })
      .Case([&](func::ReturnOp ret) -> LogicalResult {
        if (failed(requireActivations(ret.getOperands())))
          return failure();
        if (build) {
          SmallVector<Value> values;
          for (Value v : ret.getOperands())
            values.push_back(operand(v, "result"));
          func::ReturnOp::create(b, op->getLoc(), values);
        }
        return success();
      })
      .Default([&](Operation *) -> LogicalResult {
        return error(op)
               << "cannot be converted to ios (supported: tosa.conv2d, "
                  "depthwise_conv2d, max_pool2d, avg_pool2d, add, mul, "
                  "concat, clamp, sigmoid, tanh, reshape, matmul, const)";
      });
}

LogicalResult Converter::check() {
  if (!src.getBody().hasOneBlock())
    return emitError(src.getLoc()) << "tosa-to-ios expects a function with "
                                      "one block";
  for (BlockArgument arg : src.getArguments())
    if (failed(iosType(arg.getType())))
      return emitError(src.getLoc())
             << "argument #" << arg.getArgNumber() << " of type "
             << arg.getType()
             << " has no ios layout (f32 tensors of rank 2 or 4)";
  for (Operation &op : src.getBody().front()) {
    if (op.getNumResults() == 1 && !isa<tosa::ConstOp, tosa::ConstShapeOp>(op) &&
        failed(iosType(op.getResult(0).getType())))
      return error(&op) << "result of type " << op.getResult(0).getType()
                        << " has no ios layout (f32 tensors of rank 2 or 4, "
                           "or [1, N, K])";
    if (failed(visit(&op, /*build=*/false)))
      return failure();
  }
  return success();
}

void Converter::convert() {
  SmallVector<Type> args, results;
  for (BlockArgument arg : src.getArguments())
    args.push_back(*iosType(arg.getType()));
  for (Type t : src.getResultTypes())
    results.push_back(*iosType(t));
  b.setInsertionPoint(src);
  dst = func::FuncOp::create(b, src.getLoc(), src.getSymName(),
                             b.getFunctionType(args, results));
  dst.setVisibility(src.getVisibility());
  Block *body = dst.addEntryBlock();
  for (auto [i, arg] : llvm::enumerate(src.getArguments())) {
    map.map(arg, body->getArgument(i));
    dst.setArgAttr(i, IOSDialect::kInputAttrName, b.getUnitAttr());
  }
  b.setInsertionPointToStart(body);
  for (Operation &op : src.getBody().front())
    (void)visit(&op, /*build=*/true); // checked before
  src.erase();
}

struct TosaToIOSPass : ios::impl::TosaToIOSBase<TosaToIOSPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() &&
          func.walk([](Operation *op) {
                return isa<tosa::TosaDialect>(op->getDialect())
                           ? WalkResult::interrupt()
                           : WalkResult::advance();
              }).wasInterrupted())
        funcs.push_back(func);
    StringSet<> names;
    std::vector<NamedTensor> tensors;
    // All functions are checked before any is rewritten.
    for (func::FuncOp func : funcs) {
      Converter converter(func, !weights.empty(), names, tensors);
      if (failed(converter.check()))
        return signalPassFailure();
    }
    for (func::FuncOp func : funcs)
      Converter(func, !weights.empty(), names, tensors).convert();
    if (!weights.empty())
      if (llvm::Error error = writeSafetensors(weights, tensors)) {
        emitError(module.getLoc())
            << "tosa-to-ios: " << llvm::toString(std::move(error));
        return signalPassFailure();
      }
  }
};

} // namespace
