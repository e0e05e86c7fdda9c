//===- AnalyticProfiler.cpp - A deterministic model of a GPU --------------===//

#include "ios/Profiler/AnalyticProfiler.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace ios;
using namespace ios::prof;
using llvm::ArrayRef;
using llvm::Expected;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Devices
//===----------------------------------------------------------------------===//

static const llvm::StringLiteral kBuiltins[] = {"v100", "a100", "h100"};

ArrayRef<llvm::StringLiteral> DeviceSpec::builtinNames() { return kBuiltins; }

/// The fitted constants (docs/Profilers.md) are V100's; newer GPUs scale the
/// hardware numbers and keep the per-call host and kernel overheads.
static DeviceSpec v100() {
  DeviceSpec d;
  d.name = "v100";
  d.sms = 80;
  d.peakTflops = 15.67; // 80 SMs x 64 FP32 lanes x 2 x 1530 MHz
  d.memGBps = 900;
  return d;
}

Expected<DeviceSpec> DeviceSpec::get(StringRef nameOrFile) {
  if (nameOrFile == "v100")
    return v100();
  if (nameOrFile == "a100") {
    DeviceSpec d = v100();
    d.name = "a100";
    d.sms = 108;
    d.peakTflops = 19.5;
    d.memGBps = 1555;
    return d;
  }
  if (nameOrFile == "h100") {
    DeviceSpec d = v100();
    d.name = "h100";
    d.sms = 132;
    d.peakTflops = 66.9;
    d.memGBps = 3350;
    return d;
  }
  auto buffer = llvm::MemoryBuffer::getFile(nameOrFile);
  if (!buffer)
    return llvm::createStringError(
        llvm::formatv("unknown device '{0}': not one of v100, a100, h100 and "
                      "not a readable JSON device file ({1})",
                      nameOrFile, buffer.getError().message())
            .str());
  Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return llvm::createStringError(
        llvm::formatv("device file '{0}': {1}", nameOrFile,
                      llvm::toString(json.takeError()))
            .str());
  DeviceSpec spec = v100();
  spec.name = llvm::sys::path::stem(nameOrFile).str();
  llvm::json::Path::Root root("device");
  if (!fromJSON(*json, spec, root))
    return llvm::createStringError(
        llvm::formatv("device file '{0}': {1}", nameOrFile,
                      llvm::toString(root.getError()))
            .str());
  return spec;
}

bool ios::prof::fromJSON(const llvm::json::Value &v, DeviceSpec &spec,
                         llvm::json::Path path) {
  const llvm::json::Object *o = v.getAsObject();
  if (!o) {
    path.report("expected an object");
    return false;
  }
  static const llvm::StringLiteral known[] = {
      "name", "sms", "peakTflops", "memGBps", "blocksPerSm", "convEfficiency",
      "winogradSpeedup", "memEfficiency", "depthwiseEfficiency", "tileM",
      "tileN", "elementsPerBlock", "kernelLatencyUs", "launchUs",
      "convLaunchUs", "joinUs", "contentionPenalty"};
  for (const auto &kv : *o)
    if (!llvm::is_contained(known, kv.first.str())) {
      path.field(kv.first).report("unknown device field");
      return false;
    }
  llvm::json::ObjectMapper m(v, path);
  auto opt = [&](llvm::StringLiteral key, auto &field) {
    if (!o->get(key))
      return true;
    return m.map(key, field);
  };
  bool ok = opt("name", spec.name) && opt("sms", spec.sms) &&
            opt("peakTflops", spec.peakTflops) &&
            opt("memGBps", spec.memGBps) &&
            opt("blocksPerSm", spec.blocksPerSm) &&
            opt("convEfficiency", spec.convEfficiency) &&
            opt("winogradSpeedup", spec.winogradSpeedup) &&
            opt("memEfficiency", spec.memEfficiency) &&
            opt("depthwiseEfficiency", spec.depthwiseEfficiency) &&
            opt("tileM", spec.tileM) && opt("tileN", spec.tileN) &&
            opt("elementsPerBlock", spec.elementsPerBlock) &&
            opt("kernelLatencyUs", spec.kernelLatencyUs) &&
            opt("launchUs", spec.launchUs) &&
            opt("convLaunchUs", spec.convLaunchUs) &&
            opt("joinUs", spec.joinUs) &&
            opt("contentionPenalty", spec.contentionPenalty);
  if (!ok)
    return false;
  auto positive = [&](StringRef key, double value) {
    if (value > 0 && std::isfinite(value))
      return true;
    path.field(key).report("must be positive");
    return false;
  };
  if (spec.contentionPenalty < 0 || !std::isfinite(spec.contentionPenalty)) {
    path.field("contentionPenalty").report("must be non-negative");
    return false;
  }
  return positive("sms", spec.sms) && positive("peakTflops", spec.peakTflops) &&
         positive("memGBps", spec.memGBps) &&
         positive("blocksPerSm", spec.blocksPerSm) &&
         positive("convEfficiency", spec.convEfficiency) &&
         positive("winogradSpeedup", spec.winogradSpeedup) &&
         positive("memEfficiency", spec.memEfficiency) &&
         positive("depthwiseEfficiency", spec.depthwiseEfficiency) &&
         positive("tileM", spec.tileM) && positive("tileN", spec.tileN) &&
         positive("elementsPerBlock", spec.elementsPerBlock);
}

llvm::json::Value DeviceSpec::toJSON() const {
  return llvm::json::Object{
      {"name", name},
      {"sms", sms},
      {"peakTflops", peakTflops},
      {"memGBps", memGBps},
      {"blocksPerSm", blocksPerSm},
      {"convEfficiency", convEfficiency},
      {"winogradSpeedup", winogradSpeedup},
      {"memEfficiency", memEfficiency},
      {"depthwiseEfficiency", depthwiseEfficiency},
      {"tileM", tileM},
      {"tileN", tileN},
      {"elementsPerBlock", elementsPerBlock},
      {"kernelLatencyUs", kernelLatencyUs},
      {"launchUs", launchUs},
      {"convLaunchUs", convLaunchUs},
      {"joinUs", joinUs},
      {"contentionPenalty", contentionPenalty}};
}

//===----------------------------------------------------------------------===//
// Kernels of an op
//===----------------------------------------------------------------------===//

namespace {

double product(ArrayRef<int64_t> shape) {
  double p = 1;
  for (int64_t d : shape)
    p *= double(d);
  return p;
}

class KernelBuilder {
public:
  KernelBuilder(const DeviceSpec &d) : d(d) {}

  /// A kernel bounded by bytes moved (pool, add, copies, ...).
  Kernel memory(const char *what, double bytes, double elements) const {
    Kernel k;
    k.what = what;
    k.workUs = bytes / (d.memGBps * 1e9 * d.memEfficiency) * 1e6;
    k.fraction = occupancy(std::ceil(elements / d.elementsPerBlock));
    k.launchUs = d.launchUs;
    return k;
  }

  /// A kernel bounded by the larger of compute and memory time.
  Kernel compute(const char *what, double flops, double flopEfficiency,
                 double bytes, double bwEfficiency, double blocks,
                 double launchUs) const {
    Kernel k;
    k.what = what;
    double computeUs = flops / (d.peakTflops * 1e12 * flopEfficiency) * 1e6;
    double memoryUs = bytes / (d.memGBps * 1e9 * bwEfficiency) * 1e6;
    k.workUs = std::max(computeUs, memoryUs);
    k.fraction = occupancy(blocks);
    k.launchUs = launchUs;
    return k;
  }

  double occupancy(double blocks) const {
    return std::clamp(blocks / double(d.sms * d.blocksPerSm), 1e-3, 1.0);
  }

  const DeviceSpec &d;
};

} // namespace

/// Appends the kernels `sig` launches to `kernels` (kernelsFor's body; the
/// profiler's hot path appends into one reused buffer).
template <typename KernelVector>
static void appendKernels(const sched::OpSignature &sig,
                          const DeviceSpec &device, KernelVector &kernels) {
  KernelBuilder kb(device);
  if (!sig.modeled) {
    // An op that declares no work (not an `ios` op): one memory-bound pass
    // over its inputs and output. The scheduling pass warns about it.
    double n = double(std::max<int64_t>(sig.batch, 1));
    double out = n * product(sig.outputShape), in = 0;
    for (const auto &shape : sig.inputShapes)
      in += n * product(shape);
    kernels.push_back(kb.memory("unknown", 4 * (in + out), out));
    return;
  }
  for (const sched::KernelWork &w : sig.work) {
    double launchUs = w.libraryCall ? device.convLaunchUs : device.launchUs;
    switch (w.kind) {
    case sched::KernelWork::Kind::Gemm: {
      double flops =
          w.winograd ? w.flops / device.winogradSpeedup : w.flops;
      double blocks = w.tiles * std::ceil(w.rows / device.tileM) *
                      std::ceil(w.cols / device.tileN);
      kernels.push_back(kb.compute(w.what, flops, device.convEfficiency,
                                   w.bytes, device.memEfficiency, blocks,
                                   launchUs));
      break;
    }
    case sched::KernelWork::Kind::Depthwise:
      kernels.push_back(kb.compute(
          w.what, w.flops, device.convEfficiency, w.bytes,
          device.depthwiseEfficiency,
          std::ceil(w.elements / device.elementsPerBlock), launchUs));
      break;
    case sched::KernelWork::Kind::Memory: {
      Kernel k = kb.memory(w.what, w.bytes, w.elements);
      // Plane reductions (global pooling): one block per 32 planes.
      if (w.planes > 0)
        k.fraction = kb.occupancy(w.planes / 32);
      k.launchUs = launchUs;
      kernels.push_back(k);
      break;
    }
    }
  }
}

std::vector<Kernel> ios::prof::kernelsFor(const sched::OpSignature &sig,
                                          const DeviceSpec &device) {
  std::vector<Kernel> kernels;
  appendKernels(sig, device, kernels);
  return kernels;
}

//===----------------------------------------------------------------------===//
// Stage simulation
//===----------------------------------------------------------------------===//

namespace {
/// The kernels of a stage: group g is kernels[groups[g].first, .second).
struct FlatStage {
  llvm::SmallVector<Kernel, 64> kernels;
  llvm::SmallVector<std::pair<unsigned, unsigned>, 8> groups;
  size_t size(unsigned g) const { return groups[g].second - groups[g].first; }
  const Kernel &at(unsigned g, size_t i) const {
    return kernels[groups[g].first + i];
  }
};
} // namespace

/// The event simulation behind simulateStage, on a flat stage (no
/// allocation for the stages of a search); `trace`, if given, receives every
/// kernel's interval (in us until the end, where it is converted to ms).
static double simulate(const FlatStage &stage, const DeviceSpec &device,
                       StageTrace *trace) {
  const double latency = device.kernelLatencyUs;
  unsigned numGroups = stage.groups.size();
  size_t nonEmpty = 0;
  for (unsigned g = 0; g < numGroups; ++g)
    nonEmpty += stage.size(g) != 0;
  if (nonEmpty == 0)
    return 0;
  if (nonEmpty == 1) {
    // One stream, no join: back-to-back executions overlap host launches
    // with GPU work, so the slower of the two bounds a run.
    double gpu = 0, host = 0;
    for (unsigned g = 0; g < numGroups; ++g)
      for (size_t i = 0; i < stage.size(g); ++i) {
        const Kernel &k = stage.at(g, i);
        if (trace)
          trace->intervals[g].push_back(
              {gpu, gpu + latency + k.workUs / k.fraction});
        gpu += latency + k.workUs / k.fraction;
        host += k.launchUs;
      }
    return std::max(gpu, host) / 1000.0;
  }

  // The host launches one group's kernels after the other. The model
  // assumes the runtime launches the longest group first (a longest-job-first
  // list schedule), which also makes a stage's cost independent of the
  // order its groups are listed in.
  llvm::SmallVector<std::pair<double, unsigned>, 8> order;
  for (unsigned g = 0; g < numGroups; ++g) {
    double alone = 0;
    for (size_t i = 0; i < stage.size(g); ++i) {
      const Kernel &k = stage.at(g, i);
      alone += latency + k.workUs / k.fraction;
    }
    order.push_back({alone, g});
  }
  // Longest first; equal groups keep their order.
  std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });

  struct Stream {
    unsigned group;
    unsigned issueBegin;   // its kernels' issue times in `issue`
    size_t numKernels;
    size_t next = 0;       // next kernel to start
    bool running = false;  // a kernel of this stream is in flight
    double latencyEnd = 0; // end of its fixed-latency phase
    double remaining = 0;  // its work left (device-us)
    double fraction = 1;
  };
  llvm::SmallVector<Stream, 8> streams;
  llvm::SmallVector<double, 64> issue;
  double host = 0;
  for (const auto &entry : order) {
    unsigned g = entry.second;
    if (stage.size(g) == 0)
      continue;
    Stream s;
    s.group = g;
    s.issueBegin = issue.size();
    s.numKernels = stage.size(g);
    for (size_t i = 0; i < s.numKernels; ++i) {
      host += stage.at(g, i).launchUs;
      issue.push_back(host);
    }
    streams.push_back(s);
  }

  double now = 0;
  const double inf = std::numeric_limits<double>::infinity();
  while (true) {
    // Start every kernel that is issued and whose stream is free; kernels
    // past their latency phase share the device in proportion to what they
    // can occupy.
    bool any = false;
    double demand = 0;
    unsigned active = 0;
    for (Stream &s : streams) {
      if (!s.running && s.next < s.numKernels &&
          issue[s.issueBegin + s.next] <= now) {
        const Kernel &k = stage.at(s.group, s.next);
        s.running = true;
        s.latencyEnd = now + latency;
        s.remaining = k.workUs;
        s.fraction = k.fraction;
        if (trace)
          trace->intervals[s.group].push_back({now, now});
      }
      any |= s.running || s.next < s.numKernels;
      if (s.running && s.latencyEnd <= now) {
        demand += s.fraction;
        ++active;
      }
    }
    if (!any)
      break;
    double scale = (demand > 1 ? 1 / demand : 1) /
                   (1 + device.contentionPenalty * (active ? active - 1 : 0));
    // Next event: a latency phase ends, a kernel finishes, a kernel issues.
    double step = inf;
    for (const Stream &s : streams) {
      if (s.running) {
        if (s.latencyEnd > now)
          step = std::min(step, s.latencyEnd - now);
        else
          step = std::min(step, s.remaining / (s.fraction * scale));
      } else if (s.next < s.numKernels) {
        step = std::min(step, std::max(0.0, issue[s.issueBegin + s.next] - now));
      }
    }
    if (step == inf)
      break;
    double then = now + step;
    for (Stream &s : streams) {
      if (!s.running)
        continue;
      if (s.latencyEnd <= now) {
        s.remaining -= step * s.fraction * scale;
        if (s.remaining <= 1e-9) {
          if (trace)
            trace->intervals[s.group].back().second = then;
          s.running = false;
          ++s.next;
          continue;
        }
      }
      // A kernel whose latency phase ended with zero work finishes now.
      if (s.latencyEnd <= then && s.remaining <= 1e-9) {
        if (trace)
          trace->intervals[s.group].back().second = then;
        s.running = false;
        ++s.next;
      }
    }
    now = then;
  }
  return (now + device.joinUs) / 1000.0;
}

static FlatStage flatten(ArrayRef<std::vector<Kernel>> groups) {
  FlatStage stage;
  for (const std::vector<Kernel> &g : groups) {
    unsigned begin = stage.kernels.size();
    stage.kernels.append(g.begin(), g.end());
    stage.groups.push_back({begin, unsigned(stage.kernels.size())});
  }
  return stage;
}

double ios::prof::simulateStage(ArrayRef<std::vector<Kernel>> groups,
                                const DeviceSpec &device) {
  return simulate(flatten(groups), device, nullptr);
}

StageTrace ios::prof::traceStage(ArrayRef<std::vector<Kernel>> groups,
                                 const DeviceSpec &device) {
  StageTrace trace;
  trace.intervals.resize(groups.size());
  trace.latencyMs = simulate(flatten(groups), device, &trace);
  for (auto &group : trace.intervals)
    for (auto &[start, end] : group) {
      start /= 1000.0;
      end /= 1000.0;
    }
  return trace;
}

//===----------------------------------------------------------------------===//
// The profiler
//===----------------------------------------------------------------------===//

double AnalyticProfiler::latency(const StageDescription &stage) const {
  std::vector<std::vector<Kernel>> groups;
  for (const auto &group : stage.groups) {
    std::vector<Kernel> kernels;
    for (const sched::OpSignature &sig : group) {
      std::vector<Kernel> k = kernelsFor(sig, device);
      kernels.insert(kernels.end(), k.begin(), k.end());
    }
    groups.push_back(std::move(kernels));
  }
  return simulateStage(groups, device);
}

Expected<double> AnalyticProfiler::measure(const sched::Graph &g,
                                           const sched::Stage &stage) {
  FlatStage flat;
  if (stage.strategy == sched::Strategy::Merge && stage.groups.size() > 1) {
    Expected<sched::OpSignature> merged = mergedSignature(g, stage);
    if (!merged)
      return merged.takeError();
    appendKernels(*merged, device, flat.kernels);
    flat.groups.push_back({0, unsigned(flat.kernels.size())});
    return simulate(flat, device, nullptr);
  }
  // The hot path of a search: the graph's kernels, computed once.
  const GraphKernels &kernels = kernelsOf(g);
  for (const auto &group : stage.groups) {
    unsigned begin = flat.kernels.size();
    for (sched::NodeId id : group) {
      const auto &k = kernels.perNode[*g.indexOf(id)];
      flat.kernels.append(k.begin(), k.end());
    }
    flat.groups.push_back({begin, unsigned(flat.kernels.size())});
  }
  return simulate(flat, device, nullptr);
}

const AnalyticProfiler::GraphKernels &
AnalyticProfiler::kernelsOf(const sched::Graph &g) {
  const GraphKernels *gk = last.load(std::memory_order_acquire);
  if (gk && gk->graph == g.uid())
    return *gk;
  std::lock_guard<std::mutex> lock(cacheMutex);
  for (const auto &known : graphs)
    if (known->graph == g.uid()) {
      last.store(known.get(), std::memory_order_release);
      return *known;
    }
  auto fresh = std::make_unique<GraphKernels>();
  fresh->graph = g.uid();
  fresh->perNode.resize(g.numNodes());
  for (unsigned v = 0; v < g.numNodes(); ++v)
    appendKernels(g.node(v).sig, device, fresh->perNode[v]);
  graphs.push_back(std::move(fresh));
  last.store(graphs.back().get(), std::memory_order_release);
  return *graphs.back();
}

std::optional<sched::LowerBoundTerms>
AnalyticProfiler::lowerBoundTerms(const sched::Graph &g) const {
  // What simulate() guarantees for any concurrent stage (us, then ms):
  // - one stream runs its kernels in turn, each at least its latency plus
  //   its work at its full fraction of the device (shares only slow it);
  // - the host issues every kernel of the stage one after another, and the
  //   last one still needs its latency: with >= 2 streams the stage ends
  //   at least latency + join after the sum of all launches;
  // - the device works at most at full rate (the shares of running kernels
  //   sum to <= 1), and only after a first latency: latency + all work +
  //   join;
  // - the host launches one group's kernels after the other (served in
  //   turn), so the stream launched last starts after every other group's
  //   launches and its own first one, then runs its kernels: its stream
  //   term + join.
  // A single stream costs max(its kernels' GPU time, its launches), which
  // the stream and host terms equal. simulate() ends a kernel with up to
  // 1e-9 us of work left, so the work terms leave that much out.
  constexpr double kWorkTolerance = 1e-9;
  sched::LowerBoundTerms t;
  t.shared.resize(2);
  sched::LowerBoundTerms::Resource &host = t.shared[0], &work = t.shared[1];
  host.perNode.resize(g.numNodes());
  work.perNode.resize(g.numNodes());
  t.stream.perNode.resize(g.numNodes());
  t.turnLead.resize(g.numNodes());
  llvm::SmallVector<Kernel, 8> kernels;
  for (unsigned v = 0; v < g.numNodes(); ++v) {
    kernels.clear();
    appendKernels(g.node(v).sig, device, kernels);
    double launch = 0, w = 0, stream = 0;
    for (const Kernel &k : kernels) {
      double kw = std::max(0.0, k.workUs - kWorkTolerance);
      launch += k.launchUs;
      w += kw;
      stream += device.kernelLatencyUs + kw / k.fraction;
    }
    host.perNode[v] = launch / 1000.0;
    if (!kernels.empty())
      t.turnLead[v] = kernels.front().launchUs / 1000.0;
    work.perNode[v] = w / 1000.0;
    t.stream.perNode[v] = stream / 1000.0;
  }
  host.multiGroup = work.multiGroup =
      (device.kernelLatencyUs + device.joinUs) / 1000.0;
  t.stream.multiGroup = device.joinUs / 1000.0;
  t.servedInTurn = 0;
  return t;
}
