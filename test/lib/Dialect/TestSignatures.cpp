//===- TestSignatures.cpp - Print what ops mean to the scheduler ----------===//
//
// -test-ios-signatures: a remark per op with the signature and merge class
// the scheduler sees (classes numbered per function in op order: ops with
// the same class merge exactly), for tests of the SchedulableOpInterface.
//
//===----------------------------------------------------------------------===//

#include "TestPasses.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {
struct TestSignaturesPass : PassWrapper<TestSignaturesPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestSignaturesPass)

  StringRef getArgument() const final { return "test-ios-signatures"; }
  StringRef getDescription() const final {
    return "Print each op's schedule signature and merge class as remarks";
  }

  void runOnOperation() override {
    getOperation()->walk([&](FunctionOpInterface func) { print(func); });
  }

  void print(FunctionOpInterface func) {
    llvm::StringMap<unsigned> classes;
    func.walk([&](ios::SchedulableOpInterface op) {
      InFlightDiagnostic remark = emitRemark(op->getLoc())
                                  << ios::signatureOf(op).str();
      if (std::optional<std::string> key = op.getMergeKey())
        remark << " merge class "
               << classes.try_emplace(*key, classes.size()).first->second;
      ios::sched::OpSignature sig = op.getScheduleSignature();
      remark << llvm::formatv(" flops {0} bytes {1} kernels {2}",
                              sig.flops(), sig.bytes(), sig.work.size())
                    .str();
    });
  }
};
} // namespace

void ios::test::registerTestSignaturesPass() {
  PassRegistration<TestSignaturesPass>();
}
