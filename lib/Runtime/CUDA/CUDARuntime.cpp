//===- CUDARuntime.cpp - The IOS runtime's CUDA backend -------------------===//
//
// One cudaStream_t (non-blocking) and one cudnnHandle_t per stream,
// cudaEvent_t events (record = cudaEventRecord, wait = cudaStreamWaitEvent:
// nothing synchronises the whole device inside an inference), the arena and
// the weights in device memory.
//
// Load (the emitted create()) does everything that can be done once: views
// are checked against the arena, weights resolved by name and size-checked
// (their device pointers kept), and every prepare* call makes a Kernel that
// holds what its launch needs - cuDNN descriptors, the convolution's
// algorithm and workspace size (the stream's workspace grown to it,
// stream-ordered), or a DeviceLaunch of one of Kernels.h's kernels with its
// arguments and grid fixed. Run (the emitted run()) is upload, then
// launch(id) = one virtual call that enqueues the cuDNN call or kernel(s),
// record/wait, stage markers, finishRun: no lookup by name, no string, no
// descriptor, no allocation, no algorithm query.
//
//  * Load-time copies (the arena's zeroing, weights) are stream-ordered on
//    stream 0, and each load call that copies ends by synchronizing stream
//    0: no stream of an inference can read a weight before its copy landed
//    (a pageable cudaMemcpy on the legacy stream would not order the copies
//    with the non-blocking streams at all). Packed (merged) weights are
//    built on the host and copied once, when a kernel first uses them.
//  * Convolutions: cuDNN on strided descriptors (channel slices in place).
//    The algorithm is the first result of
//    cudnnGetConvolutionForwardAlgorithm_v7 whose workspace fits the cap,
//    FP32 FMA math unless TF32 is allowed. ReLU (and the identity, where the
//    algorithm allows it) is fused with the bias in
//    cudnnConvolutionBiasActivationForward; any other bias/activation
//    epilogue is one kernel after cudnnConvolutionForward.
//  * Pooling: cudnnPoolingForward (max, average counting or excluding the
//    padding) for floor-mode windows; ceil_mode outputs (windows clipped at
//    the padded edge) are a kernel: cuDNN's pooling has fixed windows and
//    symmetric padding, and counting the padding divides by the whole
//    window.
//  * Activations relu/sigmoid/tanh and softmax: cuDNN; relu6, hardsigmoid,
//    hardswish, silu and every other op: Kernels.h.
//
// Errors: load errors are sticky (the first one kept, later load calls do
// nothing), checked by finishCreate. A kernel whose enqueue fails records
// "LAYER: KIND: call: status" for finishRun; faults inside a running kernel
// surface at finishRun's synchronization, per stream (CUDA reports them per
// stream, not per launch). Each runtime call is an NVTX range named by its
// layer (Nsight Systems shows them; the device emulator attributes its
// calls to them): the names are made at load.
//
// Options, read by createContext (docs/Runtime.md): IOS_CUDNN_TF32=1,
// IOS_CUDNN_WORKSPACE_MB, IOS_CUDA_GRAPH=1 (run() captured once into a CUDA
// graph and replayed).
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Checks.h"
#include "../Safetensors.h"
#include "Descriptors.h"
#include "Kernels.h"

#include <cuda_runtime.h>
#include <cudnn.h>
#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ios::rt {

namespace {

/// An NVTX range around one runtime call, named like its errors
/// ("conv2d#4: conv2d", "upload").
class Range {
public:
  explicit Range(const char *name) { nvtxRangePushA(name); }
  explicit Range(const std::string &name) : Range(name.c_str()) {}
  ~Range() { nvtxRangePop(); }
  Range(const Range &) = delete;
  Range &operator=(const Range &) = delete;
};

std::string cudaMessage(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

/// A failed CUDA or cuDNN call inside a launch (no string is made unless
/// one fails).
struct Failure {
  const char *call = nullptr; // null: no failure
  int status = 0;
  bool cudnn = false;
  explicit operator bool() const { return call != nullptr; }
  std::string message() const {
    return std::string(call) + ": " +
           (cudnn ? cudnnGetErrorString(cudnnStatus_t(status))
                  : cudaMessage(cudaError_t(status)));
  }
};
Failure check(cudaError_t e, const char *call) {
  return e == cudaSuccess ? Failure{} : Failure{call, int(e), false};
}
Failure check(cudnnStatus_t s, const char *call) {
  return s == CUDNN_STATUS_SUCCESS ? Failure{} : Failure{call, int(s), true};
}

/// What a kernel enqueues on: its stream, the stream's cuDNN handle and
/// workspace.
struct Lane {
  cudaStream_t stream;
  cudnnHandle_t handle;
  void *workspace;
};

constexpr float kOne = 1.0f, kZero = 0.0f;

/// A prepared kernel: everything its launch needs, made at load.
class Kernel {
public:
  virtual ~Kernel() = default;
  /// Enqueues the kernel on its lane.
  virtual Failure enqueue(const Lane &lane) const = 0;

  std::string layer, kind, range; // range: "LAYER: KIND"
  int32_t id = 0, stream = 0;
  // Profiling: events around the last launch, and its order in the run.
  cudaEvent_t start = nullptr, end = nullptr;
  int64_t order = -1;
};

/// Kernels.h launches (none: a copy onto itself).
class DeviceKernel final : public Kernel {
public:
  explicit DeviceKernel(cuda::Launch launch) : launch(std::move(launch)) {}
  Failure enqueue(const Lane &lane) const override {
    return launch ? check(launch->launch(lane.stream), "cudaLaunchKernel")
                  : Failure{};
  }
  cuda::Launch launch;
};

class ConvKernel final : public Kernel {
public:
  Failure enqueue(const Lane &lane) const override {
    void *ws = workspaceBytes ? lane.workspace : nullptr;
    const cuda::ConvDescs &d = descs;
    if (fused) // y = act(conv(x) + 0 * z + bias), z = y.
      return check(cudnnConvolutionBiasActivationForward(
                       lane.handle, &kOne, d.x, in, d.w, weight, d.conv, algo,
                       ws, workspaceBytes, &kZero, d.y, out, d.bias, bias,
                       d.act, d.y, out),
                   "cudnnConvolutionBiasActivationForward");
    if (Failure f = check(cudnnConvolutionForward(lane.handle, &kOne, d.x, in,
                                                  d.w, weight, d.conv, algo,
                                                  ws, workspaceBytes, &kZero,
                                                  d.y, out),
                          "cudnnConvolutionForward"))
      return f;
    return epilogue ? check(epilogue->launch(lane.stream),
                            "cudaLaunchKernel (bias + activation)")
                    : Failure{};
  }

  cuda::ConvDescs descs;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspaceBytes = 0;
  bool fused = false;
  cuda::Launch epilogue; // bias + activation when not fused
  const float *in = nullptr, *weight = nullptr, *bias = nullptr;
  float *out = nullptr;
};

class PoolKernel final : public Kernel {
public:
  Failure enqueue(const Lane &lane) const override {
    return check(cudnnPoolingForward(lane.handle, descs.pool, &kOne, descs.x,
                                     in, &kZero, descs.y, out),
                 "cudnnPoolingForward");
  }
  cuda::PoolDescs descs;
  const float *in = nullptr;
  float *out = nullptr;
};

class ActivationKernel final : public Kernel {
public:
  Failure enqueue(const Lane &lane) const override {
    return check(cudnnActivationForward(lane.handle, act.d, &kOne, x.d, in,
                                        &kZero, y.d ? y.d : x.d, out),
                 "cudnnActivationForward");
  }
  cuda::TensorDesc x, y; // y unset in place (x == y)
  cuda::ActivationDesc act;
  const float *in = nullptr;
  float *out = nullptr;
};

class SoftmaxKernel final : public Kernel {
public:
  Failure enqueue(const Lane &lane) const override {
    return check(cudnnSoftmaxForward(lane.handle, CUDNN_SOFTMAX_ACCURATE,
                                     CUDNN_SOFTMAX_MODE_INSTANCE, &kOne, x.d,
                                     in, &kZero, y.d ? y.d : x.d, out),
                 "cudnnSoftmaxForward");
  }
  cuda::TensorDesc x, y; // y unset in place
  const float *in = nullptr;
  float *out = nullptr;
};

constexpr size_t kDefaultWorkspaceMiB = 128;

struct Options {
  bool tf32 = false;
  size_t workspaceLimit = kDefaultWorkspaceMiB << 20;
  bool graph = false;
};

bool readFlag(const char *name, bool &flag, std::string &why) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return true;
  if (std::strcmp(v, "0") && std::strcmp(v, "1")) {
    why = std::string(name) + "='" + v + "' is not 0 or 1";
    return false;
  }
  flag = *v == '1';
  return true;
}

/// The options createContext reads from the environment; "" or why a value
/// is invalid.
std::string readOptions(Options &o) {
  std::string why;
  if (!readFlag("IOS_CUDNN_TF32", o.tf32, why) ||
      !readFlag("IOS_CUDA_GRAPH", o.graph, why))
    return why;
  if (const char *v = std::getenv("IOS_CUDNN_WORKSPACE_MB"); v && *v) {
    char *end = nullptr;
    errno = 0;
    unsigned long long mib = std::strtoull(v, &end, 10);
    if (*end || errno || *v == '-' || mib > (SIZE_MAX >> 20))
      return std::string("IOS_CUDNN_WORKSPACE_MB='") + v +
             "' is not a number of MiB";
    o.workspaceLimit = size_t(mib) << 20;
  }
  return {};
}

struct DeviceWeight {
  float *device = nullptr;
  std::vector<float> host; // what was loaded or packed
  bool dirty = false;      // packed on the host, not copied yet
  bool used = false;       // a kernel holds its device pointer
};

/// One host <-> arena copy of a binding (a strided view is one per image).
struct Transfer {
  float *device;
  int64_t hostOffset; // floats into the host tensor
  size_t bytes;
};

/// The calls of a run, in order, as the captured graph replays them.
struct Step {
  enum Kind : int32_t { Launch, Record, Wait } kind;
  int32_t a, b;
  bool operator==(const Step &o) const {
    return kind == o.kind && a == o.a && b == o.b;
  }
};

thread_local std::string createError; // lastError(nullptr)

} // namespace

class Context {
public:
  ~Context() {
    for (cudaStream_t s : streams)
      cudaStreamSynchronize(s);
    if (graphExec)
      cudaGraphExecDestroy(graphExec);
    if (graph)
      cudaGraphDestroy(graph);
    for (auto &[name, w] : weights)
      cudaFree(w.device);
    for (void *w : workspaces)
      cudaFree(w);
    for (auto &k : kernels)
      for (cudaEvent_t e : {k->start, k->end})
        if (e)
          cudaEventDestroy(e);
    kernels.clear();
    for (cudaEvent_t e : events)
      cudaEventDestroy(e);
    for (cudaEvent_t e : profileEvents)
      cudaEventDestroy(e);
    for (cudnnHandle_t h : handles)
      cudnnDestroy(h);
    for (cudaStream_t s : streams)
      cudaStreamDestroy(s);
    if (arena)
      cudaFree(arena);
  }

  //--- Errors --------------------------------------------------------------

  /// Keeps the first load error; false.
  bool failLoad(const std::string &text) {
    if (!loadFailed) {
      loadFailed = true;
      loadError = text;
    }
    return false;
  }
  bool loadOk(const std::string &what, cudaError_t e, const char *call) {
    return e == cudaSuccess ||
           failLoad(what + ": " + call + ": " + cudaMessage(e));
  }
  bool loadOk(const std::string &what, cudnnStatus_t s, const char *call) {
    return s == CUDNN_STATUS_SUCCESS ||
           failLoad(what + ": " + cuda::cudnnMessage(s, call));
  }
  /// Keeps the run's first error.
  void failRun(const std::string &text) {
    if (!runFailed) {
      runFailed = true;
      runError = text;
    }
  }

  //--- Load ----------------------------------------------------------------

  /// Waits for stream 0, where load-time copies run: what a load call
  /// copied is in place (and its host source free) when it returns.
  bool finishLoad(const std::string &what) {
    return loadOk(what, cudaStreamSynchronize(streams[0]),
                  "cudaStreamSynchronize");
  }

  /// Stores `host` as weight `name` (its device copy on stream 0); a weight
  /// a kernel uses keeps its device memory, so it may only be replaced by
  /// one of the same size.
  bool storeWeight(const std::string &what, const std::string &name,
                   std::vector<float> host, bool copyNow) {
    DeviceWeight &w = weights[name];
    if (w.device && w.host.size() != host.size()) {
      if (w.used)
        return failLoad(what + ": weight '" + name + "' changes from " +
                        std::to_string(w.host.size()) + " to " +
                        std::to_string(host.size()) +
                        " values after a kernel was prepared with it");
      cudaFree(w.device);
      w.device = nullptr;
    }
    if (!w.device &&
        !loadOk(what + ": weight '" + name + "'",
                cudaMalloc(&w.device,
                           std::max<size_t>(host.size(), 1) * sizeof(float)),
                "cudaMalloc"))
      return false;
    w.host = std::move(host);
    w.dirty = !copyNow;
    return !copyNow || copyWeight(what, name, w);
  }
  bool copyWeight(const std::string &what, const std::string &name,
                  DeviceWeight &w) {
    w.dirty = false;
    return loadOk(what + ": weight '" + name + "'",
                  cudaMemcpyAsync(w.device, w.host.data(),
                                  w.host.size() * sizeof(float),
                                  cudaMemcpyHostToDevice, streams[0]),
                  "cudaMemcpyAsync");
  }

  /// The device copy of weight `name`, of `elements` floats, for a kernel
  /// (copied now if it was packed on the host); null after a load error.
  const float *resolve(const char *layer, const char *kind, const char *name,
                       int64_t elements) {
    auto it = weights.find(name ? name : "");
    std::string why = detail::checkWeight(
        name, it == weights.end() ? nullptr : &it->second.host, elements);
    if (!why.empty()) {
      failLoad(detail::opError(layer, kind, why));
      return nullptr;
    }
    DeviceWeight &w = it->second;
    if (w.dirty && (!copyWeight(detail::opError(layer, kind, "packed"),
                                it->first, w) ||
                    !finishLoad(detail::opError(layer, kind, "packed"))))
      return nullptr;
    w.used = true;
    return w.device;
  }
  /// An optional weight (a bias): null if not named.
  bool resolveOptional(const char *layer, const char *kind, const char *name,
                       int64_t elements, const float *&out) {
    out = nullptr;
    if (!detail::named(name))
      return true;
    out = resolve(layer, kind, name, elements);
    return out != nullptr;
  }

  /// The common part of every prepare*: checks, then `make` (which may
  /// fail the load with a cuDNN/CUDA error), the kernel numbered.
  int32_t prepare(int32_t stream, const char *layer, const char *kind,
                  std::string check,
                  std::initializer_list<std::pair<const char *, View>> views,
                  const std::function<std::unique_ptr<Kernel>(
                      const std::string &what)> &make) {
    if (loadFailed)
      return -1;
    std::string name = layer && *layer ? layer : "<unnamed op>";
    Range range(name + ": prepare " + kind);
    if (stream < 0 || size_t(stream) >= streams.size())
      check = "no stream " + std::to_string(stream) + " (the context has " +
              std::to_string(streams.size()) + ")";
    for (auto &[role, v] : views)
      if (check.empty())
        check = detail::checkInArena(role, v, arena, size);
    if (!check.empty()) {
      failLoad(detail::opError(layer, kind, check));
      return -1;
    }
    // "LAYER: KIND: ", what the cuDNN/CUDA errors of `make` follow.
    std::unique_ptr<Kernel> k = make(detail::opError(layer, kind, ""));
    if (!k)
      return -1;
    k->id = int32_t(kernels.size());
    k->layer = name;
    k->kind = kind;
    k->range = name + ": " + kind;
    k->stream = stream;
    kernels.push_back(std::move(k));
    return int32_t(kernels.size() - 1);
  }

  /// A workspace of at least `bytes` for `stream`, grown in stream order.
  bool growWorkspace(int32_t stream, size_t bytes, const std::string &what) {
    if (bytes <= workspaceBytes[size_t(stream)])
      return true;
    cudaStream_t s = streams[size_t(stream)];
    void *&ws = workspaces[size_t(stream)];
    if (ws && !loadOk(what, cudaFreeAsync(ws, s), "cudaFreeAsync"))
      return false;
    ws = nullptr;
    workspaceBytes[size_t(stream)] = 0;
    if (!loadOk(what, cudaMallocAsync(&ws, bytes, s),
                "cudaMallocAsync (workspace)"))
      return false;
    workspaceBytes[size_t(stream)] = bytes;
    return true;
  }

  bool bind(std::vector<std::vector<Transfer>> &bindings, const char *what,
            int32_t index, View v) {
    if (loadFailed)
      return false;
    std::string role = std::string(what) + " " + std::to_string(index);
    std::string e = index < 0 ? role + ": a negative index"
                              : detail::checkView(role.c_str(), v);
    if (e.empty())
      e = detail::checkInArena(role.c_str(), v, arena, size);
    if (!e.empty())
      return failLoad(std::string(what) + ": " + e);
    if (size_t(index) >= bindings.size())
      bindings.resize(size_t(index) + 1);
    std::vector<Transfer> &t = bindings[size_t(index)];
    t.clear();
    int64_t image = v.c * v.h * v.w;
    if (v.n == 1 || v.batchStride == image)
      t.push_back({v.data, 0, size_t(v.n * image) * sizeof(float)});
    else
      for (int64_t i = 0; i < v.n; ++i)
        t.push_back({v.data + i * v.batchStride, i * image,
                     size_t(image) * sizeof(float)});
    return true;
  }

  //--- Run -----------------------------------------------------------------

  void enqueue(Kernel &k) {
    size_t s = size_t(k.stream);
    Lane lane{streams[s], handles[s], workspaces[s]};
    if (profiling)
      cudaEventRecord(k.start, lane.stream);
    if (Failure f = k.enqueue(lane))
      failRun(detail::opError(k.layer.c_str(), k.kind.c_str(), f.message()));
    if (profiling) {
      cudaEventRecord(k.end, lane.stream);
      k.order = launches;
    }
    ++launches;
  }

  /// The graph replays this run's calls: they must be the captured ones.
  bool replayed(Step step) {
    if (replayStep < steps.size() && steps[replayStep] == step) {
      ++replayStep;
      return true;
    }
    failRun("launch: the calls of this run differ from the ones captured "
            "into the CUDA graph (call " +
            std::to_string(replayStep) + ")");
    return true;
  }

  std::vector<cudaStream_t> streams;
  std::vector<cudnnHandle_t> handles;
  std::vector<cudaEvent_t> events;
  std::vector<void *> workspaces;
  std::vector<size_t> workspaceBytes;
  float *arena = nullptr;
  int64_t size = 0;
  Options options;
  std::map<std::string, DeviceWeight> weights;
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<std::vector<Transfer>> inputs, outputs;

  bool loadFailed = false;
  std::string loadError;
  bool runFailed = false;
  std::string runError, returned;
  int64_t launches = 0; // kernels launched in this run

  // CUDA graph (IOS_CUDA_GRAPH=1): the first run is captured, later runs
  // replay it.
  enum class GraphState { Off, Capture, Capturing, Replay } graphState =
      GraphState::Off;
  std::vector<Step> steps; // what the capture recorded
  size_t replayStep = 0;
  bool replaying = false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graphExec = nullptr;

  // Profiling: events made by setProfiling, recorded by launch() and
  // stage(), read by profile().
  bool profiling = false;
  std::vector<cudaEvent_t> profileEvents; // [0]: upload, [1]: finishRun,
                                          // then one per stage() of a run
  std::vector<int32_t> stageIndex;        // of each stage() of the run
  size_t stagesTimed = 0, stagesSeen = 0;
  bool profiled = false; // the last run was profiled
  std::vector<ProfileEntry> entries;
  std::vector<std::string> stageNames;
};

//===----------------------------------------------------------------------===//
// Load
//===----------------------------------------------------------------------===//

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats) {
  Range range("createContext");
  auto *ctx = new Context();
  const std::string what = "createContext";
  int devices = 0;
  if (cudaError_t e = cudaGetDeviceCount(&devices); e != cudaSuccess) {
    ctx->failLoad("no CUDA device: cudaGetDeviceCount: " + cudaMessage(e));
    return ctx;
  }
  if (devices == 0) {
    ctx->failLoad("no CUDA device: cudaGetDeviceCount found none");
    return ctx;
  }
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0) {
    ctx->failLoad("createContext: needs at least one stream and "
                  "non-negative event and arena sizes");
    return ctx;
  }
  if (std::string why = readOptions(ctx->options); !why.empty()) {
    ctx->failLoad("createContext: " + why);
    return ctx;
  }
  for (int32_t i = 0; i < numStreams; ++i) {
    cudaStream_t s = nullptr;
    cudnnHandle_t h = nullptr;
    if (!ctx->loadOk(what,
                     cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                     "cudaStreamCreateWithFlags"))
      return ctx;
    ctx->streams.push_back(s);
    ctx->workspaces.push_back(nullptr);
    ctx->workspaceBytes.push_back(0);
    if (!ctx->loadOk(what, cudnnCreate(&h), "cudnnCreate"))
      return ctx;
    ctx->handles.push_back(h);
    if (!ctx->loadOk(what, cudnnSetStream(h, s), "cudnnSetStream"))
      return ctx;
  }
  for (int32_t i = 0; i < numEvents; ++i) {
    cudaEvent_t ev = nullptr;
    if (!ctx->loadOk(what,
                     cudaEventCreateWithFlags(&ev, cudaEventDisableTiming),
                     "cudaEventCreateWithFlags"))
      return ctx;
    ctx->events.push_back(ev);
  }
  size_t bytes = size_t(std::max<int64_t>(arenaFloats, 1)) * sizeof(float);
  if (!ctx->loadOk(what, cudaMalloc(&ctx->arena, bytes), "cudaMalloc (arena)"))
    return ctx;
  ctx->size = arenaFloats;
  if (ctx->loadOk(what,
                  cudaMemsetAsync(ctx->arena, 0, bytes, ctx->streams[0]),
                  "cudaMemsetAsync (arena)"))
    ctx->finishLoad(what);
  if (ctx->options.graph)
    ctx->graphState = Context::GraphState::Capture;
  return ctx;
}

void destroyContext(Context *ctx) {
  Range range("destroyContext");
  delete ctx;
}

bool ok(Context *ctx) { return ctx && !ctx->loadFailed; }

const char *lastError(Context *ctx) {
  if (!ctx)
    return createError.c_str();
  ctx->returned = ctx->loadFailed ? ctx->loadError : ctx->runError;
  return ctx->returned.c_str();
}

static bool storeTensors(Context *ctx, const std::string &what,
                         std::map<std::string, detail::HostTensor> &tensors) {
  for (auto &[name, t] : tensors)
    if (!ctx->storeWeight(what, name, std::move(t.data), true))
      return false;
  return ctx->finishLoad(what);
}

bool loadWeights(Context *ctx, const char *path) {
  if (ctx->loadFailed)
    return false;
  Range range("loadWeights");
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!path || !detail::readSafetensors(path, tensors, error))
    return ctx->failLoad("loadWeights: " + (path ? error : "no path"));
  return storeTensors(ctx, "loadWeights", tensors);
}

bool loadWeightsFromMemory(Context *ctx, const void *data, size_t size) {
  if (ctx->loadFailed)
    return false;
  Range range("loadWeightsFromMemory");
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!detail::readSafetensors(data, size, tensors, error))
    return ctx->failLoad("loadWeightsFromMemory: " + error);
  return storeTensors(ctx, "loadWeightsFromMemory", tensors);
}

bool addWeight(Context *ctx, const char *name, const float *data,
               int64_t count) {
  if (ctx->loadFailed)
    return false;
  Range range("addWeight");
  if (!name || !*name || count < 0 || (count > 0 && !data))
    return ctx->failLoad("addWeight: needs a name and " +
                         std::to_string(count) + " values");
  return ctx->storeWeight("addWeight", name,
                          std::vector<float>(data, data + count), true) &&
         ctx->finishLoad("addWeight");
}

/// The packed tensor's current host values (zeros if new), or false.
static bool packTarget(Context *ctx, const std::string &what,
                       const char *name, int64_t size,
                       std::vector<float> &values) {
  auto it = ctx->weights.find(name);
  if (it == ctx->weights.end()) {
    values.assign(size_t(size), 0.0f);
    return true;
  }
  if (int64_t(it->second.host.size()) != size)
    return ctx->failLoad(what + ": exists with " +
                         std::to_string(it->second.host.size()) +
                         " values, expected " + std::to_string(size));
  values = std::move(it->second.host);
  return true;
}

/// The source of a pack, or null (the load failed).
static const std::vector<float> *packSource(Context *ctx,
                                            const std::string &what,
                                            const char *source,
                                            int64_t elements) {
  auto it = ctx->weights.find(source ? source : "");
  std::string why = detail::checkWeight(
      source, it == ctx->weights.end() ? nullptr : &it->second.host,
      elements);
  if (!why.empty()) {
    ctx->failLoad(what + ": " + why);
    return nullptr;
  }
  return &it->second.host;
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw, int64_t top, int64_t left) {
  if (ctx->loadFailed)
    return false;
  Range range("packConvWeight");
  std::string what = std::string("packConvWeight '") + (name ? name : "") +
                     "' <- '" + (source ? source : "") + "'";
  if (!name || !*name)
    return ctx->failLoad(what + ": no name");
  if (std::string why =
          detail::checkPackConv(totalOut, inChannels, kh, kw, outOffset, out,
                                srcKh, srcKw, top, left);
      !why.empty())
    return ctx->failLoad(what + ": " + why);
  const std::vector<float> *src =
      packSource(ctx, what, source, out * inChannels * srcKh * srcKw);
  std::vector<float> packed;
  if (!src || !packTarget(ctx, what, name, totalOut * inChannels * kh * kw,
                          packed))
    return false;
  detail::packConvInto(packed.data(), src->data(), inChannels, kh, kw,
                       outOffset, out, srcKh, srcKw, top, left);
  // On the host only: copied once, when a kernel resolves it.
  return ctx->storeWeight(what, name, std::move(packed), false);
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  if (ctx->loadFailed)
    return false;
  Range range("packBias");
  std::string what = std::string("packBias '") + (name ? name : "") +
                     "' <- '" + (source ? source : "") + "'";
  if (!name || !*name)
    return ctx->failLoad(what + ": no name");
  if (std::string why = detail::checkPackBias(total, offset, size);
      !why.empty())
    return ctx->failLoad(what + ": " + why);
  const std::vector<float> *src = packSource(ctx, what, source, size);
  std::vector<float> packed;
  if (!src || !packTarget(ctx, what, name, total, packed))
    return false;
  std::copy(src->begin(), src->end(), packed.begin() + offset);
  return ctx->storeWeight(what, name, std::move(packed), false);
}

View view(Context *ctx, int64_t offset, int64_t n, int64_t c, int64_t h,
          int64_t w, int64_t batchStride) {
  View none{nullptr, n, c, h, w, batchStride};
  if (ctx->loadFailed)
    return none;
  if (std::string why = detail::checkArenaView(offset, n, c, h, w,
                                               batchStride, ctx->size);
      !why.empty()) {
    ctx->failLoad(why);
    return none;
  }
  return View{ctx->arena + offset, n, c, h, w, batchStride};
}

bool bindInput(Context *ctx, int32_t index, View v) {
  return ctx->bind(ctx->inputs, "bindInput", index, v);
}

bool bindOutput(Context *ctx, int32_t index, View v) {
  return ctx->bind(ctx->outputs, "bindOutput", index, v);
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

namespace {

/// The cuDNN output shape of a convolution's descriptors, compared with the
/// view (the runtime's shape rule and cuDNN's must agree).
std::string checkCudnnShape(const cuda::ConvDescs &d, View out) {
  int dims[4];
  if (std::string e = cuda::convOutputDims(d, dims); !e.empty())
    return e;
  if (dims[0] == out.n && dims[1] == out.c && dims[2] == out.h &&
      dims[3] == out.w)
    return {};
  return "cuDNN's output shape " + std::to_string(dims[0]) + "x" +
         std::to_string(dims[1]) + "x" + std::to_string(dims[2]) + "x" +
         std::to_string(dims[3]) + " differs from the output " +
         detail::describe(out);
}

/// Chooses the algorithm: the heuristics' first result that succeeds, is
/// FP32 FMA math unless TF32 is allowed, and needs no more workspace than
/// the cap (both what the result says and what
/// cudnnGetConvolutionForwardWorkspaceSize says for the math type set).
std::string chooseAlgorithm(const Options &o, cudnnHandle_t h,
                            ConvKernel &k) {
  const cuda::ConvDescs &d = k.descs;
  if (std::string e = cuda::cudnnMessage(
          cudnnSetConvolutionMathType(
              d.conv, o.tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH),
          "cudnnSetConvolutionMathType");
      !e.empty())
    return e;
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  if (std::string e = cuda::cudnnMessage(
          cudnnGetConvolutionForwardAlgorithm_v7(
              h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
              &found, perf),
          "cudnnGetConvolutionForwardAlgorithm_v7");
      !e.empty())
    return e;
  for (int i = 0; i < found; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t &p = perf[i];
    bool tensorOps = p.mathType == CUDNN_TENSOR_OP_MATH ||
                     p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (p.status != CUDNN_STATUS_SUCCESS || (tensorOps && !o.tf32) ||
        p.memory > o.workspaceLimit)
      continue;
    // FP32 without TF32 is CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would let
    // Ampere and later GPUs use TF32); with TF32 allowed, the result's own.
    cudnnMathType_t math = o.tf32 ? p.mathType : CUDNN_FMA_MATH;
    size_t bytes = 0;
    if (cudnnSetConvolutionMathType(d.conv, math) != CUDNN_STATUS_SUCCESS ||
        cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                p.algo, &bytes) !=
            CUDNN_STATUS_SUCCESS ||
        bytes > o.workspaceLimit)
      continue;
    k.algo = p.algo;
    k.workspaceBytes = bytes;
    return {};
  }
  return std::string("cuDNN offers no ") + (o.tf32 ? "" : "FP32 (FMA) ") +
         "algorithm within the workspace cap of " +
         std::to_string(o.workspaceLimit >> 20) +
         " MiB (IOS_CUDNN_WORKSPACE_MB)";
}

} // namespace

int32_t prepareConv2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight, const char *bias,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                      int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                      int64_t groups, Act act) {
  detail::ConvShape s{kh, kw, sh, sw, ph, pw, dh, dw, groups};
  std::string check = detail::checkConv(in, out, s);
  if (check.empty())
    check = detail::checkAct(act);
  return ctx->prepare(
      stream, layer, "conv2d", check, {{"input", in}, {"output", out}},
      [&](const std::string &what) -> std::unique_ptr<Kernel> {
        auto k = std::make_unique<ConvKernel>();
        k->weight = ctx->resolve(layer, "conv2d", weight,
                                 detail::convWeightElements(in, out, s));
        if (!k->weight ||
            !ctx->resolveOptional(layer, "conv2d", bias, out.c, k->bias))
          return nullptr;
        std::string e = cuda::makeConvDescs(k->descs, in, out, s, act);
        if (e.empty())
          e = checkCudnnShape(k->descs, out);
        if (e.empty())
          e = chooseAlgorithm(ctx->options, ctx->handles[size_t(stream)], *k);
        if (!e.empty()) {
          ctx->failLoad(what + e);
          return nullptr;
        }
        // cudnnConvolutionBiasActivationForward: ReLU with any algorithm;
        // the identity only with IMPLICIT_PRECOMP_GEMM (cuDNN's rule).
        k->fused =
            k->bias &&
            (act == ActRelu ||
             (act == ActNone &&
              k->algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM));
        if (!k->fused && (k->bias || act != ActNone))
          k->epilogue = cuda::makeBiasActivation(out, k->bias, act);
        k->in = in.data;
        k->out = out.data;
        if (k->workspaceBytes &&
            !ctx->growWorkspace(stream, k->workspaceBytes, what + "workspace"))
          return nullptr;
        return k;
      });
}

int32_t preparePool2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, PoolKind kind, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                      int64_t pw, bool countIncludePad) {
  std::string check = detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
  return ctx->prepare(
      stream, layer, "pool2d", check, {{"input", in}, {"output", out}},
      [&](const std::string &what) -> std::unique_ptr<Kernel> {
        detail::PoolShape p =
            detail::PoolShape::of(in, kind, kh, kw, sh, sw, ph, pw);
        bool max = kind == PoolMax || kind == PoolGlobalMax;
        // A ceil_mode overhang: windows clipped at the padded edge, which
        // cuDNN's fixed windows and symmetric padding cannot express.
        if (p.padBottom(in, out) > p.ph || p.padRight(in, out) > p.pw)
          return std::make_unique<DeviceKernel>(
              cuda::makePool(in, out, max, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw,
                             countIncludePad));
        auto k = std::make_unique<PoolKernel>();
        if (std::string e = cuda::makePoolDescs(
                k->descs, in, out, max, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw,
                countIncludePad);
            !e.empty()) {
          ctx->failLoad(what + e);
          return nullptr;
        }
        k->in = in.data;
        k->out = out.data;
        return k;
      });
}

int32_t prepareActivation(Context *ctx, int32_t stream, const char *layer,
                          View in, View out, Act act) {
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = detail::checkAct(act);
  return ctx->prepare(
      stream, layer, "activation", check, {{"input", in}, {"output", out}},
      [&](const std::string &what) -> std::unique_ptr<Kernel> {
        bool inPlace = detail::sameElements(in, out);
        if (act == ActNone)
          return std::make_unique<DeviceKernel>(
              inPlace ? nullptr : cuda::makeCopy(in, out));
        if (act != ActRelu && act != ActSigmoid && act != ActTanh)
          return std::make_unique<DeviceKernel>(
              cuda::makeActivation(in, out, act));
        auto k = std::make_unique<ActivationKernel>();
        // In place, x and y are one descriptor (cuDNN's rule).
        std::string e = cuda::makeTensorDesc(k->x, in, "input");
        if (e.empty() && !inPlace)
          e = cuda::makeTensorDesc(k->y, out, "output");
        if (e.empty())
          e = cuda::makeActivationDesc(k->act, act);
        if (!e.empty()) {
          ctx->failLoad(what + e);
          return nullptr;
        }
        k->in = in.data;
        k->out = out.data;
        return k;
      });
}

int32_t prepareAdd(Context *ctx, int32_t stream, const char *layer, View out,
                   int32_t count, const View *in) {
  std::string check = detail::checkBroadcast(out, count, in);
  std::vector<View> operands(in, in + (check.empty() ? count : 0));
  return ctx->prepare(
      stream, layer, "add", check, {{"output", out}},
      [&](const std::string &what) -> std::unique_ptr<Kernel> {
        for (const View &v : operands)
          if (std::string e = detail::checkInArena("an operand", v,
                                                   ctx->arena, ctx->size);
              !e.empty()) {
            ctx->failLoad(what + e);
            return nullptr;
          }
        return std::make_unique<DeviceKernel>(
            cuda::makeAdd(out, count, operands.data()));
      });
}

int32_t prepareMul(Context *ctx, int32_t stream, const char *layer, View a,
                   View b, View out) {
  const View ins[] = {a, b};
  std::string check = detail::checkBroadcast(out, 2, ins);
  return ctx->prepare(
      stream, layer, "mul", check, {{"lhs", a}, {"rhs", b}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        return std::make_unique<DeviceKernel>(cuda::makeMul(a, b, out));
      });
}

int32_t prepareAffine(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *scale,
                      const char *shift) {
  std::string check = detail::checkElementwise(out, 1, &in);
  return ctx->prepare(
      stream, layer, "affine", check, {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        const float *sc = ctx->resolve(layer, "affine", scale, in.c);
        const float *sh = sc ? ctx->resolve(layer, "affine", shift, in.c)
                             : nullptr;
        if (!sh)
          return nullptr;
        return std::make_unique<DeviceKernel>(
            cuda::makeAffine(in, out, sc, sh));
      });
}

int32_t preparePad(Context *ctx, int32_t stream, const char *layer, View in,
                   View out, int64_t top, int64_t left, int64_t bottom,
                   int64_t right, float value) {
  std::string check = detail::checkPad(in, out, top, left, bottom, right);
  return ctx->prepare(
      stream, layer, "pad", check, {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        return std::make_unique<DeviceKernel>(
            cuda::makePad(in, out, top, left, value));
      });
}

int32_t prepareUpsample(Context *ctx, int32_t stream, const char *layer,
                        View in, View out) {
  return ctx->prepare(
      stream, layer, "upsample", detail::checkUpsample(in, out),
      {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        return std::make_unique<DeviceKernel>(cuda::makeUpsample(in, out));
      });
}

int32_t prepareChannelShuffle(Context *ctx, int32_t stream,
                              const char *layer, View in, View out,
                              int64_t groups) {
  return ctx->prepare(
      stream, layer, "channel_shuffle",
      detail::checkChannelShuffle(in, out, groups),
      {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        return std::make_unique<DeviceKernel>(
            cuda::makeChannelShuffle(in, out, groups));
      });
}

int32_t prepareCopy(Context *ctx, int32_t stream, const char *layer, View in,
                    View out) {
  return ctx->prepare(
      stream, layer, "copy", detail::checkElementwise(out, 1, &in),
      {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        return std::make_unique<DeviceKernel>(
            detail::sameElements(in, out) ? nullptr : cuda::makeCopy(in, out));
      });
}

int32_t prepareLinear(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight,
                      const char *bias) {
  return ctx->prepare(
      stream, layer, "linear", detail::checkLinear(in, out),
      {{"input", in}, {"output", out}},
      [&](const std::string &) -> std::unique_ptr<Kernel> {
        int64_t k = in.c * in.h * in.w;
        const float *w = ctx->resolve(layer, "linear", weight, out.c * k);
        const float *b = nullptr;
        if (!w || !ctx->resolveOptional(layer, "linear", bias, out.c, b))
          return nullptr;
        return std::make_unique<DeviceKernel>(cuda::makeLinear(in, out, w, b));
      });
}

int32_t prepareSoftmax(Context *ctx, int32_t stream, const char *layer,
                       View in, View out) {
  return ctx->prepare(
      stream, layer, "softmax", detail::checkSoftmax(in, out),
      {{"input", in}, {"output", out}},
      [&](const std::string &what) -> std::unique_ptr<Kernel> {
        // N x F x 1 x 1: the softmax runs over each image's features.
        View x{in.data, in.n, in.c * in.h * in.w, 1, 1, in.batchStride};
        View y{out.data, out.n, out.c * out.h * out.w, 1, 1, out.batchStride};
        auto k = std::make_unique<SoftmaxKernel>();
        std::string e = cuda::makeTensorDesc(k->x, x, "input");
        if (e.empty() && !detail::sameElements(in, out))
          e = cuda::makeTensorDesc(k->y, y, "output");
        if (!e.empty()) {
          ctx->failLoad(what + e);
          return nullptr;
        }
        k->in = in.data;
        k->out = out.data;
        return k;
      });
}

void *finishCreate(Context *ctx) {
  Range range("finishCreate");
  // Every stream's load work (workspace allocations are stream-ordered on
  // their kernel's stream) is finished before the first inference: a CUDA
  // graph replays on streams of its own, ordered only after stream 0.
  bool synced = ctx && !ctx->loadFailed;
  for (size_t i = 0; synced && i < ctx->streams.size(); ++i)
    synced = ctx->loadOk("finishCreate: stream " + std::to_string(i),
                         cudaStreamSynchronize(ctx->streams[i]),
                         "cudaStreamSynchronize");
  if (synced)
    return ctx;
  createError = ctx ? ctx->loadError : "finishCreate: no context";
  destroyContext(ctx);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Run
//===----------------------------------------------------------------------===//

void upload(Context *ctx, const float *const *inputs) {
  Range range("upload");
  ctx->runFailed = false;
  ctx->runError.clear();
  ctx->launches = 0;
  ctx->replayStep = 0;
  ctx->stagesSeen = ctx->stagesTimed = 0;
  ctx->profiled = ctx->profiling;
  if (ctx->profiling)
    for (auto &k : ctx->kernels)
      k->order = -1;
  if (ctx->loadFailed) {
    ctx->failRun("upload: the context failed to load: " + ctx->loadError);
    return;
  }
  if (!inputs && !ctx->inputs.empty()) {
    ctx->failRun("upload: " + std::to_string(ctx->inputs.size()) +
                 " input(s) bound, none given");
    return;
  }
  cudaStream_t s0 = ctx->streams[0];
  if (ctx->profiling)
    cudaEventRecord(ctx->profileEvents[0], s0);
  for (size_t i = 0; i < ctx->inputs.size(); ++i)
    for (const Transfer &t : ctx->inputs[i])
      if (cudaError_t e = cudaMemcpyAsync(t.device, inputs[i] + t.hostOffset,
                                          t.bytes, cudaMemcpyHostToDevice, s0);
          e != cudaSuccess)
        ctx->failRun("upload: input " + std::to_string(i) +
                     ": cudaMemcpyAsync: " + cudaMessage(e));
  using State = Context::GraphState;
  ctx->replaying = false;
  if (ctx->profiling || ctx->runFailed)
    return; // profiled runs launch one by one
  if (ctx->graphState == State::Replay) {
    ctx->replaying = true;
  } else if (ctx->graphState == State::Capture) {
    // The copies above stay outside the graph: it starts here.
    if (cudaError_t e = cudaStreamBeginCapture(
            s0, cudaStreamCaptureModeThreadLocal);
        e != cudaSuccess)
      ctx->failRun("upload: cudaStreamBeginCapture: " + cudaMessage(e));
    else
      ctx->graphState = State::Capturing;
  }
}

void launch(Context *ctx, int32_t kernel) {
  if (kernel < 0 || size_t(kernel) >= ctx->kernels.size()) {
    ctx->failRun("launch: no kernel " + std::to_string(kernel) + " (" +
                 std::to_string(ctx->kernels.size()) + " prepared)");
    return;
  }
  if (ctx->replaying && ctx->replayed({Step::Launch, kernel, 0}))
    return;
  if (ctx->graphState == Context::GraphState::Capturing)
    ctx->steps.push_back({Step::Launch, kernel, 0});
  Kernel &k = *ctx->kernels[size_t(kernel)];
  Range range(k.range.c_str());
  ctx->enqueue(k);
}

static bool eventAndStream(Context *ctx, const char *what, int32_t event,
                           int32_t stream) {
  if (event >= 0 && size_t(event) < ctx->events.size() && stream >= 0 &&
      size_t(stream) < ctx->streams.size())
    return true;
  ctx->failRun(std::string(what) + ": no event " + std::to_string(event) +
               " or no stream " + std::to_string(stream) + " (the context has " +
               std::to_string(ctx->events.size()) + " and " +
               std::to_string(ctx->streams.size()) + ")");
  return false;
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (!eventAndStream(ctx, "record", event, stream) ||
      (ctx->replaying && ctx->replayed({Step::Record, event, stream})))
    return;
  if (ctx->graphState == Context::GraphState::Capturing)
    ctx->steps.push_back({Step::Record, event, stream});
  Range range("record");
  if (cudaError_t e = cudaEventRecord(ctx->events[size_t(event)],
                                      ctx->streams[size_t(stream)]);
      e != cudaSuccess)
    ctx->failRun("record: cudaEventRecord: " + cudaMessage(e));
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  if (!eventAndStream(ctx, "wait", event, stream) ||
      (ctx->replaying && ctx->replayed({Step::Wait, event, stream})))
    return;
  if (ctx->graphState == Context::GraphState::Capturing)
    ctx->steps.push_back({Step::Wait, event, stream});
  Range range("wait");
  if (cudaError_t e = cudaStreamWaitEvent(ctx->streams[size_t(stream)],
                                          ctx->events[size_t(event)], 0);
      e != cudaSuccess)
    ctx->failRun("wait: cudaStreamWaitEvent: " + cudaMessage(e));
}

void stage(Context *ctx, int32_t index) {
  // Where the stage's launches begin, for Nsight Systems (and the device
  // emulator's trace); free when no NVTX tool is attached.
  char mark[32];
  std::snprintf(mark, sizeof mark, "stage %d", int(index));
  nvtxMarkA(mark);
  if (!ctx->profiling)
    return;
  // Stage j of the run starts when stream 0 reaches its marker; the pool
  // holds as many stage events as setProfiling sized it for.
  size_t j = ctx->stagesSeen++;
  if (2 + j >= ctx->profileEvents.size())
    return;
  ctx->stageIndex[j] = index;
  ++ctx->stagesTimed;
  cudaEventRecord(ctx->profileEvents[2 + j], ctx->streams[0]);
}

int32_t finishRun(Context *ctx, float *const *outputs) {
  Range range("finishRun");
  cudaStream_t s0 = ctx->streams.empty() ? nullptr : ctx->streams[0];
  using State = Context::GraphState;
  if (ctx->replaying) {
    if (ctx->replayStep != ctx->steps.size())
      ctx->failRun("finishRun: this run made " +
                   std::to_string(ctx->replayStep) + " of the " +
                   std::to_string(ctx->steps.size()) +
                   " calls captured into the CUDA graph");
    else if (cudaError_t e = cudaGraphLaunch(ctx->graphExec, s0);
             e != cudaSuccess)
      ctx->failRun("finishRun: cudaGraphLaunch: " + cudaMessage(e));
  } else if (ctx->graphState == State::Capturing) {
    // The capture ends here; later runs replay it (the output copies below
    // stay outside).
    cudaError_t e = cudaStreamEndCapture(s0, &ctx->graph);
    if (e == cudaSuccess && !ctx->runFailed)
      e = cudaGraphInstantiate(&ctx->graphExec, ctx->graph, 0);
    if (e == cudaSuccess && !ctx->runFailed)
      e = cudaGraphLaunch(ctx->graphExec, s0);
    if (e != cudaSuccess)
      ctx->failRun("finishRun: capturing the CUDA graph: " + cudaMessage(e));
    ctx->graphState = e == cudaSuccess && !ctx->runFailed ? State::Replay
                                                          : State::Off;
  }
  ctx->replaying = false;
  if (!ctx->loadFailed && ctx->profiled)
    cudaEventRecord(ctx->profileEvents[1], s0);
  if (!ctx->outputs.empty() && !outputs)
    ctx->failRun("finishRun: " + std::to_string(ctx->outputs.size()) +
                 " output(s) bound, none given");
  else if (!ctx->loadFailed)
    for (size_t i = 0; i < ctx->outputs.size(); ++i)
      for (const Transfer &t : ctx->outputs[i])
        if (cudaError_t e =
                cudaMemcpyAsync(outputs[i] + t.hostOffset, t.device, t.bytes,
                                cudaMemcpyDeviceToHost, s0);
            e != cudaSuccess)
          ctx->failRun("finishRun: output " + std::to_string(i) +
                       ": cudaMemcpyAsync: " + cudaMessage(e));
  for (size_t i = 0; i < ctx->streams.size(); ++i)
    if (cudaError_t e = cudaStreamSynchronize(ctx->streams[i]);
        e != cudaSuccess)
      ctx->failRun("finishRun: stream " + std::to_string(i) + ": " +
                   cudaMessage(e));
  return ctx->runFailed ? 0 : 1;
}

//===----------------------------------------------------------------------===//
// Profiling
//===----------------------------------------------------------------------===//

void setProfiling(Context *ctx, bool on) {
  Range range("setProfiling");
  if (!on || ctx->loadFailed || !ctx->profileEvents.empty()) {
    ctx->profiling = on && !ctx->loadFailed;
    return;
  }
  // Events with timing, made once: two per kernel, the run's start and
  // end, and one per stage marker (a stage launches at least one kernel,
  // so twice as many as kernels, plus some, covers any program the
  // compiler emits; stages past the pool are left out of profile()).
  auto make = [&](cudaEvent_t &e) {
    if (cudaError_t s = cudaEventCreate(&e); s != cudaSuccess) {
      ctx->failRun("setProfiling: cudaEventCreate: " + cudaMessage(s));
      e = nullptr;
      return false;
    }
    return true;
  };
  size_t stages = 2 * ctx->kernels.size() + 16;
  ctx->profileEvents.assign(2 + stages, nullptr);
  ctx->stageIndex.assign(stages, -1);
  bool good = true;
  for (cudaEvent_t &e : ctx->profileEvents)
    good = good && make(e);
  for (auto &k : ctx->kernels)
    good = good && make(k->start) && make(k->end);
  ctx->profiling = good;
}

int32_t profile(Context *ctx, const ProfileEntry **entries) {
  Range range("profile");
  ctx->entries.clear();
  if (entries)
    *entries = nullptr;
  if (!ctx->profiled || ctx->runFailed)
    return 0;
  cudaEvent_t base = ctx->profileEvents[0];
  auto since = [&](cudaEvent_t e, double &ms) {
    float t = 0;
    if (cudaError_t s = cudaEventElapsedTime(&t, base, e); s != cudaSuccess) {
      ctx->failRun("profile: cudaEventElapsedTime: " + cudaMessage(s));
      return false;
    }
    ms = t;
    return true;
  };
  // Kernels in launch order per stream, then stages.
  std::vector<const Kernel *> launched;
  for (auto &k : ctx->kernels)
    if (k->order >= 0)
      launched.push_back(k.get());
  std::sort(launched.begin(), launched.end(),
            [](const Kernel *a, const Kernel *b) {
              return a->stream != b->stream ? a->stream < b->stream
                                            : a->order < b->order;
            });
  for (const Kernel *k : launched) {
    ProfileEntry e{k->layer.c_str(), k->stream, k->id, 0.0, 0.0};
    if (!since(k->start, e.startMs) || !since(k->end, e.endMs))
      return 0;
    ctx->entries.push_back(e);
  }
  ctx->stageNames.resize(ctx->stagesTimed);
  for (size_t j = 0; j < ctx->stagesTimed; ++j) {
    ctx->stageNames[j] = "stage " + std::to_string(ctx->stageIndex[j]);
    ProfileEntry e{nullptr, 0, -1, 0.0, 0.0};
    cudaEvent_t next = j + 1 < ctx->stagesTimed ? ctx->profileEvents[3 + j]
                                                : ctx->profileEvents[1];
    if (!since(ctx->profileEvents[2 + j], e.startMs) || !since(next, e.endMs))
      return 0;
    ctx->entries.push_back(e);
  }
  for (size_t j = 0; j < ctx->stagesTimed; ++j)
    ctx->entries[ctx->entries.size() - ctx->stagesTimed + j].layer =
        ctx->stageNames[j].c_str();
  if (entries)
    *entries = ctx->entries.data();
  return int32_t(ctx->entries.size());
}

} // namespace ios::rt
