//===- AnalyticProfiler.h - A deterministic model of a GPU ------*- C++ -*-===//
//
// Predicts stage latencies on a GPU that runs kernels from several streams at
// once, without a GPU. Each op becomes the kernels IOS's cuDNN runtime would
// launch; each kernel has work (FLOPs and bytes, at an efficiency that
// depends on its kind) and a thread-block count that bounds the fraction of
// the SMs it can occupy. A stage is simulated event by event: the host
// launches kernels one after another, group by group with the longest group
// first (so a stage's cost does not depend on how its groups are listed), streams
// run their kernels in order, and running kernels share the SMs in
// proportion to what they can occupy. Multi-group stages end with a
// device-wide join. docs/Profilers.md describes the model and its fitted
// constants.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_ANALYTICPROFILER_H
#define IOS_PROFILER_ANALYTICPROFILER_H

#include "ios/Profiler/Profiler.h"

#include "llvm/ADT/SmallVector.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace ios::prof {

/// A GPU and the model's constants for it. Built-ins: v100, a100, h100;
/// others from a JSON file with the same field names.
struct DeviceSpec {
  std::string name;
  // Hardware.
  unsigned sms = 80;
  double peakTflops = 15.7;  ///< fp32, at the clock the numbers are for
  double memGBps = 900;      ///< DRAM bandwidth
  unsigned blocksPerSm = 2;  ///< resident thread blocks of a conv kernel
  // Constants fitted to IOS's V100 measurements by
  // `python3 -m ios.bench.calibrate` (docs/Profilers.md).
  unsigned tileM = 48, tileN = 48;  ///< conv output tile (pixels x channels)
  double convEfficiency = 0.572;    ///< of peak, implicit-GEMM convs
  double winogradSpeedup = 2.21;    ///< 3x3 stride-1 convs (cuDNN Winograd)
  double memEfficiency = 0.727;     ///< of bandwidth, memory-bound kernels
  double depthwiseEfficiency = 1.0; ///< of bandwidth, depthwise convs
  unsigned elementsPerBlock = 2048; ///< memory-bound kernels
  double kernelLatencyUs = 3.81;    ///< fixed GPU time of every kernel
  double launchUs = 2.16;           ///< host time to launch one kernel
  double convLaunchUs = 13.0;       ///< host time of one cuDNN conv call
  double joinUs = 5.80;             ///< device-wide join after a multi-group stage
  /// Slowdown of co-running kernels (shared caches, bandwidth, scheduler):
  /// n kernels in flight each run 1 + penalty * (n - 1) times slower than
  /// their share of the SMs alone would allow.
  double contentionPenalty = 0.173;

  /// A built-in device, or a JSON file (name field optional).
  static llvm::Expected<DeviceSpec> get(llvm::StringRef nameOrFile);
  static llvm::ArrayRef<llvm::StringLiteral> builtinNames();
  llvm::json::Value toJSON() const;
};
bool fromJSON(const llvm::json::Value &v, DeviceSpec &spec,
              llvm::json::Path path);

/// One kernel launch as the model sees it.
struct Kernel {
  double workUs = 0;   ///< time on the whole device, excluding fixed latency
  double fraction = 1; ///< max fraction of the device it can occupy (0, 1]
  double launchUs = 0; ///< host time to launch it
  const char *what = ""; ///< "conv", "bias", "copy", ... (for explanations)
};

/// The kernels an op launches (in order) at the signature's batch size.
std::vector<Kernel> kernelsFor(const sched::OpSignature &sig,
                               const DeviceSpec &device);

/// Simulated latency in ms of groups of kernels run as one stage.
double simulateStage(llvm::ArrayRef<std::vector<Kernel>> groups,
                     const DeviceSpec &device);

/// When the kernels of a simulated stage run: the run simulateStage costs,
/// kernel by kernel (for timelines; the scheduler only needs the latency).
struct StageTrace {
  double latencyMs = 0; ///< what simulateStage returns
  /// [group][kernel]: (start, end) in ms from the stage's start, on the
  /// device (host launch time that overlaps other work is not shown).
  std::vector<std::vector<std::pair<double, double>>> intervals;
};
StageTrace traceStage(llvm::ArrayRef<std::vector<Kernel>> groups,
                      const DeviceSpec &device);

class AnalyticProfiler final : public Profiler {
public:
  explicit AnalyticProfiler(DeviceSpec device) : device(std::move(device)) {}
  llvm::Expected<double> measure(const sched::Graph &g,
                                 const sched::Stage &stage) override;
  /// The same model applied to an already described stage (the exec example
  /// server and the tests use it).
  double latency(const StageDescription &stage) const;
  std::string describe() const override { return "analytic:" + device.name; }
  bool usesDeclaredWork() const override { return true; }
  /// measure reads the device and the graph only.
  bool isThreadSafe() const override { return true; }
  /// From the model itself: the host launches every kernel of a stage, the
  /// device works at most at full rate, a stream runs its kernels in turn
  /// (docs/Profilers.md).
  std::optional<sched::LowerBoundTerms>
  lowerBoundTerms(const sched::Graph &g) const override;
  const DeviceSpec &getDevice() const { return device; }

private:
  /// The kernels of every node of one graph (Graph::uid), computed once.
  struct GraphKernels {
    uint64_t graph;
    std::vector<llvm::SmallVector<Kernel, 4>> perNode;
  };
  const GraphKernels &kernelsOf(const sched::Graph &g);

  DeviceSpec device;
  /// Every graph's kernels so far (kept: measure may run on several
  /// threads, which read `last` without a lock).
  std::mutex cacheMutex;
  std::vector<std::unique_ptr<GraphKernels>> graphs;
  std::atomic<const GraphKernels *> last{nullptr};
};

} // namespace ios::prof

#endif // IOS_PROFILER_ANALYTICPROFILER_H
