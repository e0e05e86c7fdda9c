//===- StageExecutor.cpp - Time one stage as the program runs it ----------===//

#include "ios/Profiler/StageExecutor.h"

#include "ios/Conversion/Pipelines.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"
#include "ios/Execution/Executor.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <random>

using namespace mlir;
using namespace ios;
using namespace ios::prof;
using llvm::Expected;

namespace {

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Whether every dimension is >= 1 and the tensor (with the batch) has at
/// most kMaxElements elements.
bool isIndexable(int64_t batch, llvm::ArrayRef<int64_t> shape) {
  int64_t n = batch;
  for (int64_t d : shape) {
    if (d < 1 || d > kMaxElements || n > kMaxElements / d)
      return false;
    n *= d;
  }
  return true;
}

/// The sizes of one op's tensors; the error names the op.
llvm::Error checkTensors(const sched::OpSignature &sig, int64_t batch,
                         const std::string &where) {
  auto bad = [&](const std::string &role, llvm::ArrayRef<int64_t> shape) {
    return llvm::createStringError(
        where + ": " + role + " " + shapeString(shape) + " at batch " +
        std::to_string(batch) +
        ": every dimension must be >= 1 and the tensor at most 2147483647 "
        "elements");
  };
  if (sig.batch != batch)
    return llvm::createStringError(
        llvm::formatv("{0}: batch {1} differs from the stage's batch {2}",
                      where, sig.batch, batch));
  for (auto [k, shape] : llvm::enumerate(sig.inputShapes))
    if (!isIndexable(batch, shape))
      return bad("input " + std::to_string(k), shape);
  if (!isIndexable(batch, sig.outputShape))
    return bad("output", sig.outputShape);
  return llvm::Error::success();
}

/// The layer name of op `i` of group `g` (runtime errors and the printed
/// stage name ops by it).
std::string layerOf(size_t g, size_t i, const sched::OpSignature &sig) {
  return llvm::formatv("group {0} op {1} ({2})", g, i, sig.kind).str();
}

/// The first error diagnostic while it lives, prefixed with the layer name
/// of its location; other diagnostics are dropped.
class FirstError {
public:
  explicit FirstError(MLIRContext *ctx)
      : handler(ctx, [this](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Error &&
              message.empty())
            message = prefix(d.getLocation()) + d.str();
          return success();
        }) {}

  llvm::Error take(llvm::StringRef fallback) {
    return llvm::createStringError(message.empty() ? fallback.str()
                                                   : message);
  }

private:
  static std::string prefix(Location loc) {
    if (auto fused = dyn_cast<FusedLoc>(loc)) {
      std::string names;
      for (Location inner : fused.getLocations())
        if (auto name = dyn_cast<NameLoc>(inner))
          names += (names.empty() ? "" : "+") + name.getName().str();
      return names.empty() ? "" : names + ": ";
    }
    if (auto name = dyn_cast<NameLoc>(loc))
      return name.getName().str() + ": ";
    if (auto file = dyn_cast<FileLineColLoc>(loc)) // a program's text
      return llvm::formatv("line {0}:{1}: ", file.getLine(), file.getColumn());
    return "";
  }

  std::string message;
  ScopedDiagnosticHandler handler;
};

/// A parameter of the stage's function: its name and element count.
struct Param {
  std::string name;
  int64_t elements;
};

/// The stage as a one-stage scheduled function `@stage`.
class StageFunction {
public:
  /// `copies` >= 1: the function runs that many copies of the stage, each
  /// on its own tensors and weights, one stage after the other.
  StageFunction(MLIRContext *ctx, const StageDescription &stage,
                const StageProducers &producers, int copies = 1)
      : ctx(ctx), stage(stage), producers(producers), copies(copies), b(ctx) {}

  /// Builds the function; on failure an error was emitted.
  FailureOr<OwningOpRef<ModuleOp>> build();

  std::vector<Param> params;

private:
  Value argument(Type type, NamedAttribute attr) {
    (void)func.insertArgument(func.getNumArguments(), type,
                              DictionaryAttr::get(ctx, {attr}),
                              func.getLoc());
    return func.getArgument(func.getNumArguments() - 1);
  }
  Value input(llvm::ArrayRef<int64_t> perSample) {
    SmallVector<int64_t> shape = {stage.batch};
    llvm::append_range(shape, perSample);
    return argument(RankedTensorType::get(shape, b.getF32Type()),
                    b.getNamedAttr(IOSDialect::kInputAttrName,
                                   b.getUnitAttr()));
  }
  /// The op `sig` describes, named `layer`, on `inputs`.
  FailureOr<Operation *> op(const sched::OpSignature &sig,
                            const std::string &layer, ValueRange inputs) {
    return buildFromSignature(
        b, NameLoc::get(b.getStringAttr(layer)), sig, inputs,
        [&](llvm::StringRef role, RankedTensorType type) {
          std::string name = layer + "." + role.str();
          params.push_back({name, type.getNumElements()});
          return argument(type,
                          b.getNamedAttr(IOSDialect::kParamAttrName,
                                         b.getStringAttr(name)));
        });
  }
  /// The groups of the stage's ops; a merge stage: one op per group.
  FailureOr<SmallVector<SmallVector<Operation *>>> buildConcurrent();
  FailureOr<SmallVector<SmallVector<Operation *>>> buildMergeMembers();

  /// Layer names of copies after the first say which copy they are in.
  std::string layer(std::string name) const {
    return copy ? llvm::formatv("copy {0} {1}", copy, name).str() : name;
  }

  MLIRContext *ctx;
  const StageDescription &stage;
  const StageProducers &producers;
  int copies;
  int copy = 0; ///< the copy being built
  OpBuilder b;
  func::FuncOp func;
};

FailureOr<SmallVector<SmallVector<Operation *>>>
StageFunction::buildConcurrent() {
  SmallVector<SmallVector<Operation *>> groups;
  for (auto [g, group] : llvm::enumerate(stage.groups)) {
    SmallVector<Operation *> &ops = groups.emplace_back();
    for (auto [i, sig] : llvm::enumerate(group)) {
      SmallVector<Value> inputs;
      for (auto [k, shape] : llvm::enumerate(sig.inputShapes)) {
        int producer = producers[g][i][k];
        inputs.push_back(producer >= 0 ? ops[producer]->getResult(0)
                                       : input(shape));
      }
      FailureOr<Operation *> built = op(sig, layer(layerOf(g, i, sig)), inputs);
      if (failed(built))
        return failure();
      ops.push_back(*built);
    }
  }
  return groups;
}

FailureOr<SmallVector<SmallVector<Operation *>>>
StageFunction::buildMergeMembers() {
  // The members read one value, as the ops a schedule merges do.
  Location loc = func.getLoc();
  const sched::OpSignature &first = stage.members.front();
  for (const sched::OpSignature &m : stage.members)
    if (m.inputShapes.size() != 1 || m.inputShapes != first.inputShapes)
      return emitError(loc) << "stage: the members of a merge stage must "
                               "read one input of one shape";
  Value in = input(first.inputShapes.front());
  SmallVector<SmallVector<Operation *>> groups;
  SmallVector<Operation *> members;
  for (auto [i, sig] : llvm::enumerate(stage.members)) {
    FailureOr<Operation *> built = op(
        sig, layer(llvm::formatv("member {0} ({1})", i, sig.kind).str()), in);
    if (failed(built))
      return failure();
    members.push_back(*built);
    groups.push_back({*built});
  }
  // The scheduler only merges ops with one merge key, and the stage runs
  // what they merge into.
  auto lead = cast<SchedulableOpInterface>(members.front());
  std::optional<std::string> key = lead.getMergeKey();
  for (Operation *m : members)
    if (!key || cast<SchedulableOpInterface>(m).getMergeKey() != key)
      return emitError(loc) << "stage: the members do not merge exactly "
                               "(their merge keys differ)";
  FailureOr<sched::OpSignature> merged = lead.getMergedSignature(members);
  if (failed(merged) || !(*merged == stage.groups.front().front()))
    return emitError(loc) << "stage: the members merge into "
                          << (failed(merged) ? "nothing" : merged->str())
                          << ", not the stage's op "
                          << stage.groups.front().front().str();
  return groups;
}

FailureOr<OwningOpRef<ModuleOp>> StageFunction::build() {
  Location loc = UnknownLoc::get(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  func = func::FuncOp::create(b, loc, "stage", b.getFunctionType({}, {}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  bool merge = stage.strategy == sched::Strategy::Merge;
  SmallVector<SmallVector<SmallVector<Operation *>>> copyGroups;
  for (copy = 0; copy < copies; ++copy) {
    FailureOr<SmallVector<SmallVector<Operation *>>> groups =
        merge ? buildMergeMembers() : buildConcurrent();
    if (failed(groups))
      return failure();
    copyGroups.push_back(std::move(*groups));
  }
  // What no op of the stage reads is the stage's result (what later stages
  // of a program would read).
  SmallVector<Value> results;
  for (const auto &groups : copyGroups)
    for (const auto &ops : groups)
      for (Operation *op : ops)
        if (op->use_empty())
          results.push_back(op->getResult(0));
  func::ReturnOp::create(b, loc, results);
  func.setType(b.getFunctionType(func.getArgumentTypes(),
                                 ValueRange(results).getTypes()));

  // The stage (once per copy), built by the schedule rewrite.
  FailureOr<ScheduleGraph> graph = buildScheduleGraph(func, {});
  if (failed(graph))
    return failure();
  sched::Schedule schedule;
  for (const auto &groups : copyGroups) {
    sched::Stage one;
    one.strategy = merge ? sched::Strategy::Merge : sched::Strategy::Concurrent;
    for (const auto &ops : groups) {
      std::vector<sched::NodeId> ids;
      for (Operation *op : ops)
        ids.push_back(llvm::find(graph->ops, op) - graph->ops.begin());
      one.groups.push_back(std::move(ids));
    }
    schedule.stages.push_back(std::move(one));
  }
  if (failed(applySchedule(func, *graph, schedule, {})) ||
      failed(verify(*module)))
    return failure();
  return module;
}

/// Random weights of the parameters' sizes (the values do not change the
/// time; random rather than zero so no kernel sees a special case).
std::vector<exec::Weight> randomWeights(const std::vector<Param> &params) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<exec::Weight> weights;
  for (const Param &p : params) {
    exec::Weight &w = weights.emplace_back();
    w.name = p.name;
    w.data.resize(size_t(p.elements));
    for (float &x : w.data)
      x = uniform(rng);
  }
  return weights;
}

/// The median of timings (the upper one of an even count); `t` is sorted.
double median(std::vector<double> &t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// A stage or a whole function, lowered to the program that is timed.
struct Lowered {
  OwningOpRef<ModuleOp> module;
  func::FuncOp program;
  std::vector<Param> params;
  int64_t floats = 0; ///< the memory it needs: arena and weights
};

/// Lowers `module` (one scheduled `ios` function whose parameters are
/// `params`) by the program's lowering. The program reads and writes the
/// arena, as a stage does inside a program: its host copies in and out are
/// dropped (a stage has none in a program; for a whole function they cost
/// every candidate schedule the same).
Expected<Lowered> lowerProgram(OwningOpRef<ModuleOp> module,
                               std::vector<Param> params, FirstError &error,
                               llvm::StringRef what) {
  PassManager pm(module->getContext());
  buildLowerToIOSRTPipeline(pm);
  if (failed(pm.run(*module)))
    return error.take(what.empty() ? "cannot be lowered"
                                   : (what + ": cannot be lowered").str());
  Lowered l;
  l.module = std::move(module);
  l.program = cast<func::FuncOp>(l.module->getBody()->front());
  l.program.walk([](Operation *op) {
    if (isa<rtir::InputOp, rtir::OutputOp>(op))
      op->erase();
  });
  l.floats =
      l.program->getAttrOfType<IntegerAttr>(rtir::kArenaAttrName).getInt();
  for (const Param &p : params)
    l.floats += p.elements;
  l.params = std::move(params);
  return l;
}

} // namespace

Expected<StageProducers> ios::prof::checkStage(const StageDescription &stage) {
  if (stage.batch < 1 || stage.batch > kMaxElements)
    return llvm::createStringError(llvm::formatv(
        "stage: batch {0} must be in [1, {1}]", stage.batch, kMaxElements));
  if (stage.groups.empty() || stage.groups.size() > kMaxStageGroups)
    return llvm::createStringError(
        llvm::formatv("stage: {0} groups; 1 to {1} are supported",
                      stage.groups.size(), kMaxStageGroups));
  size_t ops = stage.members.size();
  for (const auto &group : stage.groups)
    ops += group.size();
  if (ops > kMaxStageOps)
    return llvm::createStringError(llvm::formatv(
        "stage: {0} ops; at most {1} are supported", ops, kMaxStageOps));
  if (stage.strategy == sched::Strategy::Merge &&
      (stage.groups.size() != 1 || stage.groups.front().size() != 1 ||
       stage.members.size() < 2))
    return llvm::createStringError(
        "stage: a merge stage is one group of the merged op, and two or more "
        "members");
  for (auto [i, sig] : llvm::enumerate(stage.members))
    if (llvm::Error e = checkTensors(
            sig, stage.batch,
            llvm::formatv("member {0} ({1})", i, sig.kind).str()))
      return std::move(e);
  StageProducers producers(stage.groups.size());
  for (auto [g, group] : llvm::enumerate(stage.groups)) {
    if (group.empty())
      return llvm::createStringError(
          llvm::formatv("stage: group {0} has no ops", g));
    for (auto [i, sig] : llvm::enumerate(group)) {
      if (llvm::Error e = checkTensors(sig, stage.batch, layerOf(g, i, sig)))
        return std::move(e);
      producers[g].emplace_back(sig.inputShapes.size(), -1);
    }
    if (g >= stage.edges.size())
      continue;
    for (auto [from, to] : stage.edges[g]) {
      if (from >= to || to >= group.size())
        return llvm::createStringError(llvm::formatv(
            "stage: group {0} edge [{1}, {2}] out of range", g, from, to));
      // The edge feeds the first input of the producer's shape not fed yet.
      std::vector<int> &fed = producers[g][to];
      size_t k = 0;
      while (k < fed.size() && (fed[k] >= 0 || group[to].inputShapes[k] !=
                                                   group[from].outputShape))
        ++k;
      if (k == fed.size())
        return llvm::createStringError(llvm::formatv(
            "stage: group {0} edge [{1}, {2}]: the output {3} of op {1} is "
            "no unfed input of op {2}",
            g, from, to, shapeString(group[from].outputShape)));
      fed[k] = int(from);
    }
  }
  return producers;
}

StageExecutor::StageExecutor(const TimingOptions &opts)
    : opts(opts), context(std::make_unique<MLIRContext>()) {
  context->disableMultithreading(); // no thread pool beside the runtime's
  context->loadDialect<IOSDialect, rtir::IOSRTDialect, func::FuncDialect,
                       tensor::TensorDialect, arith::ArithDialect>();
}

StageExecutor::~StageExecutor() = default;

Expected<double> StageExecutor::time(const StageDescription &stage,
                                     llvm::raw_ostream *printStage) {
  Expected<StageProducers> producers = checkStage(stage);
  if (!producers)
    return producers.takeError();

  // The stage as the program's lowering makes it, in `copies` copies; the
  // memory it needs in floats (arena and weights).
  FirstError error(context.get());
  auto lower = [&](int copies) -> Expected<Lowered> {
    StageFunction builder(context.get(), stage, *producers, copies);
    FailureOr<OwningOpRef<ModuleOp>> module = builder.build();
    if (failed(module))
      return error.take("stage: cannot be built");
    return lowerProgram(std::move(*module), std::move(builder.params), error,
                        "stage");
  };
  Expected<Lowered> one = lower(1);
  if (!one)
    return one.takeError();
  if (one->floats > opts.maxArenaFloats)
    return llvm::createStringError(llvm::formatv(
        "stage: needs {0} MiB of memory, more than the limit of {1} MiB",
        one->floats * 4 >> 20, opts.maxArenaFloats * 4 >> 20));
  if (printStage) {
    one->program.print(*printStage);
    *printStage << "\n";
    printStage->flush();
  }
  // In a program a stage's tensors and weights were last touched an
  // inference ago, with the other stages' in between: run back to back on
  // the same memory, a small stage would find everything in the cores'
  // caches and look up to twice as fast as in the program. So it is timed
  // in copies on memory of their own, one after the other, that together
  // span opts.rotateBytes.
  int64_t bytes = std::max<int64_t>(one->floats * 4, 1);
  int copies = int(std::clamp<int64_t>((opts.rotateBytes + bytes - 1) / bytes,
                                       1, kMaxStageCopies));
  while (copies > 1 && bytes * copies > opts.maxArenaFloats * 4)
    --copies;
  if (printStage) {
    *printStage << "// timed in " << copies << " cop"
                << (copies == 1 ? "y" : "ies") << " of "
                << llvm::format("%.1f", double(bytes) / (1 << 20)) << " MiB\n";
    printStage->flush();
  }
  Expected<Lowered> timed = copies == 1 ? std::move(one) : lower(copies);
  if (!timed)
    return timed.takeError();

  // Loaded as a program's create(): every kernel prepared (the runtime
  // checks each against its views, the CUDA backend chooses algorithms).
  Expected<std::unique_ptr<exec::LoadedProgram>> loaded =
      exec::LoadedProgram::load(timed->program, randomWeights(timed->params));
  if (!loaded)
    return loaded.takeError();

  // Runs the copies `times` times back to back in one inference: in a
  // program stages follow each other without the host waking the streams
  // in between, so short stages are timed that way too.
  auto run = [&](int times) {
    (*loaded)->upload(nullptr);
    for (int t = 0; t < times; ++t)
      (*loaded)->runPhase();
    return (*loaded)->finishRun(nullptr);
  };
  std::vector<double> times;
  int batch = 1; // runs per timed inference: enough for ~2 ms, at most 16
  for (int i = 0; i < opts.warmup + opts.repeats; ++i) {
    int n = i < opts.warmup ? 1 : batch;
    auto t0 = std::chrono::steady_clock::now();
    if (llvm::Error e = run(n))
      return std::move(e);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - t0)
                    .count() /
                (n * copies);
    if (i >= opts.warmup)
      times.push_back(ms);
    else
      batch = std::clamp(int(2.0 / std::max(ms * copies, 1e-3)), 1, 16);
  }
  return median(times);
}

Expected<std::vector<double>>
StageExecutor::timePrograms(llvm::ArrayRef<std::string> modules,
                            llvm::raw_ostream *print) {
  if (modules.empty() || modules.size() > kMaxPrograms)
    return llvm::createStringError(
        llvm::formatv("programs: {0} given; 1 to {1} are supported",
                      modules.size(), kMaxPrograms));
  std::vector<Lowered> lowered;
  int64_t floats = 0;
  for (auto [i, text] : llvm::enumerate(modules)) {
    std::string what = llvm::formatv("program {0}", i);
    FirstError error(context.get());
    auto fail = [&](llvm::StringRef why) {
      return llvm::createStringError(what + ": " + why);
    };
    ParserConfig config(context.get());
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(text, config, what);
    if (!module)
      return fail(llvm::toString(error.take("cannot be parsed")));
    auto funcs = llvm::to_vector(module->getOps<func::FuncOp>());
    if (funcs.size() != 1 || funcs.front().isExternal() ||
        !llvm::hasSingleElement(module->getBody()->getOperations()))
      return fail("expected a module holding one function with a body");
    func::FuncOp func = funcs.front();
    // Its parameters get random weights; anything else it takes is an
    // input (the lowering checks that).
    std::vector<Param> params;
    for (unsigned a = 0; a < func.getNumArguments(); ++a) {
      auto name =
          func.getArgAttrOfType<StringAttr>(a, IOSDialect::kParamAttrName);
      if (!name)
        continue;
      auto type = dyn_cast<RankedTensorType>(func.getArgument(a).getType());
      if (!type || !type.hasStaticShape() || type.getNumElements() < 0 ||
          type.getNumElements() > kMaxElements)
        return fail(llvm::formatv("parameter '{0}' is not a static tensor "
                                  "of at most {1} elements",
                                  name.getValue(), kMaxElements)
                        .str());
      params.push_back({name.getValue().str(), type.getNumElements()});
    }
    Expected<Lowered> l =
        lowerProgram(std::move(module), std::move(params), error, "");
    if (!l)
      return fail(llvm::toString(l.takeError()));
    floats += l->floats;
    if (floats > opts.maxArenaFloats)
      return llvm::createStringError(llvm::formatv(
          "programs: need {0} MiB of memory together, more than the limit "
          "of {1} MiB",
          floats * 4 >> 20, opts.maxArenaFloats * 4 >> 20));
    if (print) {
      l->program.print(*print);
      *print << "\n";
      print->flush();
    }
    lowered.push_back(std::move(*l));
  }
  std::vector<std::unique_ptr<exec::LoadedProgram>> loaded;
  for (Lowered &l : lowered) {
    Expected<std::unique_ptr<exec::LoadedProgram>> p =
        exec::LoadedProgram::load(l.program, randomWeights(l.params));
    if (!p)
      return p.takeError();
    loaded.push_back(std::move(*p));
  }
  std::vector<std::vector<double>> times(loaded.size());
  for (int round = 0; round < opts.warmup + opts.programRepeats; ++round)
    for (auto [i, p] : llvm::enumerate(loaded)) {
      auto t0 = std::chrono::steady_clock::now();
      p->upload(nullptr);
      p->runPhase();
      if (llvm::Error e = p->finishRun(nullptr))
        return std::move(e);
      if (round >= opts.warmup)
        times[i].push_back(std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - t0)
                               .count());
    }
  std::vector<double> medians;
  for (std::vector<double> &t : times)
    medians.push_back(median(t));
  return medians;
}
