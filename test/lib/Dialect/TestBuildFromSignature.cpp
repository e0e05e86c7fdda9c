//===- TestBuildFromSignature.cpp - Ops built back from signatures --------===//
//
// -test-ios-build-from-signature: every schedulable op is built again from
// its signature (ios::buildFromSignature, in a scratch function whose
// arguments are the inputs and the parameters) and a remark says whether
// the new op's signature equals the original's, attribute for attribute.
// Tests of SchedulableOpInterface::buildFromSignature.
//
//===----------------------------------------------------------------------===//

#include "TestPasses.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace {
struct TestBuildFromSignaturePass
    : PassWrapper<TestBuildFromSignaturePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestBuildFromSignaturePass)

  StringRef getArgument() const final {
    return "test-ios-build-from-signature";
  }
  StringRef getDescription() const final {
    return "Build every schedulable op again from its signature and remark "
           "whether the signatures agree";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<func::FuncDialect>();
  }

  void runOnOperation() override {
    getOperation().walk([&](ios::SchedulableOpInterface op) { check(op); });
  }

  void check(ios::SchedulableOpInterface op) {
    ios::sched::OpSignature sig = op.getScheduleSignature();
    Location loc = op->getLoc();
    OpBuilder b(&getContext());
    OwningOpRef<ModuleOp> scratch = ModuleOp::create(loc);
    b.setInsertionPointToEnd(scratch->getBody());
    auto func = func::FuncOp::create(b, loc, "scratch",
                                     b.getFunctionType({}, {}));
    Block *body = func.addEntryBlock();
    SmallVector<Value> inputs;
    for (ArrayRef<int64_t> shape : sig.inputShapes) {
      SmallVector<int64_t> full = {sig.batch};
      llvm::append_range(full, shape);
      inputs.push_back(argument(func, RankedTensorType::get(full, b.getF32Type()),
                                loc));
    }
    unsigned params = 0;
    b.setInsertionPointToEnd(body);
    FailureOr<Operation *> built = ios::buildFromSignature(
        b, loc, sig, inputs, [&](StringRef, RankedTensorType type) {
          ++params;
          return argument(func, type, loc);
        });
    if (failed(built))
      return;
    ios::sched::OpSignature back =
        cast<ios::SchedulableOpInterface>(*built).getScheduleSignature();
    InFlightDiagnostic remark = emitRemark(loc);
    remark << "'" << (*built)->getName() << "' with " << params
           << " parameter(s) from " << sig.str();
    if (!(back == sig))
      remark << " has another signature: " << back.str();
  }

  /// A new last argument of `func`.
  static Value argument(func::FuncOp func, Type type, Location loc) {
    (void)func.insertArgument(func.getNumArguments(), type, {}, loc);
    return func.getArgument(func.getNumArguments() - 1);
  }
};
} // namespace

void ios::test::registerTestBuildFromSignaturePass() {
  PassRegistration<TestBuildFromSignaturePass>();
}
