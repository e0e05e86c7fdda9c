//===- Emulator.h - What tests can ask the device emulator ------*- C++ -*-===//
//
// The emulator (libIOSDeviceEmulator, test-only) implements on the CPU the
// part of the CUDA runtime API and of cuDNN that lib/Runtime/CUDA calls, so
// programs linked against it instead of libcudart (and before libcudnn) run
// without a GPU. It reports every rule a program breaks (a race between
// streams, a cuDNN rule, an invalid device address, ...) on stderr as
//
//   ios-emu: KIND: message
//
// and a process that leaves reports behind exits with status 66 (like
// ThreadSanitizer's exitcode). GoogleTest binaries take the reports they
// expect with takeReports(), so only unexpected ones fail the process.
// docs/Runtime.md describes the emulator; Device.h its design.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TEST_LIB_DEVICEEMULATOR_EMULATOR_H
#define IOS_TEST_LIB_DEVICEEMULATOR_EMULATOR_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ios::emu {

struct Report {
  std::string kind;    // "race", "cudnn", "memory", "api", "kernel"
  std::string message; // what was printed after "ios-emu: KIND: "
};

/// The reports since the last call; they no longer count for the exit
/// status.
std::vector<Report> takeReports();

/// Host API calls (CUDA runtime, cuDNN, kernel launches) since the process
/// started, by name ("cudaMemcpyAsync", "cudnnConvolutionForward",
/// "kernel copyKernel", ...).
std::map<std::string, uint64_t> apiCalls();

/// The exit status a process with pending reports ends with.
constexpr int kReportExitStatus = 66;

} // namespace ios::emu

#endif // IOS_TEST_LIB_DEVICEEMULATOR_EMULATOR_H
