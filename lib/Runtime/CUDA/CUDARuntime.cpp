//===- CUDARuntime.cpp - The IOS runtime's CUDA backend -------------------===//
//
// One cudaStream_t (non-blocking) and one cudnnHandle_t per stream,
// cudaEvent_t events (record = cudaEventRecord, wait = cudaStreamWaitEvent:
// nothing synchronises the whole device inside an inference), the arena and
// the weights in device memory.
//
//  * Load: the arena's zeroing and every weight copy are stream-ordered on
//    stream 0, and each load call (createContext, loadWeights,
//    packConvWeight, packBias) ends by synchronizing stream 0, so no stream
//    of an inference can read a weight before its copy landed (a pageable
//    cudaMemcpy on the legacy stream would not order the copies with the
//    non-blocking streams at all).
//  * Convolutions: cuDNN on strided descriptors (channel slices in place).
//    prepareConv2d plans each (stream, configuration) at load:
//    descriptors, the algorithm (the first result of
//    cudnnGetConvolutionForwardAlgorithm_v7 whose workspace fits the cap,
//    FP32 FMA math unless TF32 is allowed), its workspace (the stream's,
//    grown stream-ordered with cudaFreeAsync/cudaMallocAsync). conv2d only
//    looks its plan up: an unprepared convolution is an error, nothing is
//    planned inside an inference. ReLU (and the identity, where the
//    algorithm allows it) is fused with the bias through
//    cudnnConvolutionBiasActivationForward; sigmoid/tanh are a separate
//    cudnnActivationForward.
//  * Pooling: cudnnPoolingForward (max; average counting the padding).
//  * Activation, softmax: cuDNN; add, mul, copy, linear: Kernels.cu.
//  * The pools', activations' and softmaxes' descriptors are made at the
//    first use of their layout and kept: an inference after the first makes
//    no descriptor calls.
//
// Every op is checked on the host first (../Checks.h, the CPU backend's
// rules), and every CUDA/cuDNN status is checked and reported with the op's
// name. Faults inside a running kernel surface at the next synchronize()
// (cudaStreamSynchronize's status), without an op name: CUDA reports them
// per stream, not per launch. Each runtime call is an NVTX range named by
// its op (Nsight Systems shows them; the test-only device emulator
// attributes CUDA calls to them).
//
// Options, read by createContext (docs/Runtime.md): IOS_CUDNN_TF32=1 lets
// convolutions use TF32 tensor cores (off by default: results then match
// the CPU backend within 1e-4); IOS_CUDNN_WORKSPACE_MB caps one
// convolution's workspace (default 128 MiB).
//
// Hosts without a GPU: createContext fails with "no CUDA device: ...".
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
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ios::rt {

namespace {

/// An NVTX range around one runtime call, named like its errors ("conv2d#4:
/// conv2d", "upload"): what Nsight Systems shows on a GPU, and what the
/// test-only device emulator attributes each CUDA and cuDNN call to.
class Range {
public:
  explicit Range(const std::string &name) { nvtxRangePushA(name.c_str()); }
  ~Range() { nvtxRangePop(); }
  Range(const Range &) = delete;
  Range &operator=(const Range &) = delete;
};

std::string opRange(const char *name, const char *kind) {
  return std::string(name ? name : "<unnamed op>") + ": " + kind;
}

std::string cudaMessage(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

/// A convolution's plan, made by prepareConv2d for one stream and
/// configuration.
struct ConvPlan {
  cuda::ConvDescs descs;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnMathType_t math = CUDNN_FMA_MATH;
  size_t workspaceBytes = 0;
  bool fused = false; // bias + activation in cudnnConvolutionBiasActivationForward
};

constexpr size_t kDefaultWorkspaceMiB = 128;

/// The options createContext reads from the environment; "" or why a value
/// is invalid.
std::string readOptions(bool &tf32, size_t &workspaceLimit) {
  if (const char *v = std::getenv("IOS_CUDNN_TF32"); v && *v) {
    if (std::strcmp(v, "0") && std::strcmp(v, "1"))
      return std::string("IOS_CUDNN_TF32='") + v + "' is not 0 or 1";
    tf32 = *v == '1';
  }
  if (const char *v = std::getenv("IOS_CUDNN_WORKSPACE_MB"); v && *v) {
    char *end = nullptr;
    errno = 0;
    unsigned long long mib = std::strtoull(v, &end, 10);
    if (*end || errno || *v == '-' || mib > (SIZE_MAX >> 20))
      return std::string("IOS_CUDNN_WORKSPACE_MB='") + v +
             "' is not a number of MiB";
    workspaceLimit = size_t(mib) << 20;
  }
  return {};
}

struct DeviceWeight {
  float *device = nullptr;
  std::vector<float> host; // for packing merged weights at load
};

} // namespace

class Context {
public:
  ~Context() {
    for (cudaStream_t s : streams)
      cudaStreamSynchronize(s);
    for (auto &[name, w] : weights)
      cudaFree(w.device);
    for (void *w : workspaces)
      cudaFree(w);
    for (cudaEvent_t e : events)
      cudaEventDestroy(e);
    plans.clear();
    tensorDescs.clear();
    activationDescs.clear();
    poolDescs.clear();
    for (cudnnHandle_t h : handles)
      cudnnDestroy(h);
    for (cudaStream_t s : streams)
      cudaStreamDestroy(s);
    if (arena)
      cudaFree(arena);
  }

  bool error(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    message = text;
    return false;
  }
  void fail(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!opFailed) {
      opFailed = true;
      message = text;
    }
  }
  /// lastError() at once, and the next synchronize() fails.
  void failNow(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    opFailed = true;
    message = text;
  }
  /// Fails the op `op` if `e` is not "".
  bool ok(const std::string &op, const std::string &e) {
    if (e.empty())
      return true;
    fail(op + ": " + e);
    return false;
  }
  bool ok(const std::string &op, cudaError_t e, const char *what) {
    return ok(op, e == cudaSuccess ? std::string()
                                   : std::string(what) + ": " + cudaMessage(e));
  }
  bool ok(const std::string &op, cudnnStatus_t s, const char *what) {
    return ok(op, cuda::cudnnMessage(s, what));
  }

  /// "NAME: kind" after checking the stream; "" if the stream is bad.
  std::string opName(const char *name, const char *kind, int32_t stream) {
    std::string op = std::string(name ? name : "<unnamed op>") + ": " + kind;
    if (stream < 0 || size_t(stream) >= streams.size()) {
      fail(op + ": no stream " + std::to_string(stream) + " (the context has " +
           std::to_string(streams.size()) + ")");
      return {};
    }
    return op;
  }

  std::string inArena(std::initializer_list<std::pair<const char *, View>> vs) {
    for (auto &[role, v] : vs) {
      std::string e = detail::checkInArena(role, v, arena, size);
      if (!e.empty())
        return e;
    }
    return {};
  }

  /// The descriptor of `v`'s layout, made at its first use and kept (an
  /// inference after the first makes no descriptor calls); null (the op
  /// failed) on error.
  cudnnTensorDescriptor_t tensorDesc(View v, const std::string &op,
                                     const char *role) {
    auto &slot = tensorDescs[{v.n, v.c, v.h, v.w, v.batchStride}];
    if (!slot) {
      auto t = std::make_unique<cuda::TensorDesc>();
      if (!ok(op, cuda::makeTensorDesc(*t, v, role)))
        return nullptr;
      slot = std::move(t);
    }
    return slot->d;
  }
  cudnnActivationDescriptor_t activationDesc(Act act, const std::string &op) {
    auto &slot = activationDescs[act];
    if (!slot) {
      auto a = std::make_unique<cuda::ActivationDesc>();
      if (!ok(op, cuda::makeActivationDesc(*a, act)))
        return nullptr;
      slot = std::move(a);
    }
    return slot->d;
  }

  /// Waits for stream 0, where load-time copies run: what a load call
  /// copied is in place when it returns.
  bool finishLoad(const std::string &what) {
    if (cudaError_t e = cudaStreamSynchronize(streams[0]); e != cudaSuccess)
      return error(what + ": cudaStreamSynchronize: " + cudaMessage(e));
    return true;
  }

  /// A workspace of at least `bytes` for `stream`, grown in stream order.
  void *workspace(int32_t stream, size_t bytes, const std::string &op) {
    if (bytes <= workspaceBytes[stream])
      return workspaces[stream];
    cudaStream_t s = streams[stream];
    if (workspaces[stream] &&
        !ok(op, cudaFreeAsync(workspaces[stream], s), "cudaFreeAsync"))
      return nullptr;
    workspaces[stream] = nullptr;
    workspaceBytes[stream] = 0;
    if (!ok(op, cudaMallocAsync(&workspaces[stream], bytes, s),
            "cudaMallocAsync (workspace)"))
      return nullptr;
    workspaceBytes[stream] = bytes;
    return workspaces[stream];
  }

  std::vector<cudaStream_t> streams;
  std::vector<cudnnHandle_t> handles;
  std::vector<cudaEvent_t> events;
  std::vector<void *> workspaces;
  std::vector<size_t> workspaceBytes;
  float *arena = nullptr;
  int64_t size = 0;
  std::map<std::string, DeviceWeight> weights;
  std::map<std::vector<int64_t>, std::unique_ptr<ConvPlan>> plans;
  bool tf32 = false;
  size_t workspaceLimit = kDefaultWorkspaceMiB << 20;
  // Descriptors of the element-wise ops and pools, by layout.
  std::map<std::vector<int64_t>, std::unique_ptr<cuda::TensorDesc>>
      tensorDescs;
  std::map<int, std::unique_ptr<cuda::ActivationDesc>> activationDescs;
  std::map<std::vector<int64_t>, std::unique_ptr<cuda::PoolDescs>> poolDescs;

  std::mutex errorMutex;
  bool opFailed = false;
  std::string message, returned;
};

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats, const char **error) {
  Range range("createContext");
  thread_local std::string message;
  auto fail = [&](const std::string &text) -> Context * {
    message = text;
    if (error)
      *error = message.c_str();
    return nullptr;
  };
  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess)
    return fail("no CUDA device: cudaGetDeviceCount: " + cudaMessage(e));
  if (devices == 0)
    return fail("no CUDA device: cudaGetDeviceCount found none");
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0)
    return fail("createContext: needs at least one stream and non-negative "
                "event and arena sizes");
  auto ctx = std::make_unique<Context>();
  if (std::string why = readOptions(ctx->tf32, ctx->workspaceLimit);
      !why.empty())
    return fail("createContext: " + why);
  const std::string op = "createContext";
  for (int32_t i = 0; i < numStreams; ++i) {
    cudaStream_t s = nullptr;
    cudnnHandle_t h = nullptr;
    if (!ctx->ok(op, cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                 "cudaStreamCreateWithFlags"))
      return fail(ctx->message);
    ctx->streams.push_back(s);
    if (!ctx->ok(op, cudnnCreate(&h), "cudnnCreate"))
      return fail(ctx->message);
    ctx->handles.push_back(h);
    if (!ctx->ok(op, cudnnSetStream(h, s), "cudnnSetStream"))
      return fail(ctx->message);
    ctx->workspaces.push_back(nullptr);
    ctx->workspaceBytes.push_back(0);
  }
  for (int32_t i = 0; i < numEvents; ++i) {
    cudaEvent_t ev = nullptr;
    if (!ctx->ok(op, cudaEventCreateWithFlags(&ev, cudaEventDisableTiming),
                 "cudaEventCreateWithFlags"))
      return fail(ctx->message);
    ctx->events.push_back(ev);
  }
  size_t bytes = size_t(std::max<int64_t>(arenaFloats, 1)) * sizeof(float);
  if (!ctx->ok(op, cudaMalloc(&ctx->arena, bytes), "cudaMalloc (arena)") ||
      !ctx->ok(op, cudaMemsetAsync(ctx->arena, 0, bytes, ctx->streams[0]),
               "cudaMemsetAsync (arena)") ||
      !ctx->finishLoad(op))
    return fail(ctx->message);
  ctx->size = arenaFloats;
  return ctx.release();
}

void destroyContext(Context *ctx) {
  Range range("destroyContext");
  delete ctx;
}

float *arena(Context *ctx) { return ctx->arena; }

const char *lastError(Context *ctx) {
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  ctx->returned = ctx->message;
  return ctx->returned.c_str();
}

static bool storeWeight(Context *ctx, const std::string &name,
                        std::vector<float> host, const char *what) {
  DeviceWeight &w = ctx->weights[name];
  size_t bytes = std::max<size_t>(host.size(), 1) * sizeof(float);
  if (!w.device || w.host.size() != host.size()) {
    cudaFree(w.device);
    w.device = nullptr;
    if (cudaError_t e = cudaMalloc(&w.device, bytes); e != cudaSuccess)
      return ctx->error(std::string(what) + ": weight '" + name +
                        "': cudaMalloc: " + cudaMessage(e));
  }
  // On stream 0, like everything of the load; the load call synchronizes
  // it before returning (finishLoad), which also keeps `host` alive as long
  // as the copy reads it.
  if (cudaError_t e = cudaMemcpyAsync(w.device, host.data(),
                                      host.size() * sizeof(float),
                                      cudaMemcpyHostToDevice,
                                      ctx->streams[0]);
      e != cudaSuccess)
    return ctx->error(std::string(what) + ": weight '" + name +
                      "': cudaMemcpyAsync: " + cudaMessage(e));
  w.host = std::move(host);
  return true;
}

bool loadWeights(Context *ctx, const char *path) {
  Range range("loadWeights");
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!path || !detail::readSafetensors(path, tensors, error))
    return ctx->error("loadWeights: " + (path ? error : "no path"));
  for (auto &[name, t] : tensors)
    if (!storeWeight(ctx, name, std::move(t.data), "loadWeights"))
      return false;
  return ctx->finishLoad("loadWeights");
}

/// The weight `name` of `elements` floats, or null and why.
static DeviceWeight *findWeight(Context *ctx, const char *name,
                                int64_t elements, std::string &why) {
  auto it = ctx->weights.find(name ? name : "");
  why = detail::checkWeight(
      name, it == ctx->weights.end() ? nullptr : &it->second.host, elements);
  return why.empty() ? &it->second : nullptr;
}

float *weight(Context *ctx, const char *name, int64_t elements) {
  std::string why;
  DeviceWeight *w = findWeight(ctx, name, elements, why);
  if (!w)
    ctx->failNow(why); // the inference fails too (Checks.h)
  return w ? w->device : nullptr;
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
    return ctx->error(what + ": exists with " +
                      std::to_string(it->second.host.size()) +
                      " values, expected " + std::to_string(size));
  values = it->second.host;
  return true;
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw) {
  Range range(std::string("packConvWeight ") + (name ? name : ""));
  std::string what = std::string("packConvWeight '") + name + "' <- '" +
                     source + "'";
  if (std::string why = detail::checkPackConv(totalOut, inChannels, kh, kw,
                                              outOffset, out, srcKh, srcKw);
      !why.empty())
    return ctx->error(what + ": " + why);
  std::string why;
  DeviceWeight *src =
      findWeight(ctx, source, out * inChannels * srcKh * srcKw, why);
  if (!src)
    return ctx->error(what + ": " + why);
  std::vector<float> packed;
  if (!packTarget(ctx, what, name, totalOut * inChannels * kh * kw, packed))
    return false;
  detail::packConvInto(packed.data(), src->host.data(), inChannels, kh, kw,
                       outOffset, out, srcKh, srcKw);
  return storeWeight(ctx, name, std::move(packed), "packConvWeight") &&
         ctx->finishLoad("packConvWeight");
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  Range range(std::string("packBias ") + (name ? name : ""));
  std::string what = std::string("packBias '") + name + "' <- '" + source + "'";
  if (std::string why = detail::checkPackBias(total, offset, size);
      !why.empty())
    return ctx->error(what + ": " + why);
  std::string why;
  DeviceWeight *src = findWeight(ctx, source, size, why);
  if (!src)
    return ctx->error(what + ": " + why);
  std::vector<float> packed;
  if (!packTarget(ctx, what, name, total, packed))
    return false;
  std::copy(src->host.begin(), src->host.end(), packed.begin() + offset);
  return storeWeight(ctx, name, std::move(packed), "packBias") &&
         ctx->finishLoad("packBias");
}

/// What identifies a plan: the stream (its workspace) and the whole
/// configuration.
static std::vector<int64_t> planKey(int32_t stream, View in, View out,
                                    const detail::ConvShape &s, Act act,
                                    bool hasBias) {
  return {stream,       in.n,   in.c,   in.h,   in.w,     in.batchStride,
          out.c,        out.h,  out.w,  out.batchStride,  s.kh,
          s.kw,         s.sh,   s.sw,   s.ph,   s.pw,     s.dh,
          s.dw,         s.groups, int64_t(act),           hasBias};
}

/// Chooses the algorithm: the heuristics' first result that succeeds, is
/// FP32 FMA math unless TF32 is allowed, and needs no more workspace than
/// the cap (both what the result says and what
/// cudnnGetConvolutionForwardWorkspaceSize says for the math type set).
static bool chooseAlgorithm(Context *ctx, cudnnHandle_t h,
                            const std::string &op, ConvPlan &plan) {
  const cuda::ConvDescs &d = plan.descs;
  // The query's math type: what the chosen result may use.
  if (!ctx->ok(op,
               cudnnSetConvolutionMathType(d.conv, ctx->tf32
                                                       ? CUDNN_TENSOR_OP_MATH
                                                       : CUDNN_FMA_MATH),
               "cudnnSetConvolutionMathType"))
    return false;
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  if (!ctx->ok(op,
               cudnnGetConvolutionForwardAlgorithm_v7(
                   h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                   &found, perf),
               "cudnnGetConvolutionForwardAlgorithm_v7"))
    return false;
  for (int i = 0; i < found; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t &p = perf[i];
    bool tensorOps = p.mathType == CUDNN_TENSOR_OP_MATH ||
                     p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (p.status != CUDNN_STATUS_SUCCESS || (tensorOps && !ctx->tf32) ||
        p.memory > ctx->workspaceLimit)
      continue;
    // FP32 without TF32 is CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would let
    // Ampere and later GPUs use TF32); with TF32 allowed, the result's own.
    cudnnMathType_t math = ctx->tf32 ? p.mathType : CUDNN_FMA_MATH;
    size_t bytes = 0;
    if (cudnnSetConvolutionMathType(d.conv, math) != CUDNN_STATUS_SUCCESS ||
        cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y,
                                                p.algo, &bytes) !=
            CUDNN_STATUS_SUCCESS ||
        bytes > ctx->workspaceLimit)
      continue;
    plan.algo = p.algo;
    plan.math = math;
    plan.workspaceBytes = bytes;
    return true;
  }
  ctx->fail(op + ": cuDNN offers no " + (ctx->tf32 ? "" : "FP32 (FMA) ") +
            "algorithm within the workspace cap of " +
            std::to_string(ctx->workspaceLimit >> 20) +
            " MiB (IOS_CUDNN_WORKSPACE_MB)");
  return false;
}

/// The plan of a convolution on `stream`, made now.
static ConvPlan *makePlan(Context *ctx, int32_t stream, const std::string &op,
                          View in, View out, const detail::ConvShape &s,
                          Act act, bool hasBias) {
  std::vector<int64_t> key = planKey(stream, in, out, s, act, hasBias);
  auto it = ctx->plans.find(key);
  if (it != ctx->plans.end())
    return it->second.get();
  auto plan = std::make_unique<ConvPlan>();
  if (!ctx->ok(op, cuda::makeConvDescs(plan->descs, in, out, s, act)))
    return nullptr;
  int dims[4];
  if (!ctx->ok(op, cuda::convOutputDims(plan->descs, dims)))
    return nullptr;
  if (dims[0] != out.n || dims[1] != out.c || dims[2] != out.h ||
      dims[3] != out.w) {
    ctx->fail(op + ": cuDNN's output shape " + std::to_string(dims[0]) + "x" +
              std::to_string(dims[1]) + "x" + std::to_string(dims[2]) + "x" +
              std::to_string(dims[3]) + " differs from the output " +
              detail::describe(out));
    return nullptr;
  }
  if (!chooseAlgorithm(ctx, ctx->handles[stream], op, *plan))
    return nullptr;
  // cudnnConvolutionBiasActivationForward: ReLU with any algorithm; the
  // identity only with IMPLICIT_PRECOMP_GEMM (cuDNN's rule).
  plan->fused = hasBias &&
                (act == ActRelu ||
                 (act == ActNone &&
                  plan->algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM));
  return ctx->plans.emplace(key, std::move(plan)).first->second.get();
}

bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                   int64_t groups, Act act, bool hasBias) {
  Range range(opRange(opName, "prepareConv2d"));
  std::string op = ctx->opName(opName, "conv2d", stream);
  if (op.empty())
    return false;
  detail::ConvShape s{kh, kw, sh, sw, ph, pw, dh, dw, groups};
  std::string check = detail::checkConv(in, out, s);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return false;
  // The plan (descriptors, algorithm, workspace size) is made now, at load,
  // and the stream's workspace grown to it.
  ConvPlan *plan = makePlan(ctx, stream, op, in, out, s, act, hasBias);
  return plan && (!plan->workspaceBytes ||
                  ctx->workspace(stream, plan->workspaceBytes, op));
}

void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act) {
  Range range(opRange(opName, "conv2d"));
  std::string op = ctx->opName(opName, "conv2d", stream);
  if (op.empty())
    return;
  detail::ConvShape s{kh, kw, sh, sw, ph, pw, dh, dw, groups};
  std::string check = detail::checkConv(in, out, s);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  // Planned by prepareConv2d at load, or an error: nothing is planned (no
  // cuDNN query, no allocation) inside an inference.
  auto it = ctx->plans.find(planKey(stream, in, out, s, act, bias != nullptr));
  if (it == ctx->plans.end()) {
    ctx->fail(op + ": not prepared (prepareConv2d must plan every "
                   "convolution at load, for its stream and configuration)");
    return;
  }
  const ConvPlan *plan = it->second.get();
  void *ws = plan->workspaceBytes ? ctx->workspaces[stream] : nullptr;
  cudnnHandle_t h = ctx->handles[stream];
  const cuda::ConvDescs &d = plan->descs;
  float one = 1.0f, zero = 0.0f;
  if (plan->fused) {
    // y = act(conv(x) + 0 * z + bias), z = y.
    ctx->ok(op,
            cudnnConvolutionBiasActivationForward(
                h, &one, d.x, in.data, d.w, weight, d.conv, plan->algo, ws,
                plan->workspaceBytes, &zero, d.y, out.data, d.bias, bias,
                d.act, d.y, out.data),
            "cudnnConvolutionBiasActivationForward");
    return;
  }
  if (!ctx->ok(op,
               cudnnConvolutionForward(h, &one, d.x, in.data, d.w, weight,
                                       d.conv, plan->algo, ws,
                                       plan->workspaceBytes, &zero, d.y,
                                       out.data),
               "cudnnConvolutionForward"))
    return;
  if (bias && !ctx->ok(op,
                       cudnnAddTensor(h, &one, d.bias, bias, &one, d.y,
                                      out.data),
                       "cudnnAddTensor (bias)"))
    return;
  if (act != ActNone)
    ctx->ok(op,
            cudnnActivationForward(h, d.act, &one, d.y, out.data, &zero, d.y,
                                   out.data),
            "cudnnActivationForward");
}

void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw) {
  Range range(opRange(opName, "pool2d"));
  std::string op = ctx->opName(opName, "pool2d", stream);
  if (op.empty())
    return;
  std::string check = detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  // Descriptors made at the first use of this configuration, then kept.
  auto &slot = ctx->poolDescs[{in.n, in.c, in.h, in.w, in.batchStride, out.h,
                               out.w, out.batchStride, int64_t(kind), kh, kw,
                               sh, sw, ph, pw}];
  if (!slot) {
    auto d = std::make_unique<cuda::PoolDescs>();
    if (!ctx->ok(op, cuda::makePoolDescs(*d, in, out, kind, kh, kw, sh, sw,
                                         ph, pw)))
      return;
    slot = std::move(d);
  }
  const cuda::PoolDescs &d = *slot;
  float one = 1.0f, zero = 0.0f;
  ctx->ok(op,
          cudnnPoolingForward(ctx->handles[stream], d.pool, &one, d.x, in.data,
                              &zero, d.y, out.data),
          "cudnnPoolingForward");
}

void copy(Context *ctx, int32_t stream, const char *opName, View in,
          View out) {
  Range range(opRange(opName, "copy"));
  std::string op = ctx->opName(opName, "copy", stream);
  if (op.empty())
    return;
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check) || detail::sameElements(in, out))
    return;
  ctx->ok(op, cuda::launchCopy(ctx->streams[stream], in, out), "copy kernel");
}

void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act) {
  Range range(opRange(opName, "activation"));
  std::string op = ctx->opName(opName, "activation", stream);
  if (op.empty())
    return;
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  if (act == ActNone) {
    if (!detail::sameElements(in, out))
      ctx->ok(op, cuda::launchCopy(ctx->streams[stream], in, out),
              "copy kernel");
    return;
  }
  cudnnTensorDescriptor_t x = ctx->tensorDesc(in, op, "input"),
                          y = x ? ctx->tensorDesc(out, op, "output") : nullptr;
  cudnnActivationDescriptor_t a = y ? ctx->activationDesc(act, op) : nullptr;
  float one = 1.0f, zero = 0.0f;
  if (a)
    ctx->ok(op,
            cudnnActivationForward(ctx->handles[stream], a, &one, x, in.data,
                                   &zero, y, out.data),
            "cudnnActivationForward");
}

void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in) {
  Range range(opRange(opName, "add"));
  std::string op = ctx->opName(opName, "add", stream);
  if (op.empty())
    return;
  std::string check = detail::checkElementwise(out, count, in);
  if (check.empty())
    check = ctx->inArena({{"output", out}});
  for (int32_t k = 0; check.empty() && k < count; ++k)
    check = ctx->inArena({{"an operand", in[k]}});
  if (!ctx->ok(op, check))
    return;
  ctx->ok(op, cuda::launchAdd(ctx->streams[stream], out, count, in),
          "add kernel");
}

void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out) {
  Range range(opRange(opName, "mul"));
  std::string op = ctx->opName(opName, "mul", stream);
  if (op.empty())
    return;
  const View ins[] = {a, b};
  std::string check = detail::checkElementwise(out, 2, ins);
  if (check.empty())
    check = ctx->inArena({{"lhs", a}, {"rhs", b}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  ctx->ok(op, cuda::launchMul(ctx->streams[stream], a, b, out), "mul kernel");
}

void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias) {
  Range range(opRange(opName, "linear"));
  std::string op = ctx->opName(opName, "linear", stream);
  if (op.empty())
    return;
  std::string check = detail::checkLinear(in, out);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  ctx->ok(op, cuda::launchLinear(ctx->streams[stream], in, out, weight, bias),
          "linear kernel");
}

void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out) {
  Range range(opRange(opName, "softmax"));
  std::string op = ctx->opName(opName, "softmax", stream);
  if (op.empty())
    return;
  std::string check = detail::checkSoftmax(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (!ctx->ok(op, check))
    return;
  // N x F x 1 x 1: the softmax runs over each image's features.
  View flatIn{in.data, in.n, in.c * in.h * in.w, 1, 1, in.batchStride};
  View flatOut{out.data, out.n, out.c * out.h * out.w, 1, 1, out.batchStride};
  cudnnTensorDescriptor_t x = ctx->tensorDesc(flatIn, op, "input"),
                          y = x ? ctx->tensorDesc(flatOut, op, "output")
                                : nullptr;
  float one = 1.0f, zero = 0.0f;
  if (y)
    ctx->ok(op,
            cudnnSoftmaxForward(ctx->handles[stream], CUDNN_SOFTMAX_ACCURATE,
                                CUDNN_SOFTMAX_MODE_INSTANCE, &one, x, in.data,
                                &zero, y, out.data),
            "cudnnSoftmaxForward");
}

void record(Context *ctx, int32_t event, int32_t stream) {
  Range range("record");
  if (event < 0 || size_t(event) >= ctx->events.size() || stream < 0 ||
      size_t(stream) >= ctx->streams.size())
    return ctx->fail("record: no event " + std::to_string(event) +
                     " or no stream " + std::to_string(stream));
  ctx->ok("record", cudaEventRecord(ctx->events[event], ctx->streams[stream]),
          "cudaEventRecord");
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  Range range("wait");
  if (event < 0 || size_t(event) >= ctx->events.size() || stream < 0 ||
      size_t(stream) >= ctx->streams.size())
    return ctx->fail("wait: no event " + std::to_string(event) +
                     " or no stream " + std::to_string(stream));
  ctx->ok("wait",
          cudaStreamWaitEvent(ctx->streams[stream], ctx->events[event], 0),
          "cudaStreamWaitEvent");
}

bool synchronize(Context *ctx) {
  Range range("synchronize");
  for (size_t i = 0; i < ctx->streams.size(); ++i)
    if (cudaError_t e = cudaStreamSynchronize(ctx->streams[i]);
        e != cudaSuccess)
      ctx->fail("synchronize: stream " + std::to_string(i) + ": " +
                cudaMessage(e));
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  bool good = !ctx->opFailed;
  ctx->opFailed = false;
  return good;
}

static bool transfer(Context *ctx, const char *what, float *dst,
                     const float *src, int64_t count, const float *arenaSide,
                     cudaMemcpyKind kind) {
  if (!dst || !src || count < 0)
    return ctx->error(std::string(what) + ": bad arguments");
  View v{const_cast<float *>(arenaSide), 1, 1, 1, std::max<int64_t>(count, 1),
         std::max<int64_t>(count, 1)};
  if (std::string e =
          detail::checkInArena("the range", v, ctx->arena, ctx->size);
      !e.empty())
    return ctx->error(std::string(what) + ": " + e);
  cudaStream_t s = ctx->streams[0];
  if (cudaError_t e = cudaMemcpyAsync(dst, src, size_t(count) * sizeof(float),
                                      kind, s);
      e != cudaSuccess)
    return ctx->error(std::string(what) + ": cudaMemcpyAsync: " +
                      cudaMessage(e));
  if (cudaError_t e = cudaStreamSynchronize(s); e != cudaSuccess)
    return ctx->error(std::string(what) + ": cudaStreamSynchronize: " +
                      cudaMessage(e));
  return true;
}

bool upload(Context *ctx, float *dst, const float *src, int64_t count) {
  Range range("upload");
  return transfer(ctx, "upload", dst, src, count, dst, cudaMemcpyHostToDevice);
}

bool download(Context *ctx, float *dst, const float *src, int64_t count) {
  Range range("download");
  return transfer(ctx, "download", dst, src, count, src,
                  cudaMemcpyDeviceToHost);
}

} // namespace ios::rt
