//===- CUDAEmulatedTest.cpp - The CUDA backend on the device emulator -----===//
//
// The CUDA backend (the archive programs link) on the test-only device
// emulator (test/lib/DeviceEmulator): every kernel against the naive
// double-precision references (Reference.h) on channel slices, prepared at
// load and launched on a second stream forked from and joined back into
// stream 0 as emitted programs do. The emulator checks every cuDNN rule and
// every ordering between streams (weights included); any report it makes
// fails the test. And the backend's own rules: everything planned at load
// (a run makes only launches, copies, events and synchronizations), sticky
// load errors, run errors, add with its output as any operand, the
// workspace cap, TF32, profiling and the CUDA graph.
//
//===----------------------------------------------------------------------===//

#include "ConvCases.h"
#include "Emulator.h"
#include "Reference.h"
#include "TestWeights.h"
#include "ios/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

class EmulatedCuda : public ::testing::Test {
protected:
  void SetUp() override { ios::emu::takeReports(); }
  void TearDown() override {
    if (ctx)
      destroyContext(ctx);
    for (const ios::emu::Report &r : ios::emu::takeReports())
      ADD_FAILURE() << "emulator report: " << r.kind << ": " << r.message;
  }

  /// A context of `streams` streams and `floats` of arena, with `tensors`
  /// loaded as its weights.
  void open(int32_t streams, int64_t floats,
            const std::vector<Tensor> &tensors = {}) {
    ctx = createContext(streams, 2, floats);
    ASSERT_TRUE(ok(ctx)) << lastError(ctx);
    base = view(ctx, 0, 1, 1, 1, 1, 1).data;
    mirror.assign(size_t(floats), 0.0f);
    next = 0;
    if (tensors.empty())
      return;
    // A file per test: ctest runs tests in parallel processes.
    const ::testing::TestInfo *test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string tag = std::string("cuda_") + test->test_suite_name() + "_" +
                      test->name();
    std::replace(tag.begin(), tag.end(), '/', '_');
    ASSERT_TRUE(loadWeights(ctx, writeWeights(tensors, tag).c_str()))
        << lastError(ctx);
  }
  /// Channels [pad, pad + c) of a new n x (c + 2 pad) x h x w arena tensor
  /// holding random values (in the host mirror until a run uploads it).
  View tensor(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad = 2) {
    int64_t image = (c + 2 * pad) * h * w;
    View whole = view(ctx, next, n, c + 2 * pad, h, w, image);
    std::vector<float> v = randomVector(size_t(n * image), unsigned(next + 1));
    std::copy(v.begin(), v.end(), mirror.begin() + next);
    next += n * image;
    EXPECT_LE(next, int64_t(mirror.size()));
    return channels(whole, pad, pad + c);
  }
  /// The same view in the host mirror (what the run uploads) and in the
  /// result (what it downloaded).
  View onHost(View v) { return at(mirror, v); }
  View got(View v) { return at(result, v); }
  View at(std::vector<float> &host, View v) {
    return View{host.data() + (v.data - base), v.n, v.c,
                v.h, v.w,   v.batchStride};
  }
  /// The end of create(): the arena's used part is input and output 0.
  void finish() {
    View all = view(ctx, 0, 1, 1, 1, next, next);
    ASSERT_TRUE(bindInput(ctx, 0, all) && bindOutput(ctx, 0, all))
        << lastError(ctx);
    void *done = finishCreate(ctx);
    if (!done)
      ctx = nullptr;
    ASSERT_NE(done, nullptr) << lastError(nullptr);
  }
  /// One inference: upload, `kernels` on `stream` (forked from stream 0 and
  /// joined back, as emitted programs do), finishRun.
  int32_t run(const std::vector<int32_t> &kernels, int32_t stream = 1) {
    const float *in[] = {mirror.data()};
    result.assign(mirror.size(), 0.0f);
    float *out[] = {result.data()};
    upload(ctx, in);
    if (stream != 0) {
      record(ctx, 0, 0);
      wait(ctx, stream, 0);
    }
    for (int32_t k : kernels)
      launch(ctx, k);
    if (stream != 0) {
      record(ctx, 1, stream);
      wait(ctx, 0, 1);
    }
    return finishRun(ctx, out);
  }
  void expectRun(const std::vector<int32_t> &kernels, int32_t stream = 1) {
    ASSERT_EQ(run(kernels, stream), 1) << lastError(ctx);
  }
  /// What a failed load left: finishCreate's message.
  std::string loadFailure() {
    EXPECT_FALSE(ok(ctx));
    EXPECT_EQ(finishCreate(ctx), nullptr);
    ctx = nullptr;
    return lastError(nullptr);
  }
  static std::map<std::string, uint64_t> calls() {
    return ios::emu::apiCalls();
  }

  Context *ctx = nullptr;
  float *base = nullptr;
  std::vector<float> mirror, result;
  int64_t next = 0;
};

/// Sets an environment variable for one scope.
struct Env {
  Env(const char *name, const char *value) : name(name) {
    setenv(name, value, 1);
  }
  ~Env() { unsetenv(name); }
  const char *name;
};

/// The element-wise reference of `f` over a view's elements.
std::vector<double> map(View v, const std::function<double(double)> &f) {
  return ref::each(v.n, v.c, v.h, v.w,
                   [&](int64_t n, int64_t c, int64_t y, int64_t x) {
                     return f(ref::at(v, n, c, y, x));
                   });
}

//===----------------------------------------------------------------------===//
// Every kernel against the references
//===----------------------------------------------------------------------===//

class Conv : public EmulatedCuda,
             public ::testing::WithParamInterface<ConvCase> {};

TEST_P(Conv, MatchesTheReference) {
  const ConvCase &c = GetParam();
  int64_t oh = convOutput(c.h, c.kh, c.sh, c.ph, c.dh);
  int64_t ow = convOutput(c.w, c.kw, c.sw, c.pw, c.dw);
  int64_t wSize = c.cout * (c.cin / c.groups) * c.kh * c.kw;
  std::vector<float> w = randomVector(size_t(wSize), 11),
                     b = randomVector(size_t(c.cout), 12);
  open(2, 1 << 18, {{"w", {wSize}, w}, {"b", {c.cout}, b}});
  View in = tensor(c.n, c.cin, c.h, c.w, 3);
  View out = tensor(c.n, c.cout, oh, ow, 2);
  int32_t k = prepareConv2d(ctx, 1, c.name, in, out, "w", c.bias ? "b" : "",
                            c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw,
                            c.groups, c.act);
  ASSERT_EQ(k, 0) << lastError(ctx);
  finish();
  std::vector<double> want = ref::conv(
      onHost(in), c.cout, w.data(), c.bias ? b.data() : nullptr, c.kh, c.kw,
      c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  for (int inference = 0; inference < 2; ++inference) {
    expectRun({k});
    EXPECT_LT(ref::maxError(got(out), want), 2e-5) << "inference "
                                                   << inference;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv, ::testing::ValuesIn(convCases),
                         [](const ::testing::TestParamInfo<ConvCase> &info) {
                           return std::string(info.param.name);
                         });

/// Every activation alone and as a convolution's epilogue (cuDNN fuses only
/// ReLU and the identity with the bias; the others are a kernel after the
/// convolution).
TEST_F(EmulatedCuda, EveryActivationAloneAndAfterAConvolution) {
  std::vector<float> w = randomVector(6 * 4 * 9, 13), b = randomVector(6, 14);
  open(2, 1 << 16, {{"w", {6, 4, 3, 3}, w}, {"b", {6}, b}});
  const Act acts[] = {ActNone,        ActRelu,      ActSigmoid, ActTanh,
                      ActRelu6,       ActHardSigmoid, ActHardSwish, ActSilu};
  // Inputs spread over [-8, 8]: relu6 and hardsigmoid clip on both sides.
  View in = tensor(2, 4, 5, 5);
  for (int64_t i = 0; i < int64_t(mirror.size()); ++i)
    mirror[size_t(i)] *= 8.0f;
  std::vector<int32_t> kernels;
  std::vector<std::pair<View, std::vector<double>>> checks;
  for (Act a : acts) {
    View alone = tensor(2, 4, 5, 5), conv = tensor(2, 6, 5, 5);
    kernels.push_back(prepareActivation(ctx, 1, "act", in, alone, a));
    kernels.push_back(prepareConv2d(ctx, 1, "conv", in, conv, "w", "b", 3, 3,
                                    1, 1, 1, 1, 1, 1, 1, a));
    checks.push_back({alone, map(onHost(in), [a](double v) {
                        return ref::act(v, a);
                      })});
    checks.push_back({conv, ref::conv(onHost(in), 6, w.data(), b.data(), 3, 3,
                                      1, 1, 1, 1, 1, 1, 1, a)});
  }
  // In place (x == y): cuDNN's activations need one descriptor for both.
  View inPlace = tensor(2, 4, 5, 5), inPlaceNew = tensor(2, 4, 5, 5);
  kernels.push_back(prepareActivation(ctx, 1, "relu_in_place", inPlace,
                                      inPlace, ActRelu));
  kernels.push_back(prepareActivation(ctx, 1, "silu_in_place", inPlaceNew,
                                      inPlaceNew, ActSilu));
  checks.push_back({inPlace, map(onHost(inPlace), [](double v) {
                      return ref::act(v, ActRelu);
                    })});
  checks.push_back({inPlaceNew, map(onHost(inPlaceNew), [](double v) {
                      return ref::act(v, ActSilu);
                    })});
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  expectRun(kernels);
  for (size_t i = 0; i < checks.size(); ++i)
    EXPECT_LT(ref::maxError(got(checks[i].first), checks[i].second), 2e-5)
        << "check " << i;
}

/// Floor-mode pools are cuDNN's (max, average counting the padding or
/// not), ceil_mode ones a kernel with PyTorch's clipped windows.
TEST_F(EmulatedCuda, PoolsFloorAndCeilModeCountingThePaddingOrNot) {
  open(2, 1 << 16);
  View in = tensor(2, 3, 10, 9);
  struct Case {
    PoolKind kind;
    int64_t k, s, p;
    bool countIncludePad, ceil;
  } cases[] = {
      {PoolMax, 3, 2, 0, true, false},   {PoolAvg, 3, 1, 1, true, false},
      {PoolAvg, 3, 2, 1, false, false},  {PoolGlobalAvg, 0, 1, 0, true, false},
      {PoolGlobalMax, 0, 1, 0, true, false}, {PoolMax, 3, 2, 0, true, true},
      {PoolMax, 2, 2, 1, true, true},    {PoolAvg, 3, 2, 1, true, true},
      {PoolAvg, 3, 2, 1, false, true},   {PoolAvg, 2, 3, 0, true, true},
  };
  std::vector<int32_t> kernels;
  std::vector<std::pair<View, std::vector<double>>> checks;
  for (const Case &c : cases) {
    bool global = c.kind == PoolGlobalAvg || c.kind == PoolGlobalMax;
    // PyTorch's output size: a ceil_mode window must start inside the
    // input or its left padding.
    auto size = [&](int64_t i) {
      int64_t o = (i + 2 * c.p - c.k + (c.ceil ? c.s - 1 : 0)) / c.s + 1;
      return c.ceil && (o - 1) * c.s >= i + c.p ? o - 1 : o;
    };
    View out = global ? tensor(2, 3, 1, 1) : tensor(2, 3, size(10), size(9));
    std::vector<double> want = ref::pool(onHost(in), c.kind, c.k, c.k, c.s,
                                         c.s, c.p, c.p, c.countIncludePad,
                                         out.h, out.w);
    ASSERT_EQ(int64_t(want.size()), out.n * out.c * out.h * out.w);
    kernels.push_back(preparePool2d(ctx, 1, "pool", in, out, c.kind, c.k, c.k,
                                    c.s, c.s, c.p, c.p, c.countIncludePad));
    checks.push_back({out, want});
  }
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  expectRun(kernels);
  for (size_t i = 0; i < checks.size(); ++i)
    EXPECT_LT(ref::maxError(got(checks[i].first), checks[i].second), 2e-5)
        << "case " << i;
}

TEST_F(EmulatedCuda, ElementwiseLinearAndSoftmax) {
  std::vector<float> lw = randomVector(10 * 36, 21), lb = randomVector(10, 22),
                     dw = randomVector(5 * 2 * 9 * 9, 23),
                     scale = randomVector(4, 24), shift = randomVector(4, 25);
  open(2, 1 << 16,
       {{"fc.w", {10, 36}, lw},
        {"fc.b", {10}, lb},
        {"dense.w", {5, 162}, dw},
        {"scale", {4}, scale},
        {"shift", {4}, shift}});
  View in = tensor(2, 4, 9, 9), other = tensor(2, 4, 9, 9);
  std::vector<int32_t> kernels;
  std::vector<std::pair<View, std::vector<double>>> checks;
  View product = tensor(2, 4, 9, 9), copied = tensor(2, 4, 9, 9),
       affine = tensor(2, 4, 9, 9);
  kernels.push_back(prepareMul(ctx, 1, "mul", in, other, product));
  kernels.push_back(prepareCopy(ctx, 1, "copy", in, copied));
  kernels.push_back(prepareAffine(ctx, 1, "affine", in, affine, "scale",
                                  "shift"));
  View h = onHost(in), o = onHost(other);
  checks.push_back({product, ref::each(2, 4, 9, 9, [&](auto n, auto c, auto y,
                                                       auto x) {
                      return double(ref::at(h, n, c, y, x)) *
                             ref::at(o, n, c, y, x);
                    })});
  checks.push_back({copied, map(h, [](double v) { return v; })});
  checks.push_back({affine, ref::each(2, 4, 9, 9, [&](auto n, auto c, auto y,
                                                      auto x) {
                      return ref::at(h, n, c, y, x) * double(scale[size_t(c)]) +
                             shift[size_t(c)];
                    })});
  // linear on the first 36 features of each image (a strided N x 36), with
  // and without bias, on a dense N x C x H x W tensor read as N x K, and
  // softmax after it and in place.
  View rows = View{in.data, 2, 36, 1, 1, in.batchStride};
  View fc = tensor(2, 10, 1, 1), fcNoBias = tensor(2, 10, 1, 1);
  View dense = tensor(2, 2, 9, 9, 0), denseFc = tensor(2, 5, 1, 1, 0);
  kernels.push_back(prepareLinear(ctx, 1, "fc", rows, fc, "fc.w", "fc.b"));
  kernels.push_back(
      prepareLinear(ctx, 1, "fc_no_bias", rows, fcNoBias, "fc.w", nullptr));
  kernels.push_back(
      prepareLinear(ctx, 1, "fc_dense", dense, denseFc, "dense.w", ""));
  View probs = tensor(2, 10, 1, 1);
  kernels.push_back(prepareSoftmax(ctx, 1, "softmax", fc, probs));
  kernels.push_back(
      prepareSoftmax(ctx, 1, "softmax_in_place", fcNoBias, fcNoBias));
  auto linear = [&](View x, int64_t m, const std::vector<float> &wt,
                    const float *bias) {
    int64_t k = x.c * x.h * x.w;
    return ref::each(x.n, m, 1, 1, [&](int64_t n, int64_t j, auto, auto) {
      double acc = bias ? bias[j] : 0.0;
      for (int64_t t = 0; t < k; ++t)
        acc += double(wt[size_t(j * k + t)]) * x.data[n * x.batchStride + t];
      return acc;
    });
  };
  auto softmax = [](std::vector<double> v, int64_t n, int64_t f) {
    for (int64_t i = 0; i < n; ++i) {
      double *row = v.data() + i * f, top = *std::max_element(row, row + f),
             sum = 0;
      for (int64_t j = 0; j < f; ++j)
        sum += std::exp(row[j] - top);
      for (int64_t j = 0; j < f; ++j)
        row[j] = std::exp(row[j] - top) / sum;
    }
    return v;
  };
  std::vector<double> wantFc = linear(onHost(rows), 10, lw, lb.data());
  checks.push_back({fc, wantFc});
  checks.push_back({denseFc, linear(onHost(dense), 5, dw, nullptr)});
  checks.push_back({probs, softmax(wantFc, 2, 10)});
  checks.push_back(
      {fcNoBias, softmax(linear(onHost(rows), 10, lw, nullptr), 2, 10)});
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  expectRun(kernels);
  for (size_t i = 0; i < checks.size(); ++i)
    EXPECT_LT(ref::maxError(got(checks[i].first), checks[i].second), 2e-5)
        << "check " << i;
}

TEST_F(EmulatedCuda, PadUpsampleAndChannelShuffle) {
  open(2, 1 << 16);
  View in = tensor(2, 6, 5, 4);
  View padded = tensor(2, 6, 5 + 1 + 2, 4 + 0 + 3);
  View up = tensor(2, 6, 10, 12), shuffled = tensor(2, 6, 5, 4);
  std::vector<int32_t> kernels = {
      preparePad(ctx, 1, "pad", in, padded, 1, 0, 2, 3, -0.5f),
      prepareUpsample(ctx, 1, "upsample", in, up),
      prepareChannelShuffle(ctx, 1, "shuffle", in, shuffled, 3)};
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  expectRun(kernels);
  EXPECT_LT(ref::maxError(got(padded), ref::pad(onHost(in), 1, 0, 2, 3, -0.5)),
            1e-7);
  EXPECT_LT(ref::maxError(got(up), ref::upsample(onHost(in), 2, 3)), 1e-7);
  EXPECT_LT(ref::maxError(got(shuffled), ref::shuffle(onHost(in), 3)),
            1e-7);
}

/// add and mul broadcast (N, C, 1, 1) operands over the plane, and take
/// their output as an operand.
TEST_F(EmulatedCuda, BroadcastingAddAndMul) {
  open(2, 1 << 16);
  View a = tensor(2, 5, 4, 3), b = tensor(2, 5, 4, 3);
  View perChannel = tensor(2, 5, 1, 1), perChannel2 = tensor(2, 5, 1, 1);
  View sum = tensor(2, 5, 4, 3), product = tensor(2, 5, 4, 3),
       scaled = tensor(2, 5, 4, 3);
  auto h = [&](View v) { return onHost(v); };
  std::vector<double> wantSum = ref::each(
      2, 5, 4, 3, [&](int64_t n, int64_t c, int64_t y, int64_t x) {
        return ref::operand(h(a), n, c, y, x) +
               ref::operand(h(perChannel), n, c, y, x) +
               ref::operand(h(b), n, c, y, x) +
               ref::operand(h(perChannel2), n, c, y, x);
      });
  std::vector<double> wantProduct = ref::each(
      2, 5, 4, 3, [&](int64_t n, int64_t c, int64_t y, int64_t x) {
        return ref::operand(h(perChannel), n, c, y, x) *
               ref::operand(h(b), n, c, y, x);
      });
  std::vector<double> wantScaled = ref::each(
      2, 5, 4, 3, [&](int64_t n, int64_t c, int64_t y, int64_t x) {
        return ref::operand(h(scaled), n, c, y, x) *
               ref::operand(h(perChannel2), n, c, y, x);
      });
  const View ins[] = {a, perChannel, b, perChannel2};
  std::vector<int32_t> kernels = {
      prepareAdd(ctx, 1, "add", sum, 4, ins),
      prepareMul(ctx, 1, "mul", perChannel, b, product),
      prepareMul(ctx, 1, "mul_in_place", scaled, perChannel2, scaled)};
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  expectRun(kernels);
  EXPECT_LT(ref::maxError(got(sum), wantSum), 1e-6);
  EXPECT_LT(ref::maxError(got(product), wantProduct), 1e-6);
  EXPECT_LT(ref::maxError(got(scaled), wantScaled), 1e-6);
}

/// prepareAdd may take its output as any operand (Runtime.h): the kernel
/// sums eight operands a launch, so an output that is operand 8 or later
/// must still contribute its value from before the add.
TEST_F(EmulatedCuda, AddTakesItsOutputAsAnyOperand) {
  struct Case {
    int32_t count;
    std::vector<int32_t> aliased; // operands that are the output itself
  } cases[] = {{1, {}},      {1, {0}},     {8, {7}},        {9, {}},
               {9, {8}},     {9, {0}},     {16, {15}},      {17, {16}},
               {20, {3, 12}}, {12, {8, 9}}, {10, {0, 1, 9}}, {3, {0, 1, 2}}};
  for (const Case &c : cases) {
    open(2, 1 << 16);
    View out = tensor(2, 3, 4, 5);
    std::vector<View> ins;
    for (int32_t k = 0; k < c.count; ++k)
      ins.push_back(std::count(c.aliased.begin(), c.aliased.end(), k)
                        ? out
                        : tensor(2, 3, 4, 5));
    std::vector<double> want =
        ref::each(2, 3, 4, 5, [&](int64_t n, int64_t ch, int64_t y, int64_t x) {
          double sum = 0;
          for (const View &v : ins)
            sum += ref::at(onHost(v), n, ch, y, x);
          return sum;
        });
    int32_t k = prepareAdd(ctx, 1, "sum", out, c.count, ins.data());
    finish();
    expectRun({k});
    std::string aliased;
    for (int32_t a : c.aliased)
      aliased += " " + std::to_string(a);
    EXPECT_LT(ref::maxError(got(out), want), 1e-5)
        << c.count << " operands, the output as operand(s)" << aliased;
    destroyContext(ctx);
    ctx = nullptr;
  }
}

//===----------------------------------------------------------------------===//
// Load and run
//===----------------------------------------------------------------------===//

/// Weights (loaded and packed, as emitted create() functions do) must be in
/// place before the first op on any stream reads them: the emulator
/// reports a read not ordered after the copy that wrote them.
TEST_F(EmulatedCuda, WeightsAreOrderedBeforeTheFirstInference) {
  std::vector<float> wa = randomVector(4 * 3 * 9, 31),
                     wb = randomVector(2 * 3, 32), ba = randomVector(4, 33),
                     bb = randomVector(2, 34);
  open(3, 1 << 14,
       {{"a.w", {4, 3, 3, 3}, wa},
        {"a.b", {4}, ba},
        {"b.w", {2, 3, 1, 1}, wb},
        {"b.b", {2}, bb}});
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 6, 3, 3, 3, "a.w", 0, 4, 3, 3, 0, 0));
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 6, 3, 3, 3, "b.w", 4, 2, 1, 1, 1, 1));
  ASSERT_TRUE(packBias(ctx, "m.b", 6, "a.b", 0, 4));
  ASSERT_TRUE(packBias(ctx, "m.b", 6, "b.b", 4, 2));
  View in = tensor(1, 3, 7, 7), out = tensor(1, 6, 7, 7);
  int32_t k = prepareConv2d(ctx, 2, "merged", in, out, "m.w", "m.b", 3, 3, 1,
                            1, 1, 1, 1, 1, 1, ActRelu);
  ASSERT_EQ(k, 0) << lastError(ctx);
  finish();
  expectRun({k}, 2);
  std::vector<float> packed(6 * 27, 0.0f);
  std::copy(wa.begin(), wa.end(), packed.begin());
  for (int o = 0; o < 2; ++o)
    for (int c = 0; c < 3; ++c)
      packed[size_t(((4 + o) * 3 + c) * 9 + 4)] = wb[size_t(o * 3 + c)];
  std::vector<float> bias = ba;
  bias.insert(bias.end(), bb.begin(), bb.end());
  EXPECT_LT(ref::maxError(got(out),
                          ref::conv(onHost(in), 6, packed.data(), bias.data(),
                                    3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu)),
            2e-5);
}

/// Everything is made at load: a run makes only launches, copies, event
/// records and waits and synchronizations - no descriptor, algorithm
/// query, allocation or event creation.
TEST_F(EmulatedCuda, ARunMakesOnlyLaunchesCopiesEventsAndSyncs) {
  std::vector<float> w = randomVector(8 * 4 * 9, 41);
  open(2, 1 << 15, {{"w", {8, 4, 3, 3}, w}});
  View in = tensor(1, 4, 9, 9), out = tensor(1, 8, 9, 9);
  View pooled = tensor(1, 8, 5, 5), act = tensor(1, 8, 5, 5);
  View flat = tensor(1, 200, 1, 1, 0), probs = tensor(1, 200, 1, 1, 0);
  std::vector<int32_t> kernels = {
      prepareConv2d(ctx, 1, "conv", in, out, "w", "", 3, 3, 1, 1, 1, 1, 1, 1,
                    1, ActSigmoid),
      preparePool2d(ctx, 1, "pool", out, pooled, PoolAvg, 3, 3, 2, 2, 1, 1,
                    false),
      prepareActivation(ctx, 1, "act", pooled, act, ActTanh),
      prepareCopy(ctx, 1, "flatten", View{act.data, 1, 200, 1, 1, 200}, flat),
      prepareSoftmax(ctx, 1, "softmax", flat, probs)};
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  std::map<std::string, uint64_t> before = calls();
  expectRun(kernels);
  expectRun(kernels);
  std::map<std::string, uint64_t> made;
  for (auto &[name, count] : calls())
    if (count != before[name])
      made[name] = count - before[name];
  const std::set<std::string> allowed = {
      "cudaMemcpyAsync",          "cudaEventRecord",
      "cudaStreamWaitEvent",      "cudaStreamSynchronize",
      "cudnnConvolutionForward",  "cudaLaunchKernel biasActivationKernel",
      "cudnnPoolingForward",      "cudnnActivationForward",
      "cudaLaunchKernel copyKernel", "cudnnSoftmaxForward"};
  for (auto &[name, count] : made)
    EXPECT_TRUE(allowed.count(name)) << name << " (" << count << "x) in a run";
  // Per run: upload and download, the fork and the join, the five kernels
  // (the convolution's sigmoid an epilogue kernel), one synchronization per
  // stream.
  EXPECT_EQ(made["cudaMemcpyAsync"], 4u);
  EXPECT_EQ(made["cudaEventRecord"], 4u);
  EXPECT_EQ(made["cudaStreamWaitEvent"], 4u);
  EXPECT_EQ(made["cudaStreamSynchronize"], 4u);
  EXPECT_EQ(made["cudnnConvolutionForward"], 2u);
  EXPECT_EQ(made["cudaLaunchKernel biasActivationKernel"], 2u);
  EXPECT_EQ(made.size(), allowed.size());
}

/// A bias the weights file lacks (or has in another size) fails the load,
/// naming the layer and the tensor; so does everything else a prepare
/// checks, and the first error is kept: later load calls do nothing.
TEST_F(EmulatedCuda, LoadErrorsAreStickyAndNameTheLayer) {
  std::vector<float> w = randomVector(8 * 4 * 9, 51);
  for (auto [bias, message] :
       {std::pair{"missing.b", "conv: conv2d: weight 'missing.b' is not "
                               "loaded"},
        std::pair{"short.b", "conv: conv2d: weight 'short.b' has 7 values, "
                             "expected 8"}}) {
    open(1, 1 << 14,
         {{"w", {8, 4, 3, 3}, w}, {"short.b", {7}, randomVector(7, 52)}});
    View in = tensor(1, 4, 9, 9), out = tensor(1, 8, 9, 9);
    EXPECT_EQ(prepareConv2d(ctx, 0, "conv", in, out, "w", bias, 3, 3, 1, 1, 1,
                            1, 1, 1, 1, ActRelu),
              -1);
    EXPECT_EQ(lastError(ctx), std::string(message));
    // Sticky: a later good call does nothing and the message stays.
    EXPECT_EQ(prepareCopy(ctx, 0, "copy", in, in), -1);
    EXPECT_EQ(view(ctx, 0, 1, 1, 1, 1, 1).data, nullptr);
    EXPECT_FALSE(addWeight(ctx, "x", w.data(), 1));
    EXPECT_EQ(loadFailure(), message);
  }
  open(2, 1 << 10);
  View v = view(ctx, 1000, 1, 4, 3, 3, 36);
  EXPECT_EQ(v.data, nullptr);
  EXPECT_EQ(loadFailure(), "view 1x4x3x3 (batch stride 36) at offset 1000 is "
                           "outside the arena of 1024 floats");
  open(2, 1 << 10);
  View a = tensor(1, 4, 3, 3), b = tensor(1, 5, 3, 3);
  EXPECT_EQ(prepareCopy(ctx, 3, "copy", a, a), -1);
  EXPECT_EQ(loadFailure(), "copy: copy: no stream 3 (the context has 2)");
  open(2, 1 << 10);
  a = tensor(1, 4, 3, 3);
  b = tensor(1, 5, 3, 3);
  EXPECT_EQ(prepareCopy(ctx, 1, "bad_copy", a, b), -1);
  EXPECT_EQ(loadFailure(), "bad_copy: copy: operand 0 1x4x3x3 (batch stride "
                           "72) does not match the output 1x5x3x3 (batch "
                           "stride 81)");
}

/// A run's errors (a bad kernel id, event or stream) fail finishRun with
/// the message; the next upload clears them.
TEST_F(EmulatedCuda, RunErrorsFailTheRunUntilTheNextUpload) {
  open(2, 1 << 12);
  View a = tensor(1, 4, 3, 3), b = tensor(1, 4, 3, 3);
  int32_t k = prepareCopy(ctx, 1, "copy", a, b);
  finish();
  EXPECT_EQ(run({k, 7}), 0);
  EXPECT_EQ(std::string(lastError(ctx)), "launch: no kernel 7 (1 prepared)");
  const float *in[] = {mirror.data()};
  float *out[] = {result.data()};
  upload(ctx, in);
  record(ctx, 5, 0);
  EXPECT_EQ(finishRun(ctx, out), 0);
  EXPECT_EQ(std::string(lastError(ctx)),
            "record: no event 5 or no stream 0 (the context has 2 and 2)");
  expectRun({k});
  EXPECT_EQ(std::string(lastError(ctx)), "");
  EXPECT_LT(ref::maxError(got(b), map(onHost(a), [](double v) { return v; })),
            1e-7);
}

/// loadWeightsFromMemory reads the same format as loadWeights (the data
/// copied); a malformed buffer is a sticky load error.
TEST_F(EmulatedCuda, WeightsFromMemory) {
  std::vector<float> w = randomVector(6 * 3 * 9, 71), b = randomVector(6, 72);
  std::string path = writeWeights({{"w", {6, 3, 3, 3}, w}, {"b", {6}, b}},
                                  "cuda_weights_from_memory");
  std::FILE *f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::vector<char> bytes;
  for (int ch; (ch = std::fgetc(f)) != EOF;)
    bytes.push_back(char(ch));
  std::fclose(f);
  open(1, 1 << 12);
  ASSERT_TRUE(loadWeightsFromMemory(ctx, bytes.data(), bytes.size()))
      << lastError(ctx);
  std::fill(bytes.begin(), bytes.end(), 0); // the context has its own copy
  View in = tensor(1, 3, 6, 6), out = tensor(1, 6, 6, 6);
  int32_t k = prepareConv2d(ctx, 0, "conv", in, out, "w", "b", 3, 3, 1, 1, 1,
                            1, 1, 1, 1, ActNone);
  ASSERT_EQ(k, 0) << lastError(ctx);
  finish();
  expectRun({k}, 0);
  EXPECT_LT(ref::maxError(got(out), ref::conv(onHost(in), 6, w.data(),
                                              b.data(), 3, 3, 1, 1, 1, 1, 1,
                                              1, 1, ActNone)),
            2e-5);
  destroyContext(ctx);
  ctx = createContext(1, 0, 16);
  EXPECT_FALSE(loadWeightsFromMemory(ctx, "\xff\0\0\0\0\0\0\0{}", 10));
  std::string error = loadFailure();
  EXPECT_EQ(error.rfind("loadWeightsFromMemory: ", 0), 0u) << error;
}

/// IOS_CUDA_GRAPH=1: the first run is captured into a CUDA graph; later
/// runs (on new inputs) make only the upload, one graph launch, the
/// download and the synchronizations, and compute the same as eager runs.
/// A run whose calls differ from the captured ones fails.
TEST_F(EmulatedCuda, CudaGraphReplaysTheFirstRun) {
  Env graph("IOS_CUDA_GRAPH", "1");
  std::vector<float> w = randomVector(5 * 4 * 9, 81);
  open(2, 1 << 14, {{"w", {5, 4, 3, 3}, w}});
  View in = tensor(1, 4, 6, 6), conv = tensor(1, 5, 6, 6),
       act = tensor(1, 5, 6, 6), sum = tensor(1, 5, 6, 6);
  const View operands[] = {conv, act};
  std::vector<int32_t> kernels = {
      prepareConv2d(ctx, 1, "conv", in, conv, "w", "", 3, 3, 1, 1, 1, 1, 1, 1,
                    1, ActSigmoid),
      prepareActivation(ctx, 1, "act", conv, act, ActHardSwish),
      prepareAdd(ctx, 1, "sum", sum, 2, operands)};
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  finish();
  for (int i = 0; i < 3; ++i) {
    std::vector<float> fresh = randomVector(size_t(in.c * 36), 90 + i);
    for (int64_t c = 0; c < in.c; ++c)
      std::copy_n(fresh.begin() + c * 36, 36,
                  onHost(in).data + c * 36);
    std::map<std::string, uint64_t> before = calls();
    expectRun(kernels);
    std::vector<double> convWant = ref::conv(onHost(in), 5, w.data(), nullptr,
                                             3, 3, 1, 1, 1, 1, 1, 1, 1,
                                             ActSigmoid);
    std::vector<double> want = convWant;
    for (double &v : want)
      v += ref::act(v, ActHardSwish);
    EXPECT_LT(ref::maxError(got(sum), want), 2e-5) << "run " << i;
    std::map<std::string, uint64_t> made;
    for (auto &[name, count] : calls())
      if (count != before[name])
        made[name] = count - before[name];
    if (i == 0) { // captured, then launched
      EXPECT_EQ(made["cudaStreamBeginCapture"], 1u);
      EXPECT_EQ(made["cudaGraphLaunch"], 1u);
      continue;
    }
    EXPECT_EQ(made, (std::map<std::string, uint64_t>{
                        {"cudaMemcpyAsync", 2},
                        {"cudaGraphLaunch", 1},
                        {"cudaStreamSynchronize", 2}}))
        << "run " << i;
  }
  EXPECT_EQ(run({kernels[0], kernels[2]}), 0);
  EXPECT_EQ(std::string(lastError(ctx)),
            "launch: the calls of this run differ from the ones captured "
            "into the CUDA graph (call 3)");
  expectRun(kernels); // the next upload clears the error
}

/// setProfiling: every launched kernel (per stream, in launch order) and
/// every stage gets an interval since upload() on the emulator's clock.
TEST_F(EmulatedCuda, ProfilingTimesKernelsAndStages) {
  open(2, 1 << 14);
  View a = tensor(1, 4, 5, 5), b = tensor(1, 4, 5, 5), c = tensor(1, 4, 5, 5);
  int32_t k0 = prepareActivation(ctx, 0, "relu6", a, b, ActRelu6);
  int32_t k1 = prepareActivation(ctx, 1, "silu", a, c, ActSilu);
  int32_t k2 = prepareCopy(ctx, 0, "copy", c, a);
  finish();
  setProfiling(ctx, true);
  const float *in[] = {mirror.data()};
  result.assign(mirror.size(), 0.0f);
  float *out[] = {result.data()};
  upload(ctx, in);
  stage(ctx, 0);
  record(ctx, 0, 0);
  wait(ctx, 1, 0);
  launch(ctx, k0);
  launch(ctx, k1);
  record(ctx, 1, 1);
  wait(ctx, 0, 1);
  stage(ctx, 1);
  launch(ctx, k2);
  ASSERT_EQ(finishRun(ctx, out), 1) << lastError(ctx);
  const ProfileEntry *entries = nullptr;
  ASSERT_EQ(profile(ctx, &entries), 5);
  struct Want {
    std::string layer;
    int32_t stream, kernel;
  } want[] = {{"relu6", 0, k0},
              {"copy", 0, k2},
              {"silu", 1, k1},
              {"stage 0", 0, -1},
              {"stage 1", 0, -1}};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(entries[i].layer, want[i].layer) << i;
    EXPECT_EQ(entries[i].stream, want[i].stream) << i;
    EXPECT_EQ(entries[i].kernel, want[i].kernel) << i;
    EXPECT_GE(entries[i].startMs, 0.0) << i;
    EXPECT_GT(entries[i].endMs, entries[i].startMs) << i;
  }
  // The copy waits for silu (the join), stage 1 starts after stage 0.
  EXPECT_GE(entries[1].startMs, entries[2].endMs);
  EXPECT_GE(entries[4].startMs, entries[3].startMs);
  EXPECT_EQ(entries[3].endMs, entries[4].startMs);
  setProfiling(ctx, false);
  expectRun({k0});
  EXPECT_EQ(profile(ctx, &entries), 0);
}

/// The workspace cap (IOS_CUDNN_WORKSPACE_MB) and TF32
/// (IOS_CUDNN_TF32=1), both read by createContext.
TEST_F(EmulatedCuda, WorkspaceCapAndTf32) {
  std::vector<float> w = randomVector(32 * 64 * 9, 61);
  auto run = [&](double &error) {
    open(1, 1 << 16, {{"w", {32, 64, 3, 3}, w}});
    View in = tensor(1, 64, 12, 12), out = tensor(1, 32, 12, 12);
    int32_t k = prepareConv2d(ctx, 0, "conv", in, out, "w", "", 3, 3, 1, 1, 1,
                              1, 1, 1, 1, ActNone);
    ASSERT_EQ(k, 0) << lastError(ctx);
    finish();
    expectRun({k}, 0);
    error = ref::maxError(got(out),
                          ref::conv(onHost(in), 32, w.data(), nullptr, 3, 3, 1,
                                    1, 1, 1, 1, 1, 1, ActNone));
    destroyContext(ctx);
    ctx = nullptr;
  };
  double error = 0;
  uint64_t allocations = calls()["cudaMallocAsync"];
  run(error); // the heuristics' favourite needs a workspace
  EXPECT_EQ(calls()["cudaMallocAsync"], allocations + 1);
  EXPECT_LT(error, 2e-5);
  {
    Env cap("IOS_CUDNN_WORKSPACE_MB", "0");
    allocations = calls()["cudaMallocAsync"];
    run(error); // an algorithm without one
    EXPECT_EQ(calls()["cudaMallocAsync"], allocations);
    EXPECT_LT(error, 2e-5);
  }
  {
    Env tf32("IOS_CUDNN_TF32", "1");
    run(error); // TF32 tensor cores: 10-bit mantissas
    EXPECT_GT(error, 1e-4);
    EXPECT_LT(error, 1e-2);
  }
  {
    Env bad("IOS_CUDNN_WORKSPACE_MB", "lots");
    ctx = createContext(1, 0, 16);
    EXPECT_EQ(loadFailure(), "createContext: IOS_CUDNN_WORKSPACE_MB='lots' "
                             "is not a number of MiB");
  }
}

TEST_F(EmulatedCuda, NoDeviceIsOneClearError) {
  Env none("IOS_EMU_DEVICES", "0");
  ctx = createContext(1, 0, 16);
  ASSERT_NE(ctx, nullptr);
  std::string error = loadFailure();
  EXPECT_EQ(error.rfind("no CUDA device: cudaGetDeviceCount: "
                        "cudaErrorNoDevice: ",
                        0),
            0u)
      << error;
}

} // namespace
