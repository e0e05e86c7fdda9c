//===- Passes.td - IOS passes ------------------------------*- tablegen -*-===//

#ifndef IOS_TRANSFORMS_PASSES_TD
#define IOS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def IOSSchedule : Pass<"ios-schedule", "::mlir::ModuleOp"> {
  let summary = "Schedule graph-level ios ops into concurrent and merged stages";
  let description = [{
    Runs IOS's dynamic program (the scheduler core) over every function of
    graph-level `ios` ops and rewrites the function into `ios.stage` /
    `ios.group` regions the dialect's verifier accepts.

    The function's ops become the scheduler's nodes (op signatures: kind,
    attributes, per-sample shapes, batch); ops sharing an `ios.unit` form one
    unit, `ios.part` gives part hints; blocks (single-entry single-exit
    regions) are found automatically, or are the hinted parts when every op
    has one. Long searches print a progress line per part on stderr. Any
    other op (not an `ios` graph op, not a constant) is scheduled as a
    single-op unit and costed by the profiler. Stage latencies come from the
    `profiler`:

    * `analytic` (default): a model of a GPU (`device=v100|a100|h100|FILE`)
      running kernels from several streams at once;
    * `table:FILE`: costs per op name (`loc("name")`) and per stage, from JSON;
    * `exec:COMMAND`: an external process speaking JSON lines;
    * `db:FILE`: a database of measured stages; with `record=PROFILER`
      misses are measured by that profiler and appended;
    * `cpu` / `cuda`: stages measured on the IOS runtime's CPU / CUDA backend
      (warm-up, repeats, median) by `ios-stage-server-cpu|cuda`.

    Merge stages really merge: the convolutions' weights are zero-padded to
    the largest kernel (`tensor.pad`) and concatenated (`tensor.concat`)
    before the stage, one `ios.conv2d` computes them all, and `ios.slice`
    ops hand every original consumer its channels.

    Every stage carries its estimated `latency_ms`; the function carries an
    `#ios.schedule` attribute with the configuration, the schedule's total and
    the sequential total. `report=FILE` writes the search statistics (per
    block and part: states, transitions, profiler calls, cache hits, search
    time, optimum) as JSON.
  }];
  let options = [
    Option<"strategy", "strategy", "std::string", /*default=*/"\"both\"",
           "both | concurrent | merge (IOS's DP variants) | sequential | greedy (baselines)">,
    Option<"maxGroupSize", "max-group-size", "unsigned", /*default=*/"3",
           "r: at most this many units per group of a concurrent stage">,
    Option<"maxGroups", "max-groups", "unsigned", /*default=*/"8",
           "s: at most this many groups per concurrent stage (also the greedy cap)">,
    Option<"maxPartSize", "max-part-size", "unsigned", /*default=*/"100",
           "units per part when the IR gives no ios.part hints (at most 128)">,
    Option<"enumeration", "enumeration", "std::string", /*default=*/"\"ios\"",
           "ios: IOS's endings (an op plus all its remaining descendants per group); full: any legal ending">,
    Option<"units", "units", "std::string", /*default=*/"\"op\"",
           "op: every op (or ios.unit) is a unit; chain: also fuse maximal single-input/single-user chains">,
    Option<"profiler", "profiler", "std::string", /*default=*/"\"analytic\"",
           "analytic | table:FILE | exec:COMMAND | db:FILE | cpu | cuda">,
    Option<"device", "device", "std::string", /*default=*/"\"v100\"",
           "GPU for the analytic profiler and the database key: v100 | a100 | h100 | FILE.json">,
    Option<"record", "record", "std::string", /*default=*/"\"\"",
           "with profiler=db:FILE, the profiler that measures (and appends) misses">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "write the search statistics and the schedule as JSON to this file">,
    Option<"stateBudget", "state-budget", "uint64_t", /*default=*/"2000000",
           "max DP states per part before falling back to splitting it (0: unlimited)">,
    Option<"execTimeout", "exec-timeout", "double", /*default=*/"120",
           "seconds to wait for one answer of an exec: profiler">
  ];
  let dependentDialects = [
    "::mlir::ios::IOSDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect"
  ];
}

#endif // IOS_TRANSFORMS_PASSES_TD
