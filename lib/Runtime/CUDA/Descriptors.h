//===- Descriptors.h - cuDNN descriptors of runtime views -------*- C++ -*-===//
//
// The CUDA backend describes every view to cuDNN as a strided NCHW tensor
// (n stride = the view's batch stride), so channel slices of wider tensors
// are read and written in place. Building descriptors needs no GPU (only
// libcudnn), which is what the unit tests exercise on a GPU-less machine.
// Runtime-internal.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CUDA_DESCRIPTORS_H
#define IOS_LIB_RUNTIME_CUDA_DESCRIPTORS_H

#include "../Checks.h"
#include "ios/Runtime/Runtime.h"

#include <cudnn.h>

#include <string>

namespace ios::rt::cuda {

/// "what: CUDNN_STATUS_..." or "" for success.
std::string cudnnMessage(cudnnStatus_t s, const char *what);

/// Sets `d` to the strided NCHW layout of `v`.
std::string setTensor(cudnnTensorDescriptor_t d, View v, const char *role);

/// A view's descriptor, owned.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() = default;
  TensorDesc(const TensorDesc &) = delete;
  TensorDesc &operator=(const TensorDesc &) = delete;
  ~TensorDesc();
};
std::string makeTensorDesc(TensorDesc &t, View v, const char *role);

/// An activation descriptor (identity for ActNone), owned.
struct ActivationDesc {
  cudnnActivationDescriptor_t d = nullptr;
  ActivationDesc() = default;
  ActivationDesc(const ActivationDesc &) = delete;
  ActivationDesc &operator=(const ActivationDesc &) = delete;
  ~ActivationDesc();
};
std::string makeActivationDesc(ActivationDesc &a, Act act);

/// Every descriptor of one convolution configuration, owned.
struct ConvDescs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t act = nullptr;
  ConvDescs() = default;
  ConvDescs(const ConvDescs &) = delete;
  ConvDescs &operator=(const ConvDescs &) = delete;
  ~ConvDescs();
};

/// Describes `in` (x), `out` (y), the OIHW filter, the convolution
/// (cross-correlation, FP32 without tensor cores: CUDNN_FMA_MATH), the bias
/// (1 x C x 1 x 1) and the activation (identity for ActNone).
std::string makeConvDescs(ConvDescs &d, View in, View out,
                          const detail::ConvShape &s, Act act);
/// cuDNN's output shape for the x, filter and convolution descriptors.
std::string convOutputDims(const ConvDescs &d, int dims[4]);

struct PoolDescs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;
  PoolDescs() = default;
  PoolDescs(const PoolDescs &) = delete;
  PoolDescs &operator=(const PoolDescs &) = delete;
  ~PoolDescs();
};

/// Max pooling, or average pooling counting the padding
/// (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING: divided by the whole
/// window) or not (..._EXCLUDE_PADDING: by the taps inside the input).
std::string makePoolDescs(PoolDescs &d, View in, View out, bool max,
                          int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                          int64_t ph, int64_t pw, bool countIncludePad);
std::string poolOutputDims(const PoolDescs &d, int dims[4]);

cudnnActivationMode_t activationMode(Act act);

} // namespace ios::rt::cuda

#endif // IOS_LIB_RUNTIME_CUDA_DESCRIPTORS_H
