//===- KernelTest.cpp - CPU kernels against naive references --------------===//

#include "ios/Runtime/Runtime.h"

#include "Reference.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace ios::rt;

namespace {

/// A context with one stream and an arena; tensors are carved from it.
class KernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    ctx = createContext(1, 1, 1 << 20, nullptr);
    ASSERT_NE(ctx, nullptr);
    base = arena(ctx);
  }
  void TearDown() override { destroyContext(ctx); }

  /// A fresh whole tensor filled with uniform [-1, 1) values.
  View tensor(int64_t n, int64_t c, int64_t h, int64_t w) {
    View v = view(base, next, n, c, h, w);
    next += n * c * h * w;
    for (int64_t i = 0; i < n * c * h * w; ++i)
      v.data[i] = dist(rng);
    return v;
  }
  std::vector<float> random(int64_t count) {
    std::vector<float> out(count);
    for (float &x : out)
      x = dist(rng);
    return out;
  }
  static float at(View v, int64_t n, int64_t c, int64_t y, int64_t x) {
    return ref::at(v, n, c, y, x);
  }

  Context *ctx = nullptr;
  float *base = nullptr;
  int64_t next = 0;
  std::mt19937 rng{42};
  std::uniform_real_distribution<float> dist{-1.0f, 1.0f};
};

struct ConvCase {
  int64_t n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  Act act;
};

class ConvTest : public KernelTest,
                 public ::testing::WithParamInterface<ConvCase> {};

TEST_P(ConvTest, MatchesNaive) {
  ConvCase c = GetParam();
  int64_t oh = (c.h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  int64_t ow = (c.w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  View in = tensor(c.n, c.cin, c.h, c.w);
  // The output is a channel slice of a wider tensor: strided writes.
  View wide = tensor(c.n, c.cout + 5, oh, ow);
  View out = channels(wide, 3, 3 + c.cout);
  std::vector<float> w = random(c.cout * (c.cin / c.groups) * c.kh * c.kw);
  std::vector<float> b = random(c.cout);
  std::vector<float> untouched(wide.data, wide.data + wide.n * wide.batchStride);
  conv2d(ctx, 0, "conv", in, out, w.data(), b.data(), c.kh, c.kw, c.sh, c.sw,
         c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  std::vector<double> expected =
      ref::conv(in, c.cout, w.data(), b.data(), c.kh, c.kw, c.sh, c.sw, c.ph,
                c.pw, c.dh, c.dw, c.groups, c.act);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t o = 0; o < c.cout; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          ASSERT_NEAR(at(out, n, o, y, x),
                      expected[((n * c.cout + o) * oh + y) * ow + x], 1e-4)
              << "at " << n << "," << o << "," << y << "," << x;
  // Channels outside the slice are untouched.
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t i = 0; i < 3 * oh * ow; ++i)
      ASSERT_EQ(wide.data[n * wide.batchStride + i],
                untouched[n * wide.batchStride + i]);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvTest,
    ::testing::Values(
        ConvCase{1, 8, 16, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu},
        ConvCase{2, 6, 4, 7, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, ActNone},
        ConvCase{2, 8, 8, 8, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, ActSigmoid},
        ConvCase{1, 8, 12, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 4, ActTanh},
        ConvCase{2, 6, 6, 11, 11, 5, 5, 2, 2, 2, 2, 1, 1, 6, ActRelu},
        ConvCase{1, 5, 7, 9, 9, 1, 7, 1, 1, 0, 3, 1, 1, 1, ActRelu},
        ConvCase{1, 3, 4, 12, 12, 3, 3, 2, 2, 0, 0, 1, 1, 1, ActNone}),
    [](const ::testing::TestParamInfo<ConvCase> &info) {
      const ConvCase &c = info.param;
      return "k" + std::to_string(c.kh) + "x" + std::to_string(c.kw) + "_s" +
             std::to_string(c.sh) + "_d" + std::to_string(c.dh) + "_g" +
             std::to_string(c.groups) + "_n" + std::to_string(c.n) + "_" +
             std::to_string(info.index);
    });

TEST_F(KernelTest, PoolMaxAvgGlobal) {
  View in = tensor(2, 3, 7, 7);
  View mx = tensor(2, 3, 4, 4), av = tensor(2, 3, 4, 4), gl = tensor(2, 3, 1, 1);
  pool2d(ctx, 0, "max", in, mx, PoolMax, 3, 3, 2, 2, 1, 1);
  pool2d(ctx, 0, "avg", in, av, PoolAvg, 3, 3, 2, 2, 1, 1);
  pool2d(ctx, 0, "gavg", in, gl, PoolGlobalAvg, 7, 7, 1, 1, 0, 0);
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c) {
      double total = 0;
      for (int64_t y = 0; y < 7; ++y)
        for (int64_t x = 0; x < 7; ++x)
          total += at(in, n, c, y, x);
      EXPECT_NEAR(at(gl, n, c, 0, 0), total / 49, 1e-5);
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          float best = -1e30f;
          double sum = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              int64_t iy = 2 * y - 1 + i, ix = 2 * x - 1 + j;
              if (iy < 0 || iy >= 7 || ix < 0 || ix >= 7)
                continue;
              best = std::max(best, at(in, n, c, iy, ix));
              sum += at(in, n, c, iy, ix);
            }
          EXPECT_EQ(at(mx, n, c, y, x), best);
          // Averages count the padding (divide by the full window).
          EXPECT_NEAR(at(av, n, c, y, x), sum / 9, 1e-6);
        }
    }
}

TEST_F(KernelTest, ElementwiseOnStridedViews) {
  View wide = tensor(2, 10, 3, 3);
  View a = channels(wide, 0, 4), b = channels(wide, 4, 8);
  View c = tensor(2, 4, 3, 3), sum = tensor(2, 4, 3, 3);
  View prod = tensor(2, 4, 3, 3), act = tensor(2, 4, 3, 3);
  View ins[] = {a, b, c};
  add(ctx, 0, "add", sum, 3, ins);
  mul(ctx, 0, "mul", a, b, prod);
  activation(ctx, 0, "tanh", b, act, ActTanh);
  View copied = channels(tensor(2, 6, 3, 3), 1, 5);
  copy(ctx, 0, "copy", a, copied);
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t ch = 0; ch < 4; ++ch)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 3; ++x) {
          float va = at(a, n, ch, y, x), vb = at(b, n, ch, y, x);
          EXPECT_FLOAT_EQ(at(sum, n, ch, y, x), va + vb + at(c, n, ch, y, x));
          EXPECT_FLOAT_EQ(at(prod, n, ch, y, x), va * vb);
          EXPECT_FLOAT_EQ(at(act, n, ch, y, x), std::tanh(vb));
          EXPECT_EQ(at(copied, n, ch, y, x), va);
        }
}

TEST_F(KernelTest, LinearAndSoftmax) {
  View in = tensor(3, 5, 1, 1), out = tensor(3, 4, 1, 1), sm = tensor(3, 4, 1, 1);
  std::vector<float> w = random(4 * 5), b = random(4);
  linear(ctx, 0, "fc", in, out, w.data(), b.data());
  softmax(ctx, 0, "softmax", out, sm);
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  for (int64_t n = 0; n < 3; ++n) {
    double denom = 0;
    for (int64_t m = 0; m < 4; ++m) {
      double acc = b[m];
      for (int64_t k = 0; k < 5; ++k)
        acc += w[m * 5 + k] * at(in, n, k, 0, 0);
      EXPECT_NEAR(at(out, n, m, 0, 0), acc, 1e-5);
      denom += std::exp(acc);
    }
    for (int64_t m = 0; m < 4; ++m)
      EXPECT_NEAR(at(sm, n, m, 0, 0), std::exp(at(out, n, m, 0, 0)) / denom,
                  1e-5);
  }
}

TEST_F(KernelTest, ShapeMismatchIsReportedWithTheOpName) {
  View a = tensor(1, 4, 3, 3), b = tensor(1, 5, 3, 3);
  copy(ctx, 0, "bad_copy", a, b);
  EXPECT_FALSE(synchronize(ctx));
  EXPECT_NE(std::string(lastError(ctx)).find("bad_copy: copy: operand 0 1x4x3x3 does not match the output 1x5x3x3"),
            std::string::npos)
      << lastError(ctx);
}

} // namespace
