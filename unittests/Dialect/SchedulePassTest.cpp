//===- SchedulePassTest.cpp - Embedding ios-schedule with one's profiler --===//
//
// A program that embeds the compiler hands the scheduling pass a profiler
// of its own (its own measurements) through createIOSSchedulePass.
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/Passes.h"
#include "ios/InitAll.h"
#include "ios/Profiler/Profiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace ios;

namespace {

/// Two independent activations: 1 ms alone, 1.5 ms side by side.
class Measured final : public prof::Profiler {
public:
  llvm::Expected<double> measure(const sched::Graph &,
                                 const sched::Stage &stage) override {
    ++calls;
    return stage.groups.size() == 2 ? 1.5 : 1.0;
  }
  std::string describe() const override { return "measured-by-caller"; }
  int calls = 0;
};

TEST(SchedulePass, TakesTheCallersProfiler) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"mlir(
    !t = tensor<1x4x8x8xf32>
    func.func @f(%x: !t {ios.input}) -> (!t, !t) {
      %a = ios.activation relu %x : !t
      %b = ios.activation tanh %x : !t
      return %a, %b : !t, !t
    })mlir",
                                                            &ctx);
  ASSERT_TRUE(module);
  auto profiler = std::make_shared<Measured>();
  IOSScheduleOptions options;
  options.profiler = "ignored: the caller's profiler is used";
  PassManager pm(&ctx);
  pm.addPass(createIOSSchedulePass(options, profiler));
  ASSERT_TRUE(succeeded(pm.run(*module)));
  EXPECT_GT(profiler->calls, 0);
  auto func = *module->getOps<func::FuncOp>().begin();
  auto attr = func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName);
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr.getProfiler(), "measured-by-caller");
  EXPECT_DOUBLE_EQ(attr.getLatencyMs().getValueAsDouble(), 1.5);
  EXPECT_DOUBLE_EQ(attr.getSequentialMs().getValueAsDouble(), 2.0);
  auto stages = llvm::to_vector(func.getBody().front().getOps<StageOp>());
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(llvm::range_size(stages[0].getGroups()), 2u);
}

} // namespace
