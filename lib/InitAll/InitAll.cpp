//===- InitAll.cpp - Register every dialect, pass and translation --------===//

#include "ios/InitAll.h"

#include "ios/Conversion/Passes.h"
#include "ios/Conversion/Pipelines.h"
#include "ios/Dialect/IOS/IR/IOSDialect.h"
#include "ios/Dialect/IOS/Transforms/Passes.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"
#include "ios/Target/Cpp.h"
#include "ios/Target/Dot.h"
#include "ios/Target/Timeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"

using namespace mlir;

void ios::registerAllDialects(DialectRegistry &registry) {
  registry.insert<IOSDialect, rtir::IOSRTDialect, arith::ArithDialect, emitc::EmitCDialect,
                  func::FuncDialect, tensor::TensorDialect,
                  tosa::TosaDialect>();
}

void ios::registerAllPasses() {
  // The upstream passes useful on ios IR (the others would only lengthen
  // --help; ios ops have no canonicalization patterns).
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerStripDebugInfoPass();
  mlir::registerPrintOpStatsPass();
  registerIOSPasses();
  registerIOSConversionPasses();
  registerLowerToCppPipeline();
}

void ios::registerAllTranslations() {
  static TranslateFromMLIRRegistration toDot(
      "ios-to-dot",
      "Graphviz picture of an ios graph or schedule (stages as clusters)",
      [](Operation *op, raw_ostream &os) { return translateToDot(op, os); },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
  // Registered here, not at load time, so only ios-translate has it.
  static llvm::cl::opt<std::string> timelineDevice(
      "timeline-device",
      llvm::cl::desc("Device of --ios-to-timeline's analytic model (v100, "
                     "a100, h100 or a JSON device file; default: the one "
                     "each function was scheduled for)"),
      llvm::cl::value_desc("name|file"), llvm::cl::init(""));
  static TranslateFromMLIRRegistration toTimeline(
      "ios-to-timeline",
      "JSON timeline of a scheduled ios module: per stage, when each op "
      "runs on which stream, simulated by the analytic GPU model",
      [](Operation *op, raw_ostream &os) {
        return translateToTimeline(op, os, {timelineDevice});
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
  static TranslateFromMLIRRegistration toCpp(
      "ios-to-cpp",
      "C++ program of a scheduled ios module (IOS runtime, CPU backend)",
      [](Operation *op, raw_ostream &os) {
        return translateToProgram(op, os, ProgramKind::Cpp);
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
  static TranslateFromMLIRRegistration toCuda(
      "ios-to-cuda",
      "CUDA program of a scheduled ios module (IOS runtime, CUDA backend)",
      [](Operation *op, raw_ostream &os) {
        return translateToProgram(op, os, ProgramKind::Cuda);
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
  static TranslateFromMLIRRegistration toHeader(
      "ios-to-cpp-header",
      "C header declaring the entry points of --ios-to-cpp/--ios-to-cuda's "
      "program (C and C++)",
      [](Operation *op, raw_ostream &os) {
        return translateToProgram(op, os, ProgramKind::Header);
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
}
