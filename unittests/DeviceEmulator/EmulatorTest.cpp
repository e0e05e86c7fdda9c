//===- EmulatorTest.cpp - The device emulator against itself --------------===//
//
// Every rule the emulator enforces, one violation at a time (with the
// status cuDNN documents and the report), and its happens-before model:
// which stream orderings make two accesses safe and which are races. Each
// test takes the reports it expects; any other report fails it.
//
//===----------------------------------------------------------------------===//

#include "Emulator.h"

#include <cuda_runtime.h>
#include <cudnn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

/// Fails the test for every report it did not take.
class Emulator : public ::testing::Test {
protected:
  void SetUp() override { ios::emu::takeReports(); }
  void TearDown() override {
    for (const ios::emu::Report &r : ios::emu::takeReports())
      ADD_FAILURE() << "unexpected report: " << r.kind << ": " << r.message;
  }

  /// The reports since the last take; expects exactly one, of `kind`,
  /// containing `text`.
  static void expectReport(const std::string &kind, const std::string &text) {
    std::vector<ios::emu::Report> r = ios::emu::takeReports();
    std::string all;
    for (const ios::emu::Report &x : r)
      all += "\n  " + x.kind + ": " + x.message;
    ASSERT_EQ(r.size(), 1u) << "expected one report containing '" << text
                            << "', got:" << all;
    EXPECT_EQ(r[0].kind, kind) << r[0].message;
    EXPECT_NE(r[0].message.find(text), std::string::npos) << r[0].message;
  }
  static void expectNoReport() {
    for (const ios::emu::Report &r : ios::emu::takeReports())
      ADD_FAILURE() << "unexpected report: " << r.kind << ": " << r.message;
  }

  float *deviceFloats(size_t n) {
    void *p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(float)), cudaSuccess);
    owned.push_back(p);
    return static_cast<float *>(p);
  }
  void TearDownMemory() {
    cudaDeviceSynchronize();
    for (void *p : owned)
      cudaFree(p);
    owned.clear();
  }
  ~Emulator() override { TearDownMemory(); }

  std::vector<void *> owned;
};

cudaStream_t nonBlocking() {
  cudaStream_t s = nullptr;
  EXPECT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  return s;
}

cudaStream_t blocking() {
  cudaStream_t s = nullptr;
  EXPECT_EQ(cudaStreamCreate(&s), cudaSuccess);
  return s;
}

//===----------------------------------------------------------------------===//
// Streams, events and copies
//===----------------------------------------------------------------------===//

TEST_F(Emulator, OneDeviceAndNoneOnRequest) {
  int n = 0;
  EXPECT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
  EXPECT_EQ(n, 1);
  setenv("IOS_EMU_DEVICES", "0", 1);
  EXPECT_EQ(cudaGetDeviceCount(&n), cudaErrorNoDevice);
  EXPECT_EQ(n, 0);
  unsetenv("IOS_EMU_DEVICES");
}

TEST_F(Emulator, CopiesBetweenStreamsNeedAnEvent) {
  std::vector<float> host(256, 1.0f), back(256);
  float *a = deviceFloats(256), *b = deviceFloats(256);
  cudaStream_t s1 = nonBlocking(), s2 = nonBlocking();
  cudaEvent_t e;
  ASSERT_EQ(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), cudaSuccess);
  // Written on s1, read on s2 with record + wait: ordered.
  cudaMemcpyAsync(a, host.data(), 1024, cudaMemcpyHostToDevice, s1);
  cudaEventRecord(e, s1);
  cudaStreamWaitEvent(s2, e, 0);
  cudaMemcpyAsync(b, a, 1024, cudaMemcpyDeviceToDevice, s2);
  cudaStreamSynchronize(s2);
  expectNoReport();
  // Written on s1 again, read on s2 with no event: a race, naming both.
  cudaMemcpyAsync(a, host.data(), 1024, cudaMemcpyHostToDevice, s1);
  cudaMemcpyAsync(b, a, 1024, cudaMemcpyDeviceToDevice, s2);
  expectReport("race", "reads the copy's source at byte 0 of allocation");
  // A read on s2, then a write on s1 without ordering: write after read.
  cudaMemcpyAsync(a, host.data(), 1024, cudaMemcpyHostToDevice, s1);
  expectReport("race", "last read by");
  // The data arrived all the same (execution is eager).
  cudaDeviceSynchronize();
  cudaMemcpy(back.data(), b, 1024, cudaMemcpyDeviceToHost);
  EXPECT_EQ(back, host);
  cudaEventDestroy(e);
  cudaStreamDestroy(s1);
  cudaStreamDestroy(s2);
  expectNoReport();
}

TEST_F(Emulator, AWaitSeesOnlyTheRecordBeforeIt) {
  std::vector<float> host(64, 2.0f);
  float *a = deviceFloats(64), *b = deviceFloats(64);
  cudaStream_t s1 = nonBlocking(), s2 = nonBlocking();
  cudaEvent_t e;
  cudaEventCreate(&e);
  cudaEventRecord(e, s1);                 // before the write
  cudaMemcpyAsync(a, host.data(), 256, cudaMemcpyHostToDevice, s1);
  cudaStreamWaitEvent(s2, e, 0);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s2);
  expectReport("race", "reads the copy's source");
  // A wait on a never-recorded event orders nothing (CUDA: a no-op).
  cudaEvent_t never;
  cudaEventCreate(&never);
  cudaDeviceSynchronize();
  cudaMemcpyAsync(a, host.data(), 256, cudaMemcpyHostToDevice, s1);
  cudaStreamWaitEvent(s2, never, 0);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s2);
  expectReport("race", "reads the copy's source");
  cudaDeviceSynchronize();
  cudaEventDestroy(e);
  cudaEventDestroy(never);
  cudaStreamDestroy(s1);
  cudaStreamDestroy(s2);
}

TEST_F(Emulator, LegacyStreamOrdersBlockingStreamsOnly) {
  std::vector<float> host(64, 3.0f);
  float *a = deviceFloats(64), *b = deviceFloats(64);
  cudaStream_t blockingStream = blocking(), nb = nonBlocking();
  // cudaMemset is asynchronous to the host, on the legacy stream: a
  // blocking stream's later work waits for it, a non-blocking one's not.
  cudaMemset(a, 0, 256);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, blockingStream);
  expectNoReport();
  cudaDeviceSynchronize();
  cudaMemset(a, 0, 256);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, nb);
  expectReport("race", "last written by call");
  cudaDeviceSynchronize();
  // And legacy-stream work waits for prior blocking-stream work.
  cudaMemcpyAsync(a, host.data(), 256, cudaMemcpyHostToDevice,
                  blockingStream);
  cudaMemset(a, 0, 256);
  expectNoReport();
  cudaDeviceSynchronize();
  cudaStreamDestroy(blockingStream);
  cudaStreamDestroy(nb);
}

TEST_F(Emulator, PageableCudaMemcpyDoesNotWaitForItsDma) {
  std::vector<float> host(64, 4.0f);
  float *a = deviceFloats(64), *b = deviceFloats(64);
  cudaStream_t s = nonBlocking();
  // Host -> device from pageable memory returns before the DMA lands: a
  // non-blocking stream must still be ordered after it.
  cudaMemcpy(a, host.data(), 256, cudaMemcpyHostToDevice);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s);
  expectReport("race", "cudaMemcpy on the legacy default stream");
  cudaDeviceSynchronize();
  // Synchronizing the legacy stream orders it.
  cudaMemcpy(a, host.data(), 256, cudaMemcpyHostToDevice);
  cudaStreamSynchronize(nullptr);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s);
  expectNoReport();
  // From page-locked memory the copy is synchronous.
  float *pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void **>(&pinned), 256),
            cudaSuccess);
  cudaDeviceSynchronize();
  cudaMemcpy(a, pinned, 256, cudaMemcpyHostToDevice);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s);
  expectNoReport();
  cudaDeviceSynchronize();
  cudaFreeHost(pinned);
  cudaStreamDestroy(s);
}

TEST_F(Emulator, MemoryRules) {
  std::vector<float> host(64);
  float *a = deviceFloats(64), *b = deviceFloats(64);
  cudaStream_t s = nonBlocking();
  // A copy past the end of an allocation does not run.
  EXPECT_EQ(cudaMemcpyAsync(b, a, 512, cudaMemcpyDeviceToDevice, s),
            cudaErrorInvalidValue);
  {
    std::vector<ios::emu::Report> r = ios::emu::takeReports();
    ASSERT_EQ(r.size(), 2u); // the source and the destination
    EXPECT_NE(r[0].message.find("run past the end of the allocation"),
              std::string::npos)
        << r[0].message;
  }
  // The kind must match the pointers.
  EXPECT_EQ(cudaMemcpy(a, host.data(), 256, cudaMemcpyDeviceToDevice),
            cudaErrorInvalidValue);
  expectReport("api", "kind DeviceToDevice, but the pointers make it "
                      "HostToDevice");
  // Reading memory nothing wrote.
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s);
  expectReport("memory", "which nothing has written since it was allocated");
  // Freeing memory a stream may still use.
  float *c = nullptr;
  cudaMalloc(reinterpret_cast<void **>(&c), 256);
  cudaMemcpyAsync(c, host.data(), 256, cudaMemcpyHostToDevice, s);
  cudaFree(c);
  expectReport("race", "cudaFree by the host writes the freed allocation");
  // cudaFree of something cudaMalloc did not return.
  EXPECT_EQ(cudaFree(a + 1), cudaErrorInvalidValue);
  expectReport("api", "is not a pointer cudaMalloc returned");
  cudaStreamSynchronize(s);
  cudaStreamDestroy(s);
}

TEST_F(Emulator, StreamOrderedAllocations) {
  std::vector<float> host(64, 5.0f);
  cudaStream_t s1 = nonBlocking(), s2 = nonBlocking();
  void *p = nullptr;
  ASSERT_EQ(cudaMallocAsync(&p, 256, s1), cudaSuccess);
  // Used on s2 before anything orders it after the allocation.
  cudaMemcpyAsync(p, host.data(), 256, cudaMemcpyHostToDevice, s2);
  expectReport("race", "last written by call");
  cudaDeviceSynchronize();
  cudaFreeAsync(p, s1);
  expectNoReport();
  // Used after its stream-ordered free: not device memory any more.
  cudaMemcpyAsync(p, host.data(), 256, cudaMemcpyHostToDevice, s1);
  expectReport("api", "freed by call");
  cudaDeviceSynchronize();
  cudaStreamDestroy(s1);
  cudaStreamDestroy(s2);
}

TEST_F(Emulator, BadHandles) {
  cudaStream_t s = nonBlocking();
  cudaStreamDestroy(s);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
  expectReport("api", "was destroyed (cudaStreamDestroy)");
  cudaEvent_t e;
  cudaEventCreate(&e);
  EXPECT_EQ(cudaStreamWaitEvent(nullptr, e, 7), cudaErrorInvalidValue);
  expectReport("api", "flags must be cudaEventWaitDefault");
  cudaEventDestroy(e);
  EXPECT_EQ(cudaEventRecord(e, nullptr), cudaErrorInvalidResourceHandle);
  expectReport("api", "was destroyed (cudaEventDestroy)");
}

//===----------------------------------------------------------------------===//
// Stream capture and CUDA graphs
//===----------------------------------------------------------------------===//

/// Captured work does not run; a launched graph runs it, every launch, in
/// capture order on streams of its own with the captured fork and join, all
/// of it after the launching stream's earlier work.
TEST_F(Emulator, CapturedWorkRunsWhenTheGraphIsLaunched) {
  std::vector<float> host(64, 1.0f), back(64);
  float *a = deviceFloats(64), *b = deviceFloats(64), *c = deviceFloats(64);
  cudaStream_t s0 = nonBlocking(), s1 = nonBlocking();
  cudaEvent_t fork, join;
  cudaEventCreateWithFlags(&fork, cudaEventDisableTiming);
  cudaEventCreateWithFlags(&join, cudaEventDisableTiming);
  cudaMemsetAsync(b, 0, 256, s0);
  cudaMemsetAsync(c, 0, 256, s0);
  cudaStreamSynchronize(s0);
  ASSERT_EQ(cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal),
            cudaSuccess);
  cudaStreamCaptureStatus status;
  cudaStreamIsCapturing(s0, &status);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  cudaMemcpyAsync(b, a, 256, cudaMemcpyDeviceToDevice, s0);
  cudaEventRecord(fork, s0);
  cudaStreamWaitEvent(s1, fork, 0); // s1 joins the capture
  cudaMemcpyAsync(c, b, 256, cudaMemcpyDeviceToDevice, s1);
  cudaEventRecord(join, s1);
  cudaStreamWaitEvent(s0, join, 0);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s0, &graph), cudaSuccess);
  cudaStreamIsCapturing(s1, &status);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  cudaMemcpy(back.data(), c, 256, cudaMemcpyDeviceToHost);
  EXPECT_EQ(back, std::vector<float>(64, 0.0f)); // nothing ran yet
  for (float value : {1.0f, 2.0f}) {
    std::fill(host.begin(), host.end(), value);
    cudaMemcpyAsync(a, host.data(), 256, cudaMemcpyHostToDevice, s0);
    ASSERT_EQ(cudaGraphLaunch(exec, s0), cudaSuccess);
    cudaMemcpyAsync(back.data(), c, 256, cudaMemcpyDeviceToHost, s0);
    cudaStreamSynchronize(s0);
    EXPECT_EQ(back, host);
  }
  expectNoReport();
  // The input written on another stream without an event: the replayed
  // copy races with it.
  cudaMemcpyAsync(a, host.data(), 256, cudaMemcpyHostToDevice, s1);
  cudaGraphLaunch(exec, s0);
  expectReport("race", "reads the copy's source");
  cudaDeviceSynchronize();
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cudaGraphLaunch(exec, s0), cudaErrorInvalidResourceHandle);
  expectReport("api", "not a live cudaGraphExec_t");
  cudaEventDestroy(fork);
  cudaEventDestroy(join);
  cudaStreamDestroy(s0);
  cudaStreamDestroy(s1);
}

/// A stream forked into the capture must be joined back before it ends, and
/// what a capture prohibits (synchronizing a capturing stream) invalidates
/// it: both fail cudaStreamEndCapture, with a report.
TEST_F(Emulator, CaptureNeedsItsJoinsAndNoSynchronization) {
  float *a = deviceFloats(16), *b = deviceFloats(16);
  cudaStream_t s0 = nonBlocking(), s1 = nonBlocking();
  cudaEvent_t fork;
  cudaEventCreateWithFlags(&fork, cudaEventDisableTiming);
  cudaMemsetAsync(a, 0, 64, s0);
  cudaStreamSynchronize(s0);
  cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal);
  cudaEventRecord(fork, s0);
  cudaStreamWaitEvent(s1, fork, 0);
  cudaMemcpyAsync(b, a, 64, cudaMemcpyDeviceToDevice, s1);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s0, &graph), cudaErrorStreamCaptureUnjoined);
  EXPECT_EQ(graph, nullptr);
  expectReport("api", "was not joined back into the origin stream");

  cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal);
  cudaMemcpyAsync(b, a, 64, cudaMemcpyDeviceToDevice, s0);
  EXPECT_EQ(cudaStreamSynchronize(s0), cudaErrorStreamCaptureUnsupported);
  expectReport("api", "which is being captured");
  cudaStreamCaptureStatus status;
  cudaStreamIsCapturing(s0, &status);
  EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
  EXPECT_EQ(cudaStreamEndCapture(s0, &graph),
            cudaErrorStreamCaptureInvalidated);
  expectReport("api", "which is being captured");
  // Not capturing any more.
  EXPECT_EQ(cudaStreamEndCapture(s0, &graph), cudaErrorIllegalState);
  expectReport("api", "is not the origin of a capture");
  cudaGetLastError();
  cudaEventDestroy(fork);
  cudaStreamDestroy(s0);
  cudaStreamDestroy(s1);
}

//===----------------------------------------------------------------------===//
// cuDNN
//===----------------------------------------------------------------------===//

/// One convolution's descriptors and memory: x 2x8x9x9 (a channel slice of
/// a 2x12x9x9 tensor), a 16x8x3x3 filter, padding 1, y 2x16x9x9.
class Cudnn : public Emulator {
protected:
  void SetUp() override {
    Emulator::SetUp();
    ASSERT_EQ(cudnnCreate(&handle), CUDNN_STATUS_SUCCESS);
    stream = nonBlocking();
    ASSERT_EQ(cudnnSetStream(handle, stream), CUDNN_STATUS_SUCCESS);
    cudnnCreateTensorDescriptor(&xd);
    cudnnCreateTensorDescriptor(&yd);
    cudnnCreateTensorDescriptor(&bd);
    cudnnCreateFilterDescriptor(&wd);
    cudnnCreateConvolutionDescriptor(&cd);
    cudnnCreateActivationDescriptor(&ad);
    cudnnSetTensor4dDescriptorEx(xd, CUDNN_DATA_FLOAT, 2, 8, 9, 9, 12 * 81, 81,
                                 9, 1);
    cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 16,
                               9, 9);
    cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 16,
                               1, 1);
    cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 16, 8,
                               3, 3);
    cudnnSetConvolution2dDescriptor(cd, 1, 1, 1, 1, 1, 1,
                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
    cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH);
    cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_RELU,
                                 CUDNN_NOT_PROPAGATE_NAN, 0.0);
    x = deviceFloats(2 * 12 * 81);
    y = deviceFloats(2 * 16 * 81);
    w = deviceFloats(16 * 8 * 9);
    bias = deviceFloats(16);
    workspace = deviceFloats(1 << 16);
    std::vector<float> ones(2 * 16 * 81, 0.5f);
    cudaMemcpy(x, ones.data(), 2 * 12 * 81 * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(w, ones.data(), 16 * 8 * 9 * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(bias, ones.data(), 16 * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(y, ones.data(), 2 * 16 * 81 * 4, cudaMemcpyHostToDevice);
    cudaStreamSynchronize(nullptr);
  }
  void TearDown() override {
    cudaDeviceSynchronize();
    cudnnDestroyTensorDescriptor(xd);
    cudnnDestroyTensorDescriptor(yd);
    cudnnDestroyTensorDescriptor(bd);
    cudnnDestroyFilterDescriptor(wd);
    cudnnDestroyConvolutionDescriptor(cd);
    cudnnDestroyActivationDescriptor(ad);
    cudnnDestroy(handle);
    cudaStreamDestroy(stream);
    Emulator::TearDown();
  }

  cudnnStatus_t forward(cudnnConvolutionFwdAlgo_t algo, size_t wsBytes,
                        void *ws) {
    return cudnnConvolutionForward(handle, &one, xd, x, wd, w, cd, algo, ws,
                                   wsBytes, &zero, yd, y);
  }
  cudnnStatus_t fused(cudnnConvolutionFwdAlgo_t algo, size_t wsBytes,
                      void *ws, cudnnTensorDescriptor_t biasDesc) {
    return cudnnConvolutionBiasActivationForward(
        handle, &one, xd, x, wd, w, cd, algo, ws, wsBytes, &zero, yd, y,
        biasDesc, bias, ad, yd, y);
  }
  size_t workspaceOf(cudnnConvolutionFwdAlgo_t algo) {
    size_t bytes = 0;
    EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle, xd, wd, cd, yd,
                                                      algo, &bytes),
              CUDNN_STATUS_SUCCESS);
    return bytes;
  }

  cudnnHandle_t handle = nullptr;
  cudaStream_t stream = nullptr;
  cudnnTensorDescriptor_t xd, yd, bd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  cudnnActivationDescriptor_t ad;
  float *x, *y, *w, *bias, *workspace;
  float one = 1.0f, zero = 0.0f;
};

TEST_F(Cudnn, ConvolutionComputesOnTheHandlesStream) {
  const auto algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  size_t bytes = workspaceOf(algo);
  EXPECT_GT(bytes, 0u);
  ASSERT_EQ(fused(algo, bytes, workspace, bd), CUDNN_STATUS_SUCCESS);
  // A write of x on another stream, unordered with the conv's read.
  cudaStream_t other = nonBlocking();
  std::vector<float> zeros(2 * 12 * 81, 0.0f);
  cudaMemcpyAsync(x, zeros.data(), zeros.size() * 4, cudaMemcpyHostToDevice,
                  other);
  expectReport("race", "last read by call");
  cudaStreamSynchronize(other);
  cudaStreamDestroy(other);
  std::vector<float> out(2 * 16 * 81);
  cudaStreamSynchronize(stream);
  cudaMemcpy(out.data(), y, out.size() * 4, cudaMemcpyDeviceToHost);
  // Interior pixels see 8 x 9 taps of 0.5 * 0.5, plus the bias 0.5.
  EXPECT_FLOAT_EQ(out[4 * 9 + 4], 8 * 9 * 0.25f + 0.5f);
  // A corner sees 8 x 4 taps.
  EXPECT_FLOAT_EQ(out[0], 8 * 4 * 0.25f + 0.5f);
}

TEST_F(Cudnn, BiasActivationOnlyWithReluOrIdentity) {
  const auto algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_SIGMOID,
                               CUDNN_NOT_PROPAGATE_NAN, 0.0);
  EXPECT_EQ(fused(algo, 0, nullptr, bd), CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "neither CUDNN_ACTIVATION_RELU nor "
                        "CUDNN_ACTIVATION_IDENTITY");
  cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN,
                               0.0);
  EXPECT_EQ(fused(algo, 0, nullptr, bd), CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "reluNanOpt of activationDesc is not "
                        "CUDNN_NOT_PROPAGATE_NAN");
}

TEST_F(Cudnn, IdentityOnlyWithImplicitPrecompGemm) {
  cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_IDENTITY,
                               CUDNN_NOT_PROPAGATE_NAN, 0.0);
  EXPECT_EQ(fused(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, nullptr, bd),
            CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "CUDNN_ACTIVATION_IDENTITY with "
                        "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM");
  const auto precomp = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  EXPECT_EQ(fused(precomp, workspaceOf(precomp), workspace, bd),
            CUDNN_STATUS_SUCCESS);
  // And the identity never with cudnnActivationForward.
  EXPECT_EQ(cudnnActivationForward(handle, ad, &one, yd, y, &zero, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "CUDNN_ACTIVATION_IDENTITY does not work with "
                        "cudnnActivationForward");
}

TEST_F(Cudnn, BiasAndZDescriptors) {
  cudnnTensorDescriptor_t wrong;
  cudnnCreateTensorDescriptor(&wrong);
  cudnnSetTensor4dDescriptor(wrong, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 16,
                             1, 1);
  EXPECT_EQ(fused(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, nullptr, wrong),
            CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "biasDesc 2x16x1x1 is not 1x16x1x1");
  cudnnDestroyTensorDescriptor(wrong);
}

TEST_F(Cudnn, WorkspaceAtLeastWhatTheAlgorithmNeeds) {
  const auto algo = CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
  size_t bytes = workspaceOf(algo);
  ASSERT_GT(bytes, 4u);
  EXPECT_EQ(forward(algo, bytes - 4, workspace), CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "is less than the " + std::to_string(bytes) +
                            " bytes GEMM needs");
  EXPECT_EQ(forward(algo, bytes, nullptr), CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "workSpace is NULL, but GEMM needs");
  // A workspace that is not device memory never runs.
  std::vector<char> hostBuffer(bytes);
  EXPECT_EQ(forward(algo, bytes, hostBuffer.data()),
            CUDNN_STATUS_EXECUTION_FAILED);
  expectReport("memory", "the workspace: ");
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorIllegalAddress);
}

TEST_F(Cudnn, AlgorithmsSupportTheirConfigurationsOnly) {
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_DIRECT, 0, nullptr),
            CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "CUDNN_CONVOLUTION_FWD_ALGO_DIRECT does not support "
                        "this configuration");
  size_t bytes = 0;
  cudnnSetConvolution2dDescriptor(cd, 1, 1, 2, 2, 1, 1,
                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(
                handle, xd, wd, cd, yd, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,
                &bytes),
            CUDNN_STATUS_BAD_PARAM); // yDesc no longer fits stride 2
  expectReport("cudnn", "yDesc 2x16x9x9 is not the output "
                        "cudnnGetConvolutionNdForwardOutputDim computes "
                        "(2x16x5x5)");
}

TEST_F(Cudnn, HeuristicsListSupportedAlgorithmsFirst) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  ASSERT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(
                handle, xd, wd, cd, yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                &found, perf),
            CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(found, CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  bool unsupportedSeen = false;
  for (int i = 0; i < found; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) {
      unsupportedSeen = true;
      continue;
    }
    EXPECT_FALSE(unsupportedSeen) << "supported after unsupported";
    EXPECT_EQ(perf[i].mathType, CUDNN_FMA_MATH);
    EXPECT_EQ(perf[i].memory, workspaceOf(perf[i].algo));
  }
  // Tensor ops allowed: the algorithms with tensor-core kernels say so.
  cudnnSetConvolutionMathType(cd, CUDNN_TENSOR_OP_MATH);
  cudnnGetConvolutionForwardAlgorithm_v7(handle, xd, wd, cd, yd,
                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                         &found, perf);
  bool tensorOps = false;
  for (int i = 0; i < found; ++i)
    tensorOps |= perf[i].mathType == CUDNN_TENSOR_OP_MATH;
  EXPECT_TRUE(tensorOps);
  EXPECT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(handle, xd, wd, cd, yd, 0,
                                                   &found, perf),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "requestedAlgoCount is less than or equal to 0");
}

TEST_F(Cudnn, TensorOpMathRoundsToTf32) {
  // x = 1 + 2^-12 is not a TF32 value: FMA math keeps it, TF32 drops it.
  std::vector<float> xs(2 * 12 * 81, 1.0f + 1.0f / 4096), out(2 * 16 * 81);
  cudaMemcpy(x, xs.data(), xs.size() * 4, cudaMemcpyHostToDevice);
  cudaStreamSynchronize(nullptr);
  const auto algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  for (cudnnMathType_t math : {CUDNN_FMA_MATH, CUDNN_TENSOR_OP_MATH}) {
    cudnnSetConvolutionMathType(cd, math);
    ASSERT_EQ(forward(algo, 0, nullptr), CUDNN_STATUS_SUCCESS);
    cudaStreamSynchronize(stream);
    cudaMemcpy(out.data(), y, out.size() * 4, cudaMemcpyDeviceToHost);
    float expected = 8 * 9 * 0.5f * (math == CUDNN_FMA_MATH
                                         ? 1.0f + 1.0f / 4096
                                         : 1.0f);
    EXPECT_FLOAT_EQ(out[4 * 9 + 4], expected) << "math type " << math;
  }
}

TEST_F(Cudnn, DescriptorsMustMatchTheData) {
  // Filter input channels x groups must be x's channels.
  cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 16, 4, 3,
                             3);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, nullptr),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "non-matching number of input feature maps");
  cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 16, 8, 3,
                             3);
  // x described past the end of its allocation.
  cudnnSetTensor4dDescriptorEx(xd, CUDNN_DATA_FLOAT, 2, 8, 9, 9, 20 * 81, 81, 9,
                               1);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, nullptr),
            CUDNN_STATUS_EXECUTION_FAILED);
  expectReport("memory", "x: ");
  cudaStreamSynchronize(stream);
  // An output that overlaps the input (x read from y's memory).
  cudnnSetTensor4dDescriptorEx(xd, CUDNN_DATA_FLOAT, 2, 8, 9, 9, 12 * 81, 81, 9,
                               1);
  EXPECT_EQ(cudnnConvolutionForward(
                handle, &one, xd, y, wd, w, cd,
                CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &zero,
                yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the output overlaps the input");
}

TEST_F(Cudnn, ScalingFactorsLiveInHostMemory) {
  EXPECT_EQ(cudnnConvolutionForward(handle, bias, xd, x, wd, w, cd,
                                    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                    nullptr, 0, &zero, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "alpha points to device memory");
  EXPECT_EQ(cudnnAddTensor(handle, &one, bd, bias, nullptr, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "beta is NULL");
}

TEST_F(Cudnn, AddTensorBroadcastsDimensionsOfOne) {
  EXPECT_EQ(cudnnAddTensor(handle, &one, bd, bias, &one, yd, y),
            CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t wrong;
  cudnnCreateTensorDescriptor(&wrong);
  cudnnSetTensor4dDescriptor(wrong, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 8,
                             1, 1);
  EXPECT_EQ(cudnnAddTensor(handle, &one, wrong, bias, &one, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the dimensions of A 1x8x1x1 are incompatible with C "
                        "2x16x9x9");
  cudnnDestroyTensorDescriptor(wrong);
}

TEST_F(Cudnn, ActivationInPlaceNeedsIdenticalDescriptors) {
  cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_TANH,
                               CUDNN_NOT_PROPAGATE_NAN, 0.0);
  EXPECT_EQ(cudnnActivationForward(handle, ad, &one, yd, y, &zero, yd, y),
            CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t strided;
  cudnnCreateTensorDescriptor(&strided);
  cudnnSetTensor4dDescriptorEx(strided, CUDNN_DATA_FLOAT, 2, 16, 9, 9,
                               16 * 81 + 3, 81, 9, 1);
  EXPECT_EQ(cudnnActivationForward(handle, ad, &one, yd, y, &zero, strided, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "in place (x == y) with different strides");
  EXPECT_EQ(cudnnActivationForward(handle, ad, &one, xd, x, &zero, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the dimensions n, c, h, w of the input tensor "
                        "2x8x9x9 and output tensor 2x16x9x9 differ");
  cudnnDestroyTensorDescriptor(strided);
}

TEST_F(Cudnn, PoolingRules) {
  cudnnPoolingDescriptor_t pd;
  cudnnCreatePoolingDescriptor(&pd);
  cudnnSetPooling2dDescriptor(pd, CUDNN_POOLING_MAX, CUDNN_NOT_PROPAGATE_NAN,
                              3, 3, 1, 1, 1, 1);
  cudnnTensorDescriptor_t out;
  cudnnCreateTensorDescriptor(&out);
  cudnnSetTensor4dDescriptor(out, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 8, 9,
                             9);
  EXPECT_EQ(cudnnPoolingForward(handle, pd, &one, xd, x, &zero, out, y),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnPoolingForward(handle, pd, &one, xd, x, &zero, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the dimensions n, c of the input tensor 2x8x9x9 and "
                        "output tensor 2x16x9x9 differ");
  cudnnSetTensor4dDescriptorEx(out, CUDNN_DATA_FLOAT, 2, 8, 9, 9, 8 * 162, 162,
                               18, 2);
  EXPECT_EQ(cudnnPoolingForward(handle, pd, &one, xd, x, &zero, out, y),
            CUDNN_STATUS_NOT_SUPPORTED);
  expectReport("cudnn", "the wStride of the input or output tensor is not 1");
  cudnnDestroyTensorDescriptor(out);
  cudnnDestroyPoolingDescriptor(pd);
}

TEST_F(Cudnn, SoftmaxShapesMatch) {
  EXPECT_EQ(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE,
                                CUDNN_SOFTMAX_MODE_INSTANCE, &one, xd, x,
                                &zero, yd, y),
            CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the dimensions of the input tensor 2x8x9x9 and "
                        "output tensor 2x16x9x9 differ");
  EXPECT_EQ(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE,
                                CUDNN_SOFTMAX_MODE_INSTANCE, &one, yd, y,
                                &zero, yd, y),
            CUDNN_STATUS_SUCCESS);
  cudaStreamSynchronize(stream);
  std::vector<float> out(2 * 16 * 81);
  cudaMemcpy(out.data(), y, out.size() * 4, cudaMemcpyDeviceToHost);
  double sum = 0;
  for (size_t i = 0; i < out.size() / 2; ++i)
    sum += out[i];
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST_F(Cudnn, HandlesAndStreams) {
  cudaStream_t gone = nonBlocking();
  cudaStreamDestroy(gone);
  EXPECT_EQ(cudnnSetStream(handle, gone), CUDNN_STATUS_BAD_PARAM);
  {
    std::vector<ios::emu::Report> r = ios::emu::takeReports();
    ASSERT_EQ(r.size(), 2u); // the stream lookup, then cuDNN's rule
    EXPECT_NE(r[1].message.find("streamId is not a live stream"),
              std::string::npos);
  }
  cudnnHandle_t other;
  ASSERT_EQ(cudnnCreate(&other), CUDNN_STATUS_SUCCESS);
  cudnnDestroy(other);
  EXPECT_EQ(cudnnSetStream(other, stream), CUDNN_STATUS_BAD_PARAM);
  expectReport("cudnn", "the handle was destroyed (cudnnDestroy)");
}

} // namespace
