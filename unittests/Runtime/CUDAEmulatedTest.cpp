//===- CUDAEmulatedTest.cpp - The CUDA backend on the device emulator -----===//
//
// The CUDA backend (the archive programs link) on the test-only device
// emulator (test/lib/DeviceEmulator): every op against the naive
// double-precision references (Reference.h) on channel slices, with the
// work on a second stream joined back by an event as emitted programs do.
// The emulator checks every cuDNN rule and every ordering between streams
// (weights included); any report it makes fails the test. And the
// backend's own rules: convolutions planned at load only, a missing or
// wrong-sized weight failing the inference with its name, add with its
// output as any operand, the workspace cap and the TF32 option.
//
//===----------------------------------------------------------------------===//

#include "ConvCases.h"
#include "Emulator.h"
#include "Reference.h"
#include "TestWeights.h"
#include "ios/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>
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
    const char *error = nullptr;
    ctx = createContext(streams, 2, floats, &error);
    ASSERT_NE(ctx, nullptr) << error;
    base = arena(ctx);
    mirror.assign(size_t(floats), 0.0f);
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
  /// holding random values (in the host mirror until upload()).
  View tensor(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad = 2) {
    View whole = view(base, next, n, c + 2 * pad, h, w);
    std::vector<float> v = randomVector(size_t(n * whole.batchStride),
                                        unsigned(next + 1));
    std::copy(v.begin(), v.end(), mirror.begin() + next);
    next += n * whole.batchStride;
    EXPECT_LE(next, int64_t(mirror.size()));
    return channels(whole, pad, pad + c);
  }
  /// The same view in the host mirror.
  View onHost(View v) { return View{mirror.data() + (v.data - base), v.n, v.c,
                                    v.h, v.w, v.batchStride}; }
  void uploadAll() {
    ASSERT_TRUE(upload(ctx, base, mirror.data(), next)) << lastError(ctx);
  }
  /// Joins stream `from` into stream 0 and brings the arena back.
  void join(int32_t from) {
    record(ctx, 0, from);
    wait(ctx, 0, 0);
  }
  void downloadAll() {
    ASSERT_TRUE(download(ctx, mirror.data(), base, next)) << lastError(ctx);
    ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  }
  std::string failure() {
    EXPECT_FALSE(synchronize(ctx));
    return lastError(ctx);
  }
  static uint64_t calls(const char *name) { return ios::emu::apiCalls()[name]; }

  Context *ctx = nullptr;
  float *base = nullptr;
  std::vector<float> mirror;
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

//===----------------------------------------------------------------------===//
// Every op against the references
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
  ASSERT_TRUE(prepareConv2d(ctx, 1, c.name, in, out, c.kh, c.kw, c.sh, c.sw,
                            c.ph, c.pw, c.dh, c.dw, c.groups, c.act, c.bias))
      << lastError(ctx);
  std::vector<double> want = ref::conv(
      onHost(in), c.cout, w.data(), c.bias ? b.data() : nullptr, c.kh, c.kw,
      c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  for (int inference = 0; inference < 2; ++inference) {
    uploadAll();
    conv2d(ctx, 1, c.name, in, out, weight(ctx, "w", wSize),
           c.bias ? weight(ctx, "b", c.cout) : nullptr, c.kh, c.kw, c.sh, c.sw,
           c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
    join(1);
    downloadAll();
    EXPECT_LT(ref::maxError(onHost(out), want), 2e-5) << "inference "
                                                      << inference;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Conv, ::testing::ValuesIn(convCases),
                         [](const ::testing::TestParamInfo<ConvCase> &info) {
                           return std::string(info.param.name);
                         });

TEST_F(EmulatedCuda, PoolsActivationsAndElementwiseOps) {
  std::vector<float> lw = randomVector(10 * 36, 21), lb = randomVector(10, 22);
  open(2, 1 << 15, {{"fc.w", {10, 36}, lw}, {"fc.b", {10}, lb}});
  View in = tensor(2, 4, 9, 9);
  struct PoolCase {
    PoolKind kind;
    int64_t k, s, p;
  } pools[] = {{PoolMax, 3, 2, 0}, {PoolAvg, 3, 1, 1}, {PoolGlobalAvg, 0, 1, 0},
               {PoolGlobalMax, 0, 1, 0}};
  View other = tensor(2, 4, 9, 9);
  uploadAll(); // the inputs; every output below is written before it is read
  std::vector<std::pair<View, std::vector<double>>> checks;
  for (const PoolCase &p : pools) {
    bool global = p.kind == PoolGlobalAvg || p.kind == PoolGlobalMax;
    int64_t o = global ? 1 : (9 + 2 * p.p - p.k) / p.s + 1;
    View out = tensor(2, 4, o, o);
    pool2d(ctx, 1, "pool", in, out, p.kind, p.k, p.k, p.s, p.s, p.p, p.p);
    checks.push_back({out, ref::pool(onHost(in), p.kind, p.k, p.k, p.s, p.s,
                                      p.p, p.p)});
  }
  for (Act a : {ActRelu, ActSigmoid, ActTanh, ActNone}) {
    View out = tensor(2, 4, 9, 9);
    activation(ctx, 1, "act", in, out, a);
    std::vector<double> want;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t i = 0; i < 81; ++i)
          want.push_back(ref::act(ref::at(onHost(in), n, c, i / 9, i % 9), a));
    checks.push_back({out, want});
  }
  View product = tensor(2, 4, 9, 9), copied = tensor(2, 4, 9, 9);
  mul(ctx, 1, "mul", in, other, product);
  copy(ctx, 1, "copy", in, copied);
  std::vector<double> wantMul, wantCopy;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t i = 0; i < 81; ++i) {
        double x = ref::at(onHost(in), n, c, i / 9, i % 9);
        wantMul.push_back(x * ref::at(onHost(other), n, c, i / 9, i % 9));
        wantCopy.push_back(x);
      }
  checks.push_back({product, wantMul});
  checks.push_back({copied, wantCopy});
  // linear on the first 36 features of each image (a strided N x 36), with
  // and without bias, and softmax in place on its output.
  View rows = View{in.data, 2, 36, 1, 1, in.batchStride};
  View fc = tensor(2, 10, 1, 1), fcNoBias = tensor(2, 10, 1, 1);
  linear(ctx, 1, "fc", rows, fc, weight(ctx, "fc.w", 360),
         weight(ctx, "fc.b", 10));
  linear(ctx, 1, "fc_no_bias", rows, fcNoBias, weight(ctx, "fc.w", 360),
         nullptr);
  View probs = tensor(2, 10, 1, 1);
  softmax(ctx, 1, "softmax", fc, probs);
  softmax(ctx, 1, "softmax_in_place", fcNoBias, fcNoBias);
  std::vector<double> wantFc, wantPlain, wantProbs, wantPlainProbs;
  for (int64_t n = 0; n < 2; ++n) {
    std::vector<double> row, plain;
    for (int64_t m = 0; m < 10; ++m) {
      double acc = 0;
      for (int64_t k = 0; k < 36; ++k)
        acc += double(lw[size_t(m * 36 + k)]) *
               mirror[size_t(in.data - base + n * in.batchStride + k)];
      row.push_back(acc + lb[size_t(m)]);
      plain.push_back(acc);
    }
    for (auto [values, probabilities] :
         {std::pair{&row, &wantProbs}, std::pair{&plain, &wantPlainProbs}}) {
      double top = *std::max_element(values->begin(), values->end()), sum = 0;
      for (double v : *values)
        sum += std::exp(v - top);
      for (double v : *values)
        probabilities->push_back(std::exp(v - top) / sum);
    }
    wantFc.insert(wantFc.end(), row.begin(), row.end());
  }
  checks.push_back({fc, wantFc});
  checks.push_back({probs, wantProbs});
  checks.push_back({fcNoBias, wantPlainProbs});
  join(1);
  downloadAll();
  for (size_t i = 0; i < checks.size(); ++i)
    EXPECT_LT(ref::maxError(onHost(checks[i].first), checks[i].second), 2e-5)
        << "check " << i;
}

/// add() may take its output as any operand (Runtime.h): the kernel sums
/// eight operands a launch, so an output that is operand 8 or later must
/// still contribute its value from before the add.
TEST_F(EmulatedCuda, AddTakesItsOutputAsAnyOperand) {
  open(2, 1 << 16);
  struct Case {
    int32_t count;
    std::vector<int32_t> aliased; // operands that are the output itself
  } cases[] = {{1, {}},      {1, {0}},     {8, {7}},        {9, {}},
               {9, {8}},     {9, {0}},     {16, {15}},      {17, {16}},
               {20, {3, 12}}, {12, {8, 9}}, {10, {0, 1, 9}}, {3, {0, 1, 2}}};
  for (const Case &c : cases) {
    next = 0;
    View out = tensor(2, 3, 4, 5);
    std::vector<View> ins;
    for (int32_t k = 0; k < c.count; ++k)
      ins.push_back(std::count(c.aliased.begin(), c.aliased.end(), k)
                        ? out
                        : tensor(2, 3, 4, 5));
    std::vector<double> want;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 60; ++i) {
        double sum = 0;
        for (const View &v : ins)
          sum += ref::at(onHost(v), n, i / 20, (i / 5) % 4, i % 5);
        want.push_back(sum);
      }
    uploadAll();
    add(ctx, 1, "sum", out, c.count, ins.data());
    join(1);
    downloadAll();
    std::string aliased;
    for (int32_t k : c.aliased)
      aliased += " " + std::to_string(k);
    EXPECT_LT(ref::maxError(onHost(out), want), 1e-5)
        << c.count << " operands, the output as operand(s)" << aliased;
  }
}

//===----------------------------------------------------------------------===//
// Weights, planning, errors
//===----------------------------------------------------------------------===//

/// Weights (loaded and packed, as emitted create() functions do) must be in
/// place before the first op on any stream reads them: the emulator
/// reports a read not ordered after the copy that wrote them.
TEST_F(EmulatedCuda, WeightsAreOrderedBeforeTheFirstInference) {
  std::vector<float> wa = randomVector(4 * 3 * 9, 31), wb = randomVector(2 * 3, 32),
                     ba = randomVector(4, 33), bb = randomVector(2, 34);
  open(3, 1 << 14,
       {{"a.w", {4, 3, 3, 3}, wa}, {"a.b", {4}, ba}, {"b.w", {2, 3, 1, 1}, wb},
        {"b.b", {2}, bb}});
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 6, 3, 3, 3, "a.w", 0, 4, 3, 3));
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 6, 3, 3, 3, "b.w", 4, 2, 1, 1));
  ASSERT_TRUE(packBias(ctx, "m.b", 6, "a.b", 0, 4));
  ASSERT_TRUE(packBias(ctx, "m.b", 6, "b.b", 4, 2));
  View in = tensor(1, 3, 7, 7), out = tensor(1, 6, 7, 7);
  ASSERT_TRUE(prepareConv2d(ctx, 2, "merged", in, out, 3, 3, 1, 1, 1, 1, 1, 1,
                            1, ActRelu, true))
      << lastError(ctx);
  uploadAll();
  conv2d(ctx, 2, "merged", in, out, weight(ctx, "m.w", 6 * 27),
         weight(ctx, "m.b", 6), 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu);
  join(2);
  downloadAll();
  std::vector<float> packed(6 * 27, 0.0f);
  std::copy(wa.begin(), wa.end(), packed.begin());
  for (int o = 0; o < 2; ++o)
    for (int c = 0; c < 3; ++c)
      packed[size_t(((4 + o) * 3 + c) * 9 + 4)] = wb[size_t(o * 3 + c)];
  std::vector<float> bias = ba;
  bias.insert(bias.end(), bb.begin(), bb.end());
  EXPECT_LT(ref::maxError(onHost(out),
                          ref::conv(onHost(in), 6, packed.data(), bias.data(),
                                    3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu)),
            2e-5);
}

/// Every convolution is planned by prepareConv2d at load: running one that
/// was not prepared (for its stream and configuration) is an error, and a
/// prepared one makes no planning call while it runs.
TEST_F(EmulatedCuda, ConvolutionsArePlannedAtLoadOnly) {
  std::vector<float> w = randomVector(8 * 4 * 9, 41);
  open(2, 1 << 14, {{"w", {8, 4, 3, 3}, w}});
  View in = tensor(1, 4, 9, 9), out = tensor(1, 8, 9, 9);
  uploadAll();
  conv2d(ctx, 1, "unplanned", in, out, weight(ctx, "w", 288), nullptr, 3, 3, 1,
         1, 1, 1, 1, 1, 1, ActRelu);
  EXPECT_EQ(failure(), "unplanned: conv2d: not prepared (prepareConv2d must "
                       "plan every convolution at load, for its stream and "
                       "configuration)");
  ASSERT_TRUE(prepareConv2d(ctx, 0, "planned", in, out, 3, 3, 1, 1, 1, 1, 1, 1,
                            1, ActRelu, false));
  // Prepared for stream 0, run on stream 1: not the plan (its workspace is
  // stream 0's).
  conv2d(ctx, 1, "other_stream", in, out, weight(ctx, "w", 288), nullptr, 3, 3,
         1, 1, 1, 1, 1, 1, 1, ActRelu);
  EXPECT_NE(failure().find("other_stream: conv2d: not prepared"),
            std::string::npos);
  const char *planning[] = {"cudnnGetConvolutionForwardAlgorithm_v7",
                            "cudnnGetConvolutionForwardWorkspaceSize",
                            "cudaMallocAsync", "cudaFreeAsync"};
  std::vector<uint64_t> before;
  for (const char *p : planning)
    before.push_back(calls(p));
  conv2d(ctx, 0, "planned", in, out, weight(ctx, "w", 288), nullptr, 3, 3, 1,
         1, 1, 1, 1, 1, 1, ActRelu);
  downloadAll();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(calls(planning[i]), before[i]) << planning[i] << " at run time";
  EXPECT_LT(ref::maxError(onHost(out),
                          ref::conv(onHost(in), 8, w.data(), nullptr, 3, 3, 1,
                                    1, 1, 1, 1, 1, 1, ActRelu)),
            2e-5);
}

/// A bias the weights file lacks (or has in another size) is an error
/// naming the tensor, not a convolution without bias.
TEST_F(EmulatedCuda, MissingOrWrongSizedBiasFailsTheInference) {
  std::vector<float> w = randomVector(8 * 4 * 9, 51);
  open(1, 1 << 14, {{"w", {8, 4, 3, 3}, w}, {"short.b", {7}, randomVector(7, 52)}});
  View in = tensor(1, 4, 9, 9), out = tensor(1, 8, 9, 9);
  ASSERT_TRUE(prepareConv2d(ctx, 0, "conv", in, out, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                            ActRelu, true));
  for (auto [name, message] :
       {std::pair{"missing.b", "weight 'missing.b' is not loaded"},
        std::pair{"short.b", "weight 'short.b' has 7 values, expected 8"}}) {
    uploadAll();
    conv2d(ctx, 0, "conv", in, out, weight(ctx, "w", 288),
           weight(ctx, name, 8), 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu);
    EXPECT_EQ(failure(), message);
  }
}

/// The workspace cap (IOS_CUDNN_WORKSPACE_MB) and TF32
/// (IOS_CUDNN_TF32=1), both read by createContext.
TEST_F(EmulatedCuda, WorkspaceCapAndTf32) {
  std::vector<float> w = randomVector(32 * 64 * 9, 61);
  auto run = [&](double &error) {
    open(1, 1 << 16, {{"w", {32, 64, 3, 3}, w}});
    View in = tensor(1, 64, 12, 12), out = tensor(1, 32, 12, 12);
    ASSERT_TRUE(prepareConv2d(ctx, 0, "conv", in, out, 3, 3, 1, 1, 1, 1, 1, 1,
                              1, ActNone, false))
        << lastError(ctx);
    uploadAll();
    conv2d(ctx, 0, "conv", in, out, weight(ctx, "w", 32 * 64 * 9), nullptr, 3,
           3, 1, 1, 1, 1, 1, 1, 1, ActNone);
    downloadAll();
    error = ref::maxError(onHost(out),
                          ref::conv(onHost(in), 32, w.data(), nullptr, 3, 3, 1,
                                    1, 1, 1, 1, 1, 1, ActNone));
    destroyContext(ctx);
    ctx = nullptr;
    next = 0;
  };
  double error = 0;
  uint64_t allocations = calls("cudaMallocAsync");
  run(error); // the heuristics' favourite needs a workspace
  EXPECT_EQ(calls("cudaMallocAsync"), allocations + 1);
  EXPECT_LT(error, 2e-5);
  {
    Env cap("IOS_CUDNN_WORKSPACE_MB", "0");
    allocations = calls("cudaMallocAsync");
    run(error); // an algorithm without one
    EXPECT_EQ(calls("cudaMallocAsync"), allocations);
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
    const char *e = nullptr;
    EXPECT_EQ(createContext(1, 0, 16, &e), nullptr);
    EXPECT_EQ(std::string(e), "createContext: IOS_CUDNN_WORKSPACE_MB='lots' "
                              "is not a number of MiB");
  }
}

TEST_F(EmulatedCuda, NoDeviceIsOneClearError) {
  Env none("IOS_EMU_DEVICES", "0");
  const char *error = nullptr;
  EXPECT_EQ(createContext(1, 0, 16, &error), nullptr);
  EXPECT_EQ(std::string(error).rfind("no CUDA device: cudaGetDeviceCount: "
                                     "cudaErrorNoDevice: ",
                                     0),
            0u)
      << error;
}

} // namespace
