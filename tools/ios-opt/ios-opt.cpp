//===- ios-opt.cpp - IOS optimizer driver ---------------------------------===//

#include "TestPasses.h"
#include "ios/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  ios::registerAllDialects(registry);
  ios::registerAllPasses();
  ios::test::registerTestPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "IOS optimizer driver\n", registry));
}
