//===- TranslateToTimeline.cpp - Simulated timelines as JSON --------------===//
//
// Each stage's ops become the kernels the analytic model costs (kernelsFor
// of their signatures, as the profiler sees them), traceStage simulates the
// stage, and an op's bar spans its first kernel's start to its last kernel's
// end. Stages follow each other (the runtime joins after every stage), so a
// stage starts where the previous one's simulated latency ends. Ops that
// launch no kernel (views such as a batch-1 channel slice) get an empty bar
// where their group's previous op ended.
//
//===----------------------------------------------------------------------===//

#include "ios/Target/Timeline.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/ScheduleGraph.h"
#include "ios/Profiler/AnalyticProfiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace ios;

namespace {

/// One op of a group: its kernels and where they sit in the group's list.
struct TimedOp {
  Operation *op;
  std::string name, kind;
  size_t firstKernel, numKernels;
};

/// Prints one function's timeline as a JSON object (fields in a fixed,
/// readable order: docs/Timeline.md).
class TimelinePrinter {
public:
  TimelinePrinter(llvm::json::OStream &j, func::FuncOp func,
                  const prof::DeviceSpec &device)
      : j(j), func(func), device(device) {}

  void print() {
    j.objectBegin();
    j.attribute("name", func.getSymName());
    j.attribute("device", device.name);
    if (auto attr =
            func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName))
      j.attributeObject("schedule", [&] {
        j.attribute("device", attr.getDevice());
        j.attribute("profiler", attr.getProfiler());
        j.attribute("strategy", stringifyScheduleStrategy(attr.getStrategy()));
        j.attribute("latency_ms", attr.getLatencyMs().getValueAsDouble());
        j.attribute("sequential_ms",
                    attr.getSequentialMs().getValueAsDouble());
      });
    else
      j.attribute("schedule", nullptr);
    unsigned streams = 0;
    for (StageOp stage : func.getBody().front().getOps<StageOp>())
      streams = std::max<unsigned>(streams,
                                   llvm::range_size(stage.getGroups()));
    j.attribute("streams", streams);
    double now = 0;
    j.attributeArray("stages", [&] {
      unsigned index = 0;
      for (StageOp stage : func.getBody().front().getOps<StageOp>())
        now = printStage(stage, index++, now);
    });
    j.attribute("latency_ms", now);
    j.objectEnd();
  }

private:
  /// Prints the stage that starts at `start` ms; returns where it ends.
  double printStage(StageOp stage, unsigned index, double start) {
    std::vector<std::vector<prof::Kernel>> kernels;
    std::vector<std::vector<TimedOp>> ops;
    for (GroupOp group : stage.getGroups()) {
      std::vector<prof::Kernel> &k = kernels.emplace_back();
      std::vector<TimedOp> &o = ops.emplace_back();
      for (Operation &op : group.getBody().front().without_terminator()) {
        sched::OpSignature sig = signatureOf(&op);
        std::vector<prof::Kernel> opKernels = prof::kernelsFor(sig, device);
        std::optional<std::string> name = layerName(&op);
        o.push_back({&op,
                     name ? *name : sig.kind + "#" + std::to_string(opIndex),
                     sig.kind, k.size(), opKernels.size()});
        k.insert(k.end(), opKernels.begin(), opKernels.end());
        ++opIndex;
      }
    }
    prof::StageTrace trace = prof::traceStage(kernels, device);

    j.objectBegin();
    j.attribute("index", index);
    j.attribute("strategy", stringifyStrategy(stage.getStrategy()));
    if (auto estimate = stage.getLatencyMs())
      j.attribute("estimated_ms", estimate->convertToDouble());
    else
      j.attribute("estimated_ms", nullptr);
    j.attribute("model_ms", trace.latencyMs);
    j.attribute("start_ms", start);
    j.attribute("end_ms", start + trace.latencyMs);
    j.attributeArray("groups", [&] {
      for (auto [stream, group] : llvm::enumerate(ops)) {
        const auto &intervals = trace.intervals[stream];
        double end = 0; // of the group's previous op, from the stage's start
        j.arrayBegin();
        for (const TimedOp &op : group) {
          double opStart = end;
          if (op.numKernels) {
            opStart = intervals[op.firstKernel].first;
            end = intervals[op.firstKernel + op.numKernels - 1].second;
          }
          j.object([&] {
            j.attribute("name", op.name);
            j.attribute("kind", op.kind);
            j.attribute("start_ms", start + opStart);
            j.attribute("end_ms", start + end);
            j.attribute("stream", int64_t(stream));
            j.attribute("kernels", int64_t(op.numKernels));
          });
        }
        j.arrayEnd();
      }
    });
    j.objectEnd();
    return start + trace.latencyMs;
  }

  llvm::json::OStream &j;
  func::FuncOp func;
  const prof::DeviceSpec &device;
  unsigned opIndex = 0;
};

/// Fails with an error unless every graph op of `func` is in a stage.
LogicalResult checkScheduled(func::FuncOp func) {
  Block &body = func.getBody().front();
  if (body.getOps<StageOp>().empty())
    return func.emitError()
           << "function @" << func.getSymName()
           << " is not scheduled; run ios-opt --ios-schedule first";
  for (Operation &op : body)
    if (isa<SchedulableOpInterface>(op))
      return op.emitOpError()
             << "is outside every ios.stage: the timeline needs a fully "
                "scheduled function";
  return success();
}

} // namespace

LogicalResult ios::translateToTimeline(Operation *op, raw_ostream &os,
                                       const TimelineOptions &opts) {
  SmallVector<func::FuncOp> funcs;
  if (auto func = dyn_cast<func::FuncOp>(op))
    funcs.push_back(func);
  else
    op->walk([&](func::FuncOp f) {
      if (!f.isExternal())
        funcs.push_back(f);
    });
  if (funcs.empty())
    return op->emitError() << "--ios-to-timeline found no function";

  // Every function's device first: nothing is printed for a failing input.
  SmallVector<prof::DeviceSpec> devices;
  for (func::FuncOp func : funcs) {
    if (failed(checkScheduled(func)))
      return failure();
    std::string device = opts.device;
    if (device.empty()) {
      auto attr =
          func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName);
      if (!attr)
        return func.emitError()
               << "function @" << func.getSymName()
               << " has no ios.schedule attribute naming its device; pass "
                  "--timeline-device";
      device = attr.getDevice().str();
    }
    llvm::Expected<prof::DeviceSpec> spec = prof::DeviceSpec::get(device);
    if (!spec)
      return func.emitError()
             << "function @" << func.getSymName() << ": "
             << llvm::toString(spec.takeError())
             << (opts.device.empty()
                     ? "; --timeline-device picks the model's device"
                     : "");
    devices.push_back(std::move(*spec));
  }
  llvm::json::OStream j(os, /*IndentSize=*/2);
  j.object([&] {
    j.attribute("version", 1);
    j.attributeArray("functions", [&] {
      for (auto [func, device] : llvm::zip(funcs, devices))
        TimelinePrinter(j, func, device).print();
    });
  });
  os << "\n";
  return success();
}
