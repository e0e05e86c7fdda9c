//===- StageExecutor.cpp - Time one stage on the IOS runtime --------------===//

#include "ios/Profiler/StageExecutor.h"

#include "ios/Runtime/Runtime.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

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

/// The runtime's activation for a conv's "act" or an activation's
/// "act_type" (checkStage accepts only these names).
std::optional<rt::Act> actOf(llvm::StringRef s) {
  if (s == "identity" || s == "none")
    return rt::ActNone;
  if (s == "relu")
    return rt::ActRelu;
  if (s == "sigmoid")
    return rt::ActSigmoid;
  if (s == "tanh")
    return rt::ActTanh;
  return std::nullopt;
}

std::optional<rt::PoolKind> poolKindOf(llvm::StringRef s) {
  if (s == "max")
    return rt::PoolMax;
  if (s == "avg")
    return rt::PoolAvg;
  if (s == "global_max")
    return rt::PoolGlobalMax;
  if (s == "global_avg")
    return rt::PoolGlobalAvg;
  return std::nullopt;
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The product of `factors`, or -1 if a factor is < 1 or the product
/// exceeds kMaxElements.
int64_t boundedProduct(std::initializer_list<int64_t> factors,
                       llvm::ArrayRef<int64_t> more = {}) {
  int64_t n = 1;
  auto mul = [&](int64_t d) {
    if (n < 0 || d < 1 || d > kMaxElements || n * d > kMaxElements)
      n = -1;
    else
      n *= d;
  };
  for (int64_t d : factors)
    mul(d);
  for (int64_t d : more)
    mul(d);
  return n;
}

/// The checks of one op of a stage; every error names the op.
class OpCheck {
public:
  OpCheck(const sched::OpSignature &sig, int64_t batch, size_t group,
          size_t index)
      : sig(sig), batch(batch),
        where(llvm::formatv("group {0} op {1} ({2})", group, index, sig.kind)
                  .str()) {}

  llvm::Error run() {
    if (sig.batch != batch)
      return bad(llvm::formatv("batch {0} differs from the stage's batch {1}",
                               sig.batch, batch));
    for (auto [k, shape] : llvm::enumerate(sig.inputShapes))
      if (llvm::Error e = tensor("input " + std::to_string(k), shape))
        return e;
    if (llvm::Error e = tensor("output", sig.outputShape))
      return e;
    const std::string &kind = sig.kind;
    if (kind == "conv")
      return conv();
    if (kind == "pool")
      return pool();
    if (kind == "activation") {
      if (llvm::Error e = inputs(1, 1))
        return e;
      return name("act_type", "relu", [](llvm::StringRef s) {
        return actOf(s).has_value();
      });
    }
    if (kind == "softmax" || kind == "linear") {
      if (llvm::Error e = inputs(1, 1))
        return e;
      if (kind == "linear" &&
          boundedProduct({}, sig.outputShape) *
                  boundedProduct({}, sig.inputShapes[0]) >
              kMaxElements)
        return bad("the weight has more than 2147483647 elements");
      return llvm::Error::success();
    }
    if (kind == "mul")
      return inputs(2, 2);
    if (kind == "add" || kind == "slice" || kind == "flatten")
      return inputs(1, kMaxStageOps);
    if (kind == "concat")
      return concat();
    return llvm::createStringError("cannot time op kind '" + kind +
                                   "' on the runtime (" + where + ")");
  }

private:
  llvm::Error bad(const llvm::Twine &why) {
    return llvm::createStringError(where + ": " + why.str());
  }

  llvm::Error tensor(const std::string &role, llvm::ArrayRef<int64_t> shape) {
    if (boundedProduct({batch}, shape) < 0)
      return bad(role + " " + shapeString(shape) + " at batch " +
                 std::to_string(batch) +
                 ": every dimension must be >= 1 and the tensor at most "
                 "2147483647 elements");
    return llvm::Error::success();
  }

  llvm::Error inputs(size_t min, size_t max) {
    size_t n = sig.inputShapes.size();
    if (n < min || n > max)
      return bad(llvm::formatv("takes {0} input{1}, got {2}",
                               min == max ? std::to_string(min)
                                          : llvm::formatv("{0} to {1}", min,
                                                          max)
                                                .str(),
                               max == 1 ? "" : "s", n));
    return llvm::Error::success();
  }

  llvm::Error rank3(llvm::ArrayRef<int64_t> shape, llvm::StringRef role) {
    if (shape.size() != 3)
      return bad(role + " " + shapeString(shape) +
                 " must be [channels, height, width]");
    return llvm::Error::success();
  }

  /// A [h, w] attribute: `fallback` when absent (nullopt: required), else
  /// two integers in [min, kMaxElements].
  llvm::Error pair(llvm::StringRef key, std::optional<int64_t> fallback,
                   int64_t min) {
    const sched::AttrValue *v = sig.get(key);
    if (!v) {
      if (fallback)
        return llvm::Error::success();
      return bad("needs \"" + key + "\"");
    }
    if (!v->isInts() || v->getInts().size() != 2 ||
        llvm::any_of(v->getInts(), [&](int64_t x) {
          return x < min || x > kMaxElements;
        }))
      return bad(llvm::formatv("\"{0}\" must be two integers in [{1}, {2}]",
                               key, min, kMaxElements));
    return llvm::Error::success();
  }

  /// A string attribute that `known` accepts (`fallback` when absent).
  template <typename Known>
  llvm::Error name(llvm::StringRef key, llvm::StringRef fallback,
                   Known known) {
    const sched::AttrValue *v = sig.get(key);
    if (!v)
      return known(fallback) ? llvm::Error::success()
                             : bad("needs \"" + key + "\"");
    if (!v->isStr())
      return bad("\"" + key + "\" must be a string");
    if (!known(v->getStr()))
      return bad("unknown \"" + key + "\" '" + v->getStr() + "'");
    return llvm::Error::success();
  }

  llvm::Error conv() {
    if (llvm::Error e = inputs(1, 1))
      return e;
    const auto &in = sig.inputShapes[0], &out = sig.outputShape;
    if (llvm::Error e = rank3(in, "input"))
      return e;
    if (llvm::Error e = rank3(out, "output"))
      return e;
    if (llvm::Error e = pair("kernel", std::nullopt, 1))
      return e;
    if (llvm::Error e = pair("stride", 1, 1))
      return e;
    if (llvm::Error e = pair("padding", 0, 0))
      return e;
    if (llvm::Error e = pair("dilation", 1, 1))
      return e;
    const sched::AttrValue *g = sig.get("groups");
    int64_t groups = g && g->isInt() ? g->getInt() : 1;
    if (g && (!g->isInt() || groups < 1))
      return bad("\"groups\" must be an integer >= 1");
    if (in[0] % groups || out[0] % groups)
      return bad(llvm::formatv("groups {0} must divide the input channels "
                               "({1}) and the output channels ({2})",
                               groups, in[0], out[0]));
    if (const sched::AttrValue *c = sig.get("out_channels");
        c && (!c->isInt() || c->getInt() != out[0]))
      return bad("\"out_channels\" differs from the output's channels (" +
                 std::to_string(out[0]) + ")");
    if (boundedProduct({out[0], in[0] / groups, pairAt(sig, "kernel", 0, 1),
                        pairAt(sig, "kernel", 1, 1)}) < 0)
      return bad("the weight has more than 2147483647 elements");
    return name("act", "identity",
                [](llvm::StringRef s) { return actOf(s).has_value(); });
  }

  llvm::Error pool() {
    if (llvm::Error e = inputs(1, 1))
      return e;
    if (llvm::Error e = rank3(sig.inputShapes[0], "input"))
      return e;
    if (llvm::Error e = rank3(sig.outputShape, "output"))
      return e;
    if (llvm::Error e = name("pool_type", "max", [](llvm::StringRef s) {
          return poolKindOf(s).has_value();
        }))
      return e;
    if (sig.getStr("pool_type").value_or("max").starts_with("global"))
      return llvm::Error::success();
    if (llvm::Error e = pair("kernel", std::nullopt, 1))
      return e;
    if (llvm::Error e = pair("stride", 1, 1))
      return e;
    return pair("padding", 0, 0);
  }

  llvm::Error concat() {
    if (llvm::Error e = inputs(1, kMaxStageOps))
      return e;
    const auto &out = sig.outputShape;
    if (llvm::Error e = rank3(out, "output"))
      return e;
    int64_t channels = 0;
    for (const auto &in : sig.inputShapes) {
      if (llvm::Error e = rank3(in, "input"))
        return e;
      if (in[1] != out[1] || in[2] != out[2])
        return bad("input " + shapeString(in) + " and output " +
                   shapeString(out) + " differ in height or width");
      channels += in[0];
    }
    if (channels != out[0])
      return bad(llvm::formatv("the inputs have {0} channels, the output {1}",
                               channels, out[0]));
    return llvm::Error::success();
  }

  const sched::OpSignature &sig;
  int64_t batch;
  std::string where;
};

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

Expected<StageProducers> ios::prof::checkStage(const StageDescription &stage,
                                               const TimingOptions &opts) {
  if (stage.batch < 1 || stage.batch > kMaxElements)
    return llvm::createStringError(llvm::formatv(
        "stage: batch {0} must be in [1, {1}]", stage.batch, kMaxElements));
  if (stage.groups.empty() || stage.groups.size() > kMaxStageGroups)
    return llvm::createStringError(
        llvm::formatv("stage: {0} groups; 1 to {1} are supported",
                      stage.groups.size(), kMaxStageGroups));
  size_t ops = 0;
  for (const auto &group : stage.groups)
    ops += group.size();
  if (ops > kMaxStageOps)
    return llvm::createStringError(llvm::formatv(
        "stage: {0} ops; at most {1} are supported", ops, kMaxStageOps));
  StageProducers producers(stage.groups.size());
  for (auto [g, group] : llvm::enumerate(stage.groups)) {
    if (group.empty())
      return llvm::createStringError(
          llvm::formatv("stage: group {0} has no ops", g));
    for (auto [i, sig] : llvm::enumerate(group)) {
      if (llvm::Error e = OpCheck(sig, stage.batch, g, i).run())
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
  std::optional<int64_t> batch = o->getInteger("batch");
  if (!batch)
    return llvm::createStringError("stage: \"batch\" must be an integer");
  d.batch = *batch;
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
  Expected<StageProducers> producers = checkStage(stage, opts);
  if (!producers)
    return producers.takeError();
  // Plan the arena: an input fed by an in-group producer is that producer's
  // output, other inputs are external tensors.
  Layout layout;
  std::vector<std::vector<OpPlan>> plans(stage.groups.size());
  for (size_t g = 0; g < stage.groups.size(); ++g) {
    const auto &ops = stage.groups[g];
    for (size_t i = 0; i < ops.size(); ++i) {
      const sched::OpSignature &sig = ops[i];
      OpPlan p;
      p.sig = &sig;
      for (size_t k = 0; k < sig.inputShapes.size(); ++k) {
        int producer = (*producers)[g][i][k];
        p.inputs.push_back(
            producer >= 0
                ? plans[g][producer].output
                : layout.take(stage.batch * product(sig.inputShapes[k])));
      }
      p.output = layout.take(stage.batch * product(sig.outputShape));
      if (sig.kind == "conv") {
        int64_t cin = sig.inputShapes[0][0];
        int64_t groups = sig.getInt("groups").value_or(1);
        p.weight = layout.take(sig.outputShape[0] * (cin / groups) *
                               pairAt(sig, "kernel", 0, 1) *
                               pairAt(sig, "kernel", 1, 1));
        p.bias = layout.take(sig.outputShape[0]);
      } else if (sig.kind == "linear") {
        p.weight = layout.take(product(sig.outputShape) *
                               product(sig.inputShapes[0]));
        p.bias = layout.take(product(sig.outputShape));
      }
      plans[g].push_back(std::move(p));
    }
  }
  if (layout.floats > opts.maxArenaFloats)
    return llvm::createStringError(llvm::formatv(
        "stage: needs {0} MiB of memory, more than the limit of {1} MiB",
        layout.floats * 4 >> 20, opts.maxArenaFloats * 4 >> 20));

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

  // Plan every convolution before any kernel runs, as emitted programs do:
  // the runtime checks its window against its input (and the CUDA backend
  // chooses its algorithm outside the timed runs).
  for (int32_t s = 0; s < streams; ++s)
    for (const OpPlan &p : plans[s]) {
      const sched::OpSignature &sig = *p.sig;
      if (sig.kind != "conv")
        continue;
      if (!rt::prepareConv2d(
              ctx, s, sig.kind.c_str(), viewAt(p.inputs[0], sig.inputShapes[0]),
              viewAt(p.output, sig.outputShape), pairAt(sig, "kernel", 0, 1),
              pairAt(sig, "kernel", 1, 1), pairAt(sig, "stride", 0, 1),
              pairAt(sig, "stride", 1, 1), pairAt(sig, "padding", 0, 0),
              pairAt(sig, "padding", 1, 0), pairAt(sig, "dilation", 0, 1),
              pairAt(sig, "dilation", 1, 1), sig.getInt("groups").value_or(1),
              *actOf(sig.getStr("act").value_or("identity")),
              /*hasBias=*/true)) {
        std::string message = rt::lastError(ctx);
        rt::destroyContext(ctx);
        return llvm::createStringError("runtime: " + message);
      }
    }

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
                     *actOf(sig.getStr("act").value_or("identity")));
        } else if (sig.kind == "pool") {
          llvm::StringRef type = sig.getStr("pool_type").value_or("max");
          bool global = type.starts_with("global");
          rt::PoolKind kind = *poolKindOf(type);
          rt::pool2d(ctx, s, name, in, out, kind,
                     global ? in.h : pairAt(sig, "kernel", 0, 1),
                     global ? in.w : pairAt(sig, "kernel", 1, 1),
                     global ? 1 : pairAt(sig, "stride", 0, 1),
                     global ? 1 : pairAt(sig, "stride", 1, 1),
                     global ? 0 : pairAt(sig, "padding", 0, 0),
                     global ? 0 : pairAt(sig, "padding", 1, 0));
        } else if (sig.kind == "activation") {
          rt::activation(ctx, s, name, in, out,
                         *actOf(sig.getStr("act_type").value_or("relu")));
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
