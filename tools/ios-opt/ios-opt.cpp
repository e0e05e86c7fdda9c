//===- ios-opt.cpp - IOS optimizer driver ---------------------------------===//
//
// mlir-opt with the IOS dialect and passes. The output (-o) is written
// atomically (ios/Support/FileOutput.h): a failed run or a full disk never
// leaves a half file in place of a good one, and an I/O error is a
// diagnostic with exit code 1, not a crash.
//
//===----------------------------------------------------------------------===//

#include "TestPasses.h"
#include "ios/InitAll.h"
#include "ios/Support/CommandLine.h"
#include "ios/Support/FileOutput.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <csignal>

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // A write past the file size limit is an I/O error to report, not a
  // signal that kills the process.
  std::signal(SIGXFSZ, SIG_IGN);
  ios::hideLibraryOptions();
  mlir::DialectRegistry registry;
  ios::registerAllDialects(registry);
  ios::registerAllPasses();
  ios::test::registerTestPasses();
  std::string help =
      mlir::registerCLIOptions("IOS optimizer driver\n", registry);
  // What a user of ios-opt needs; the rest (MLIR's debugging options) is in
  // --help-hidden.
  ios::showOnly({"o", "split-input-file", "verify-diagnostics",
                 "pass-pipeline", "ios-schedule", "show-dialects",
                 "mlir-print-debuginfo", "mlir-timing",
                 "mlir-pass-statistics"});
  auto [inputFilename, outputFilename] =
      mlir::parseCLIOptions(argc, argv, help);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();

  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &message);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "ios-opt") << message << "\n";
    return 1;
  }
  bool failedToProcess = false;
  llvm::Error error = ios::writeFileAtomically(
      outputFilename, [&](llvm::raw_ostream &os) -> llvm::Error {
        if (mlir::succeeded(
                mlir::MlirOptMain(os, std::move(input), registry, config)))
          return llvm::Error::success();
        failedToProcess = true; // diagnostics are printed: drop the output
        return llvm::createStringError("processing failed");
      });
  if (!error)
    return 0;
  if (failedToProcess)
    llvm::consumeError(std::move(error));
  else
    llvm::WithColor::error(llvm::errs(), "ios-opt")
        << llvm::toString(std::move(error)) << "\n";
  return 1;
}
