//===- CUDABackendTest.cpp - The CUDA backend, as far as a host can go -----===//
//
// Without a GPU: createContext fails with one clear "no CUDA device" error,
// and the backend's cuDNN descriptors (which need no device) describe the
// same output shapes as the runtime's own shape rule, for strided views too.
// With a GPU, the context test checks a context works instead.
//
//===----------------------------------------------------------------------===//

#include "CUDA/Descriptors.h"
#include "Checks.h"
#include "ios/Runtime/Runtime.h"

#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace ios::rt;

namespace {

bool haveGpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

TEST(CUDABackend, CreateContextNeedsADevice) {
  Context *ctx = createContext(2, 2, 1024);
  ASSERT_NE(ctx, nullptr);
  if (!haveGpu()) {
    EXPECT_FALSE(ok(ctx));
    std::string error = lastError(ctx);
    EXPECT_EQ(error.rfind("no CUDA device: cudaGetDeviceCount: ", 0), 0u)
        << error;
    EXPECT_EQ(finishCreate(ctx), nullptr);
    EXPECT_EQ(std::string(lastError(nullptr)), error);
    return;
  }
  // A GPU: the context works; a round trip through the arena and a ReLU on
  // stream 1.
  std::vector<float> x(24), y(24, 0.0f);
  for (int i = 0; i < 24; ++i)
    x[size_t(i)] = float(i) - 7.5f;
  View in = view(ctx, 0, 2, 3, 2, 2, 12), out = view(ctx, 100, 2, 3, 2, 2, 12);
  int32_t relu = prepareActivation(ctx, 1, "relu", in, out, ActRelu);
  ASSERT_TRUE(bindInput(ctx, 0, in) && bindOutput(ctx, 0, out));
  ASSERT_EQ(finishCreate(ctx), ctx) << lastError(nullptr);
  const float *inputs[] = {x.data()};
  float *outputs[] = {y.data()};
  upload(ctx, inputs);
  record(ctx, 0, 0);
  wait(ctx, 1, 0);
  launch(ctx, relu);
  record(ctx, 1, 1);
  wait(ctx, 0, 1);
  ASSERT_EQ(finishRun(ctx, outputs), 1) << lastError(ctx);
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(y[size_t(i)], std::max(x[size_t(i)], 0.0f));
  destroyContext(ctx);
}

struct ConvCase {
  int64_t n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int64_t inPad, outPad; // extra channels around the views (strided)
};

/// The output view the runtime's shape rule gives (a channel slice of a
/// wider tensor when outPad > 0).
View outputOf(const ConvCase &c, float *base) {
  int64_t oh = detail::windowOutput(c.h, c.kh, c.sh, c.ph, c.dh);
  int64_t ow = detail::windowOutput(c.w, c.kw, c.sw, c.pw, c.dw);
  View wide = view(base, 0, c.n, c.cout + 2 * c.outPad, oh, ow);
  return channels(wide, c.outPad, c.outPad + c.cout);
}

TEST(CUDABackend, ConvDescriptorsAgreeWithTheShapeRule) {
  // Descriptors only need a non-null looking address: nothing is launched.
  std::vector<float> host(1);
  float *base = host.data();
  const ConvCase cases[] = {
      {1, 288, 384, 35, 35, 3, 3, 2, 2, 0, 0, 1, 1, 1, 0, 0},
      {2, 8, 16, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 4, 3},
      {2, 6, 6, 11, 12, 5, 5, 2, 2, 2, 2, 1, 1, 6, 1, 2},
      {1, 8, 12, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 4, 0, 5},
      {3, 5, 7, 17, 17, 1, 7, 1, 1, 0, 3, 1, 1, 1, 2, 0},
      {1, 3, 32, 299, 299, 3, 3, 2, 2, 0, 0, 1, 1, 1, 0, 0},
      {4, 64, 64, 13, 10, 7, 1, 1, 2, 3, 0, 1, 1, 1, 0, 0},
  };
  for (const ConvCase &c : cases) {
    View wideIn = view(base, 0, c.n, c.cin + 2 * c.inPad, c.h, c.w);
    View in = channels(wideIn, c.inPad, c.inPad + c.cin);
    View out = outputOf(c, base);
    detail::ConvShape s{c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw,
                        c.groups};
    for (Act act : {ActRelu, ActSigmoid, ActTanh}) {
      cuda::ConvDescs other;
      ASSERT_EQ(cuda::makeConvDescs(other, in, out, s, act), "")
          << "act " << act;
    }
    cuda::ConvDescs d;
    ASSERT_EQ(cuda::makeConvDescs(d, in, out, s, ActNone), "");
    int dims[4] = {};
    ASSERT_EQ(cuda::convOutputDims(d, dims), "");
    EXPECT_EQ(dims[0], out.n);
    EXPECT_EQ(dims[1], out.c);
    EXPECT_EQ(dims[2], out.h) << c.h << " k" << c.kh << " s" << c.sh;
    EXPECT_EQ(dims[3], out.w) << c.w << " k" << c.kw << " s" << c.sw;
    // The strided layouts reached cuDNN as given.
    cudnnDataType_t type;
    int n, ch, h, w, ns, cs, hs, ws;
    ASSERT_EQ(cudnnGetTensor4dDescriptor(d.x, &type, &n, &ch, &h, &w, &ns, &cs,
                                         &hs, &ws),
              CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(ns, in.n > 1 ? in.batchStride
                           : std::max(in.batchStride, in.c * in.h * in.w));
    EXPECT_EQ(ch, in.c);
    EXPECT_EQ(cs, in.h * in.w);
    ASSERT_EQ(cudnnGetTensor4dDescriptor(d.y, &type, &n, &ch, &h, &w, &ns, &cs,
                                         &hs, &ws),
              CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(ns, out.batchStride);
    EXPECT_EQ(ch, out.c);
  }
}

TEST(CUDABackend, PoolDescriptorsAgreeWithTheShapeRule) {
  std::vector<float> host(1);
  float *base = host.data();
  struct Case {
    PoolKind kind;
    int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
  } cases[] = {
      {PoolMax, 1, 64, 147, 147, 3, 3, 2, 2, 0, 0},
      {PoolAvg, 2, 5, 35, 35, 3, 3, 1, 1, 1, 1},
      {PoolAvg, 2, 5, 9, 8, 3, 3, 2, 2, 1, 1},
      {PoolMax, 3, 4, 10, 11, 2, 2, 2, 2, 0, 0},
      {PoolGlobalAvg, 2, 2048, 8, 8, 8, 8, 1, 1, 0, 0},
      {PoolGlobalMax, 1, 7, 5, 6, 5, 6, 1, 1, 0, 0},
  };
  for (const Case &c : cases) {
    bool global = c.kind == PoolGlobalAvg || c.kind == PoolGlobalMax;
    int64_t oh = global ? 1 : detail::windowOutput(c.h, c.kh, c.sh, c.ph, 1);
    int64_t ow = global ? 1 : detail::windowOutput(c.w, c.kw, c.sw, c.pw, 1);
    View in = channels(view(base, 0, c.n, c.c + 3, c.h, c.w), 1, 1 + c.c);
    View out = view(base, 0, c.n, c.c, oh, ow);
    detail::PoolShape p = detail::PoolShape::of(in, c.kind, c.kh, c.kw, c.sh,
                                                c.sw, c.ph, c.pw);
    cuda::PoolDescs d;
    ASSERT_EQ(cuda::makePoolDescs(d, in, out, !global && c.kind == PoolMax,
                                  p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, true),
              "");
    int dims[4] = {};
    ASSERT_EQ(cuda::poolOutputDims(d, dims), "");
    EXPECT_EQ(dims[0], c.n);
    EXPECT_EQ(dims[1], c.c);
    EXPECT_EQ(dims[2], oh);
    EXPECT_EQ(dims[3], ow);
  }
}

TEST(CUDABackend, DescriptorErrorsAreReported) {
  std::vector<float> host(1);
  View in = view(host.data(), 0, 1, 3, 8, 8);
  View huge = view(host.data(), 0, 1, int64_t(1) << 31, 1, 1);
  cuda::ConvDescs d;
  std::string e = cuda::makeConvDescs(
      d, huge, in, detail::ConvShape{3, 3, 1, 1, 1, 1, 1, 1, 1}, ActNone);
  EXPECT_NE(e.find("does not fit cuDNN's 32-bit tensor descriptors"),
            std::string::npos)
      << e;
  cuda::PoolDescs p;
  // A zero-sized window is rejected by cuDNN itself.
  e = cuda::makePoolDescs(p, in, in, true, 0, 3, 1, 1, 0, 0, true);
  EXPECT_NE(e.find("pooling descriptor: CUDNN_STATUS_BAD_PARAM"),
            std::string::npos)
      << e;
}

} // namespace
