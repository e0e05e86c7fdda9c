//===- CudnnDescriptors.cpp - cuDNN descriptor calls, counted -------------===//
//
// The descriptor calls the CUDA backend makes run in the real libcudnn (they
// need no GPU); these pass-throughs (dlsym(RTLD_NEXT): the next definition,
// libcudnn's) only number and trace them, so the host API calls the
// emulator counts include the descriptors a program sets up per inference.
//
//===----------------------------------------------------------------------===//

#include "Device.h"

#include <cudnn.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

using namespace ios::emu;

namespace {

template <auto Self, typename... Args>
cudnnStatus_t passThrough(const char *name, Args... args) {
  static auto *real = [name] {
    auto *p = reinterpret_cast<decltype(Self)>(dlsym(RTLD_NEXT, name));
    if (!p) {
      std::fprintf(stderr, "ios-emu: libcudnn has no %s (link -lcudnn)\n",
                   name);
      std::abort();
    }
    return p;
  }();
  Call c(name);
  cudnnStatus_t s = real(args...);
  c.setStatus(int(s));
  return s;
}

} // namespace

#define PASS(name, ...) return passThrough<&name>(#name, __VA_ARGS__)

extern "C" {

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
  PASS(cudnnCreateTensorDescriptor, d);
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d,
                                         cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c,
                                         int h, int w) {
  PASS(cudnnSetTensor4dDescriptor, d, format, type, n, c, h, w);
}
cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t d,
                                           cudnnDataType_t type, int n, int c,
                                           int h, int w, int ns, int cs,
                                           int hs, int ws) {
  PASS(cudnnSetTensor4dDescriptorEx, d, type, n, c, h, w, ns, cs, hs, ws);
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  PASS(cudnnDestroyTensorDescriptor, d);
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) {
  PASS(cudnnCreateFilterDescriptor, d);
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d,
                                         cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k,
                                         int c, int h, int w) {
  PASS(cudnnSetFilter4dDescriptor, d, type, format, k, c, h, w);
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  PASS(cudnnDestroyFilterDescriptor, d);
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
  PASS(cudnnCreateConvolutionDescriptor, d);
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d,
                                              int padH, int padW, int u, int v,
                                              int dilationH, int dilationW,
                                              cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  PASS(cudnnSetConvolution2dDescriptor, d, padH, padW, u, v, dilationH,
       dilationW, mode, computeType);
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d,
                                            int groups) {
  PASS(cudnnSetConvolutionGroupCount, d, groups);
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d,
                                          cudnnMathType_t math) {
  PASS(cudnnSetConvolutionMathType, d, math);
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  PASS(cudnnDestroyConvolutionDescriptor, d);
}
cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t *d) {
  PASS(cudnnCreateActivationDescriptor, d);
}
cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d,
                                           cudnnActivationMode_t mode,
                                           cudnnNanPropagation_t nan,
                                           double coef) {
  PASS(cudnnSetActivationDescriptor, d, mode, nan, coef);
}
cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d) {
  PASS(cudnnDestroyActivationDescriptor, d);
}
cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t *d) {
  PASS(cudnnCreatePoolingDescriptor, d);
}
cudnnStatus_t cudnnSetPooling2dDescriptor(cudnnPoolingDescriptor_t d,
                                          cudnnPoolingMode_t mode,
                                          cudnnNanPropagation_t nan, int wh,
                                          int ww, int ph, int pw, int sh,
                                          int sw) {
  PASS(cudnnSetPooling2dDescriptor, d, mode, nan, wh, ww, ph, pw, sh, sw);
}
cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t d) {
  PASS(cudnnDestroyPoolingDescriptor, d);
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(
    const cudnnConvolutionDescriptor_t conv,
    const cudnnTensorDescriptor_t input, const cudnnFilterDescriptor_t filter,
    int *n, int *c, int *h, int *w) {
  PASS(cudnnGetConvolution2dForwardOutputDim, conv, input, filter, n, c, h, w);
}
cudnnStatus_t cudnnGetPooling2dForwardOutputDim(
    const cudnnPoolingDescriptor_t pool, const cudnnTensorDescriptor_t input,
    int *n, int *c, int *h, int *w) {
  PASS(cudnnGetPooling2dForwardOutputDim, pool, input, n, c, h, w);
}

} // extern "C"
