//===- Passes.td - IOS dialect passes ----------------------*- tablegen -*-===//

#ifndef IOS_DIALECT_IOS_TRANSFORMS_PASSES_TD
#define IOS_DIALECT_IOS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def IOSSchedule : Pass<"ios-schedule"> {
  let summary = "Schedule graph-level ios ops into concurrent and merged stages";
  let description = [{
    Runs IOS's dynamic program (the scheduler core) over a function of
    graph-level ops and rewrites it into `ios.stage` / `ios.group` regions the
    dialect's verifier accepts. It runs on a function-like op
    (`FunctionOpInterface`), so it nests in a pipeline
    (`--pass-pipeline='builtin.module(func.func(ios-schedule))'`), or on any
    other op, scheduling every function nested in it (`ios-opt
    --ios-schedule=...` on a module). Functions share the profiler and its
    stage-cost cache (identical stages in two functions cost one profiler
    call); they are searched one at a time.

    Each op's signature (kind, attributes, per-sample shapes, batch, the
    kernels it launches) and merge key come from its
    `SchedulableOpInterface`; ops sharing an `ios.unit` form one unit,
    `ios.part` gives part hints; blocks (single-entry single-exit regions) are
    found automatically, or are the hinted parts when every op has one. An op
    that does not implement the interface is scheduled as a single-op unit;
    its cost comes from the profiler (the `analytic` model has no cost model
    for it: a warning, an error with `strict`). Stage latencies come from the
    `profiler`:

    * `analytic` (default): a model of a GPU (`device=v100|a100|h100|FILE`)
      running kernels from several streams at once;
    * `table:FILE`: costs per op name (`loc("name")`) and per stage, from JSON;
    * `exec:COMMAND`: an external process speaking JSON lines;
      `exec-parallel:COMMAND` the same for a server whose answers do not
      depend on this machine's load (a model, a harness on another
      machine): parts are searched on several threads while it answers;
    * `db:FILE`: a database of measured stages; with `record=PROFILER`
      misses are measured by that profiler and appended;
    * `cpu` / `cuda`: stages measured on the IOS runtime's CPU / CUDA backend
      (warm-up, repeats, median) by `ios-stage-server-cpu|cuda`.

    Merge stages merge only what the ops' interface says merges exactly, and
    the search is offered nothing else: for convolutions, the same input,
    stride and activation, undilated, `groups = 1`, and kernels whose windows
    share a centre (kernel - 2 x padding equal), so the smaller kernels are
    zero-padded to the largest (`tensor.pad`), concatenated (`tensor.concat`)
    and computed by one `ios.conv2d`; `ios.slice` ops hand every original
    consumer its channels. Every stage is checked before the function is
    rewritten: a failure leaves it unchanged.

    Every stage carries its estimated `latency_ms`; the function carries an
    `#ios.schedule` attribute with the configuration, the schedule's total and
    the sequential total. Every scheduled op gets its layer name as
    `ios.name` (its location's name, else `kind_index`), so names reach the
    report, the program and its errors without `--mlir-print-debuginfo`;
    `-mlir-pass-statistics` prints the search totals.

    A profiler that measures the runtime (`cpu`, `cuda`, a `db:` recording
    or replaying them) also times whole programs: with `compare=sequential`
    (the default) the function is run as a program with the searched
    schedule and with the sequential one, interleaved, and the searched one
    is kept only if it is faster by the margin (`sequential:PERCENT`,
    default 3%: this much is noise on the machines measured), else the
    sequential one (a remark says so). Stages measured
    alone do not see what happens between them in a program (hand-offs,
    data produced on another core), so this makes "never slower than
    sequential" a measured property, not an estimate.

    `report=FILE` writes JSON (rewritten atomically after each function):

    ```
    {"functions": {"NAME": {
       "strategy", "enumeration", "profiler", "device", "batch",
       "ops", "units": counts,
       "latency_ms", "sequential_ms": the schedule's and the sequential
         schedule's estimates (full precision),
       "optimal": false when a budget cut a part, "prune": bound | none,
       "programs": null, or {"searched_ms", "sequential_ms": both
         schedules timed as programs, "margin_percent",
         "kept": "searched" | "sequential"},
       "stages": [{"index", "strategy": "concurrent" | "merge",
                   "latency_ms", "groups": [[layer names in launch order]]} ],
       "stats": per block and part: states, transitions, profiler calls,
         cache hits, search time, fallbacks, optimum,
       "schedule": the same stages as graph node ids}},
     "profiler_calls", "cache_hits": totals over all functions}
    ```
    `progress` prints a line per solved part on stderr (as does
    `-debug-only=ios-schedule`, with more detail).
  }];
  let options = [
    Option<"strategy", "strategy", "::ios::ScheduleStrategy",
           /*default=*/"::ios::ScheduleStrategy::both",
           "Stages the search may use, or a baseline",
           [{::llvm::cl::values(
             clEnumValN(::ios::ScheduleStrategy::both, "both",
                        "IOS-Both: concurrent and merge stages"),
             clEnumValN(::ios::ScheduleStrategy::concurrent, "concurrent",
                        "IOS-Parallel: concurrent stages only"),
             clEnumValN(::ios::ScheduleStrategy::merge, "merge",
                        "IOS-Merge: merge stages only"),
             clEnumValN(::ios::ScheduleStrategy::sequential, "sequential",
                        "baseline: one unit per stage"),
             clEnumValN(::ios::ScheduleStrategy::greedy, "greedy",
                        "baseline: IOS's greedy wavefront"))}]>,
    Option<"maxGroupSize", "max-group-size", "unsigned", /*default=*/"3",
           "r: at most this many units per group of a concurrent stage">,
    Option<"maxGroups", "max-groups", "unsigned", /*default=*/"8",
           "s: at most this many groups per concurrent stage (also the greedy cap)">,
    Option<"maxPartSize", "max-part-size", "unsigned", /*default=*/"100",
           "units per part when the IR gives no ios.part hints (1 to 128)">,
    Option<"enumeration", "enumeration", "::ios::Enumeration",
           /*default=*/"::ios::Enumeration::ios",
           "Which concurrent endings the search enumerates",
           [{::llvm::cl::values(
             clEnumValN(::ios::Enumeration::ios, "ios",
                        "IOS's: an op plus all its remaining descendants per group"),
             clEnumValN(::ios::Enumeration::full, "full",
                        "any legal ending (a superset of ios)"))}]>,
    Option<"units", "units", "::ios::UnitMode",
           /*default=*/"::ios::UnitMode::op",
           "What the search's atoms are: op (every op or ios.unit) | chain (also fuse maximal single-input/single-user chains)",
           [{::llvm::cl::values(
             clEnumValN(::ios::UnitMode::op, "op",
                        "every op (or ios.unit) is a unit"),
             clEnumValN(::ios::UnitMode::chain, "chain",
                        "also fuse maximal single-input/single-user chains"))}]>,
    Option<"profiler", "profiler", "std::string", /*default=*/"\"analytic\"",
           "analytic | table:FILE | exec:COMMAND | exec-parallel:COMMAND | db:FILE | cpu | cuda">,
    Option<"device", "device", "std::string", /*default=*/"\"v100\"",
           "GPU for the analytic profiler and the database key: v100 | a100 | h100 | FILE.json">,
    Option<"record", "record", "std::string", /*default=*/"\"\"",
           "with profiler=db:FILE, the profiler that measures (and appends) misses">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "write the search statistics and the schedule as JSON to this file">,
    // A string, not an enum option: the values' help lines would take
    // --help over its length limit (test/Tools/help.test).
    Option<"prune", "prune", "std::string", /*default=*/"\"bound\"",
           "bound: skip stages a lower bound proves useless (exact under docs/Scheduler.md's assumptions) | none: cost every stage, as IOS does">,
    Option<"compare", "compare", "std::string", /*default=*/"\"sequential\"",
           "sequential[:PERCENT]: with a profiler that times programs (cpu, cuda), run the schedule and the sequential one; keep the schedule if faster by PERCENT (default 3) | none">,
    Option<"stateBudget", "state-budget", "uint64_t", /*default=*/"2000000",
           "max DP states per part: a larger part is split at its narrowest cuts, and the search stops there (0: unlimited)">,
    Option<"transitionBudget", "transition-budget", "uint64_t",
           /*default=*/"200000000",
           "max endings enumerated per part before the search stops (0: unlimited)">,
    Option<"memoryBudget", "memory-budget", "uint64_t", /*default=*/"512",
           "max MiB of search tables per part before the search stops (0: unlimited)">,
    Option<"timeBudget", "time-budget", "double", /*default=*/"0",
           "max seconds of search per part before it stops (0: unlimited)">,
    Option<"execTimeout", "exec-timeout", "double", /*default=*/"120",
           "seconds to wait for one answer of an exec: profiler (inf: no timeout)">,
    Option<"strict", "strict", "bool", /*default=*/"false",
           "ops the profiler has no cost model for are an error, not a warning">,
    Option<"progress", "progress", "bool", /*default=*/"false",
           "print a line per solved part on stderr">
  ];
  let statistics = [
    Statistic<"numFunctions", "functions", "Functions scheduled">,
    Statistic<"numParts", "parts", "Parts searched">,
    Statistic<"numStates", "states", "DP states (down-closed unit sets)">,
    Statistic<"numTransitions", "transitions", "Endings evaluated">,
    Statistic<"numDistinctStages", "distinct-stages",
              "Distinct stages costed (IOS's measurements)">,
    Statistic<"numProfilerCalls", "profiler-calls",
              "Stages the profiler was asked for">,
    Statistic<"numCacheHits", "cache-hits",
              "Stages answered by the shared stage-cost cache">,
    Statistic<"numStages", "stages", "Stages in the schedules">,
    Statistic<"numFallbacks", "fallbacks",
              "Parts cut by a budget (not optimal)">,
    Statistic<"numPruned", "pruned",
              "Endings skipped by bound pruning">,
    Statistic<"numReusedParts", "reused-parts",
              "Parts given the schedule of an identical part">,
    Statistic<"numSequentialKept", "sequential-kept",
              "Functions whose sequential schedule ran faster as a program">
  ];
  let dependentDialects = [
    "::ios::IOSDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect"
  ];
}

#endif // IOS_DIALECT_IOS_TRANSFORMS_PASSES_TD
