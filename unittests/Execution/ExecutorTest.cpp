//===- ExecutorTest.cpp - iosrt programs run in process -------------------===//
//
// A scheduled function lowered by the program's lowering and run by
// ios::exec::LoadedProgram on the CPU backend computes what the network
// means (checked against a reference computed here), and programs the
// executor cannot make are errors.
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Pipelines.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"
#include "ios/Execution/Executor.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace mlir;

namespace {

// Stage 0 runs a 1x1 conv (2 -> 2 channels) and a relu concurrently, stage
// 1 concatenates them (the conv written in place) and a constant-free add.
constexpr const char *kProgram = R"mlir(
func.func @net(%x: tensor<1x2x2x2xf32> {ios.input},
               %w: tensor<2x2x1x1xf32> {ios.param = "w"},
               %b: tensor<2xf32> {ios.param = "b"}) -> tensor<1x4x2x2xf32> {
  %s:2 = ios.stage concurrent {
    %g0 = ios.group {
      %0 = ios.conv2d %x, %w, %b : (tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
      ios.yield %0 : tensor<1x2x2x2xf32>
    } -> tensor<1x2x2x2xf32>
    %g1 = ios.group {
      %1 = ios.activation relu %x : tensor<1x2x2x2xf32>
      ios.yield %1 : tensor<1x2x2x2xf32>
    } -> tensor<1x2x2x2xf32>
    ios.yield %g0, %g1 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
  } -> tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
  %t = ios.stage concurrent {
    %g = ios.group {
      %2 = ios.concat %s#0, %s#1 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x4x2x2xf32>
      ios.yield %2 : tensor<1x4x2x2xf32>
    } -> tensor<1x4x2x2xf32>
    ios.yield %g : tensor<1x4x2x2xf32>
  } -> tensor<1x4x2x2xf32>
  return %t : tensor<1x4x2x2xf32>
}
)mlir";

struct Lowered {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  func::FuncOp program;

  explicit Lowered(llvm::StringRef source) {
    ctx.disableMultithreading();
    ctx.loadDialect<ios::IOSDialect, ios::rtir::IOSRTDialect,
                    func::FuncDialect, tensor::TensorDialect,
                    arith::ArithDialect>();
    module = parseSourceString<ModuleOp>(source, &ctx);
    PassManager pm(&ctx);
    ios::buildLowerToIOSRTPipeline(pm);
    if (module && succeeded(pm.run(*module)))
      program = cast<func::FuncOp>(module->getBody()->front());
  }
};

TEST(Executor, RunsTheLoweredProgram) {
  Lowered l(kProgram);
  ASSERT_TRUE(l.program);
  std::vector<ios::exec::Weight> weights = {
      {"w", {1.0f, 2.0f, -1.0f, 0.5f}}, {"b", {0.25f, -0.5f}}};
  auto loaded = ios::exec::LoadedProgram::load(l.program, weights);
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ((*loaded)->numKernels(), 2u); // the concat is in place

  std::vector<float> x = {1, -2, 3, -4, 0.5f, 6, -7, 8};
  std::vector<float> y(16, 0.0f);
  const float *inputs[] = {x.data()};
  float *outputs[] = {y.data()};
  (*loaded)->upload(inputs);
  (*loaded)->runPhase();
  ASSERT_FALSE(bool((*loaded)->finishRun(outputs)));
  for (int p = 0; p < 4; ++p) {
    float a = x[p], c = x[4 + p];
    EXPECT_FLOAT_EQ(y[p], 1.0f * a + 2.0f * c + 0.25f);
    EXPECT_FLOAT_EQ(y[4 + p], -1.0f * a + 0.5f * c - 0.5f);
    EXPECT_FLOAT_EQ(y[8 + p], std::max(a, 0.0f));
    EXPECT_FLOAT_EQ(y[12 + p], std::max(c, 0.0f));
  }
}

TEST(Executor, LoadErrorsAreTheRuntimes) {
  Lowered l(kProgram);
  ASSERT_TRUE(l.program);
  // The bias is missing: the runtime names the tensor at load.
  auto loaded = ios::exec::LoadedProgram::load(
      l.program, {{"w", {1.0f, 2.0f, -1.0f, 0.5f}}});
  ASSERT_FALSE(bool(loaded));
  std::string message = llvm::toString(loaded.takeError());
  EXPECT_EQ(message, "runtime: conv2d#0: conv2d: weight 'b' is not loaded");
}

TEST(Executor, RejectsWhatIsNoProgram) {
  // Not lowered: no iosrt attributes.
  MLIRContext ctx;
  ctx.loadDialect<func::FuncDialect, ios::rtir::IOSRTDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      "func.func @f() { return }", &ctx);
  auto f = cast<func::FuncOp>(module->getBody()->front());
  auto loaded = ios::exec::LoadedProgram::load(f, {});
  ASSERT_FALSE(bool(loaded));
  EXPECT_NE(llvm::toString(loaded.takeError()).find("is not an iosrt program"),
            std::string::npos);
}

} // namespace
