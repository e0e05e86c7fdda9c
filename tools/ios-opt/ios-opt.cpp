//===- ios-opt.cpp - IOS optimizer driver ---------------------------------===//

#include "ios/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::ios::registerAllDialects(registry);
  mlir::ios::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "IOS optimizer driver\n", registry));
}
