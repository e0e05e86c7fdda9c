//===- ShapeInferenceTest.cpp - builders infer ios result types -----------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace ios;

namespace {

class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = ModuleOp::create(UnknownLoc::get(&ctx));
    builder.setInsertionPointToEnd(module->getBody());
  }

  RankedTensorType t(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&ctx));
  }

  /// A function whose arguments have the given types; the builder is left
  /// inside its body.
  func::FuncOp makeFunc(ArrayRef<Type> args) {
    auto fn = func::FuncOp::create(builder, loc, "f",
                                   builder.getFunctionType(args, {}));
    builder.setInsertionPointToEnd(fn.addEntryBlock());
    return fn;
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  OpBuilder builder{&ctx};
  Location loc = UnknownLoc::get(&ctx);
};

TEST_F(ShapeInferenceTest, Conv2dStridedPaddedGrouped) {
  auto fn = makeFunc({t({2, 32, 35, 35}), t({64, 8, 3, 3}), t({64})});
  auto conv = Conv2dOp::create(
      builder, loc, fn.getArgument(0), fn.getArgument(1), fn.getArgument(2),
      builder.getDenseI64ArrayAttr({2, 2}), builder.getDenseI64ArrayAttr({1, 1}),
      builder.getDenseI64ArrayAttr({1, 1}), builder.getI64IntegerAttr(4),
      ActivationAttr::get(&ctx, Activation::relu));
  // (35 + 2 - 3) / 2 + 1 = 18
  EXPECT_EQ(conv.getType(), t({2, 64, 18, 18}));
  EXPECT_TRUE(succeeded(verify(conv)));
}

TEST_F(ShapeInferenceTest, Conv2dDilated) {
  auto fn = makeFunc({t({1, 4, 17, 17}), t({4, 4, 3, 3}), t({4})});
  auto conv = Conv2dOp::create(
      builder, loc, fn.getArgument(0), fn.getArgument(1), fn.getArgument(2),
      builder.getDenseI64ArrayAttr({1, 1}), builder.getDenseI64ArrayAttr({0, 0}),
      builder.getDenseI64ArrayAttr({2, 3}), builder.getI64IntegerAttr(1),
      ActivationAttr::get(&ctx, Activation::none));
  // Effective kernel 5 along H, 7 along W.
  EXPECT_EQ(conv.getType(), t({1, 4, 13, 11}));
}

TEST_F(ShapeInferenceTest, PoolWindowDefaultsStrideToKernel) {
  auto fn = makeFunc({t({1, 8, 9, 9})});
  auto pool = Pool2dOp::create(builder, loc, fn.getArgument(0),
                               PoolKindAttr::get(&ctx, PoolKind::max),
                               builder.getDenseI64ArrayAttr({3, 3}),
                               /*strides=*/nullptr, /*padding=*/nullptr);
  EXPECT_EQ(pool.getType(), t({1, 8, 3, 3}));
  auto global = Pool2dOp::create(builder, loc, fn.getArgument(0),
                                 PoolKindAttr::get(&ctx, PoolKind::global_avg),
                                 nullptr, nullptr, nullptr);
  EXPECT_EQ(global.getType(), t({1, 8, 1, 1}));
}

TEST_F(ShapeInferenceTest, ConcatSliceFlattenLinear) {
  auto fn = makeFunc({t({1, 64, 8, 8}), t({1, 32, 8, 8}), t({10, 96}),
                      t({10})});
  auto concat = ConcatOp::create(
      builder, loc, ValueRange{fn.getArgument(0), fn.getArgument(1)});
  EXPECT_EQ(concat.getType(), t({1, 96, 8, 8}));
  auto slice = SliceOp::create(builder, loc, concat, 10, 74);
  EXPECT_EQ(slice.getType(), t({1, 64, 8, 8}));
  auto pooled = Pool2dOp::create(builder, loc, concat,
                                 PoolKindAttr::get(&ctx, PoolKind::global_avg),
                                 nullptr, nullptr, nullptr);
  auto flat = FlattenOp::create(builder, loc, pooled);
  EXPECT_EQ(flat.getType(), t({1, 96}));
  auto fc = LinearOp::create(builder, loc, flat, fn.getArgument(2),
                             fn.getArgument(3));
  EXPECT_EQ(fc.getType(), t({1, 10}));
  EXPECT_EQ(SoftmaxOp::create(builder, loc, fc).getType(), t({1, 10}));
}

TEST_F(ShapeInferenceTest, VerifierRejectsOutOfBoundsSlice) {
  auto fn = makeFunc({t({1, 16, 4, 4})});
  OperationState state(loc, SliceOp::getOperationName());
  state.addOperands(fn.getArgument(0));
  state.addAttribute("begin", builder.getI64IntegerAttr(8));
  state.addAttribute("end", builder.getI64IntegerAttr(20));
  state.addTypes(t({1, 12, 4, 4}));
  Operation *op = builder.create(state);
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(op)));
  EXPECT_EQ(message, "'ios.slice' op channel range [8, 20) is empty or out of "
                     "bounds for 16 channels");
}

} // namespace
