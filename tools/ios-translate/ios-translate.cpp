//===- ios-translate.cpp - IOS translation driver -------------------------===//
//
// mlir-translate with the IOS translations (--ios-to-dot, --ios-to-timeline,
// --ios-to-cpp, --ios-to-cuda, --ios-to-cpp-header): one translation per run.
// Unlike mlirTranslateMain it owns the output stream, so -o is written
// atomically (ios/Support/FileOutput.h) and an I/O error is a diagnostic with
// exit code 1, not a crash.
//
//===----------------------------------------------------------------------===//

#include "ios/InitAll.h"
#include "ios/Support/CommandLine.h"
#include "ios/Support/FileOutput.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/ToolUtilities.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

#include <csignal>

using namespace llvm;

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input file>"),
                                          cl::init("-"));
static cl::opt<std::string> outputFilename("o", cl::desc("Output filename"),
                                           cl::value_desc("filename"),
                                           cl::init("-"));
static cl::opt<bool> allowUnregisteredDialects(
    "allow-unregistered-dialect",
    cl::desc("Allow operation with no registered dialects"), cl::init(false));
static cl::opt<std::string> inputSplitMarker(
    "split-input-file", cl::ValueOptional,
    cl::callback([](const std::string &str) {
      if (str.empty()) // the flag without a value: the default marker
        inputSplitMarker.setValue(mlir::kDefaultSplitMarker);
    }),
    cl::desc("Split the input file into chunks using the given or default "
             "marker and process each chunk independently"),
    cl::init(""));
static cl::opt<std::string>
    outputSplitMarker("output-split-marker",
                      cl::desc("Split marker to use for merging the output"),
                      cl::init(""));
static cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check that emitted diagnostics match expected-* lines on the "
             "corresponding line"),
    cl::init(false));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // A write past the file size limit is an I/O error to report, not a
  // signal that kills the process.
  std::signal(SIGXFSZ, SIG_IGN);
  ios::hideLibraryOptions({"o", "split-input-file", "verify-diagnostics"});
  ios::registerAllTranslations();
  cl::list<const mlir::Translation *, bool, mlir::TranslationParser>
      translations("", cl::desc("Translations to perform"), cl::Required);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerTranslationCLOptions();
  // MLIR's printing and debugging options stay in --help-hidden.
  ios::showOnly({"ios-to-cpp", "ios-to-cuda", "ios-to-cpp-header",
                 "ios-to-dot", "ios-to-timeline", "timeline-device", "o",
                 "split-input-file", "verify-diagnostics",
                 "mlir-print-debuginfo"});
  cl::ParseCommandLineOptions(argc, argv, "IOS translation driver\n");
  auto fail = [](const Twine &message) {
    WithColor::error(errs(), "ios-translate") << message << "\n";
    return 1;
  };
  if (translations.size() != 1)
    return fail("one translation at a time");
  const mlir::Translation &translation = *translations.front();

  std::string message;
  std::unique_ptr<MemoryBuffer> input =
      translation.getInputAlignment()
          ? mlir::openInputFile(inputFilename,
                                *translation.getInputAlignment(), &message)
          : mlir::openInputFile(inputFilename, &message);
  if (!input)
    return fail(message);

  auto processChunk = [&](std::unique_ptr<MemoryBuffer> chunk,
                          raw_ostream &os) -> mlir::LogicalResult {
    mlir::MLIRContext context;
    context.allowUnregisteredDialects(allowUnregisteredDialects);
    context.printOpOnDiagnostic(!verifyDiagnostics);
    auto sourceMgr = std::make_shared<SourceMgr>();
    sourceMgr->AddNewSourceBuffer(std::move(chunk), SMLoc());
    if (verifyDiagnostics) {
      // Whether the translation fails does not matter, only whether the
      // diagnostics are the expected ones.
      mlir::SourceMgrDiagnosticVerifierHandler handler(*sourceMgr, &context);
      (void)translation(sourceMgr, os, &context);
      return handler.verify();
    }
    mlir::SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
    return translation(sourceMgr, os, &context);
  };
  bool failedToTranslate = false;
  Error error = ios::writeFileAtomically(
      outputFilename, [&](raw_ostream &os) -> Error {
        if (mlir::succeeded(mlir::splitAndProcessBuffer(
                std::move(input), processChunk, os, inputSplitMarker,
                outputSplitMarker)))
          return Error::success();
        failedToTranslate = true; // diagnostics are printed: drop the output
        return createStringError("translation failed");
      });
  if (!error)
    return 0;
  if (failedToTranslate) {
    consumeError(std::move(error));
    return 1;
  }
  return fail(toString(std::move(error)));
}
