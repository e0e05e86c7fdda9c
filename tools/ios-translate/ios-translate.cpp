//===- ios-translate.cpp - IOS translation driver -------------------------===//

#include "ios/InitAll.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  ios::registerAllTranslations();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "IOS translation driver\n"));
}
