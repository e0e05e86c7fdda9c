//===- IOSToIOSRT.cpp - Scheduled ios functions to runtime programs -------===//
//
// A dialect conversion. The type converter maps every tensor to an
// `!iosrt.view`; materializing a tensor as a view creates the `iosrt.view`
// the memory plan gives it. Patterns:
//  * `ios.stage` inlines its groups' ops into the function in launch order -
//    op 1 of every group, then op 2, ... - so every stream's first kernel is
//    enqueued early, between the fork and the join events of the stage;
//  * every graph op becomes its kernel on views (or nothing: a view);
//  * the packing of merged weights (`tensor.concat` of `tensor.pad`ded
//    parameters) becomes `iosrt.pack_*` ops run at load.
// What the dialect cannot run is a located error before anything changes.
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Passes.h"
#include "ios/Dialect/IOS/Analysis/MemoryPlan.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/FormatVariadic.h"

namespace ios {
#define GEN_PASS_DEF_CONVERTIOSTOIOSRT
#include "ios/Conversion/Passes.h.inc"
} // namespace ios

using namespace mlir;
using namespace ios;
namespace rt = ios::rtir;

namespace {

/// The stream a graph op runs on, set when its stage is inlined.
constexpr llvm::StringLiteral kStreamAttr = "iosrt.stream";

/// Everything the patterns of one function share.
struct Lowering {
  Lowering(func::FuncOp func, const MemoryPlan &plan, LaunchOrder order)
      : func(func), plan(plan), order(order) {}

  mutable func::FuncOp func;
  const MemoryPlan &plan;
  LaunchOrder order;
  /// Names of weights that are not parameters: packed merged weights and
  /// constants, by the value that computes them.
  llvm::DenseMap<Value, std::string> weightNames;
  /// Ops numbered in program order, for layers without a name.
  llvm::DenseMap<Operation *, unsigned> opIndex;
  unsigned nextStage = 0;

  /// The view the plan gives `v` (a tensor of the original function).
  Value view(OpBuilder &b, Location loc, Value v) const {
    const Storage &s = plan.storageOf(v);
    auto type = cast<RankedTensorType>(v.getType());
    auto shape = type.getShape();
    int64_t n = shape[0], c = shape[1];
    int64_t h = shape.size() == 4 ? shape[2] : 1;
    int64_t w = shape.size() == 4 ? shape[3] : 1;
    int64_t offset = plan.buffer(s.buffer).offset + s.channelOffset * h * w;
    return rt::ViewOp::create(b, loc, b.getI64IntegerAttr(offset),
                              b.getDenseI64ArrayAttr({n, c, h, w}),
                              b.getI64IntegerAttr(s.rootChannels * h * w));
  }

  /// The layer name of an op: `ios.name`, its location's name, or
  /// kind#index.
  std::string layer(Operation *op) const {
    if (std::optional<std::string> name = layerName(op))
      return *name;
    return (op->getName().stripDialect() + "#" + Twine(opIndex.lookup(op)))
        .str();
  }

  /// The name a weight operand is loaded under.
  FailureOr<std::string> weight(Operation *user, Value v) const {
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto name = func.getArgAttrOfType<StringAttr>(
              arg.getArgNumber(), IOSDialect::kParamAttrName))
        return name.getValue().str();
    if (auto it = weightNames.find(v); it != weightNames.end())
      return it->second;
    return emitError(user->getLoc())
           << "'" << user->getName()
           << "' reads a weight that is neither an ios.param argument, a "
              "constant nor the packing of merged weights";
  }

  int32_t stream(Operation *op) const {
    auto attr = op->getAttrOfType<IntegerAttr>(kStreamAttr);
    return attr ? int32_t(attr.getInt()) : 0;
  }
};

/// Base of the graph-op patterns.
template <typename OpTy>
struct KernelPattern : OpConversionPattern<OpTy> {
  KernelPattern(const TypeConverter &converter, MLIRContext *ctx,
                const Lowering &lowering)
      : OpConversionPattern<OpTy>(converter, ctx), lowering(lowering) {}

  /// The view of the op's (first) result.
  Value resultView(ConversionPatternRewriter &rewriter, OpTy op) const {
    return lowering.view(rewriter, op.getLoc(), op->getResult(0));
  }
  IntegerAttr streamAttr(ConversionPatternRewriter &rewriter, OpTy op) const {
    return rewriter.getI32IntegerAttr(lowering.stream(op));
  }
  StringAttr layerAttr(ConversionPatternRewriter &rewriter, OpTy op) const {
    return rewriter.getStringAttr(lowering.layer(op));
  }
  /// Replaces `op` by its result's view after `build(stream, layer, out)`
  /// created the kernel that writes it.
  template <typename Build>
  LogicalResult replaceWithKernel(ConversionPatternRewriter &rewriter, OpTy op,
                                  Build build) const {
    Value out = resultView(rewriter, op);
    build(streamAttr(rewriter, op), layerAttr(rewriter, op), out);
    rewriter.replaceOp(op, out);
    return success();
  }

  const Lowering &lowering;
};

struct StagePattern : OpConversionPattern<StageOp> {
  StagePattern(const TypeConverter &converter, MLIRContext *ctx,
               Lowering &lowering)
      : OpConversionPattern(converter, ctx), lowering(lowering) {}

  LogicalResult
  matchAndRewrite(StageOp stage, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<GroupOp> groups = llvm::to_vector(stage.getGroups());
    int32_t g = groups.size();
    Location loc = stage.getLoc();
    rt::StageOp::create(rewriter, loc,
                        rewriter.getI64IntegerAttr(lowering.nextStage++),
                        stage.getStrategyAttr(),
                        rewriter.getI64IntegerAttr(g),
                        stage.getLatencyMsAttr());
    // Fork: streams 1.. start after everything stream 0 has done.
    if (g > 1) {
      rt::RecordOp::create(rewriter, loc, 0, 0);
      for (int32_t s = 1; s < g; ++s)
        rt::WaitOp::create(rewriter, loc, s, 0);
    }
    // Group i's ops go to stream i, in the launch order asked for:
    // round-robin (op i of every group before op i + 1 of any) or grouped.
    SmallVector<SmallVector<Operation *>> ops;
    for (GroupOp group : groups)
      ops.push_back(llvm::to_vector(llvm::map_range(
          group.getBody().front().without_terminator(),
          [](Operation &op) { return &op; })));
    auto enqueue = [&](Operation *op, int32_t s) {
      rewriter.moveOpBefore(op, stage);
      rewriter.modifyOpInPlace(op, [&] {
        op->setAttr(kStreamAttr, rewriter.getI32IntegerAttr(s));
      });
    };
    if (lowering.order == LaunchOrder::grouped) {
      for (auto [s, groupOps] : llvm::enumerate(ops))
        for (Operation *op : groupOps)
          enqueue(op, s);
    } else {
      for (size_t i = 0;; ++i) {
        bool any = false;
        for (auto [s, groupOps] : llvm::enumerate(ops))
          if (i < groupOps.size()) {
            any = true;
            enqueue(groupOps[i], s);
          }
        if (!any)
          break;
      }
    }
    // Join: stream 0 continues once every other stream has finished.
    if (g > 1)
      for (int32_t s = 1; s < g; ++s) {
        rt::RecordOp::create(rewriter, loc, s, s);
        rt::WaitOp::create(rewriter, loc, 0, s);
      }
    // The stage's results are what its groups yield.
    SmallVector<Value> results;
    auto yield = cast<YieldOp>(stage.getBody().front().getTerminator());
    for (Value v : yield.getValues()) {
      auto result = cast<OpResult>(v);
      auto group = cast<GroupOp>(result.getOwner());
      results.push_back(cast<YieldOp>(group.getBody().front().getTerminator())
                            .getValues()[result.getResultNumber()]);
    }
    rewriter.replaceOp(stage, results);
    return success();
  }

  Lowering &lowering;
};

struct Conv2dPattern : KernelPattern<Conv2dOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<std::string> w = lowering.weight(op, op.getWeight());
    FailureOr<std::string> b = lowering.weight(op, op.getBias());
    if (failed(w) || failed(b))
      return failure();
    auto ws = op.getWeight().getType().getShape();
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::Conv2dOp::create(
              rewriter, op.getLoc(), stream, layer, adaptor.getInput(), out,
              rewriter.getStringAttr(*w), rewriter.getStringAttr(*b),
              rewriter.getDenseI64ArrayAttr({ws[2], ws[3]}),
              op.getStridesAttr(), op.getPaddingAttr(), op.getDilationsAttr(),
              op.getGroupsAttr(), op.getActAttr());
        });
  }
};

struct Pool2dPattern : KernelPattern<Pool2dOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(Pool2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto in = op.getInput().getType().getShape();
    SmallVector<int64_t, 2> k, s, p;
    if (op.isGlobal()) {
      k = {in[2], in[3]};
      s = {1, 1};
      p = {0, 0};
    } else {
      k.assign(op.getKernel()->begin(), op.getKernel()->end());
      if (op.getStrides())
        s.assign(op.getStrides()->begin(), op.getStrides()->end());
      else
        s = k;
      if (op.getPadding())
        p.assign(op.getPadding()->begin(), op.getPadding()->end());
      else
        p = {0, 0};
    }
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::Pool2dOp::create(rewriter, op.getLoc(), stream, layer,
                               adaptor.getInput(), out, op.getKindAttr(),
                               rewriter.getDenseI64ArrayAttr(k),
                               rewriter.getDenseI64ArrayAttr(s),
                               rewriter.getDenseI64ArrayAttr(p),
                               rewriter.getBoolAttr(op.getCeilMode()),
                               rewriter.getBoolAttr(op.getCountIncludePad()));
        });
  }
};

struct ActivationPattern : KernelPattern<ActivationOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ActivationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::ActivationOp::create(rewriter, op.getLoc(), stream, layer,
                                   adaptor.getInput(), out, op.getKindAttr());
        });
  }
};

struct AddPattern : KernelPattern<AddOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::AddOp::create(rewriter, op.getLoc(), stream, layer,
                            adaptor.getInputs(), out);
        });
  }
};

struct MulPattern : KernelPattern<MulOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(MulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::MulOp::create(rewriter, op.getLoc(), stream, layer,
                            adaptor.getLhs(), adaptor.getRhs(), out);
        });
  }
};

struct AffinePattern : KernelPattern<AffineOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(AffineOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<std::string> scale = lowering.weight(op, op.getScale());
    FailureOr<std::string> shift = lowering.weight(op, op.getShift());
    if (failed(scale) || failed(shift))
      return failure();
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::AffineOp::create(
              rewriter, op.getLoc(), stream, layer, adaptor.getInput(), out,
              rewriter.getStringAttr(*scale), rewriter.getStringAttr(*shift));
        });
  }
};

struct PadPattern : KernelPattern<PadOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::PadOp::create(rewriter, op.getLoc(), stream, layer,
                            adaptor.getInput(), out, op.getPadsAttr(),
                            op.getValueAttr());
        });
  }
};

struct UpsamplePattern : KernelPattern<UpsampleOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(UpsampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::UpsampleOp::create(rewriter, op.getLoc(), stream, layer,
                                 adaptor.getInput(), out, op.getScaleAttr());
        });
  }
};

struct ChannelShufflePattern : KernelPattern<ChannelShuffleOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ChannelShuffleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::ChannelShuffleOp::create(rewriter, op.getLoc(), stream, layer,
                                       adaptor.getInput(), out,
                                       op.getGroupsAttr());
        });
  }
};

struct LinearPattern : KernelPattern<LinearOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<std::string> w = lowering.weight(op, op.getWeight());
    FailureOr<std::string> b = lowering.weight(op, op.getBias());
    if (failed(w) || failed(b))
      return failure();
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::LinearOp::create(
              rewriter, op.getLoc(), stream, layer, adaptor.getInput(), out,
              rewriter.getStringAttr(*w), rewriter.getStringAttr(*b));
        });
  }
};

struct SoftmaxPattern : KernelPattern<SoftmaxOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithKernel(
        rewriter, op, [&](IntegerAttr stream, StringAttr layer, Value out) {
          rt::SoftmaxOp::create(rewriter, op.getLoc(), stream, layer,
                                adaptor.getInput(), out);
        });
  }
};

/// Concatenation: operands not written in place by their producer are
/// copied into their channels.
struct ConcatPattern : KernelPattern<ConcatOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const Storage &s = lowering.plan.storageOf(op.getResult());
    auto shape = op.getType().getShape();
    int64_t h = shape[2], w = shape[3];
    int64_t base = lowering.plan.buffer(s.buffer).offset;
    int64_t channel = s.channelOffset;
    for (auto [in, view] : llvm::zip(op.getInputs(), adaptor.getInputs())) {
      int64_t c = cast<RankedTensorType>(in.getType()).getDimSize(1);
      if (!lowering.plan.isInPlace(lowering.plan.resolve(in), op)) {
        Value slot = rt::ViewOp::create(
            rewriter, op.getLoc(),
            rewriter.getI64IntegerAttr(base + channel * h * w),
            rewriter.getDenseI64ArrayAttr({shape[0], c, h, w}),
            rewriter.getI64IntegerAttr(s.rootChannels * h * w));
        rt::CopyOp::create(rewriter, op.getLoc(), streamAttr(rewriter, op),
                           layerAttr(rewriter, op), view, slot);
      }
      channel += c;
    }
    rewriter.replaceOp(op, resultView(rewriter, op));
    return success();
  }
};

/// Ops whose result is a view of their input: a channel slice, or a
/// flatten of a whole tensor. A flatten of a channel slice copies.
template <typename OpTy>
struct ViewPattern : KernelPattern<OpTy> {
  using KernelPattern<OpTy>::KernelPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = this->resultView(rewriter, op);
    ResultLayout layout = cast<SchedulableOpInterface>(*op).getResultLayout();
    if (layout.kind == ResultLayout::Kind::Reshape &&
        !this->lowering.plan.isView(op)) {
      // Copy the strided input into the flat buffer, seen with its shape.
      const Storage &s = this->lowering.plan.storageOf(op->getResult(0));
      auto in = cast<RankedTensorType>(op->getOperand(0).getType()).getShape();
      Value asImage = rt::ViewOp::create(
          rewriter, op.getLoc(),
          rewriter.getI64IntegerAttr(
              this->lowering.plan.buffer(s.buffer).offset),
          rewriter.getDenseI64ArrayAttr(in),
          rewriter.getI64IntegerAttr(in[1] * in[2] * in[3]));
      rt::CopyOp::create(rewriter, op.getLoc(),
                         this->streamAttr(rewriter, op),
                         this->layerAttr(rewriter, op),
                         adaptor.getOperands()[0], asImage);
    }
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// The packing of a merged convolution's weights or biases, run at load.
struct PackPattern : OpConversionPattern<tensor::ConcatOp> {
  PackPattern(const TypeConverter &converter, MLIRContext *ctx,
              const Lowering &lowering)
      : OpConversionPattern(converter, ctx), lowering(lowering) {}

  LogicalResult
  matchAndRewrite(tensor::ConcatOp concat, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    const std::string &name = lowering.weightNames.lookup(concat.getResult());
    auto type = concat.getType();
    int64_t offset = 0;
    for (Value src : concat.getInputs()) {
      int64_t top = 0, left = 0;
      Value source = src;
      if (auto pad = src.getDefiningOp<tensor::PadOp>()) {
        source = pad.getSource();
        top = pad.getStaticLow()[2];
        left = pad.getStaticLow()[3];
      }
      FailureOr<std::string> srcName = lowering.weight(concat, source);
      if (failed(srcName))
        return failure();
      auto st = cast<RankedTensorType>(source.getType()).getShape();
      if (type.getRank() == 4)
        rt::PackConvWeightOp::create(
            rewriter, concat.getLoc(), rewriter.getStringAttr(name),
            rewriter.getI64IntegerAttr(type.getDimSize(0)),
            rewriter.getI64IntegerAttr(type.getDimSize(1)),
            rewriter.getI64IntegerAttr(type.getDimSize(2)),
            rewriter.getI64IntegerAttr(type.getDimSize(3)),
            rewriter.getStringAttr(*srcName), rewriter.getI64IntegerAttr(offset),
            rewriter.getI64IntegerAttr(st[0]), rewriter.getI64IntegerAttr(st[2]),
            rewriter.getI64IntegerAttr(st[3]), rewriter.getI64IntegerAttr(top),
            rewriter.getI64IntegerAttr(left));
      else
        rt::PackBiasOp::create(rewriter, concat.getLoc(),
                               rewriter.getStringAttr(name),
                               rewriter.getI64IntegerAttr(type.getDimSize(0)),
                               rewriter.getStringAttr(*srcName),
                               rewriter.getI64IntegerAttr(offset),
                               rewriter.getI64IntegerAttr(st[0]));
      offset += st[0];
    }
    rewriter.eraseOp(concat);
    return success();
  }

  const Lowering &lowering;
};

/// Checks what the patterns assume, with located errors, before anything
/// changes: the body is stages (and weight packing), every activation the
/// plan places, every weight operand a parameter, a constant or a packed
/// weight.
LogicalResult check(func::FuncOp func, const MemoryPlan &plan,
                    Lowering &lowering) {
  Block &body = func.getBody().front();
  unsigned merges = 0, constants = 0;
  for (Operation &op : body) {
    if (isa<StageOp, func::ReturnOp>(op))
      continue;
    if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      for (Value src : concat.getInputs()) {
        if (auto pad = src.getDefiningOp<tensor::PadOp>()) {
          APFloat zero(0.0f);
          if (!matchPattern(pad.getConstantPaddingValue(),
                            m_ConstantFloat(&zero)) ||
              !zero.isZero())
            return emitError(pad.getLoc())
                   << "'tensor.pad' of a merged weight must pad with zeros";
        }
      }
      bool weight = concat.getType().getRank() == 4;
      lowering.weightNames[concat.getResult()] =
          llvm::formatv("{0}.merge{1}.{2}", func.getSymName(),
                        weight ? merges : merges - 1,
                        weight ? "weight" : "bias")
              .str();
      merges += weight;
      continue;
    }
    if (isa<tensor::PadOp>(op))
      continue;
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      if (isa<RankedTensorType>(cst.getType()))
        lowering.weightNames[cst.getResult()] =
            llvm::formatv("{0}.const{1}", func.getSymName(), constants++)
                .str();
      continue;
    }
    return emitError(op.getLoc())
           << "'" << op.getName()
           << "' cannot be lowered: a scheduled function holds ios.stage "
              "ops and the packing of merged weights only";
  }
  unsigned index = 0;
  WalkResult walk = func.walk([&](Operation *op) {
    if (isa<GroupOp>(op->getParentOp()) && !isa<YieldOp>(op) &&
        !isa<SchedulableOpInterface>(op)) {
      emitError(op->getLoc())
          << "'" << op->getName()
          << "' cannot be lowered to the IOS runtime: a group holds graph "
             "ops (ios) only";
      return WalkResult::interrupt();
    }
    if (!isa<SchedulableOpInterface>(op))
      return WalkResult::advance();
    lowering.opIndex[op] = index++;
    // Weights (conv/linear/affine operands after the first) are named;
    // activations must be placed.
    for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
      bool isWeight = i > 0 && isa<Conv2dOp, LinearOp, AffineOp>(op);
      if (isWeight) {
        if (failed(lowering.weight(op, operand)))
          return WalkResult::interrupt();
        continue;
      }
      if (!plan.lookup(operand)) {
        emitError(op->getLoc())
            << "'" << op->getName() << "' reads "
            << (matchPattern(operand, m_Constant()) ? "a constant" : "a weight")
            << " as an activation (operand #" << i
            << "); only network inputs and op results are placed in the arena";
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

struct ConvertIOSToIOSRTPass
    : ios::impl::ConvertIOSToIOSRTBase<ConvertIOSToIOSRTPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      // Declarations and programs already lowered are left alone.
      if (func.isExternal() || func->hasAttr(rt::kArenaAttrName))
        continue;
      if (func.getBody().front().getOps<StageOp>().empty()) {
        emitError(func.getLoc())
            << "function @" << func.getSymName()
            << " is not scheduled; run --ios-schedule first "
               "(strategy=sequential gives the plain program)";
        return signalPassFailure();
      }
      if (!device.empty()) {
        auto attr =
            func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName);
        if (attr && attr.getDevice() != device) {
          emitError(func.getLoc())
              << "function @" << func.getSymName()
              << " was scheduled for device '" << attr.getDevice()
              << "', not '" << device << "'; schedule it again for this device";
          return signalPassFailure();
        }
      }
      if (failed(lower(func)))
        return signalPassFailure();
    }
  }

  LogicalResult lower(func::FuncOp func) {
    FailureOr<MemoryPlan> plan = MemoryPlan::compute(func);
    if (failed(plan))
      return failure();
    Lowering lowering(func, *plan, launchOrder);
    if (failed(check(func, *plan, lowering)))
      return failure();
    MLIRContext *ctx = &getContext();
    bind(func, lowering);

    // Constants become weights the program carries.
    OpBuilder b(ctx);
    b.setInsertionPointToStart(&func.getBody().front());
    for (auto cst : llvm::to_vector(
             func.getBody().front().getOps<arith::ConstantOp>()))
      if (auto it = lowering.weightNames.find(cst.getResult());
          it != lowering.weightNames.end())
        rt::ConstantOp::create(
            b, cst.getLoc(), b.getStringAttr(it->second),
            cast<DenseElementsAttr>(cst.getValue()));

    TypeConverter converter;
    converter.addConversion([](Type t) -> std::optional<Type> {
      if (isa<RankedTensorType>(t))
        return rt::ViewType::get(t.getContext());
      return t;
    });
    converter.addTargetMaterialization(
        [&](OpBuilder &builder, Type, ValueRange inputs,
            Location loc) -> Value {
          if (inputs.size() != 1 || !plan->lookup(inputs.front()))
            return Value();
          return lowering.view(builder, loc, inputs.front());
        });

    ConversionTarget target(*ctx);
    target.addLegalDialect<rt::IOSRTDialect>();
    target.addIllegalDialect<IOSDialect>();
    target.addIllegalOp<tensor::ConcatOp>();
    target.addLegalOp<tensor::PadOp, arith::ConstantOp, func::FuncOp,
                      func::ReturnOp>();

    RewritePatternSet patterns(ctx);
    patterns.add<StagePattern>(converter, ctx, lowering);
    patterns.add<Conv2dPattern, Pool2dPattern, ActivationPattern, AddPattern,
                 MulPattern, AffinePattern, PadPattern, UpsamplePattern,
                 ChannelShufflePattern, LinearPattern, SoftmaxPattern,
                 ConcatPattern, ViewPattern<SliceOp>, ViewPattern<FlattenOp>,
                 PackPattern>(converter, ctx, lowering);
    if (failed(applyPartialConversion(func, target, std::move(patterns))))
      return emitError(func.getLoc())
             << "internal error: @" << func.getSymName()
             << " could not be lowered to iosrt";
    finish(func, *plan);
    return success();
  }

  /// Binds the caller's tensors to their views: inputs are copied in at the
  /// start, results out at the end (the return then returns nothing).
  void bind(func::FuncOp func, const Lowering &lowering) {
    Block &body = func.getBody().front();
    OpBuilder b(func.getContext());
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    b.setInsertionPoint(ret);
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      rt::OutputOp::create(b, ret.getLoc(), lowering.view(b, ret.getLoc(), v),
                           i, cast<RankedTensorType>(v.getType()).getRank());
    ret->setOperands({});
    b.setInsertionPointToStart(&body);
    unsigned input = 0;
    for (BlockArgument arg : body.getArguments())
      if (!func.getArgAttr(arg.getArgNumber(), IOSDialect::kParamAttrName))
        rt::InputOp::create(b, func.getLoc(),
                            lowering.view(b, func.getLoc(), arg), input++,
                            cast<RankedTensorType>(arg.getType()).getRank());
  }

  /// The function becomes a program: no arguments, results or tensors.
  void finish(func::FuncOp func, const MemoryPlan &plan) {
    Block &body = func.getBody().front();
    OpBuilder b(func.getContext());
    // What remains of the tensors: weight packing and constants.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isa<tensor::PadOp, arith::ConstantOp>(op) && op.use_empty())
        op.erase();
    int32_t streams = 1, events = 1;
    func.walk([&](rt::WaitOp wait) {
      streams = std::max<int32_t>(streams, wait.getStream() + 1);
      events = std::max<int32_t>(events, wait.getEvent() + 1);
    });
    func->setAttr(rt::kArenaAttrName, b.getI64IntegerAttr(plan.arenaFloats()));
    func->setAttr(rt::kStreamsAttrName, b.getI32IntegerAttr(streams));
    func->setAttr(rt::kEventsAttrName, b.getI32IntegerAttr(events));
    SmallVector<Type> noTypes;
    body.eraseArguments(0, body.getNumArguments());
    func.setFunctionType(b.getFunctionType(noTypes, noTypes));
    // The argument attributes went with the arguments.
    func.removeArgAttrsAttr();
    func.removeResAttrsAttr();
  }
};

} // namespace
