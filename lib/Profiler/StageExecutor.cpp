//===- StageExecutor.cpp - Time one stage on the IOS runtime --------------===//

#include "ios/Profiler/StageExecutor.h"

#include "ios/Runtime/Runtime.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>

using namespace ios;
using namespace ios::prof;
using llvm::Expected;

namespace {

int64_t product(llvm::ArrayRef<int64_t> shape) {
  int64_t p = 1;
  for (int64_t d : shape)
    p *= d;
  return p;
}

/// A 4-D (N, C, H, W) view shape of a per-sample shape (C, H, W) or (F).
std::array<int64_t, 4> nchw(int64_t batch, llvm::ArrayRef<int64_t> shape) {
  if (shape.size() == 3)
    return {batch, shape[0], shape[1], shape[2]};
  return {batch, shape.empty() ? 1 : product(shape), 1, 1};
}

int64_t pairAt(const sched::OpSignature &sig, llvm::StringRef key, int i,
               int64_t fallback) {
  if (auto v = sig.getInts(key); v && v->size() == 2)
    return (*v)[i];
  return fallback;
}

rt::Act actOf(llvm::StringRef s) {
  if (s == "relu")
    return rt::ActRelu;
  if (s == "sigmoid")
    return rt::ActSigmoid;
  if (s == "tanh")
    return rt::ActTanh;
  return rt::ActNone;
}

/// Arena layout of a stage: every op's inputs (produced in the group or
/// external), output and weights.
struct Layout {
  int64_t floats = 0;
  int64_t take(int64_t n) {
    int64_t at = floats;
    floats += (n + 63) / 64 * 64;
    return at;
  }
};

struct OpPlan {
  const sched::OpSignature *sig;
  std::vector<int64_t> inputs; ///< arena offsets, one per input shape
  int64_t output = 0, weight = 0, bias = 0;
};

} // namespace

Expected<StageDescription> ios::prof::stageFromJSON(const llvm::json::Value &v) {
  const llvm::json::Object *o = v.getAsObject();
  if (!o)
    return llvm::createStringError("stage: expected an object");
  StageDescription d;
  std::optional<llvm::StringRef> strategy = o->getString("strategy");
  if (!strategy || (*strategy != "concurrent" && *strategy != "merge"))
    return llvm::createStringError(
        "stage: \"strategy\" must be \"concurrent\" or \"merge\"");
  d.strategy = *strategy == "merge" ? sched::Strategy::Merge
                                    : sched::Strategy::Concurrent;
  d.batch = o->getInteger("batch").value_or(1);
  const llvm::json::Array *groups = o->getArray("groups");
  if (!groups || groups->empty())
    return llvm::createStringError("stage: \"groups\" must be a non-empty list");
  const llvm::json::Array *edges = o->getArray("edges");
  for (auto [gi, group] : llvm::enumerate(*groups)) {
    const llvm::json::Array *ops = group.getAsArray();
    if (!ops || ops->empty())
      return llvm::createStringError("stage: every group must list ops");
    std::vector<sched::OpSignature> sigs;
    for (const llvm::json::Value &op : *ops) {
      sched::OpSignature sig;
      llvm::json::Path::Root root("op");
      if (!fromJSON(op, sig, root))
        return llvm::createStringError("stage: bad op: " +
                                       llvm::toString(root.getError()));
      sigs.push_back(std::move(sig));
    }
    d.groups.push_back(std::move(sigs));
    std::vector<std::pair<unsigned, unsigned>> groupEdges;
    if (edges && gi < edges->size())
      if (const llvm::json::Array *e = (*edges)[gi].getAsArray())
        for (const llvm::json::Value &pair : *e) {
          const llvm::json::Array *p = pair.getAsArray();
          if (!p || p->size() != 2 || !(*p)[0].getAsInteger() ||
              !(*p)[1].getAsInteger())
            return llvm::createStringError("stage: edges must be [from, to]");
          unsigned from = *(*p)[0].getAsInteger(), to = *(*p)[1].getAsInteger();
          if (from >= to || to >= d.groups.back().size())
            return llvm::createStringError("stage: edge out of range");
          groupEdges.push_back({from, to});
        }
    d.edges.push_back(std::move(groupEdges));
  }
  return d;
}

Expected<double> ios::prof::timeStage(const StageDescription &stage,
                                      const TimingOptions &opts) {
  // Plan the arena: an op's first input comes from its in-group producer
  // (the edge into it), other inputs are external tensors.
  Layout layout;
  std::vector<std::vector<OpPlan>> plans(stage.groups.size());
  for (size_t g = 0; g < stage.groups.size(); ++g) {
    const auto &ops = stage.groups[g];
    for (size_t i = 0; i < ops.size(); ++i) {
      const sched::OpSignature &sig = ops[i];
      OpPlan p;
      p.sig = &sig;
      std::vector<int64_t> producers;
      if (g < stage.edges.size())
        for (auto [from, to] : stage.edges[g])
          if (to == i)
            producers.push_back(plans[g][from].output);
      for (size_t k = 0; k < sig.inputShapes.size(); ++k)
        p.inputs.push_back(
            k < producers.size()
                ? producers[k]
                : layout.take(stage.batch * product(sig.inputShapes[k])));
      p.output = layout.take(stage.batch * product(sig.outputShape));
      if (sig.kind == "conv") {
        int64_t cin = sig.inputShapes.empty() ? 1 : sig.inputShapes[0][0];
        int64_t groups = sig.getInt("groups").value_or(1);
        p.weight = layout.take(sig.outputShape[0] * (cin / groups) *
                               pairAt(sig, "kernel", 0, 1) *
                               pairAt(sig, "kernel", 1, 1));
        p.bias = layout.take(sig.outputShape[0]);
      } else if (sig.kind == "linear") {
        int64_t k = product(sig.inputShapes.empty() ? llvm::ArrayRef<int64_t>()
                                                    : sig.inputShapes[0]);
        p.weight = layout.take(product(sig.outputShape) * k);
        p.bias = layout.take(product(sig.outputShape));
      } else if (sig.kind != "pool" && sig.kind != "activation" &&
                 sig.kind != "add" && sig.kind != "mul" &&
                 sig.kind != "concat" && sig.kind != "slice" &&
                 sig.kind != "flatten" && sig.kind != "softmax") {
        return llvm::createStringError("cannot time op kind '" + sig.kind +
                                       "' on the runtime");
      }
      plans[g].push_back(std::move(p));
    }
  }

  int32_t streams = int32_t(stage.groups.size());
  const char *error = nullptr;
  rt::Context *ctx =
      rt::createContext(streams, streams, std::max<int64_t>(layout.floats, 64),
                        &error);
  if (!ctx)
    return llvm::createStringError(std::string("runtime: ") +
                                   (error ? error : "cannot create a context"));
  float *arena = rt::arena(ctx);
  auto viewAt = [&](int64_t offset, llvm::ArrayRef<int64_t> shape) {
    auto d = nchw(stage.batch, shape);
    return rt::view(arena, offset, d[0], d[1], d[2], d[3]);
  };

  // Enqueues the stage `times` times back to back, then waits once: in a
  // program stages follow each other without the host waking the streams
  // in between, so short stages are timed that way too.
  auto launch = [&](int times) {
    for (int t = 0; t < times; ++t) {
    if (streams > 1) {
      rt::record(ctx, 0, 0);
      for (int32_t s = 1; s < streams; ++s)
        rt::wait(ctx, s, 0);
    }
    for (int32_t s = 0; s < streams; ++s)
      for (const OpPlan &p : plans[s]) {
        const sched::OpSignature &sig = *p.sig;
        rt::View out = viewAt(p.output, sig.outputShape);
        rt::View in = sig.inputShapes.empty()
                          ? out
                          : viewAt(p.inputs[0], sig.inputShapes[0]);
        const char *name = sig.kind.c_str();
        if (sig.kind == "conv") {
          rt::conv2d(ctx, s, name, in, out, arena + p.weight, arena + p.bias,
                     pairAt(sig, "kernel", 0, 1), pairAt(sig, "kernel", 1, 1),
                     pairAt(sig, "stride", 0, 1), pairAt(sig, "stride", 1, 1),
                     pairAt(sig, "padding", 0, 0), pairAt(sig, "padding", 1, 0),
                     pairAt(sig, "dilation", 0, 1),
                     pairAt(sig, "dilation", 1, 1),
                     sig.getInt("groups").value_or(1),
                     actOf(sig.getStr("act").value_or("identity")));
        } else if (sig.kind == "pool") {
          llvm::StringRef type = sig.getStr("pool_type").value_or("max");
          bool global = type.starts_with("global");
          rt::PoolKind kind = type == "max"          ? rt::PoolMax
                              : type == "avg"        ? rt::PoolAvg
                              : type == "global_max" ? rt::PoolGlobalMax
                                                     : rt::PoolGlobalAvg;
          rt::pool2d(ctx, s, name, in, out, kind,
                     global ? in.h : pairAt(sig, "kernel", 0, 1),
                     global ? in.w : pairAt(sig, "kernel", 1, 1),
                     global ? 1 : pairAt(sig, "stride", 0, 1),
                     global ? 1 : pairAt(sig, "stride", 1, 1),
                     global ? 0 : pairAt(sig, "padding", 0, 0),
                     global ? 0 : pairAt(sig, "padding", 1, 0));
        } else if (sig.kind == "activation") {
          rt::activation(ctx, s, name, in, out,
                         actOf(sig.getStr("act_type").value_or("relu")));
        } else if (sig.kind == "add") {
          std::vector<rt::View> ins;
          for (size_t k = 0; k < p.inputs.size(); ++k)
            ins.push_back(viewAt(p.inputs[k], sig.inputShapes[k]));
          rt::add(ctx, s, name, out, int32_t(ins.size()), ins.data());
        } else if (sig.kind == "mul") {
          rt::mul(ctx, s, name, in, viewAt(p.inputs[1], sig.inputShapes[1]),
                  out);
        } else if (sig.kind == "concat") {
          int64_t offset = 0;
          for (size_t k = 0; k < p.inputs.size(); ++k) {
            rt::View src = viewAt(p.inputs[k], sig.inputShapes[k]);
            rt::copy(ctx, s, name, src,
                     rt::channels(out, offset, offset + src.c));
            offset += src.c;
          }
        } else if (sig.kind == "linear") {
          rt::linear(ctx, s, name, in, out, arena + p.weight, arena + p.bias);
        } else if (sig.kind == "softmax") {
          rt::softmax(ctx, s, name, in, out);
        }
        // slice and flatten are views: nothing runs.
      }
    if (streams > 1)
      for (int32_t s = 1; s < streams; ++s) {
        rt::record(ctx, s, s);
        rt::wait(ctx, 0, s);
      }
    }
    return rt::synchronize(ctx);
  };

  std::vector<double> times;
  int batch = 1; // stages per timed launch: enough for ~2 ms, at most 16
  for (int i = 0; i < opts.warmup + opts.repeats; ++i) {
    int n = i < opts.warmup ? 1 : batch;
    auto t0 = std::chrono::steady_clock::now();
    if (!launch(n)) {
      std::string message = rt::lastError(ctx);
      rt::destroyContext(ctx);
      return llvm::createStringError("runtime: " + message);
    }
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - t0)
                    .count() /
                n;
    if (i >= opts.warmup)
      times.push_back(ms);
    else
      batch = std::clamp(int(2.0 / std::max(ms, 1e-3)), 1, 16);
  }
  rt::destroyContext(ctx);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}
