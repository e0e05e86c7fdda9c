//===- Descriptors.cpp - cuDNN descriptors of runtime views ---------------===//

#include "Descriptors.h"

#include <algorithm>
#include <climits>

using namespace ios::rt;
using namespace ios::rt::cuda;

std::string ios::rt::cuda::cudnnMessage(cudnnStatus_t s, const char *what) {
  if (s == CUDNN_STATUS_SUCCESS)
    return {};
  return std::string(what) + ": " + cudnnGetErrorString(s);
}

namespace {
bool fitsInt(int64_t x) { return x >= 0 && x <= INT_MAX; }
} // namespace

std::string ios::rt::cuda::setTensor(cudnnTensorDescriptor_t d, View v,
                                     const char *role) {
  int64_t image = v.c * v.h * v.w;
  int64_t nStride = v.n > 1 ? v.batchStride : std::max(v.batchStride, image);
  if (!fitsInt(v.n) || !fitsInt(v.c) || !fitsInt(v.h) || !fitsInt(v.w) ||
      !fitsInt(nStride))
    return std::string(role) + " " + detail::describe(v) +
           " does not fit cuDNN's 32-bit tensor descriptors";
  return cudnnMessage(cudnnSetTensor4dDescriptorEx(
                          d, CUDNN_DATA_FLOAT, int(v.n), int(v.c), int(v.h),
                          int(v.w), int(nStride), int(v.h * v.w), int(v.w), 1),
                      (std::string(role) + " descriptor").c_str());
}

TensorDesc::~TensorDesc() {
  if (d)
    cudnnDestroyTensorDescriptor(d);
}

std::string ios::rt::cuda::makeTensorDesc(TensorDesc &t, View v,
                                          const char *role) {
  if (std::string e = cudnnMessage(cudnnCreateTensorDescriptor(&t.d), role);
      !e.empty())
    return e;
  return setTensor(t.d, v, role);
}

ActivationDesc::~ActivationDesc() {
  if (d)
    cudnnDestroyActivationDescriptor(d);
}

std::string ios::rt::cuda::makeActivationDesc(ActivationDesc &a, Act act) {
  if (std::string e = cudnnMessage(cudnnCreateActivationDescriptor(&a.d),
                                   "activation descriptor");
      !e.empty())
    return e;
  return cudnnMessage(cudnnSetActivationDescriptor(a.d, activationMode(act),
                                                   CUDNN_NOT_PROPAGATE_NAN,
                                                   0.0),
                      "activation descriptor");
}

ConvDescs::~ConvDescs() {
  if (x)
    cudnnDestroyTensorDescriptor(x);
  if (y)
    cudnnDestroyTensorDescriptor(y);
  if (bias)
    cudnnDestroyTensorDescriptor(bias);
  if (w)
    cudnnDestroyFilterDescriptor(w);
  if (conv)
    cudnnDestroyConvolutionDescriptor(conv);
  if (act)
    cudnnDestroyActivationDescriptor(act);
}

cudnnActivationMode_t ios::rt::cuda::activationMode(Act act) {
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

std::string ios::rt::cuda::makeConvDescs(ConvDescs &d, View in, View out,
                                         const detail::ConvShape &s, Act act) {
  std::string e;
  auto ok = [&](std::string m) {
    e = std::move(m);
    return e.empty();
  };
  const int64_t cinG = s.groups > 0 ? in.c / s.groups : 0;
  if (!ok(cudnnMessage(cudnnCreateTensorDescriptor(&d.x), "input")) ||
      !ok(setTensor(d.x, in, "input")) ||
      !ok(cudnnMessage(cudnnCreateTensorDescriptor(&d.y), "output")) ||
      !ok(setTensor(d.y, out, "output")) ||
      !ok(cudnnMessage(cudnnCreateTensorDescriptor(&d.bias), "bias")) ||
      !ok(cudnnMessage(cudnnSetTensor4dDescriptor(d.bias, CUDNN_TENSOR_NCHW,
                                                  CUDNN_DATA_FLOAT, 1,
                                                  int(out.c), 1, 1),
                       "bias descriptor")) ||
      !ok(cudnnMessage(cudnnCreateFilterDescriptor(&d.w), "filter")) ||
      !ok(cudnnMessage(cudnnSetFilter4dDescriptor(
                           d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                           int(out.c), int(cinG), int(s.kh), int(s.kw)),
                       "filter descriptor")) ||
      !ok(cudnnMessage(cudnnCreateConvolutionDescriptor(&d.conv),
                       "convolution")) ||
      !ok(cudnnMessage(cudnnSetConvolution2dDescriptor(
                           d.conv, int(s.ph), int(s.pw), int(s.sh), int(s.sw),
                           int(s.dh), int(s.dw), CUDNN_CROSS_CORRELATION,
                           CUDNN_DATA_FLOAT),
                       "convolution descriptor")) ||
      !ok(cudnnMessage(cudnnSetConvolutionGroupCount(d.conv, int(s.groups)),
                       "group count")) ||
      // FP32 results as the CPU backend computes them: no TF32 tensor cores.
      !ok(cudnnMessage(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH),
                       "math type")) ||
      !ok(cudnnMessage(cudnnCreateActivationDescriptor(&d.act),
                       "activation")) ||
      !ok(cudnnMessage(cudnnSetActivationDescriptor(d.act,
                                                    activationMode(act),
                                                    CUDNN_NOT_PROPAGATE_NAN,
                                                    0.0),
                       "activation descriptor")))
    return e;
  return {};
}

std::string ios::rt::cuda::convOutputDims(const ConvDescs &d, int dims[4]) {
  return cudnnMessage(cudnnGetConvolution2dForwardOutputDim(
                          d.conv, d.x, d.w, &dims[0], &dims[1], &dims[2],
                          &dims[3]),
                      "cudnnGetConvolution2dForwardOutputDim");
}

PoolDescs::~PoolDescs() {
  if (x)
    cudnnDestroyTensorDescriptor(x);
  if (y)
    cudnnDestroyTensorDescriptor(y);
  if (pool)
    cudnnDestroyPoolingDescriptor(pool);
}

std::string ios::rt::cuda::makePoolDescs(PoolDescs &d, View in, View out,
                                         bool max, int64_t kh, int64_t kw,
                                         int64_t sh, int64_t sw, int64_t ph,
                                         int64_t pw, bool countIncludePad) {
  cudnnPoolingMode_t mode =
      max               ? CUDNN_POOLING_MAX
      : countIncludePad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                        : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  std::string e;
  auto ok = [&](std::string m) {
    e = std::move(m);
    return e.empty();
  };
  if (!ok(cudnnMessage(cudnnCreateTensorDescriptor(&d.x), "input")) ||
      !ok(setTensor(d.x, in, "input")) ||
      !ok(cudnnMessage(cudnnCreateTensorDescriptor(&d.y), "output")) ||
      !ok(setTensor(d.y, out, "output")) ||
      !ok(cudnnMessage(cudnnCreatePoolingDescriptor(&d.pool), "pooling")) ||
      !ok(cudnnMessage(
          cudnnSetPooling2dDescriptor(
              d.pool, mode, CUDNN_NOT_PROPAGATE_NAN, int(kh), int(kw), int(ph), int(pw),
              int(sh), int(sw)),
          "pooling descriptor")))
    return e;
  return {};
}

std::string ios::rt::cuda::poolOutputDims(const PoolDescs &d, int dims[4]) {
  return cudnnMessage(cudnnGetPooling2dForwardOutputDim(
                          d.pool, d.x, &dims[0], &dims[1], &dims[2], &dims[3]),
                      "cudnnGetPooling2dForwardOutputDim");
}
