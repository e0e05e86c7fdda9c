//===- CUDARuntime.cu - The IOS runtime's CUDA backend --------------------===//
//
// One cudaStream_t and one cudnnHandle_t per stream, cudaEvent_t events
// (record = cudaEventRecord, wait = cudaStreamWaitEvent: nothing ever
// synchronises the whole device inside an inference), the arena and the
// weights in device memory. Convolutions, pooling, activations and softmax
// are cuDNN calls on strided 4-D descriptors (views of channel slices work
// as they are); the convolution algorithm is chosen once per configuration
// and its workspace grown per stream. Element-wise ops and copies are small
// grid-stride kernels. Every CUDA and cuDNN status is checked and reported
// with the op's name.
//
// There is no GPU where this project is tested: this backend is compiled
// and linked in the tests, and createContext's "no CUDA device" error is
// the one path that runs.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Safetensors.h"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ios::rt {

namespace {

std::string cudaMessage(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

/// Grid-stride kernels over the c*h*w elements of each of n images.
__global__ void binaryKernel(int op, const float *a, int64_t sa, const float *b,
                             int64_t sb, float *out, int64_t so, int64_t n,
                             int64_t size) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i % size;
    float x = a[img * sa + off], y = b[img * sb + off];
    out[img * so + off] = op == 0 ? x + y : x * y;
  }
}

__global__ void copyKernel(const float *in, int64_t si, float *out, int64_t so,
                           int64_t n, int64_t size) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i % size;
    out[img * so + off] = in[img * si + off];
  }
}

__global__ void linearKernel(const float *in, int64_t si, float *out,
                             int64_t so, const float *w, const float *b,
                             int64_t n, int64_t k, int64_t m) {
  int64_t total = n * m;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / m, j = i % m;
    float acc = b ? b[j] : 0.0f;
    for (int64_t t = 0; t < k; ++t)
      acc += w[j * k + t] * in[img * si + t];
    out[img * so + j] = acc;
  }
}

int blocksFor(int64_t elements) {
  int64_t blocks = (elements + 255) / 256;
  return int(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

/// A cuDNN tensor descriptor of a (possibly strided) view.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  cudnnStatus_t status;
  explicit TensorDesc(View v) {
    status = cudnnCreateTensorDescriptor(&d);
    if (status == CUDNN_STATUS_SUCCESS)
      status = cudnnSetTensor4dDescriptorEx(
          d, CUDNN_DATA_FLOAT, int(v.n), int(v.c), int(v.h), int(v.w),
          int(v.batchStride), int(v.h * v.w), int(v.w), 1);
  }
  ~TensorDesc() {
    if (d)
      cudnnDestroyTensorDescriptor(d);
  }
};

} // namespace

class Context {
public:
  ~Context() {
    for (cudaStream_t s : streams)
      if (s)
        cudaStreamSynchronize(s);
    for (auto &[name, p] : weights)
      cudaFree(p.device);
    for (void *w : workspaces)
      cudaFree(w);
    for (cudaEvent_t e : events)
      cudaEventDestroy(e);
    for (cudnnHandle_t h : handles)
      cudnnDestroy(h);
    for (cudaStream_t s : streams)
      cudaStreamDestroy(s);
    if (arena)
      cudaFree(arena);
  }

  void fail(const std::string &message) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (firstError.empty())
      firstError = message;
  }
  bool check(cudaError_t e, const char *op, const char *what) {
    if (e == cudaSuccess)
      return true;
    fail(std::string(op) + ": " + what + ": " + cudaMessage(e));
    return false;
  }
  bool check(cudnnStatus_t s, const char *op, const char *what) {
    if (s == CUDNN_STATUS_SUCCESS)
      return true;
    fail(std::string(op) + ": " + what + ": " + cudnnGetErrorString(s));
    return false;
  }
  bool validStream(int32_t s, const char *op) {
    if (s >= 0 && size_t(s) < streams.size())
      return true;
    fail(std::string(op) + ": no stream " + std::to_string(s));
    return false;
  }

  /// Workspace of at least `bytes` for `stream`.
  void *workspace(int32_t stream, size_t bytes, const char *op) {
    if (bytes <= workspaceBytes[stream])
      return workspaces[stream];
    cudaFree(workspaces[stream]);
    workspaces[stream] = nullptr;
    workspaceBytes[stream] = 0;
    if (!check(cudaMalloc(&workspaces[stream], bytes), op,
               "workspace allocation"))
      return nullptr;
    workspaceBytes[stream] = bytes;
    return workspaces[stream];
  }

  struct Weight {
    float *device = nullptr;
    std::vector<float> host; // kept for packing merged weights at load
  };

  std::vector<cudaStream_t> streams;
  std::vector<cudnnHandle_t> handles;
  std::vector<cudaEvent_t> events;
  std::vector<void *> workspaces;
  std::vector<size_t> workspaceBytes;
  float *arena = nullptr;
  std::map<std::string, Weight> weights;
  /// Chosen algorithm per convolution configuration.
  std::map<std::vector<int64_t>, cudnnConvolutionFwdAlgo_t> algorithms;
  std::mutex errorMutex;
  std::string firstError, lastMessage;
};

View view(float *base, int64_t offset, int64_t n, int64_t c, int64_t h,
          int64_t w) {
  return View{base + offset, n, c, h, w, c * h * w};
}

View channels(View v, int64_t begin, int64_t end) {
  return View{v.data + begin * v.h * v.w, v.n, end - begin, v.h, v.w,
              v.batchStride};
}

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats, const char **error) {
  static std::string message;
  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    message = "no CUDA device: " +
              (e != cudaSuccess ? cudaMessage(e)
                                : std::string("cudaGetDeviceCount found 0"));
    if (error)
      *error = message.c_str();
    return nullptr;
  }
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0) {
    if (error)
      *error = "createContext: needs at least one stream and non-negative "
               "event and arena sizes";
    return nullptr;
  }
  auto ctx = std::make_unique<Context>();
  for (int32_t i = 0; i < numStreams; ++i) {
    cudaStream_t s = nullptr;
    cudnnHandle_t h = nullptr;
    if (!ctx->check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                    "createContext", "cudaStreamCreate") ||
        !ctx->check(cudnnCreate(&h), "createContext", "cudnnCreate") ||
        !ctx->check(cudnnSetStream(h, s), "createContext", "cudnnSetStream"))
      break;
    ctx->streams.push_back(s);
    ctx->handles.push_back(h);
    ctx->workspaces.push_back(nullptr);
    ctx->workspaceBytes.push_back(0);
  }
  for (int32_t i = 0; i < numEvents && ctx->firstError.empty(); ++i) {
    cudaEvent_t ev = nullptr;
    if (ctx->check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming),
                   "createContext", "cudaEventCreate"))
      ctx->events.push_back(ev);
  }
  if (ctx->firstError.empty())
    ctx->check(cudaMalloc(&ctx->arena, size_t(std::max<int64_t>(
                                           arenaFloats, 1)) * sizeof(float)),
               "createContext", "arena allocation");
  if (ctx->firstError.empty())
    ctx->check(cudaMemset(ctx->arena, 0,
                          size_t(std::max<int64_t>(arenaFloats, 1)) *
                              sizeof(float)),
               "createContext", "arena initialisation");
  if (!ctx->firstError.empty()) {
    message = ctx->firstError;
    if (error)
      *error = message.c_str();
    return nullptr;
  }
  return ctx.release();
}

void destroyContext(Context *ctx) { delete ctx; }

float *arena(Context *ctx) { return ctx->arena; }

const char *lastError(Context *ctx) {
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  ctx->lastMessage = ctx->firstError;
  return ctx->lastMessage.c_str();
}

static bool storeWeight(Context *ctx, const std::string &name,
                        std::vector<float> host, const char *op) {
  Context::Weight &w = ctx->weights[name];
  cudaFree(w.device);
  w.device = nullptr;
  if (!ctx->check(cudaMalloc(&w.device, host.size() * sizeof(float)), op,
                  "weight allocation") ||
      !ctx->check(cudaMemcpy(w.device, host.data(),
                             host.size() * sizeof(float),
                             cudaMemcpyHostToDevice),
                  op, "weight upload"))
    return false;
  w.host = std::move(host);
  return true;
}

bool loadWeights(Context *ctx, const char *path) {
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!detail::readSafetensors(path, tensors, error)) {
    ctx->fail("loadWeights: " + error);
    return false;
  }
  for (auto &[name, t] : tensors)
    if (!storeWeight(ctx, name, std::move(t.data), "loadWeights"))
      return false;
  return true;
}

static Context::Weight *findWeight(Context *ctx, const char *name,
                                   int64_t elements) {
  auto it = ctx->weights.find(name);
  if (it == ctx->weights.end()) {
    ctx->fail(std::string("weight '") + name + "' is not loaded");
    return nullptr;
  }
  if (int64_t(it->second.host.size()) != elements) {
    ctx->fail(std::string("weight '") + name + "' has " +
              std::to_string(it->second.host.size()) + " values, expected " +
              std::to_string(elements));
    return nullptr;
  }
  return &it->second;
}

float *weight(Context *ctx, const char *name, int64_t elements) {
  Context::Weight *w = findWeight(ctx, name, elements);
  return w ? w->device : nullptr;
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw) {
  Context::Weight *src =
      findWeight(ctx, source, out * inChannels * srcKh * srcKw);
  if (!src)
    return false;
  if (srcKh > kh || srcKw > kw || (kh - srcKh) % 2 || (kw - srcKw) % 2 ||
      outOffset < 0 || outOffset + out > totalOut) {
    ctx->fail(std::string("packConvWeight '") + name + "': '" + source +
              "' does not fit");
    return false;
  }
  std::vector<float> packed = ctx->weights.count(name)
                                  ? ctx->weights[name].host
                                  : std::vector<float>();
  if (packed.empty())
    packed.assign(size_t(totalOut * inChannels * kh * kw), 0.0f);
  int64_t top = (kh - srcKh) / 2, left = (kw - srcKw) / 2;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < inChannels; ++c)
      for (int64_t i = 0; i < srcKh; ++i)
        for (int64_t j = 0; j < srcKw; ++j)
          packed[(((outOffset + o) * inChannels + c) * kh + top + i) * kw +
                 left + j] =
              src->host[((o * inChannels + c) * srcKh + i) * srcKw + j];
  return storeWeight(ctx, name, std::move(packed), "packConvWeight");
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  Context::Weight *src = findWeight(ctx, source, size);
  if (!src)
    return false;
  if (offset < 0 || offset + size > total) {
    ctx->fail(std::string("packBias '") + name + "': '" + source +
              "' does not fit");
    return false;
  }
  std::vector<float> packed = ctx->weights.count(name)
                                  ? ctx->weights[name].host
                                  : std::vector<float>();
  if (packed.empty())
    packed.assign(size_t(total), 0.0f);
  std::copy(src->host.begin(), src->host.end(), packed.begin() + offset);
  return storeWeight(ctx, name, std::move(packed), "packBias");
}

static cudnnActivationMode_t activationMode(Act act) {
  switch (act) {
  case ActRelu:
    return CUDNN_ACTIVATION_RELU;
  case ActSigmoid:
    return CUDNN_ACTIVATION_SIGMOID;
  case ActTanh:
    return CUDNN_ACTIVATION_TANH;
  default:
    return CUDNN_ACTIVATION_IDENTITY;
  }
}

/// out = act(out), in place, on `stream`.
static void applyActivation(Context *ctx, int32_t stream, const char *op,
                            View in, View out, Act act) {
  TensorDesc x(in), y(out);
  cudnnActivationDescriptor_t a = nullptr;
  float one = 1.0f, zero = 0.0f;
  if (ctx->check(x.status, op, "input descriptor") &&
      ctx->check(y.status, op, "output descriptor") &&
      ctx->check(cudnnCreateActivationDescriptor(&a), op,
                 "activation descriptor") &&
      ctx->check(cudnnSetActivationDescriptor(a, activationMode(act),
                                              CUDNN_NOT_PROPAGATE_NAN, 0.0),
                 op, "activation descriptor"))
    ctx->check(cudnnActivationForward(ctx->handles[stream], a, &one, x.d,
                                      in.data, &zero, y.d, out.data),
               op, "cudnnActivationForward");
  if (a)
    cudnnDestroyActivationDescriptor(a);
}

void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act) {
  if (!ctx->validStream(stream, opName))
    return;
  if (!weight) {
    ctx->fail(std::string(opName) + ": missing weight");
    return;
  }
  TensorDesc x(in), y(out), b(View{nullptr, 1, out.c, 1, 1, out.c});
  cudnnFilterDescriptor_t f = nullptr;
  cudnnConvolutionDescriptor_t c = nullptr;
  cudnnHandle_t h = ctx->handles[stream];
  float one = 1.0f, zero = 0.0f;
  bool ok =
      ctx->check(x.status, opName, "input descriptor") &&
      ctx->check(y.status, opName, "output descriptor") &&
      ctx->check(b.status, opName, "bias descriptor") &&
      ctx->check(cudnnCreateFilterDescriptor(&f), opName, "filter") &&
      ctx->check(cudnnSetFilter4dDescriptor(f, CUDNN_DATA_FLOAT,
                                            CUDNN_TENSOR_NCHW, int(out.c),
                                            int(in.c / groups), int(kh),
                                            int(kw)),
                 opName, "filter descriptor") &&
      ctx->check(cudnnCreateConvolutionDescriptor(&c), opName, "conv") &&
      ctx->check(cudnnSetConvolution2dDescriptor(
                     c, int(ph), int(pw), int(sh), int(sw), int(dh), int(dw),
                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                 opName, "convolution descriptor") &&
      ctx->check(cudnnSetConvolutionGroupCount(c, int(groups)), opName,
                 "group count");
  if (ok) {
    // The algorithm is chosen once per configuration (at the first run).
    std::vector<int64_t> key = {in.n,  in.c, in.h, in.w, out.c, kh, kw,
                                sh,    sw,   ph,   pw,   dh,    dw, groups};
    auto it = ctx->algorithms.find(key);
    if (it == ctx->algorithms.end()) {
      cudnnConvolutionFwdAlgoPerf_t perf[8];
      int found = 0;
      ok = ctx->check(cudnnGetConvolutionForwardAlgorithm_v7(
                          h, x.d, f, c, y.d, 8, &found, perf),
                      opName, "algorithm choice") &&
           found > 0;
      if (ok)
        it = ctx->algorithms.emplace(key, perf[0].algo).first;
    }
    size_t bytes = 0;
    void *ws = nullptr;
    if (ok)
      ok = ctx->check(cudnnGetConvolutionForwardWorkspaceSize(
                          h, x.d, f, c, y.d, it->second, &bytes),
                      opName, "workspace size");
    if (ok && bytes)
      ok = (ws = ctx->workspace(stream, bytes, opName)) != nullptr;
    if (ok)
      ok = ctx->check(cudnnConvolutionForward(h, &one, x.d, in.data, f,
                                              weight, c, it->second, ws,
                                              bytes, &zero, y.d, out.data),
                      opName, "cudnnConvolutionForward");
    if (ok && bias)
      ok = ctx->check(cudnnAddTensor(h, &one, b.d, bias, &one, y.d, out.data),
                      opName, "bias");
    if (ok && act != ActNone)
      applyActivation(ctx, stream, opName, out, out, act);
  }
  if (f)
    cudnnDestroyFilterDescriptor(f);
  if (c)
    cudnnDestroyConvolutionDescriptor(c);
}

void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw) {
  if (!ctx->validStream(stream, opName))
    return;
  TensorDesc x(in), y(out);
  cudnnPoolingDescriptor_t p = nullptr;
  float one = 1.0f, zero = 0.0f;
  bool isMax = kind == PoolMax || kind == PoolGlobalMax;
  if (ctx->check(x.status, opName, "input descriptor") &&
      ctx->check(y.status, opName, "output descriptor") &&
      ctx->check(cudnnCreatePoolingDescriptor(&p), opName, "pooling") &&
      ctx->check(cudnnSetPooling2dDescriptor(
                     p,
                     isMax ? CUDNN_POOLING_MAX
                           : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                     CUDNN_PROPAGATE_NAN, int(kh), int(kw), int(ph), int(pw),
                     int(sh), int(sw)),
                 opName, "pooling descriptor"))
    ctx->check(cudnnPoolingForward(ctx->handles[stream], p, &one, x.d,
                                   in.data, &zero, y.d, out.data),
               opName, "cudnnPoolingForward");
  if (p)
    cudnnDestroyPoolingDescriptor(p);
}

void copy(Context *ctx, int32_t stream, const char *opName, View in,
          View out) {
  if (!ctx->validStream(stream, opName))
    return;
  int64_t size = in.c * in.h * in.w;
  copyKernel<<<blocksFor(in.n * size), 256, 0, ctx->streams[stream]>>>(
      in.data, in.batchStride, out.data, out.batchStride, in.n, size);
  ctx->check(cudaGetLastError(), opName, "copy kernel");
}

void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act) {
  if (!ctx->validStream(stream, opName))
    return;
  if (act == ActNone)
    return copy(ctx, stream, opName, in, out);
  applyActivation(ctx, stream, opName, in, out, act);
}

static void binary(Context *ctx, int32_t stream, const char *opName, int op,
                   View a, View b, View out) {
  int64_t size = out.c * out.h * out.w;
  binaryKernel<<<blocksFor(out.n * size), 256, 0, ctx->streams[stream]>>>(
      op, a.data, a.batchStride, b.data, b.batchStride, out.data,
      out.batchStride, out.n, size);
  ctx->check(cudaGetLastError(), opName, op ? "mul kernel" : "add kernel");
}

void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in) {
  if (!ctx->validStream(stream, opName))
    return;
  if (count < 2) {
    if (count == 1)
      copy(ctx, stream, opName, in[0], out);
    return;
  }
  binary(ctx, stream, opName, 0, in[0], in[1], out);
  for (int32_t k = 2; k < count; ++k)
    binary(ctx, stream, opName, 0, out, in[k], out);
}

void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out) {
  if (ctx->validStream(stream, opName))
    binary(ctx, stream, opName, 1, a, b, out);
}

void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias) {
  if (!ctx->validStream(stream, opName))
    return;
  if (!weight) {
    ctx->fail(std::string(opName) + ": missing weight");
    return;
  }
  int64_t k = in.c * in.h * in.w, m = out.c * out.h * out.w;
  linearKernel<<<blocksFor(in.n * m), 256, 0, ctx->streams[stream]>>>(
      in.data, in.batchStride, out.data, out.batchStride, weight, bias, in.n,
      k, m);
  ctx->check(cudaGetLastError(), opName, "linear kernel");
}

void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out) {
  if (!ctx->validStream(stream, opName))
    return;
  View flatIn{in.data, in.n, in.c * in.h * in.w, 1, 1, in.batchStride};
  View flatOut{out.data, out.n, out.c * out.h * out.w, 1, 1, out.batchStride};
  TensorDesc x(flatIn), y(flatOut);
  float one = 1.0f, zero = 0.0f;
  if (ctx->check(x.status, opName, "input descriptor") &&
      ctx->check(y.status, opName, "output descriptor"))
    ctx->check(cudnnSoftmaxForward(ctx->handles[stream], CUDNN_SOFTMAX_ACCURATE,
                                   CUDNN_SOFTMAX_MODE_INSTANCE, &one, x.d,
                                   in.data, &zero, y.d, out.data),
               opName, "cudnnSoftmaxForward");
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (event < 0 || size_t(event) >= ctx->events.size() ||
      !ctx->validStream(stream, "record")) {
    ctx->fail("record: no event " + std::to_string(event));
    return;
  }
  ctx->check(cudaEventRecord(ctx->events[event], ctx->streams[stream]),
             "record", "cudaEventRecord");
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  if (event < 0 || size_t(event) >= ctx->events.size() ||
      !ctx->validStream(stream, "wait")) {
    ctx->fail("wait: no event " + std::to_string(event));
    return;
  }
  ctx->check(cudaStreamWaitEvent(ctx->streams[stream], ctx->events[event], 0),
             "wait", "cudaStreamWaitEvent");
}

bool synchronize(Context *ctx) {
  for (cudaStream_t s : ctx->streams)
    ctx->check(cudaStreamSynchronize(s), "synchronize",
               "cudaStreamSynchronize");
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  return ctx->firstError.empty();
}

bool upload(Context *ctx, float *dst, const float *src, int64_t count) {
  return ctx->check(cudaMemcpyAsync(dst, src, size_t(count) * sizeof(float),
                                    cudaMemcpyHostToDevice, ctx->streams[0]),
                    "upload", "cudaMemcpyAsync") &&
         ctx->check(cudaStreamSynchronize(ctx->streams[0]), "upload",
                    "cudaStreamSynchronize");
}

bool download(Context *ctx, float *dst, const float *src, int64_t count) {
  return ctx->check(cudaMemcpyAsync(dst, src, size_t(count) * sizeof(float),
                                    cudaMemcpyDeviceToHost, ctx->streams[0]),
                    "download", "cudaMemcpyAsync") &&
         ctx->check(cudaStreamSynchronize(ctx->streams[0]), "download",
                    "cudaStreamSynchronize");
}

} // namespace ios::rt
