//===- ContextTest.cpp - Load phase: weights, packing, sticky errors -------===//
//
// Weights are only visible through the kernels that use them, so packed
// tensors are read back through a convolution that prints its weight: a
// one-hot input at the centre of a 3x3 image, padding 1, gives
// out[o][y][x] = w[o][2 - y][2 - x] + bias[o].
//
//===----------------------------------------------------------------------===//

#include "CPUContext.h"
#include "Reference.h"
#include "TestWeights.h"
#include "ios/Runtime/Runtime.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

/// The 3x3 kernels (and biases) of weight `w`, `out` x 1 x 3 x 3, as a
/// convolution prepared on `t` sees them.
std::vector<float> readKernel(CPUContext &t, const char *w, const char *bias,
                              int64_t out) {
  View in = t.tensor(1, 1, 3, 3), res = t.tensor(1, out, 3, 3);
  for (int64_t i = 0; i < 9; ++i)
    in.data[i] = i == 4 ? 1.0f : 0.0f;
  int32_t k = t.ready(prepareConv2d(t.ctx, 0, "read", in, res, w, bias, 3, 3,
                                    1, 1, 1, 1, 1, 1, 1, ActNone));
  EXPECT_TRUE(t.run({k})) << lastError(t.ctx);
  std::vector<float> got;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 8; i >= 0; --i)
      got.push_back(res.data[o * 9 + i]);
  return got;
}

TEST(Weights, PackedAtTheirRowAndColumn) {
  // A 1x1 conv (2 out) at the centre, a 1x2 at the bottom right and a 3x3
  // (1 out), over 1 input channel.
  CPUContext t;
  t.weight("a.w", {10, 20});
  t.weight("b.w", {30, 40});
  t.weight("c.w", {1, 2, 3, 4, 5, 6, 7, 8, 9});
  t.weight("a.b", {0.5f, 0.25f});
  t.weight("c.b", {100});
  ASSERT_TRUE(packConvWeight(t.ctx, "m.w", 4, 1, 3, 3, "a.w", 0, 2, 1, 1, 1,
                             1));
  ASSERT_TRUE(packConvWeight(t.ctx, "m.w", 4, 1, 3, 3, "b.w", 2, 1, 1, 2, 2,
                             1));
  ASSERT_TRUE(packConvWeight(t.ctx, "m.w", 4, 1, 3, 3, "c.w", 3, 1, 3, 3, 0,
                             0));
  ASSERT_TRUE(packBias(t.ctx, "m.b", 4, "a.b", 0, 2));
  ASSERT_TRUE(packBias(t.ctx, "m.b", 4, "c.b", 3, 1));
  std::vector<float> want = {
      0.5f,  0.5f,  0.5f, 0.5f,  10.5f, 0.5f,  0.5f,  0.5f,  0.5f,  // a, 0
      0.25f, 0.25f, 0.25f, 0.25f, 20.25f, 0.25f, 0.25f, 0.25f, 0.25f, // a, 1
      0,     0,     0,    0,     0,     0,     0,     30,    40,    // b
      101,   102,   103,  104,   105,   106,   107,   108,   109};  // c
  EXPECT_EQ(readKernel(t, "m.w", "m.b", 4), want);
}

TEST(Weights, PackingErrorsNameBothTensors) {
  struct Case {
    const char *expect;
    bool (*pack)(Context *);
  } cases[] = {
      {"packConvWeight 'm.w' <- 'b.w': a 5x6x3x2 source at output channel 0, "
       "row 0, column 0 does not fit a 12x6x5x1 weight",
       [](Context *ctx) {
         return packConvWeight(ctx, "m.w", 12, 6, 5, 1, "b.w", 0, 5, 3, 2, 0,
                               0);
       }},
      {"packConvWeight 'm.w' <- 'b.w': a 5x6x3x3 source at output channel 10, "
       "row 1, column 1 does not fit a 12x6x5x5 weight",
       [](Context *ctx) {
         return packConvWeight(ctx, "m.w", 12, 6, 5, 5, "b.w", 10, 5, 3, 3, 1,
                               1);
       }},
      {"packConvWeight 'm.w' <- 'b.w': a 5x6x3x3 source at output channel 0, "
       "row 3, column 0 does not fit a 12x6x5x5 weight",
       [](Context *ctx) {
         return packConvWeight(ctx, "m.w", 12, 6, 5, 5, "b.w", 0, 5, 3, 3, 3,
                               0);
       }},
      {"packConvWeight 'x.w' <- 'b.w': weight 'b.w' has 270 values, expected "
       "216",
       [](Context *ctx) {
         return packConvWeight(ctx, "x.w", 12, 6, 5, 5, "b.w", 0, 4, 3, 3, 1,
                               1);
       }},
      {"packConvWeight 'm.w' <- 'b.w': 'm.w' exists with 1800 values, "
       "expected 1950",
       [](Context *ctx) {
         packConvWeight(ctx, "m.w", 12, 6, 5, 5, "b.w", 0, 5, 3, 3, 1, 1);
         return packConvWeight(ctx, "m.w", 13, 6, 5, 5, "b.w", 0, 5, 3, 3, 1,
                               1);
       }},
      {"packBias 'm.b' <- 'c.b': 4 values at offset 9 do not fit 12",
       [](Context *ctx) { return packBias(ctx, "m.b", 12, "c.b", 9, 4); }},
      {"packBias 'x.b' <- 'missing.b': weight 'missing.b' is not loaded",
       [](Context *ctx) {
         return packBias(ctx, "x.b", 12, "missing.b", 0, 4);
       }},
  };
  for (const Case &c : cases) {
    CPUContext t;
    t.weight("b.w", t.random(5 * 6 * 9));
    t.weight("c.b", t.random(4));
    EXPECT_FALSE(c.pack(t.ctx)) << c.expect;
    EXPECT_EQ(std::string(lastError(t.ctx)), c.expect);
  }
}

/// IOS's merge stage: a 1x1, a 3x3 and a 5x5 conv of one input become one
/// 5x5 conv over packed weights (loaded from a file); its output channels
/// equal the three convs'.
TEST(Weights, MergedConvEqualsTheSeparateConvs) {
  constexpr int64_t Cin = 6, H = 9;
  struct Branch {
    const char *name;
    int64_t out, k;
  } branches[] = {{"a", 3, 1}, {"b", 5, 3}, {"c", 4, 5}};
  std::vector<Tensor> tensors;
  unsigned seed = 0;
  for (const Branch &b : branches) {
    tensors.push_back({std::string(b.name) + ".w",
                       {b.out, Cin, b.k, b.k},
                       randomVector(size_t(b.out * Cin * b.k * b.k), ++seed)});
    tensors.push_back({std::string(b.name) + ".b",
                       {b.out},
                       randomVector(size_t(b.out), ++seed)});
  }
  std::string path = writeWeights(tensors, "merge");
  CPUContext t;
  ASSERT_TRUE(loadWeights(t.ctx, path.c_str())) << lastError(t.ctx);
  View in = t.tensor(1, Cin, H, H), merged = t.tensor(1, 12, H, H),
       separate = t.tensor(1, 12, H, H);
  std::vector<int32_t> kernels;
  int64_t offset = 0;
  for (const Branch &b : branches) {
    std::string w = std::string(b.name) + ".w",
                bias = std::string(b.name) + ".b";
    int64_t at = (5 - b.k) / 2;
    ASSERT_TRUE(packConvWeight(t.ctx, "m.w", 12, Cin, 5, 5, w.c_str(), offset,
                               b.out, b.k, b.k, at, at))
        << lastError(t.ctx);
    ASSERT_TRUE(packBias(t.ctx, "m.b", 12, bias.c_str(), offset, b.out))
        << lastError(t.ctx);
    kernels.push_back(t.ready(prepareConv2d(
        t.ctx, 0, b.name, in, channels(separate, offset, offset + b.out),
        w.c_str(), bias.c_str(), b.k, b.k, 1, 1, b.k / 2, b.k / 2, 1, 1, 1,
        ActRelu)));
    offset += b.out;
  }
  kernels.push_back(t.ready(prepareConv2d(t.ctx, 0, "merged", in, merged,
                                          "m.w", "m.b", 5, 5, 1, 1, 2, 2, 1,
                                          1, 1, ActRelu)));
  ASSERT_TRUE(t.run({kernels[0], kernels[1], kernels[2], kernels[3]}))
      << lastError(t.ctx);
  for (int64_t i = 0; i < 12 * H * H; ++i)
    ASSERT_NEAR(merged.data[i], separate.data[i], 1e-5) << i;
}

/// Kernels keep the weights they were prepared with: packing new values
/// into the same tensor afterwards changes only later kernels.
TEST(Weights, RepackingDoesNotChangePreparedKernels) {
  CPUContext t;
  std::vector<float> w1 = t.random(2 * 9), w2 = t.random(2 * 9);
  t.weight("w1", w1);
  t.weight("w2", w2);
  ASSERT_TRUE(packConvWeight(t.ctx, "p", 2, 1, 3, 3, "w1", 0, 2, 3, 3, 0, 0));
  std::vector<float> first = readKernel(t, "p", nullptr, 2);
  ASSERT_TRUE(packConvWeight(t.ctx, "p", 2, 1, 3, 3, "w2", 0, 2, 3, 3, 0, 0));
  EXPECT_EQ(readKernel(t, "p", nullptr, 2), w2);
  EXPECT_EQ(first, w1);
  // The first kernel (id 0) still computes with w1.
  View out = t.tensor(1, 2, 3, 3);
  int32_t again = t.ready(prepareCopy(t.ctx, 0, "copy", view(t.ctx, 9, 1, 2,
                                                               3, 3, 18),
                                      out));
  ASSERT_TRUE(t.run({0, again})) << lastError(t.ctx);
  std::vector<float> reread;
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t i = 8; i >= 0; --i)
      reread.push_back(out.data[o * 9 + i]);
  EXPECT_EQ(reread, w1);
  // A weight of another name replaces the values for later kernels too.
  t.weight("w1", w2);
  EXPECT_EQ(readKernel(t, "w1", nullptr, 2), w2);
}

/// The first failed load call is kept; every later load call does nothing
/// and fails; an inference of the context fails with the load error; create()
/// fails with it and frees the context.
TEST(Context, LoadErrorsAreSticky) {
  Context *ctx = createContext(1, 1, 64);
  std::vector<float> w(36, 1.0f);
  ASSERT_TRUE(addWeight(ctx, "w", w.data(), 36));
  View in = view(ctx, 0, 1, 4, 3, 3, 36);
  EXPECT_EQ(prepareConv2d(ctx, 0, "Mixed_5b.conv", in,
                          view(ctx, 36, 1, 1, 3, 3, 9), "w", "missing.b", 3, 3,
                          1, 1, 1, 1, 1, 1, 1, ActNone),
            -1);
  const std::string first =
      "Mixed_5b.conv: conv2d: weight 'missing.b' is not loaded";
  EXPECT_EQ(std::string(lastError(ctx)), first);
  EXPECT_FALSE(ok(ctx));
  // Later calls, good or bad, do nothing.
  EXPECT_FALSE(addWeight(ctx, "b", w.data(), 1));
  EXPECT_EQ(view(ctx, 1000, 1, 1, 1, 1, 1).data, nullptr);
  EXPECT_EQ(view(ctx, 0, 1, 1, 1, 1, 1).data, nullptr);
  EXPECT_FALSE(bindInput(ctx, 0, in));
  EXPECT_EQ(prepareCopy(ctx, 0, "copy", in, in), -1);
  EXPECT_FALSE(loadWeights(ctx, "/nonexistent.safetensors"));
  EXPECT_EQ(std::string(lastError(ctx)), first);
  upload(ctx, nullptr);
  launch(ctx, 0);
  EXPECT_EQ(finishRun(ctx, nullptr), 0);
  EXPECT_EQ(std::string(lastError(ctx)), first);
  EXPECT_EQ(finishCreate(ctx), nullptr);
  EXPECT_EQ(std::string(lastError(nullptr)), first);
}

TEST(Context, BadContextsAndWeightsFailWithAMessage) {
  struct Case {
    const char *expect;
    Context *(*make)();
  } cases[] = {
      {"createContext: needs at least one stream and non-negative event and "
       "arena sizes (got 0, 0, 16)",
       [] { return createContext(0, 0, 16); }},
      {"createContext: needs at least one stream and non-negative event and "
       "arena sizes (got 1, -1, 16)",
       [] { return createContext(1, -1, 16); }},
      {"addWeight '': needs a name and 2 values",
       [] {
         Context *ctx = createContext(1, 0, 16);
         float two[2] = {1, 2};
         addWeight(ctx, "", two, 2);
         return ctx;
       }},
      {"loadWeights: cannot open '/nonexistent/w.safetensors'",
       [] {
         Context *ctx = createContext(1, 0, 16);
         loadWeights(ctx, "/nonexistent/w.safetensors");
         return ctx;
       }},
  };
  for (const Case &c : cases) {
    Context *ctx = c.make();
    ASSERT_NE(ctx, nullptr) << "never null";
    EXPECT_FALSE(ok(ctx));
    std::string e = lastError(ctx);
    EXPECT_EQ(e.substr(0, std::string(c.expect).size()), c.expect) << e;
    EXPECT_EQ(finishCreate(ctx), nullptr);
    EXPECT_EQ(std::string(lastError(nullptr)), e);
  }
  EXPECT_EQ(finishCreate(nullptr), nullptr);
  EXPECT_EQ(std::string(lastError(nullptr)), "finishCreate: no context");
}

TEST(Context, ArenaIsZeroedAndViewsAreChecked) {
  CPUContext t(0, 1, 1, 100);
  for (int64_t i = 0; i < 100; ++i)
    ASSERT_EQ(t.base[i], 0.0f) << i;
  struct Case {
    int64_t offset, n, c, h, w, stride;
    const char *expect;
  } cases[] = {
      {90, 1, 1, 2, 6, 12,
       "view 1x1x2x6 (batch stride 12) at offset 90 is outside the arena of "
       "100 floats"},
      {-1, 1, 1, 1, 1, 1,
       "view 1x1x1x1 (batch stride 1) at offset -1 is outside the arena of "
       "100 floats"},
      {0, 2, 3, 2, 2, 10,
       "view 2x3x2x2 (batch stride 10) at offset 0: the batch stride is "
       "smaller than one image (12 floats)"},
      {0, 1, 0, 2, 2, 0,
       "view 1x0x2x2 (batch stride 0) at offset 0: sizes must be positive"},
  };
  // The last image of a strided view may end before the stride does.
  EXPECT_NE(view(t.ctx, 0, 2, 1, 5, 5, 60).data, nullptr);
  EXPECT_TRUE(ok(t.ctx));
  for (const Case &c : cases) {
    CPUContext u(0, 1, 1, 100);
    EXPECT_EQ(view(u.ctx, c.offset, c.n, c.c, c.h, c.w, c.stride).data,
              nullptr);
    EXPECT_EQ(std::string(lastError(u.ctx)), c.expect);
  }
}

} // namespace
