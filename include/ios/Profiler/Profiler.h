//===- Profiler.h - Stage latency profilers ---------------------*- C++ -*-===//
//
// A profiler answers "how long does this stage take?" for the scheduler. All
// profilers see the same self-contained description of a stage (op
// signatures, groups, strategy, batch) so a stage can be costed by a model,
// read from a database, sent to another process, or measured.
//
// Profilers may fail (a dead cost server, a missing table entry): `measure`
// returns an Expected. ProfilerCost adapts a Profiler to the scheduler's
// StageCost, keeping the first error so the caller can report it instead of
// a generic "bad cost".
//
//===----------------------------------------------------------------------===//

#ifndef IOS_PROFILER_PROFILER_H
#define IOS_PROFILER_PROFILER_H

#include "ios/Scheduler/StageCost.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ios::prof {

class Profiler {
public:
  virtual ~Profiler();
  /// Latency of `stage` in milliseconds.
  virtual llvm::Expected<double> measure(const sched::Graph &g,
                                         const sched::Stage &stage) = 0;
  /// How many stages measureBatch answers best at once (an exec: server
  /// that takes batches: one round trip for many); 1 = one at a time.
  virtual unsigned batchSize() const { return 1; }
  /// Appends the latencies of `stages` to `out`, in order. On an error,
  /// `out` holds those of the stages before the one that failed. The
  /// default measures them one by one.
  virtual llvm::Error measureBatch(const sched::Graph &g,
                                   llvm::ArrayRef<sched::Stage> stages,
                                   std::vector<double> &out);
  /// A short description, recorded in the scheduled IR ("analytic:v100").
  virtual std::string describe() const = 0;
  /// Whether equal canonical stage signatures always cost the same. False
  /// for profilers that key on op names (table:), so the scheduler must not
  /// share their costs between different ops.
  virtual bool isSignatureDeterministic() const { return true; }
  /// Whether stage costs are computed from the work ops declare in their
  /// signatures (a model), so ops that declare none cannot be costed
  /// faithfully.
  virtual bool usesDeclaredWork() const { return false; }
  /// The device the costs describe, recorded in the schedule (and checked
  /// by the lowering's `device=`): empty when that is the `device` option
  /// (models, tables, databases, exec: servers); "cpu" for the CPU runtime.
  virtual std::string targetDevice() const { return ""; }
  /// Per-node lower bound terms its latencies obey (sched::LowerBoundTerms;
  /// docs/Scheduler.md, "Bound pruning"), or none: only a model can promise
  /// them (measurements are noisy).
  virtual std::optional<sched::LowerBoundTerms>
  lowerBoundTerms(const sched::Graph &g) const {
    return std::nullopt;
  }
  /// Whether measure may run on several threads at once (a pure model; a
  /// process, a device or a file are used one stage at a time).
  virtual bool isThreadSafe() const { return false; }
  /// Latencies in ms of whole programs at batch `batch`, each `modules[i]`
  /// the text of a module holding one scheduled `ios` function, timed as
  /// the runtime runs them (ios-schedule's `compare=sequential`); or
  /// nothing when this profiler cannot time programs: a model, an exec:
  /// server that did not announce it, a db: replay without those records.
  virtual llvm::Expected<std::optional<std::vector<double>>>
  timePrograms(int64_t batch, llvm::ArrayRef<std::string> modules) {
    return std::nullopt;
  }
};

/// The options the profiler factory understands (ios-schedule's `profiler`,
/// `device` and `record` options).
struct ProfilerOptions {
  /// analytic | table:FILE | exec:COMMAND | exec-parallel:COMMAND |
  /// db:FILE | cpu[:ARGS] |
  /// cuda[:ARGS] (measured by ios-stage-server-cpu/-cuda; ARGS go to it,
  /// e.g. "cpu:--repeats=9")
  std::string spec = "analytic";
  /// Device name (v100, a100, h100) or a JSON device file, for analytic and
  /// as the database key.
  std::string device = "v100";
  /// For db:FILE: the profiler that answers misses (e.g. "analytic" or
  /// "exec:..."); empty = a miss is an error.
  std::string record;
  /// For exec:COMMAND: seconds to wait for one reply (per stage it costs).
  double execTimeoutSeconds = 120;
  /// For exec:COMMAND: at most this many stages per request to a server
  /// that takes batches (docs/ExecProtocol.md; the server's max_batch
  /// bounds it too); 1 = one at a time.
  unsigned execBatch = 256;
};

/// Creates the profiler `opts.spec` names ("KIND" or "KIND:ARG", KIND a
/// registered profiler), or an error saying what is wrong.
llvm::Expected<std::unique_ptr<Profiler>>
createProfiler(const ProfilerOptions &opts);

/// Makes a profiler from the ARG of "KIND:ARG" and the options.
using ProfilerFactory =
    std::function<llvm::Expected<std::unique_ptr<Profiler>>(
        llvm::StringRef arg, const ProfilerOptions &opts)>;

/// Registers (or replaces) the profiler kind `name`. The built-ins are
/// analytic, table, exec, db, cpu and cuda.
void registerProfiler(llvm::StringRef name, llvm::StringRef help,
                      ProfilerFactory factory);

/// (name, help) of every registered profiler kind, in registration order.
std::vector<std::pair<std::string, std::string>> registeredProfilers();

/// The largest stage latency a profiler may report, in ms (about 11.6
/// days): far above any real stage, far below where sums of latencies lose
/// their precision or overflow to infinity.
inline constexpr double kMaxLatencyMs = 1e9;
/// Whether a profiler's latency is usable: finite, >= 0 and at most
/// kMaxLatencyMs.
inline bool isValidLatency(double ms) {
  return ms >= 0 && ms <= kMaxLatencyMs; // false for NaN and infinities
}

/// The StageCost the scheduler calls. On a profiler error, or a latency that
/// is not isValidLatency, it stores the error (naming the profiler and the
/// stage) and returns NaN, which makes the scheduler stop; takeError() then
/// gives the real cause.
class ProfilerCost final : public sched::StageCost {
public:
  explicit ProfilerCost(Profiler &profiler) : profiler(profiler) {}
  double getCost(const sched::Graph &g, const sched::Stage &stage) override;
  std::optional<sched::LowerBoundTerms>
  lowerBoundTerms(const sched::Graph &g) override {
    return profiler.lowerBoundTerms(g);
  }
  bool isThreadSafe() const override { return profiler.isThreadSafe(); }
  unsigned batchSize() const override { return profiler.batchSize(); }
  void getCosts(const sched::Graph &g, llvm::ArrayRef<sched::Stage> stages,
                llvm::MutableArrayRef<double> out) override;
  /// The first profiler error, if any.
  llvm::Error takeError();
  uint64_t numCalls() const { return calls; }

private:
  /// The latency to give the scheduler: `ms`, or NaN after storing why not.
  double accept(const sched::Graph &g, const sched::Stage &stage, double ms);
  void keepError(std::string message) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (firstError.empty())
      firstError = std::move(message);
  }

  Profiler &profiler;
  std::mutex errorMutex; ///< getCost may run on several threads
  std::string firstError;
  std::atomic<uint64_t> calls{0};
};

//===----------------------------------------------------------------------===//
// Stage descriptions
//===----------------------------------------------------------------------===//

/// The single op a merge stage runs (the graph's merge function). Fails if
/// the stage is not a merge of >= 2 single-op groups.
llvm::Expected<sched::OpSignature> mergedSignature(const sched::Graph &g,
                                                   const sched::Stage &s);

/// What a stage runs, as groups of op signatures in execution order (a merge
/// stage: one group holding the merged conv). This is what a profiler costs.
struct StageDescription {
  sched::Strategy strategy = sched::Strategy::Concurrent;
  std::vector<std::vector<sched::OpSignature>> groups;
  /// Producer -> consumer edges inside each group, as (from, to) positions.
  std::vector<std::vector<std::pair<unsigned, unsigned>>> edges;
  /// A merge stage: the ops it merges (the stage server builds the merged
  /// op from them, as the schedule rewrite does). Empty otherwise.
  std::vector<sched::OpSignature> members;
  int64_t batch = 1;
};
llvm::Expected<StageDescription> describeStage(const sched::Graph &g,
                                               const sched::Stage &stage);

/// JSON form of a signature / stage (the exec protocol's request body and
/// the database's record), and back.
llvm::json::Value toJSON(const sched::OpSignature &sig);
llvm::json::Value toJSON(const StageDescription &stage);
bool fromJSON(const llvm::json::Value &v, sched::OpSignature &sig,
              llvm::json::Path path);
/// The ops writeStageJSON has written, by signature text: each op's JSON
/// text is made once (ops recur in many stages). With `refs` (an exec:
/// session whose server takes op references, docs/ExecProtocol.md) an op is
/// written as its index in the session's op table instead, numbered in the
/// order ops are first written, and the text of each op new to the session
/// is appended to `fresh` (the request's "ops", comma-separated) once.
struct OpTexts {
  struct Op {
    std::string text;
    int64_t index = -1; ///< in the session's table; -1: not sent yet
  };
  llvm::StringMap<Op> ops;
  bool refs = false;
  int64_t sent = 0;  ///< ops in the session's table
  std::string fresh; ///< cleared by the caller per request
};
/// Writes the JSON text of toJSON(describeStage(g, stage)) without building
/// it (the exec: profiler's requests); with `texts.refs`, concurrent stages'
/// ops as references (a merge stage's merged op and members stay objects).
llvm::Error writeStageJSON(llvm::raw_ostream &os, const sched::Graph &g,
                           const sched::Stage &stage, OpTexts &texts);
/// Parses the exec protocol's stage object (toJSON(StageDescription)); the
/// error says what is malformed.
llvm::Expected<StageDescription> stageFromJSON(const llvm::json::Value &v);

} // namespace ios::prof

#endif // IOS_PROFILER_PROFILER_H
