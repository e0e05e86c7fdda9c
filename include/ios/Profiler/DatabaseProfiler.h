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
// Whole programs timed by the recorder (ios-schedule's compare=) are
// records too, their "stage" the hash of the program's text:
//
//   {"device": "cpu", "batch": 8, "stage": "program 5f0c...e1",
//    "latency_ms": 312.4}
//
// In memory a record is a 128-bit hash of (device, batch, signature) and its
// latency (24 bytes, not the ~3 KB signature), and a lookup hashes the
// stage's signature, assembled from the op signatures' text the graph
// formatted once (sched::Graph::signatureText), not formatted per lookup.
//
// Loading parses no JSON it parsed before: FILE.index, a binary sidecar,
// holds the records' keys and latencies (24 bytes each, sorted) for the
// file's first bytes, with the file's size, mtime, inode and the xxh3 hash
// of those bytes. It is used when the file is unchanged since (no read of
// the JSON at all) or was only appended to (those bytes hash the same; the
// records after them are parsed); otherwise the JSON is parsed whole. A
// load that parsed anything rewrites the index (atomically; best effort: a
// database in a read-only folder still loads). The JSON stays the only
// truth: the index is a cache in this machine's byte order, and deleting
// it is always safe.
//
// Hours of measurements must survive an interrupted recording: every record
// is appended whole (formatted first, one write(2) under flock, the file
// opened O_APPEND), a new database is created atomically
// (ios/Support/FileOutput.h), and a write that fails half-way (a full disk)
// is truncated away. A kill during that one write can still leave a torn
// last line (no newline): loading ignores it with a warning and the next
// append cuts it off. Any other malformed line is an error naming the file
// and the line.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_DATABASEPROFILER_H
#define IOS_PROFILER_DATABASEPROFILER_H

#include "ios/Profiler/Profiler.h"

#include "ios/Scheduler/UnitSet.h"

#include <atomic>

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
  /// A recorder that measures a runtime (record=cpu) names the device: its
  /// records are keyed by it and the schedule is made for it.
  std::string targetDevice() const override {
    return recorder ? recorder->targetDevice() : "";
  }
  /// A replay only reads the table, so parts may be searched on several
  /// threads; a recording appends to the file and the table.
  bool isThreadSafe() const override { return !recorder; }
  /// Programs are recorded like stages, their "stage" being "program " and
  /// the 128-bit xxh3 of the module's text in hex. All found: replayed; a
  /// miss re-times them all with the recorder (they are compared, so timed
  /// together), or is nothing without one.
  llvm::Expected<std::optional<std::vector<double>>>
  timePrograms(int64_t batch, llvm::ArrayRef<std::string> modules) override;
  uint64_t numHits() const { return hits; }
  uint64_t numRecorded() const { return recorded; }

private:
  /// Appends one record (a complete line) to the file, creating it if
  /// needed and first cutting off a torn last line.
  llvm::Error append(llvm::StringRef line);

  /// Appends the record of `stage` (a signature, or a program's name) and
  /// puts it in the table under `key`.
  llvm::Error record(sched::UnitSet key, int64_t batch, llvm::StringRef stage,
                     double ms);

  /// Sets the latency of a key (a later record of the same stage wins).
  void insert(sched::UnitSet key, double ms) {
    *entries.insert(key, ms).first = ms;
  }

  std::string path, device;
  std::unique_ptr<Profiler> recorder;
  /// Latencies by the hash of (device, batch, stage signature).
  sched::UnitSetMap<double> entries;
  std::atomic<uint64_t> hits{0};
  uint64_t recorded = 0;
};

} // namespace ios::prof

#endif // IOS_PROFILER_DATABASEPROFILER_H
