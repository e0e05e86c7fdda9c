//===- ExecProfiler.h - Stage costs from an external process ----*- C++ -*-===//
//
// Runs COMMAND (through /bin/sh) once and talks JSON lines with it: one
// request per distinct stage on its stdin, one reply per request on its
// stdout. docs/ExecProtocol.md specifies the protocol;
// python/ios/cost_server.py is an example server.
//
//   request: {"id": 7, "device": "v100", "stage": {"strategy": "concurrent",
//             "batch": 1, "groups": [[{op}, ...], ...], "edges": [...]}}
//   reply:   {"id": 7, "latency_ms": 0.161}   or   {"id": 7, "error": "..."}
//
// A server that says so in its first reply ({"id": 0, "latency_ms": ...,
// "max_batch": N}) also takes requests of up to N stages at once:
//
//   request: {"id": 8, "device": "v100", "stages": [{stage}, ...]}
//   reply:   {"id": 8, "latencies_ms": [0.161, ...]}   or   {"id": 8, "error": "..."}
//
// and the scheduler hands it several stages per round trip (at most the
// `window` given to start). Servers that do not say so get one stage per
// request. A server whose first reply also says "op_refs": true gets each
// distinct op once per session: a request lists the ops it uses for the
// first time in "ops" (they take the next indices of the session's table)
// and its stages name ops by index, which cuts what the server parses by
// an order of magnitude. One whose first reply says "programs": true (and
// the stage servers, always) also times whole scheduled functions:
//
//   request: {"id": 9, "device": "cpu", "programs": ["module {...}", ...]}
//   reply:   {"id": 9, "latencies_ms": [312.4, 305.9]}
//
// A server that exits, answers with anything else, or stays silent longer
// than the timeout (per stage of the request) makes the search fail with a
// message naming it.
//
// The server runs in a process group of its own, and the whole group is
// ended when the profiler is destroyed (the search ended, for any reason) or
// fails: its stdin is closed, then SIGTERM, then SIGKILL after a short grace.
// So no server (nor anything it started) outlives ios-opt or keeps a
// pipeline reading ios-opt's output open.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_EXECPROFILER_H
#define IOS_PROFILER_EXECPROFILER_H

#include "ios/Profiler/Profiler.h"

#include <atomic>
#include <mutex>

namespace ios::prof {

class ExecProfiler final : public Profiler {
public:
  /// `name` is what describe() reports (default "exec:COMMAND");
  /// `target`, what targetDevice() does (a stage server's runtime).
  /// `timeoutSeconds` must be > 0; infinity (or anything from
  /// kNoTimeoutSeconds on) waits forever. `window`: at most this many
  /// stages per request to a server that takes batches (1: never batch).
  /// `programs`: the server is known to time programs (a stage server), so
  /// it may be asked before its first reply. `parallel`: its answers do not
  /// depend on this machine's load (a model, a harness elsewhere), so the
  /// search may go on in other threads while it answers (isThreadSafe;
  /// requests still go one at a time).
  static llvm::Expected<std::unique_ptr<Profiler>>
  start(llvm::StringRef command, double timeoutSeconds,
        llvm::StringRef device = "v100", llvm::StringRef name = "",
        llvm::StringRef target = "", unsigned window = 1, bool programs = false,
        bool parallel = false);
  /// Timeouts from this many seconds (about 31 years) on mean "no timeout":
  /// a deadline that far cannot be represented on the steady clock.
  static constexpr double kNoTimeoutSeconds = 1e9;
  ~ExecProfiler() override;

  llvm::Expected<double> measure(const sched::Graph &g,
                                 const sched::Stage &stage) override;
  /// 1 until the first reply (which says whether the server takes
  /// batches), so a server of the one-stage protocol sees exactly the
  /// requests of a search without batches; then the window, at most the
  /// server's max_batch.
  unsigned batchSize() const override;
  llvm::Error measureBatch(const sched::Graph &g,
                           llvm::ArrayRef<sched::Stage> stages,
                           std::vector<double> &out) override;
  /// Requests sent (batches count once).
  uint64_t numRequests() const { return nextId; }
  std::string describe() const override {
    return name.empty() ? "exec:" + command : name;
  }
  std::string targetDevice() const override { return target; }
  bool isThreadSafe() const override { return parallel; }
  /// Nothing unless the server times programs: it was started knowing so
  /// (the stage servers) or its first reply said "programs": true.
  llvm::Expected<std::optional<std::vector<double>>>
  timePrograms(int64_t batch, llvm::ArrayRef<std::string> modules) override;

private:
  ExecProfiler() = default;
  /// measure, with `mutex` held.
  llvm::Expected<double> measureLocked(const sched::Graph &g,
                                       const sched::Stage &stage);
  llvm::Error fail(const llvm::Twine &why);
  /// The server is gone: reap it and say how it ended.
  llvm::Error exited();
  /// Reads one line from the server, or fails (exit, timeout after
  /// `stages` times the timeout; `what` names them).
  llvm::Expected<std::string> readLine(size_t stages, llvm::StringRef what);
  /// Sends a request for `stages` (one: the single-stage form) and checks
  /// the reply's form, id and error; returns it and its text.
  llvm::Expected<std::pair<llvm::json::Object, std::string>>
  roundTrip(const sched::Graph &g, llvm::ArrayRef<sched::Stage> stages);
  /// Starts the next request in `line`: its device and id; the caller
  /// appends the rest of the object.
  std::string &beginRequest();
  /// Sends the request in `line` (for `items` stages or programs, as `what`
  /// says) and checks the reply's form, id and error; returns it and its
  /// text. The first reply says what the server takes.
  llvm::Expected<std::pair<llvm::json::Object, std::string>>
  exchange(size_t items, llvm::StringRef what);
  /// Ends the server's process group: closes its pipes, gives a `graceful`
  /// server a moment to exit on EOF, then SIGTERM, then SIGKILL; reaps it.
  void stop(bool graceful);

  std::string command, device, name, target;
  double timeoutSeconds = 120;
  int pid = -1, toChild = -1, fromChild = -1;
  int group = -1; ///< the server's process group (its leader's pid)
  std::string pending; ///< bytes read past the last newline
  std::string line;    ///< the request being written (its buffer reused)
  /// JSON text of the ops sent, by signature text, and the session's op
  /// table once the server takes references (writeStageJSON).
  OpTexts texts;
  std::string stagesText; ///< a request's stages, before its new ops
  uint64_t nextId = 0;
  bool dead = false;
  unsigned window = 1;
  /// The server's max_batch from its first reply (0: no reply yet; 1: one
  /// stage per request).
  std::atomic<unsigned> serverBatch{0};
  /// The server times whole programs ({"programs": [...]}).
  bool programs = false;
  bool parallel = false;
  /// One request at a time, whichever thread asks (with `parallel`).
  mutable std::mutex mutex;
};

} // namespace ios::prof

#endif // IOS_PROFILER_EXECPROFILER_H
