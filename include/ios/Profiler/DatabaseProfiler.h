//===- DatabaseProfiler.h - Measured stages, replayed -----------*- C++ -*-===//
//
// A JSON-lines file of stage latencies keyed by the stage's canonical
// signature (independent of node ids), the device and the batch size. A hit
// replays the stored latency without the device; a miss asks the recording
// profiler (record=PROFILER) and appends its answer, or is an error.
//
//   {"device": "v100", "batch": 1, "stage": "<canonical signature>",
//    "latency_ms": 0.161}
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_DATABASEPROFILER_H
#define IOS_PROFILER_DATABASEPROFILER_H

#include "ios/Profiler/Profiler.h"

#include "llvm/ADT/StringMap.h"

namespace ios::prof {

class DatabaseProfiler final : public Profiler {
public:
  static llvm::Expected<std::unique_ptr<Profiler>>
  open(llvm::StringRef path, llvm::StringRef device,
       std::unique_ptr<Profiler> recorder);

  llvm::Expected<double> measure(const sched::Graph &g,
                                 const sched::Stage &stage) override;
  std::string describe() const override {
    return "db:" + path + (recorder ? "+" + recorder->describe() : "");
  }
  uint64_t numHits() const { return hits; }
  uint64_t numRecorded() const { return recorded; }

private:
  std::string key(int64_t batch, llvm::StringRef stage) const;

  std::string path, device;
  std::unique_ptr<Profiler> recorder;
  llvm::StringMap<double> entries;
  uint64_t hits = 0, recorded = 0;
};

} // namespace ios::prof

#endif // IOS_PROFILER_DATABASEPROFILER_H
