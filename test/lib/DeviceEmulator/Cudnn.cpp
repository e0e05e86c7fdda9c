//===- Cudnn.cpp - cuDNN's handle calls on the emulated device ------------===//
//
// Descriptors are the real libcudnn's (creating and setting them needs no
// GPU); every call that takes a cudnnHandle_t is implemented here, reading
// the descriptors back through the real cudnnGet*Descriptor functions. A
// call first checks cuDNN's documented rules for it (each cited below from
// the cuDNN 9 API reference: the function's "Returns" list, or the enum or
// parameter it constrains); a violation is reported (kind "cudnn") and
// returns the status cuDNN documents, without running anything. Rules
// marked "emulator" are not in cuDNN's lists but would be undefined
// behaviour on a GPU (overlapping in/out, memory that is not device
// memory), or are what the emulator supports (4-D FLOAT, NCHW filters).
//
// The work itself is an operation on the handle's stream (cudnnSetStream:
// "the new stream will be used to launch cuDNN GPU kernels"), checked for
// races like any kernel, then computed (Compute.h).
//
// The emulated device is Ampere-class: CUDNN_DEFAULT_MATH and
// CUDNN_TENSOR_OP_MATH let FP32 convolutions use TF32 tensor cores, which
// the emulator reproduces by rounding the inputs to TF32; only
// CUDNN_FMA_MATH computes in full FP32.
//
//===----------------------------------------------------------------------===//

#include "Compute.h"
#include "Device.h"

#include <cudnn.h>

#include <algorithm>
#include <functional>
#include <memory>

using namespace ios::emu;

namespace {

struct Handle {
  Stream *stream = nullptr;
  bool destroyed = false;
};

std::vector<std::unique_ptr<Handle>> &handles() {
  static auto *h = new std::vector<std::unique_ptr<Handle>>();
  return *h;
}

/// The rules one call checks: the first violation is reported and decides
/// the status.
class Rules {
public:
  Rules(Call &call, const char *api) : call(call), api(api) {}
  /// Reports `rule` (and keeps `status`) unless `ok`.
  bool require(bool ok, cudnnStatus_t status, const std::string &rule) {
    if (ok || failed())
      return ok;
    this->status = status;
    Device &d = Device::get();
    d.report("cudnn", d.describeCall(call.seq()) + ": " + rule);
    return false;
  }
  bool failed() const { return status != CUDNN_STATUS_SUCCESS; }
  cudnnStatus_t done() {
    call.setStatus(int(status));
    return status;
  }
  cudnnStatus_t done(cudnnStatus_t s) {
    status = s;
    return done();
  }

  Call &call;
  const char *api;
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
};

Handle *handleOf(Rules &r, cudnnHandle_t h) {
  for (auto &p : handles())
    if (reinterpret_cast<cudnnHandle_t>(p.get()) == h) {
      r.call.setStream(p->stream);
      r.require(!p->destroyed, CUDNN_STATUS_BAD_PARAM,
                "the handle was destroyed (cudnnDestroy)");
      return p->destroyed ? nullptr : p.get();
    }
  r.require(false, CUDNN_STATUS_BAD_PARAM,
            "not a handle cudnnCreate returned (cuDNN 9: every handle call "
            "returns CUDNN_STATUS_BAD_PARAM for an invalid handle)");
  return nullptr;
}

/// A float scaling factor: "pointers to scaling factors (in host memory)"
/// (cuDNN 9, "Scaling Parameters").
bool scale(Rules &r, const void *p, const char *name, float &value) {
  if (!r.require(p != nullptr, CUDNN_STATUS_BAD_PARAM,
                 std::string(name) + " is NULL"))
    return false;
  if (!r.require(!Device::get().isDevice(p), CUDNN_STATUS_BAD_PARAM,
                 std::string(name) +
                     " points to device memory: cuDNN reads scaling "
                     "factors from host memory (cuDNN 9: Scaling "
                     "Parameters)"))
    return false;
  value = *static_cast<const float *>(p);
  return true;
}

bool tensor(Rules &r, cudnnTensorDescriptor_t desc, const char *name,
            Tensor4 &t) {
  cudnnDataType_t type;
  int nb = 0, dims[8] = {}, strides[8] = {};
  if (!r.require(desc != nullptr, CUDNN_STATUS_BAD_PARAM,
                 std::string(name) + " is NULL"))
    return false;
  cudnnStatus_t s =
      cudnnGetTensorNdDescriptor(desc, 8, &type, &nb, dims, strides);
  if (!r.require(s == CUDNN_STATUS_SUCCESS && nb >= 3, CUDNN_STATUS_BAD_PARAM,
                 std::string(name) + " is not a set tensor descriptor"))
    return false;
  if (!r.require(nb == 4, CUDNN_STATUS_NOT_SUPPORTED,
                 std::string(name) + " has " + std::to_string(nb) +
                     " dimensions; the emulator supports 4"))
    return false;
  if (!r.require(type == CUDNN_DATA_FLOAT, CUDNN_STATUS_NOT_SUPPORTED,
                 std::string(name) +
                     " is not CUDNN_DATA_FLOAT (emulator: FP32 only)"))
    return false;
  t = Tensor4{dims[0],    dims[1],    dims[2],    dims[3],
              strides[0], strides[1], strides[2], strides[3]};
  return r.require(t.ns >= 0 && t.cs >= 0 && t.hs >= 0 && t.ws >= 0,
                   CUDNN_STATUS_NOT_SUPPORTED,
                   std::string(name) + " has a negative stride (cuDNN 9, "
                                       "cudnnConvolutionForward: negative "
                                       "tensor striding is not supported)");
}

std::string dims(const Tensor4 &t) {
  return std::to_string(t.n) + "x" + std::to_string(t.c) + "x" +
         std::to_string(t.h) + "x" + std::to_string(t.w);
}

/// The ranges a tensor's elements occupy (images, planes or rows when
/// contiguous; its bounding range otherwise).
void touch(Op &op, const void *p, const Tensor4 &t, bool write,
           const std::string &role) {
  const int64_t f = sizeof(float);
  if (t.ws != 1) {
    (write ? op.write(p, size_t(t.span() * f), role)
           : op.read(p, size_t(t.span() * f), role));
    return;
  }
  if (t.hs == t.w && t.cs == t.h * t.w) {
    op.strided(p, t.n, t.c * t.h * t.w * f, t.ns * f, write, role);
    return;
  }
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t c = 0; c < t.c; ++c) {
      const char *plane = static_cast<const char *>(p) + (n * t.ns + c * t.cs) * f;
      op.strided(plane, t.h, t.w * f, t.hs * f, write, role);
    }
}

/// Whether any range of `a` meets one of `b`.
bool overlap(const Op &a, const Op &b) {
  for (const Access &x : a.accesses)
    for (const Access &y : b.accesses)
      if (x.begin < y.end && y.begin < x.end)
        return true;
  return false;
}

bool distinct(Rules &r, const void *x, const Tensor4 &xt, const void *y,
              const Tensor4 &yt, const char *what) {
  Op a, b;
  touch(a, x, xt, false, "");
  touch(b, y, yt, false, "");
  // Ranges outside device memory are the memory check's (launch()).
  for (const Op *o : {&a, &b})
    for (const Access &acc : o->accesses)
      if (!checkDeviceRange(Device::get(), reinterpret_cast<void *>(acc.begin),
                            acc.end - acc.begin, "")
               .empty())
        return true;
  return r.require(!overlap(a, b), CUDNN_STATUS_BAD_PARAM,
                   std::string("the output overlaps the input (emulator: ") +
                       what + " does not run in place)");
}

/// An element-wise op's in-place rule: x == y needs identical layouts (cuDNN
/// 9, cudnnActivationForward: "In-place operation is allowed ... However,
/// this requires xDesc and yDesc descriptors to be identical"), any other
/// overlap is undefined.
void inPlaceOrDistinct(Rules &r, const void *x, const Tensor4 &xt,
                       const void *y, const Tensor4 &yt, const char *what) {
  if (x == y)
    r.require(xt.sameLayout(yt), CUDNN_STATUS_BAD_PARAM,
              "in place (x == y) with different strides in xDesc and yDesc");
  else
    distinct(r, x, xt, y, yt, what);
}

/// y = alpha * f(x) + beta * y: reads x, and y unless beta is 0 ("when
/// beta is zero, the output is not read"), writes y.
void blendAccess(Op &op, const void *x, const Tensor4 &xt, const void *y,
                 const Tensor4 &yt, float beta, const char *xRole,
                 const char *yRole) {
  touch(op, x, xt, false, xRole);
  if (beta != 0.0f)
    touch(op, y, yt, false, std::string(yRole) + " (beta != 0)");
  touch(op, y, yt, true, yRole);
}

/// Submits `op` on the handle's stream: checked and run now (`work`), or a
/// node of the graph the stream is being captured into; false: it must
/// not run (reported, the context is lost as after a fault).
bool submit(Rules &r, Handle *h, Op &op, std::function<void()> work) {
  Device &d = Device::get();
  r.call.setStream(h->stream);
  r.call.setOp(op);
  if (d.submit(op, h->stream, r.call.seq(), std::move(work)))
    return true;
  d.sticky = cudaErrorIllegalAddress;
  r.status = CUDNN_STATUS_EXECUTION_FAILED;
  return false;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

struct ConvSetup {
  Tensor4 x, y;
  ConvShape s;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

/// The descriptor rules every convolution call shares (cuDNN 9,
/// cudnnConvolutionForward, "Returns").
bool convSetup(Rules &r, cudnnTensorDescriptor_t xDesc,
               cudnnFilterDescriptor_t wDesc,
               cudnnConvolutionDescriptor_t convDesc,
               cudnnTensorDescriptor_t yDesc, ConvSetup &c) {
  if (!tensor(r, xDesc, "xDesc", c.x) || !tensor(r, yDesc, "yDesc", c.y))
    return false;
  cudnnDataType_t wType;
  cudnnTensorFormat_t format;
  int nb = 0, f[8] = {};
  if (!r.require(wDesc && cudnnGetFilterNdDescriptor(wDesc, 8, &wType, &format,
                                                     &nb, f) ==
                              CUDNN_STATUS_SUCCESS,
                 CUDNN_STATUS_BAD_PARAM, "wDesc is not a set filter "
                                         "descriptor"))
    return false;
  if (!r.require(nb == 4, CUDNN_STATUS_BAD_PARAM,
                 "xDesc and wDesc have a non-matching number of dimensions") ||
      !r.require(wType == CUDNN_DATA_FLOAT, CUDNN_STATUS_BAD_PARAM,
                 "xDesc, wDesc, and yDesc have a non-matching data type") ||
      !r.require(format == CUDNN_TENSOR_NCHW, CUDNN_STATUS_NOT_SUPPORTED,
                 "wDesc is not CUDNN_TENSOR_NCHW (emulator: KCRS filters "
                 "only)"))
    return false;
  int length = 0, pad[4], stride[4], dilation[4];
  cudnnConvolutionMode_t mode;
  cudnnDataType_t compute;
  if (!r.require(convDesc && cudnnGetConvolutionNdDescriptor(
                                 convDesc, 4, &length, pad, stride, dilation,
                                 &mode, &compute) == CUDNN_STATUS_SUCCESS,
                 CUDNN_STATUS_BAD_PARAM,
                 "convDesc is not a set convolution descriptor"))
    return false;
  int groups = 1;
  cudnnGetConvolutionGroupCount(convDesc, &groups);
  cudnnGetConvolutionMathType(convDesc, &c.math);
  if (!r.require(length == 2, CUDNN_STATUS_BAD_PARAM,
                 "xDesc's number of dimensions is not equal to convDesc "
                 "array length + 2") ||
      !r.require(compute == CUDNN_DATA_FLOAT, CUDNN_STATUS_NOT_SUPPORTED,
                 "FLOAT tensors need a FLOAT convolution compute type (cuDNN "
                 "9, cudnnConvolutionForward: supported configurations)") ||
      !r.require(mode == CUDNN_CROSS_CORRELATION, CUDNN_STATUS_NOT_SUPPORTED,
                 "emulator: CUDNN_CROSS_CORRELATION only"))
    return false;
  c.s = ConvShape{f[0],      f[1],      f[2],        f[3],
                  pad[0],    pad[1],    stride[0],   stride[1],
                  dilation[0], dilation[1], groups, 0, 0};
  if (!r.require(c.x.c == int64_t(f[1]) * groups, CUDNN_STATUS_BAD_PARAM,
                 "xDesc and wDesc have a non-matching number of input "
                 "feature maps per image (or group): x has " +
                     std::to_string(c.x.c) + ", the filter " +
                     std::to_string(f[1]) + " x " + std::to_string(groups) +
                     " groups") ||
      !r.require(f[0] % groups == 0 && c.y.c % groups == 0,
                 CUDNN_STATUS_BAD_PARAM,
                 "yDesc or wDesc indicate an output channel count that "
                 "isn't a multiple of group count"))
    return false;
  int64_t effH = int64_t(f[2] - 1) * dilation[0] + 1;
  int64_t effW = int64_t(f[3] - 1) * dilation[1] + 1;
  if (!r.require(effH <= c.x.h + 2 * pad[0] && effW <= c.x.w + 2 * pad[1],
                 CUDNN_STATUS_BAD_PARAM,
                 "for some spatial dimension, wDesc has a spatial size that "
                 "is larger than the input spatial size (including "
                 "zero-padding size)"))
    return false;
  int out[4] = {};
  cudnnGetConvolutionNdForwardOutputDim(convDesc, xDesc, wDesc, 4, out);
  c.s.oh = out[2];
  c.s.ow = out[3];
  return r.require(c.y.n == out[0] && c.y.c == out[1] && c.y.h == out[2] &&
                       c.y.w == out[3],
                   CUDNN_STATUS_BAD_PARAM,
                   "yDesc " + dims(c.y) +
                       " is not the output cudnnGetConvolutionNdForward"
                       "OutputDim computes (" +
                       std::to_string(out[0]) + "x" + std::to_string(out[1]) +
                       "x" + std::to_string(out[2]) + "x" +
                       std::to_string(out[3]) + ")");
}

/// The emulated device's algorithms: which configurations each supports
/// and the workspace it needs.
struct AlgoInfo {
  bool supported = false;
  size_t workspace = 0;
  bool tensorOps = false; // has TF32 tensor-core kernels
  double cost = 0;        // for the heuristics' order
};

AlgoInfo algoInfo(cudnnConvolutionFwdAlgo_t algo, const ConvSetup &c) {
  const ConvShape &s = c.s;
  const int64_t n = c.x.n, cin = c.x.c, k = s.k, cg = s.cPerGroup;
  const bool plain = s.strideH == 1 && s.strideW == 1 && s.dilH == 1 &&
                     s.dilW == 1 && s.groups == 1;
  const double flops = 2.0 * double(n * k * s.oh * s.ow * cg * s.r * s.s);
  const size_t f = sizeof(float);
  AlgoInfo a;
  switch (algo) {
  case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
    a = {true, 0, false, flops * 1.3};
    break;
  case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
    // Precomputed input offsets: one per filter tap of a group.
    a = {true, size_t(cg * s.r * s.s) * 2 * sizeof(int), true, flops};
    break;
  case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: {
    bool pointwise = s.r == 1 && s.s == 1 && s.strideH == 1 &&
                     s.strideW == 1 && s.padH == 0 && s.padW == 0;
    // An explicit im2col buffer (none for a 1x1 stride-1 convolution).
    a = {true, pointwise ? 0 : size_t(cin * s.r * s.s * s.oh * s.ow) * f,
         true, flops * (pointwise ? 0.8 : 1.1)};
    break;
  }
  case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT:
    a = {false, 0, false, 0}; // not implemented by cuDNN
    break;
  case CUDNN_CONVOLUTION_FWD_ALGO_FFT: {
    int64_t fh = c.x.h + 2 * s.padH, fw = c.x.w + 2 * s.padW;
    bool ok = plain && fh <= 256 && fw <= 256 && s.padH < s.r &&
              s.padW < s.s && s.r > 1;
    a = {ok, size_t((n * cin + k * cin + n * k) * fh * (fw / 2 + 1)) * 2 * f,
         false, flops * 0.7};
    break;
  }
  case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: {
    bool ok = plain && s.r > 1 && s.r <= 32 && s.s <= 32;
    int64_t tiles = ((s.oh + 31) / 32) * ((s.ow + 31) / 32);
    a = {ok, size_t((n * cin + n * k) * tiles * 32 * 17 * 2 + k * cin * 32 * 17 * 2) * f,
         false, flops * 0.75};
    break;
  }
  case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD:
    a = {plain && s.r == 3 && s.s == 3, 0, false, flops * 0.55};
    break;
  case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: {
    bool ok = plain && ((s.r == 3 && s.s == 3) || (s.r == 5 && s.s == 5));
    int64_t tiles = ((s.oh + 3) / 4) * ((s.ow + 3) / 4);
    a = {ok, size_t((n * cin + n * k) * tiles * 36 + k * cin * 36) * f, true,
         flops * 0.5};
    break;
  }
  default:
    break;
  }
  return a;
}

const char *algoName(cudnnConvolutionFwdAlgo_t a) {
  static const char *names[] = {
      "IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM",     "DIRECT",
      "FFT",           "FFT_TILING",            "WINOGRAD", "WINOGRAD_NONFUSED"};
  return a >= 0 && a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT ? names[a] : "?";
}

/// The algorithm and workspace rules of both forward convolutions.
size_t checkAlgorithm(Rules &r, const ConvSetup &c,
                      cudnnConvolutionFwdAlgo_t algo, void *workSpace,
                      size_t workSpaceSizeInBytes) {
  AlgoInfo a = algoInfo(algo, c);
  if (!r.require(a.supported, CUDNN_STATUS_NOT_SUPPORTED,
                 std::string("CUDNN_CONVOLUTION_FWD_ALGO_") + algoName(algo) +
                     " does not support this configuration (cuDNN 9: the "
                     "chosen algo does not support the parameters "
                     "provided)"))
    return 0;
  // cudnnGetConvolutionForwardWorkspaceSize: "the amount of GPU memory
  // workspace the user needs to allocate to be able to call
  // cudnnConvolutionForward() with the specified algorithm".
  r.require(workSpaceSizeInBytes >= a.workspace, CUDNN_STATUS_BAD_PARAM,
            std::string("workSpaceSizeInBytes ") +
                std::to_string(workSpaceSizeInBytes) + " is less than the " +
                std::to_string(a.workspace) + " bytes " + algoName(algo) +
                " needs (cudnnGetConvolutionForwardWorkspaceSize)");
  r.require(a.workspace == 0 || workSpace != nullptr, CUDNN_STATUS_BAD_PARAM,
            std::string("workSpace is NULL, but ") + algoName(algo) +
                " needs " + std::to_string(a.workspace) + " bytes");
  return a.workspace;
}

/// Reads and writes of one forward convolution.
void convAccess(Op &op, const ConvSetup &c, const void *x, const void *w,
                void *workSpace, size_t workspace, const void *y) {
  touch(op, x, c.x, false, "x");
  op.read(w, size_t(c.s.k * c.s.cPerGroup * c.s.r * c.s.s) * sizeof(float),
          "w");
  op.write(workSpace, workspace, "the workspace");
  touch(op, y, c.y, true, "y");
  op.flops = 2.0 * double(c.x.n * c.s.k * c.s.oh * c.s.ow * c.s.cPerGroup *
                          c.s.r * c.s.s);
}

bool tf32(const ConvSetup &c) { return c.math != CUDNN_FMA_MATH; }

/// Convolves x with w and hands every result to `store(value, y element,
/// n, k, i, j)`.
template <typename Store>
void convolveInto(const ConvSetup &c, const void *x, const void *w, void *y,
                  Store store) {
  std::vector<float> out;
  convolve(static_cast<const float *>(x), c.x, static_cast<const float *>(w),
           c.s, tf32(c), out);
  float *yf = static_cast<float *>(y);
  const Tensor4 &yt = c.y;
  const float *v = out.data();
  for (int64_t n = 0; n < yt.n; ++n)
    for (int64_t k = 0; k < yt.c; ++k)
      for (int64_t i = 0; i < yt.h; ++i)
        for (int64_t j = 0; j < yt.w; ++j)
          store(*v++, yf[yt.at(n, k, i, j)], n, k, i, j);
}

} // namespace

//===----------------------------------------------------------------------===//
// The cuDNN entry points
//===----------------------------------------------------------------------===//

extern "C" {

cudnnStatus_t cudnnCreate(cudnnHandle_t *handle) {
  Device &d = Device::get();
  Call c("cudnnCreate");
  Rules r(c, "cudnnCreate");
  if (deviceCount() < 1)
    return r.done(CUDNN_STATUS_NOT_INITIALIZED);
  if (!r.require(handle != nullptr, CUDNN_STATUS_BAD_PARAM, "handle is NULL"))
    return r.done();
  auto h = std::make_unique<Handle>();
  // "If the cuDNN library stream is not set, all kernels use the default
  // (NULL) stream."
  h->stream = d.legacy();
  *handle = reinterpret_cast<cudnnHandle_t>(h.get());
  handles().push_back(std::move(h));
  return r.done();
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  Call c("cudnnDestroy");
  Rules r(c, "cudnnDestroy");
  if (Handle *h = handleOf(r, handle))
    h->destroyed = true;
  return r.done();
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId) {
  Device &d = Device::get();
  Call c("cudnnSetStream");
  Rules r(c, "cudnnSetStream");
  Handle *h = handleOf(r, handle);
  if (!h)
    return r.done();
  Stream *s = d.stream(streamId, "cudnnSetStream");
  if (!r.require(s != nullptr, CUDNN_STATUS_BAD_PARAM,
                 "streamId is not a live stream"))
    return r.done();
  h->stream = s;
  c.setStream(s);
  return r.done();
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t *streamId) {
  Device &d = Device::get();
  Call c("cudnnGetStream");
  Rules r(c, "cudnnGetStream");
  Handle *h = handleOf(r, handle);
  if (h && r.require(streamId != nullptr, CUDNN_STATUS_BAD_PARAM,
                     "streamId is NULL"))
    *streamId = h->stream == d.legacy()
                    ? nullptr
                    : reinterpret_cast<cudaStream_t>(h->stream);
  return r.done();
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
    const cudnnFilterDescriptor_t filterDesc,
    const cudnnConvolutionDescriptor_t convDesc,
    const cudnnTensorDescriptor_t destDesc, const int requestedAlgoCount,
    int *returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t *perfResults) {
  Call c("cudnnGetConvolutionForwardAlgorithm_v7");
  Rules r(c, "cudnnGetConvolutionForwardAlgorithm_v7");
  ConvSetup setup;
  if (!handleOf(r, handle) ||
      !r.require(returnedAlgoCount && perfResults, CUDNN_STATUS_BAD_PARAM,
                 "returnedAlgoCount or perfResults is NULL") ||
      !r.require(requestedAlgoCount > 0, CUDNN_STATUS_BAD_PARAM,
                 "requestedAlgoCount is less than or equal to 0") ||
      !convSetup(r, srcDesc, filterDesc, convDesc, destDesc, setup))
    return r.done();
  // The heuristics' order: supported algorithms by estimated cost, then the
  // others with CUDNN_STATUS_NOT_SUPPORTED. With tensor ops allowed, an
  // algorithm with tensor-core kernels reports CUDNN_TENSOR_OP_MATH.
  std::vector<cudnnConvolutionFwdAlgoPerf_t> all;
  for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a) {
    auto algo = cudnnConvolutionFwdAlgo_t(a);
    AlgoInfo info = algoInfo(algo, setup);
    cudnnConvolutionFwdAlgoPerf_t p{};
    p.algo = algo;
    p.status = info.supported ? CUDNN_STATUS_SUCCESS
                              : CUDNN_STATUS_NOT_SUPPORTED;
    p.memory = info.supported ? info.workspace : 0;
    p.determinism = CUDNN_DETERMINISTIC;
    bool tensorOps = setup.math == CUDNN_TENSOR_OP_MATH ||
                     setup.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    p.mathType = info.tensorOps && tensorOps
                     ? CUDNN_TENSOR_OP_MATH
                     : (setup.math == CUDNN_FMA_MATH ? CUDNN_FMA_MATH
                                                     : CUDNN_DEFAULT_MATH);
    double speedup = p.mathType == CUDNN_TENSOR_OP_MATH ? 0.25 : 1.0;
    p.time = info.supported ? float(info.cost * speedup / 14e9 * 1e3) : -1.0f;
    all.push_back(p);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto &a, const auto &b) {
    if ((a.status == CUDNN_STATUS_SUCCESS) != (b.status == CUDNN_STATUS_SUCCESS))
      return a.status == CUDNN_STATUS_SUCCESS;
    return a.time < b.time;
  });
  int n = std::min<int>(requestedAlgoCount, int(all.size()));
  std::copy(all.begin(), all.begin() + n, perfResults);
  *returnedAlgoCount = n;
  return r.done();
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
    const cudnnFilterDescriptor_t wDesc,
    const cudnnConvolutionDescriptor_t convDesc,
    const cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,
    size_t *sizeInBytes) {
  Call c("cudnnGetConvolutionForwardWorkspaceSize");
  Rules r(c, "cudnnGetConvolutionForwardWorkspaceSize");
  ConvSetup setup;
  if (!handleOf(r, handle) ||
      !r.require(sizeInBytes != nullptr, CUDNN_STATUS_BAD_PARAM,
                 "sizeInBytes is NULL") ||
      !convSetup(r, xDesc, wDesc, convDesc, yDesc, setup))
    return r.done();
  AlgoInfo a = algoInfo(algo, setup);
  // "CUDNN_STATUS_NOT_SUPPORTED: The combination of the tensor
  // descriptors, filter descriptor and convolution descriptor is not
  // supported for the specified algorithm."
  if (!a.supported)
    return r.done(CUDNN_STATUS_NOT_SUPPORTED);
  *sizeInBytes = a.workspace;
  return r.done();
}

cudnnStatus_t cudnnConvolutionForward(
    cudnnHandle_t handle, const void *alpha,
    const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnConvolutionDescriptor_t convDesc,
    cudnnConvolutionFwdAlgo_t algo, void *workSpace,
    size_t workSpaceSizeInBytes, const void *beta,
    const cudnnTensorDescriptor_t yDesc, void *y) {
  Call c("cudnnConvolutionForward");
  Rules r(c, "cudnnConvolutionForward");
  Handle *h = handleOf(r, handle);
  ConvSetup setup;
  float a = 0, b = 0;
  if (!h || !scale(r, alpha, "alpha", a) || !scale(r, beta, "beta", b) ||
      !r.require(x && w && y, CUDNN_STATUS_BAD_PARAM,
                 "xData, w or yData is NULL") ||
      !convSetup(r, xDesc, wDesc, convDesc, yDesc, setup))
    return r.done();
  size_t workspace =
      checkAlgorithm(r, setup, algo, workSpace, workSpaceSizeInBytes);
  distinct(r, x, setup.x, y, setup.y, "a convolution");
  if (r.failed())
    return r.done();
  Op op;
  convAccess(op, setup, x, w, workSpace, workspace, y);
  if (b != 0.0f) // "When beta is zero, the output is not read"
    touch(op, y, setup.y, false, "y (beta != 0)");
  submit(r, h, op, [=] {
    convolveInto(setup, x, w, y,
                 [&](float v, float &dst, int64_t, int64_t, int64_t,
                     int64_t) { dst = b == 0.0f ? a * v : a * v + b * dst; });
  });
  return r.done();
}

cudnnStatus_t cudnnConvolutionBiasActivationForward(
    cudnnHandle_t handle, const void *alpha1,
    const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnConvolutionDescriptor_t convDesc,
    cudnnConvolutionFwdAlgo_t algo, void *workSpace,
    size_t workSpaceSizeInBytes, const void *alpha2,
    const cudnnTensorDescriptor_t zDesc, const void *z,
    const cudnnTensorDescriptor_t biasDesc, const void *bias,
    const cudnnActivationDescriptor_t activationDesc,
    const cudnnTensorDescriptor_t yDesc, void *y) {
  Call c("cudnnConvolutionBiasActivationForward");
  Rules r(c, "cudnnConvolutionBiasActivationForward");
  Handle *h = handleOf(r, handle);
  ConvSetup setup;
  float a1 = 0, a2 = 0;
  Tensor4 zt, bt;
  if (!h || !scale(r, alpha1, "alpha1", a1) ||
      !scale(r, alpha2, "alpha2", a2) ||
      !r.require(x && w && y && z && bias && activationDesc,
                 CUDNN_STATUS_BAD_PARAM,
                 "xData, wData, zData, bias, yData or activationDesc is "
                 "NULL") ||
      !convSetup(r, xDesc, wDesc, convDesc, yDesc, setup) ||
      !tensor(r, zDesc, "zDesc", zt) || !tensor(r, biasDesc, "biasDesc", bt))
    return r.done();
  cudnnActivationMode_t mode;
  cudnnNanPropagation_t nan;
  double coef = 0;
  if (!r.require(cudnnGetActivationDescriptor(activationDesc, &mode, &nan,
                                              &coef) == CUDNN_STATUS_SUCCESS,
                 CUDNN_STATUS_BAD_PARAM,
                 "activationDesc is not a set activation descriptor"))
    return r.done();
  // cuDNN 9, cudnnConvolutionBiasActivationForward, "Returns":
  // CUDNN_STATUS_NOT_SUPPORTED when "the mode of activationDesc is neither
  // CUDNN_ACTIVATION_RELU or CUDNN_ACTIVATION_IDENTITY" or "the reluNanOpt
  // of activationDesc is not CUDNN_NOT_PROPAGATE_NAN".
  r.require(mode == CUDNN_ACTIVATION_RELU || mode == CUDNN_ACTIVATION_IDENTITY,
            CUDNN_STATUS_NOT_SUPPORTED,
            "the mode of activationDesc is neither CUDNN_ACTIVATION_RELU nor "
            "CUDNN_ACTIVATION_IDENTITY (cuDNN 9: only those two are "
            "supported here)");
  r.require(nan == CUDNN_NOT_PROPAGATE_NAN, CUDNN_STATUS_NOT_SUPPORTED,
            "the reluNanOpt of activationDesc is not "
            "CUDNN_NOT_PROPAGATE_NAN");
  // cudnnActivationMode_t, CUDNN_ACTIVATION_IDENTITY: "The
  // cudnnConvolutionBiasActivationForward() function must use
  // CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM."
  r.require(mode != CUDNN_ACTIVATION_IDENTITY ||
                algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
            CUDNN_STATUS_NOT_SUPPORTED,
            std::string("CUDNN_ACTIVATION_IDENTITY with CUDNN_CONVOLUTION_"
                        "FWD_ALGO_") +
                algoName(algo) +
                " (cuDNN 9: the identity must use "
                "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)");
  // "The first dimension of biasDesc is not equal to one", "the second
  // stride of biasDesc is not equal to one": a 1 x K x 1 x 1 bias, K = the
  // output's channels.
  r.require(bt.n == 1 && bt.c == setup.y.c && bt.h == 1 && bt.w == 1 &&
                bt.cs == 1,
            CUDNN_STATUS_NOT_SUPPORTED,
            "biasDesc " + dims(bt) + " is not 1x" + std::to_string(setup.y.c) +
                "x1x1 with channel stride 1");
  r.require(zt.sameDims(setup.y), CUDNN_STATUS_BAD_PARAM,
            "zDesc " + dims(zt) + " does not match yDesc " + dims(setup.y));
  size_t workspace =
      checkAlgorithm(r, setup, algo, workSpace, workSpaceSizeInBytes);
  distinct(r, x, setup.x, y, setup.y, "a convolution");
  if (r.failed())
    return r.done();
  Op op;
  convAccess(op, setup, x, w, workSpace, workspace, y);
  op.read(bias, size_t(bt.c) * sizeof(float), "the bias");
  if (a2 != 0.0f)
    touch(op, z, zt, false, "z (alpha2 != 0)");
  const float *zf = static_cast<const float *>(z);
  const float *bf = static_cast<const float *>(bias);
  ActMode act = mode == CUDNN_ACTIVATION_RELU ? ActMode::Relu
                                              : ActMode::Identity;
  // y = act(alpha1 * conv + alpha2 * z + bias); z (often y itself) is read
  // at each element before that element is written.
  submit(r, h, op, [=] {
    convolveInto(setup, x, w, y,
                 [&](float v, float &dst, int64_t n, int64_t k, int64_t i,
                     int64_t j) {
                   v *= a1;
                   if (a2 != 0.0f)
                     v += a2 * zf[zt.at(n, k, i, j)];
                   dst = activate(act, coef, v + bf[k * bt.cs]);
                 });
  });
  return r.done();
}

cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void *alpha,
                             const cudnnTensorDescriptor_t aDesc,
                             const void *A, const void *beta,
                             const cudnnTensorDescriptor_t cDesc, void *C) {
  Call c("cudnnAddTensor");
  Rules r(c, "cudnnAddTensor");
  Handle *h = handleOf(r, handle);
  float a = 0, b = 0;
  Tensor4 at, ct;
  if (!h || !scale(r, alpha, "alpha", a) || !scale(r, beta, "beta", b) ||
      !r.require(A && C, CUDNN_STATUS_BAD_PARAM, "A or C is NULL") ||
      !tensor(r, aDesc, "aDesc", at) || !tensor(r, cDesc, "cDesc", ct))
    return r.done();
  // "Each dimension of the bias tensor A must match the corresponding
  // dimension of the destination tensor C or must be equal to 1."
  auto fits = [](int64_t x, int64_t y) { return x == y || x == 1; };
  r.require(fits(at.n, ct.n) && fits(at.c, ct.c) && fits(at.h, ct.h) &&
                fits(at.w, ct.w),
            CUDNN_STATUS_BAD_PARAM,
            "the dimensions of A " + dims(at) +
                " are incompatible with C " + dims(ct) +
                " (each must match C's or be 1)");
  distinct(r, A, at, C, ct, "cudnnAddTensor");
  if (r.failed())
    return r.done();
  Op op;
  blendAccess(op, A, at, C, ct, b, "A", "C");
  op.flops = double(ct.elements());
  submit(r, h, op, [=] {
    addTensor(static_cast<const float *>(A), at, static_cast<float *>(C), ct,
              a, b);
  });
  return r.done();
}

cudnnStatus_t cudnnActivationForward(
    cudnnHandle_t handle, cudnnActivationDescriptor_t activationDesc,
    const void *alpha, const cudnnTensorDescriptor_t xDesc, const void *x,
    const void *beta, const cudnnTensorDescriptor_t yDesc, void *y) {
  Call c("cudnnActivationForward");
  Rules r(c, "cudnnActivationForward");
  Handle *h = handleOf(r, handle);
  float a = 0, b = 0;
  Tensor4 xt, yt;
  cudnnActivationMode_t mode;
  cudnnNanPropagation_t nan;
  double coef = 0;
  if (!h || !scale(r, alpha, "alpha", a) || !scale(r, beta, "beta", b) ||
      !r.require(x && y, CUDNN_STATUS_BAD_PARAM, "x or y is NULL") ||
      !tensor(r, xDesc, "xDesc", xt) || !tensor(r, yDesc, "yDesc", yt) ||
      !r.require(activationDesc &&
                     cudnnGetActivationDescriptor(activationDesc, &mode, &nan,
                                                  &coef) ==
                         CUDNN_STATUS_SUCCESS,
                 CUDNN_STATUS_BAD_PARAM,
                 "activationDesc is not a set activation descriptor"))
    return r.done();
  // cudnnActivationMode_t, CUDNN_ACTIVATION_IDENTITY: "Does not work with
  // cudnnActivationForward() or cudnnActivationBackward()."
  r.require(mode != CUDNN_ACTIVATION_IDENTITY, CUDNN_STATUS_BAD_PARAM,
            "CUDNN_ACTIVATION_IDENTITY does not work with "
            "cudnnActivationForward (cuDNN 9, cudnnActivationMode_t)");
  r.require(mode == CUDNN_ACTIVATION_SIGMOID ||
                mode == CUDNN_ACTIVATION_RELU ||
                mode == CUDNN_ACTIVATION_TANH ||
                mode == CUDNN_ACTIVATION_CLIPPED_RELU ||
                mode == CUDNN_ACTIVATION_ELU ||
                mode == CUDNN_ACTIVATION_IDENTITY,
            CUDNN_STATUS_NOT_SUPPORTED,
            "emulator: sigmoid, relu, tanh, clipped relu and elu only");
  r.require(xt.sameDims(yt), CUDNN_STATUS_BAD_PARAM,
            "the dimensions n, c, h, w of the input tensor " + dims(xt) +
                " and output tensor " + dims(yt) + " differ");
  inPlaceOrDistinct(r, x, xt, y, yt,
                    "an activation that is not exactly in place");
  if (r.failed())
    return r.done();
  Op op;
  blendAccess(op, x, xt, y, yt, b, "x", "y");
  op.flops = double(yt.elements());
  ActMode m = mode == CUDNN_ACTIVATION_SIGMOID ? ActMode::Sigmoid
              : mode == CUDNN_ACTIVATION_RELU  ? ActMode::Relu
              : mode == CUDNN_ACTIVATION_TANH  ? ActMode::Tanh
              : mode == CUDNN_ACTIVATION_ELU   ? ActMode::Elu
                                               : ActMode::ClippedRelu;
  submit(r, h, op, [=] {
    activation(static_cast<const float *>(x), xt, static_cast<float *>(y), yt,
               m, coef, a, b);
  });
  return r.done();
}

cudnnStatus_t cudnnPoolingForward(cudnnHandle_t handle,
                                  const cudnnPoolingDescriptor_t poolingDesc,
                                  const void *alpha,
                                  const cudnnTensorDescriptor_t xDesc,
                                  const void *x, const void *beta,
                                  const cudnnTensorDescriptor_t yDesc,
                                  void *y) {
  Call c("cudnnPoolingForward");
  Rules r(c, "cudnnPoolingForward");
  Handle *h = handleOf(r, handle);
  float a = 0, b = 0;
  Tensor4 xt, yt;
  cudnnPoolingMode_t mode;
  cudnnNanPropagation_t nan;
  int wh = 0, ww = 0, ph = 0, pw = 0, sh = 0, sw = 0;
  if (!h || !scale(r, alpha, "alpha", a) || !scale(r, beta, "beta", b) ||
      !r.require(x && y, CUDNN_STATUS_BAD_PARAM, "x or y is NULL") ||
      !tensor(r, xDesc, "xDesc", xt) || !tensor(r, yDesc, "yDesc", yt) ||
      !r.require(poolingDesc &&
                     cudnnGetPooling2dDescriptor(poolingDesc, &mode, &nan, &wh,
                                                 &ww, &ph, &pw, &sh, &sw) ==
                         CUDNN_STATUS_SUCCESS,
                 CUDNN_STATUS_BAD_PARAM,
                 "poolingDesc is not a set 2-D pooling descriptor"))
    return r.done();
  // cuDNN 9, cudnnPoolingForward, "Returns": BAD_PARAM when "the
  // dimensions n, c of the input tensor and output tensors differ";
  // NOT_SUPPORTED when "the wStride of input tensor or output tensor is not
  // 1".
  r.require(xt.n == yt.n && xt.c == yt.c, CUDNN_STATUS_BAD_PARAM,
            "the dimensions n, c of the input tensor " + dims(xt) +
                " and output tensor " + dims(yt) + " differ");
  r.require(xt.ws == 1 && yt.ws == 1, CUDNN_STATUS_NOT_SUPPORTED,
            "the wStride of the input or output tensor is not 1");
  // cudnnGetPooling2dForwardOutputDim's formula: outputDim = 1 +
  // (inputDim + 2 * padding - windowDim) / poolingStride.
  int64_t oh = 1 + (xt.h + 2 * ph - wh) / std::max(sh, 1);
  int64_t ow = 1 + (xt.w + 2 * pw - ww) / std::max(sw, 1);
  r.require(yt.h == oh && yt.w == ow, CUDNN_STATUS_BAD_PARAM,
            "yDesc " + dims(yt) +
                " is not the output cudnnGetPooling2dForwardOutputDim "
                "computes (" +
                std::to_string(oh) + "x" + std::to_string(ow) +
                " spatial; emulator)");
  distinct(r, x, xt, y, yt, "pooling");
  if (r.failed())
    return r.done();
  Op op;
  blendAccess(op, x, xt, y, yt, b, "x", "y");
  op.flops = double(yt.elements() * wh * ww);
  PoolMode m = mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                   ? PoolMode::AverageIncludePadding
               : mode == CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING
                   ? PoolMode::AverageExcludePadding
                   : PoolMode::Max;
  submit(r, h, op, [=] {
    pool(static_cast<const float *>(x), xt, static_cast<float *>(y), yt, m,
         wh, ww, ph, pw, sh, sw, a, b);
  });
  return r.done();
}

cudnnStatus_t cudnnSoftmaxForward(cudnnHandle_t handle,
                                  cudnnSoftmaxAlgorithm_t algo,
                                  cudnnSoftmaxMode_t mode, const void *alpha,
                                  const cudnnTensorDescriptor_t xDesc,
                                  const void *x, const void *beta,
                                  const cudnnTensorDescriptor_t yDesc,
                                  void *y) {
  Call c("cudnnSoftmaxForward");
  Rules r(c, "cudnnSoftmaxForward");
  Handle *h = handleOf(r, handle);
  float a = 0, b = 0;
  Tensor4 xt, yt;
  if (!h || !scale(r, alpha, "alpha", a) || !scale(r, beta, "beta", b) ||
      !r.require(x && y, CUDNN_STATUS_BAD_PARAM, "x or y is NULL") ||
      !tensor(r, xDesc, "xDesc", xt) || !tensor(r, yDesc, "yDesc", yt))
    return r.done();
  // cuDNN 9, cudnnSoftmaxForward, "Returns": BAD_PARAM when "the
  // dimensions n, c, h, w of the input tensor and output tensors differ"
  // or "the parameters algorithm or mode have an invalid enumerant value".
  r.require(xt.sameDims(yt), CUDNN_STATUS_BAD_PARAM,
            "the dimensions of the input tensor " + dims(xt) +
                " and output tensor " + dims(yt) + " differ");
  r.require(algo == CUDNN_SOFTMAX_FAST || algo == CUDNN_SOFTMAX_ACCURATE ||
                algo == CUDNN_SOFTMAX_LOG,
            CUDNN_STATUS_BAD_PARAM, "algorithm has an invalid value");
  r.require(mode == CUDNN_SOFTMAX_MODE_INSTANCE ||
                mode == CUDNN_SOFTMAX_MODE_CHANNEL,
            CUDNN_STATUS_BAD_PARAM, "mode has an invalid value");
  inPlaceOrDistinct(r, x, xt, y, yt, "a softmax that is not exactly in place");
  if (r.failed())
    return r.done();
  Op op;
  blendAccess(op, x, xt, y, yt, b, "x", "y");
  op.flops = 3.0 * double(yt.elements());
  submit(r, h, op, [=] {
    softmax(static_cast<const float *>(x), xt, static_cast<float *>(y), yt,
            mode == CUDNN_SOFTMAX_MODE_INSTANCE, algo == CUDNN_SOFTMAX_LOG,
            algo != CUDNN_SOFTMAX_FAST, a, b);
  });
  return r.done();
}

} // extern "C"
