//===- KernelRefTest.cpp - Every CPU kernel against a naive reference -----===//
//
// Inputs and outputs are channel slices of wider tensors (batch stride >
// c*h*w) at batch 2 unless a test says otherwise; every kernel runs on one
// thread and on two (IOS_CPU_CORES), the two primitives oneDNN builds.
//
//===----------------------------------------------------------------------===//

#include "CPUContext.h"
#include "ConvCases.h"
#include "Reference.h"
#include "ios/Runtime/Runtime.h"

#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

/// Runs every test body on 1 and 2 threads.
class Kernels : public ::testing::Test {
protected:
  void onThreads(const std::function<void(CPUContext &)> &body) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::to_string(threads) + " threads");
      CPUContext c(threads);
      body(c);
    }
  }
};

/// A dense n x c x h x w array of `f(n, c, y, x)` (the expected output of a
/// per-element op).
template <typename F>
std::vector<double> each(View like, F f) {
  std::vector<double> out;
  for (int64_t n = 0; n < like.n; ++n)
    for (int64_t c = 0; c < like.c; ++c)
      for (int64_t y = 0; y < like.h; ++y)
        for (int64_t x = 0; x < like.w; ++x)
          out.push_back(f(n, c, y, x));
  return out;
}

class Conv : public ::testing::TestWithParam<std::tuple<ConvCase, int>> {};

TEST_P(Conv, MatchesNaive) {
  auto [c, threads] = GetParam();
  CPUContext t(threads);
  int64_t oh = convOutput(c.h, c.kh, c.sh, c.ph, c.dh);
  int64_t ow = convOutput(c.w, c.kw, c.sw, c.pw, c.dw);
  View in = t.slice(c.n, c.cin, c.h, c.w, 3);
  View out = t.slice(c.n, c.cout, oh, ow, 2);
  std::vector<float> w = t.random(c.cout * (c.cin / c.groups) * c.kh * c.kw);
  std::vector<float> b = t.random(c.cout);
  std::vector<float> kept = t.outside(out);
  std::vector<double> want =
      ref::conv(in, c.cout, w.data(), c.bias ? b.data() : nullptr, c.kh, c.kw,
                c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  int32_t k = t.ready(prepareConv2d(
      t.ctx, 0, c.name, in, out, t.weight("w", w),
      c.bias ? t.weight("b", b) : nullptr, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw,
      c.dh, c.dw, c.groups, c.act));
  ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
  EXPECT_LT(ref::maxError(out, want), 2e-5);
  EXPECT_EQ(t.outside(out), kept) << "wrote outside its output slice";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Conv,
    ::testing::Combine(::testing::ValuesIn(convCases), ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<std::tuple<ConvCase, int>> &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::to_string(std::get<1>(info.param)) + "threads";
    });

// The activations added for imported models, fused into a blocked (3x3)
// and a GEMM (1x1) convolution.
TEST_F(Kernels, ConvFusesEveryActivation) {
  onThreads([](CPUContext &t) {
    for (Act act : {ActRelu6, ActHardSigmoid, ActHardSwish, ActSilu})
      for (int64_t k : {3, 1}) {
        SCOPED_TRACE("act " + std::to_string(act) + ", kernel " +
                     std::to_string(k));
        // Inputs scaled to [-4, 4): every piece of relu6/hardsigmoid is hit.
        View in = t.slice(2, 6, 7, 7, 1), out = t.slice(2, 5, 7, 7, 2);
        for (int64_t i = 0; i < 2 * in.batchStride; ++i)
          in.data[i] *= 4;
        std::vector<float> w = t.random(5 * 6 * k * k), b = t.random(5);
        int32_t id = t.ready(prepareConv2d(
            t.ctx, 0, "conv", in, out, t.weight("w", w), t.weight("b", b), k,
            k, 1, 1, k / 2, k / 2, 1, 1, 1, act));
        ASSERT_TRUE(t.run({id})) << lastError(t.ctx);
        EXPECT_LT(ref::maxError(out, ref::conv(in, 5, w.data(), b.data(), k,
                                               k, 1, 1, k / 2, k / 2, 1, 1, 1,
                                               act)),
                  2e-5);
      }
  });
}

struct PoolCase {
  const char *name;
  PoolKind kind;
  int64_t h, w, kh, kw, sh, sw, ph, pw;
  bool countIncludePad;
  int64_t oh, ow; // PyTorch's output size (ceil_mode where larger)
};

class Pool : public ::testing::TestWithParam<std::tuple<PoolCase, int>> {};

TEST_P(Pool, MatchesNaive) {
  auto [p, threads] = GetParam();
  CPUContext t(threads);
  View in = t.slice(2, 5, p.h, p.w, 1), out = t.slice(2, 5, p.oh, p.ow, 3);
  std::vector<float> kept = t.outside(out);
  std::vector<double> want = ref::pool(in, p.kind, p.kh, p.kw, p.sh, p.sw,
                                       p.ph, p.pw, p.countIncludePad, p.oh,
                                       p.ow);
  int32_t k = t.ready(preparePool2d(t.ctx, 0, p.name, in, out, p.kind, p.kh,
                                    p.kw, p.sh, p.sw, p.ph, p.pw,
                                    p.countIncludePad));
  ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
  EXPECT_LT(ref::maxError(out, want), 1e-6);
  EXPECT_EQ(t.outside(out), kept);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Pool,
    ::testing::Combine(
        ::testing::Values(
            PoolCase{"max_k3_s2", PoolMax, 9, 8, 3, 3, 2, 2, 0, 0, true, 4, 3},
            PoolCase{"max_k3_s1_p1", PoolMax, 7, 7, 3, 3, 1, 1, 1, 1, true, 7,
                     7},
            PoolCase{"max_k2_s2", PoolMax, 8, 9, 2, 2, 2, 2, 0, 0, true, 4, 4},
            PoolCase{"avg_k3_s1_p1", PoolAvg, 7, 6, 3, 3, 1, 1, 1, 1, true, 7,
                     6},
            PoolCase{"avg_k3_s2_p1", PoolAvg, 9, 9, 3, 3, 2, 2, 1, 1, true, 5,
                     5},
            PoolCase{"avg_k5_s3", PoolAvg, 11, 10, 5, 5, 3, 3, 0, 0, true, 3,
                     2},
            PoolCase{"global_max", PoolGlobalMax, 6, 5, 6, 5, 1, 1, 0, 0, true,
                     1, 1},
            PoolCase{"global_avg", PoolGlobalAvg, 7, 7, 7, 7, 1, 1, 0, 0, true,
                     1, 1},
            // count_include_pad = false: border windows divide by their taps
            // inside the input.
            PoolCase{"avg_exclude_pad", PoolAvg, 7, 6, 3, 3, 1, 1, 1, 1, false,
                     7, 6},
            PoolCase{"avg_exclude_pad_s2", PoolAvg, 9, 8, 3, 3, 2, 2, 1, 1,
                     false, 5, 4},
            // ceil_mode: the last window runs past the (padded) input and is
            // clipped; with count_include_pad it divides by its taps inside
            // the padded input, without by those inside the input.
            PoolCase{"max_ceil", PoolMax, 8, 8, 3, 3, 2, 2, 0, 0, true, 4, 4},
            PoolCase{"max_ceil_p1", PoolMax, 9, 10, 3, 3, 2, 2, 1, 1, true, 5,
                     6},
            PoolCase{"avg_ceil", PoolAvg, 8, 8, 3, 3, 2, 2, 0, 0, true, 4, 4},
            PoolCase{"avg_ceil_p1", PoolAvg, 9, 10, 3, 3, 2, 2, 1, 1, true, 5,
                     6},
            PoolCase{"avg_ceil_k2", PoolAvg, 5, 5, 2, 2, 2, 2, 0, 0, true, 3,
                     3},
            PoolCase{"avg_ceil_exclude_pad", PoolAvg, 9, 10, 3, 3, 2, 2, 1, 1,
                     false, 5, 6},
            // One dimension in ceil_mode, the other not.
            PoolCase{"avg_ceil_width_only", PoolAvg, 7, 8, 3, 3, 2, 2, 0, 0,
                     true, 3, 4}),
        ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<std::tuple<PoolCase, int>> &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::to_string(std::get<1>(info.param)) + "threads";
    });

TEST_F(Kernels, AddOfOneToNineOperands) {
  onThreads([](CPUContext &t) {
    for (int count : {1, 2, 3, 9}) {
      View out = t.slice(2, 3, 4, 5);
      std::vector<View> ins;
      for (int k = 0; k < count; ++k)
        ins.push_back(t.slice(2, 3, 4, 5, k % 3));
      std::vector<float> kept = t.outside(out);
      std::vector<double> want = each(out, [&](auto n, auto c, auto y, auto x) {
        double sum = 0;
        for (View v : ins)
          sum += ref::at(v, n, c, y, x);
        return sum;
      });
      int32_t k = t.ready(prepareAdd(t.ctx, 0, "add", out, count, ins.data()));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_LT(ref::maxError(out, want), 1e-6) << count << " operands";
      EXPECT_EQ(t.outside(out), kept);
    }
  });
}

/// The expected sum of views, element by element (broadcast ones at
/// (n, c, 0, 0)).
std::vector<double> sumOf(View like, std::initializer_list<View> vs) {
  return each(like, [&](int64_t n, int64_t c, int64_t y, int64_t x) {
    double acc = 0;
    for (View v : vs)
      acc += ref::at(v, n, c, v.h == 1 ? 0 : y, v.w == 1 ? 0 : x);
    return acc;
  });
}

// The output may be any operand (the API allows it), or several.
TEST_F(Kernels, AddIntoItsOwnOperands) {
  onThreads([](CPUContext &t) {
    View a = t.slice(2, 3, 4, 5), b = t.slice(2, 3, 4, 5, 1),
         c = t.slice(2, 3, 4, 5, 0);
    // Each kernel's expectation is taken just before it runs.
    struct Step {
      View out;
      std::vector<View> in;
    } steps[] = {{c, {a, b, c}}, {b, {a, b, c, b}}, {a, {a, a, a}}};
    for (const Step &s : steps) {
      int32_t k = t.ready(prepareAdd(t.ctx, 0, "add", s.out,
                                     int32_t(s.in.size()), s.in.data()));
      std::vector<double> want = each(s.out, [&](auto n, auto ch, auto y,
                                                 auto x) {
        double acc = 0;
        for (View v : s.in)
          acc += ref::at(v, n, ch, y, x);
        return acc;
      });
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_LT(ref::maxError(s.out, want), 1e-6);
    }
  });
}

// (N, C, 1, 1) operands broadcast over H x W, in any position, with the
// output among the operands or not, and all of them broadcast.
TEST_F(Kernels, BroadcastingAdd) {
  onThreads([](CPUContext &t) {
    View a = t.slice(2, 4, 3, 5), s = t.slice(2, 4, 1, 1, 1),
         r = t.slice(2, 4, 1, 1, 3), out = t.slice(2, 4, 3, 5);
    std::vector<float> kept = t.outside(out);
    std::vector<double> want = sumOf(out, {s, a, r});
    int32_t k1 = t.ready(prepareAddN(t.ctx, 0, "add_bcast", out, s, a, r));
    ASSERT_TRUE(t.run({k1})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(out, want), 1e-6);
    EXPECT_EQ(t.outside(out), kept);
    // out = out + s (in place).
    want = sumOf(out, {out, s});
    int32_t k2 = t.ready(prepareAddN(t.ctx, 0, "add_in_place", out, out, s));
    ASSERT_TRUE(t.run({k2})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(out, want), 1e-6);
    // Only broadcast operands.
    want = sumOf(out, {s, r});
    int32_t k3 = t.ready(prepareAddN(t.ctx, 0, "add_bcast_only", out, s, r));
    ASSERT_TRUE(t.run({k3})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(out, want), 1e-6);
  });
}

TEST_F(Kernels, BroadcastingMul) {
  onThreads([](CPUContext &t) {
    View a = t.slice(2, 4, 3, 5), s = t.slice(2, 4, 1, 1, 1),
         r = t.slice(2, 4, 1, 1, 3), out = t.slice(2, 4, 3, 5);
    auto product = [](View like, View x, View y) {
      return each(like, [&](int64_t n, int64_t c, int64_t h, int64_t w) {
        auto get = [&](View v) {
          return double(ref::at(v, n, c, v.h == 1 ? 0 : h, v.w == 1 ? 0 : w));
        };
        return get(x) * get(y);
      });
    };
    struct Case {
      const char *name;
      View x, y;
    } cases[] = {{"full_bcast", a, s}, {"bcast_full", s, a},
                 {"bcast_bcast", s, r}, {"in_place", out, s},
                 {"in_place_rhs", r, out}};
    for (const Case &c : cases) {
      SCOPED_TRACE(c.name);
      std::vector<double> want = product(out, c.x, c.y);
      int32_t k = t.ready(prepareMul(t.ctx, 0, c.name, c.x, c.y, out));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_LT(ref::maxError(out, want), 1e-6);
    }
  });
}

TEST_F(Kernels, InPlaceElementwise) {
  onThreads([](CPUContext &t) {
    View a = t.slice(2, 4, 3, 3), b = t.slice(2, 4, 3, 3);
    // a = a + b, then a = a * b, then a = tanh(a), all in place.
    std::vector<double> want = each(a, [&](auto n, auto c, auto y, auto x) {
      double va = ref::at(a, n, c, y, x), vb = ref::at(b, n, c, y, x);
      return std::tanh((va + vb) * vb);
    });
    int32_t add = t.ready(prepareAddN(t.ctx, 0, "add", a, a, b));
    int32_t mul = t.ready(prepareMul(t.ctx, 0, "mul", a, b, a));
    int32_t act = t.ready(prepareActivation(t.ctx, 0, "tanh", a, a, ActTanh));
    ASSERT_TRUE(t.run({add, mul, act})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(a, want), 1e-6);
  });
}

TEST_F(Kernels, EveryActivationAndCopyOnStridedViews) {
  onThreads([](CPUContext &t) {
    View in = t.slice(2, 3, 5, 4);
    for (int64_t i = 0; i < 2 * in.batchStride; ++i)
      in.data[i] *= 5; // [-5, 5): every piece of the clipped activations
    for (Act act : {ActNone, ActRelu, ActSigmoid, ActTanh, ActRelu6,
                    ActHardSigmoid, ActHardSwish, ActSilu}) {
      SCOPED_TRACE("act " + std::to_string(act));
      View out = t.slice(2, 3, 5, 4, 1);
      std::vector<float> kept = t.outside(out);
      int32_t k = t.ready(prepareActivation(t.ctx, 0, "act", in, out, act));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_LT(ref::maxError(out, each(out, [&](auto n, auto c, auto y,
                                                  auto x) {
                  return ref::act(ref::at(in, n, c, y, x), act);
                })),
                1e-6);
      EXPECT_EQ(t.outside(out), kept);
    }
    View copied = t.slice(2, 3, 5, 4, 1);
    std::vector<float> kept = t.outside(copied);
    int32_t k = t.ready(prepareCopy(t.ctx, 0, "copy", in, copied));
    ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
    EXPECT_EQ(ref::maxError(copied, each(copied, [&](auto n, auto c, auto y,
                                                     auto x) {
                return double(ref::at(in, n, c, y, x));
              })),
              0.0);
    EXPECT_EQ(t.outside(copied), kept);
  });
}

TEST_F(Kernels, AffineScalesAndShiftsChannels) {
  onThreads([](CPUContext &t) {
    View in = t.slice(2, 5, 3, 4), out = t.slice(2, 5, 3, 4, 1);
    std::vector<float> scale = t.random(5), shift = t.random(5);
    t.weight("scale", scale);
    t.weight("shift", shift);
    auto affine = [&](View from) {
      return each(from, [&](auto n, auto c, auto y, auto x) {
        return double(ref::at(from, n, c, y, x)) * scale[size_t(c)] +
               shift[size_t(c)];
      });
    };
    std::vector<float> kept = t.outside(out);
    std::vector<double> want = affine(in);
    int32_t k = t.ready(
        prepareAffine(t.ctx, 0, "bn", in, out, "scale", "shift"));
    ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(out, want), 1e-6);
    EXPECT_EQ(t.outside(out), kept);
    want = affine(out);
    int32_t again = t.ready(
        prepareAffine(t.ctx, 0, "bn_in_place", out, out, "scale", "shift"));
    ASSERT_TRUE(t.run({again})) << lastError(t.ctx);
    EXPECT_LT(ref::maxError(out, want), 1e-6);
  });
}

TEST_F(Kernels, PadWithAConstant) {
  onThreads([](CPUContext &t) {
    struct Case {
      int64_t top, left, bottom, right;
    } cases[] = {{1, 1, 1, 1}, {0, 0, 1, 1}, {2, 0, 0, 3}, {0, 0, 0, 0}};
    for (const Case &c : cases) {
      View in = t.slice(2, 3, 4, 5, 1);
      View out = t.slice(2, 3, 4 + c.top + c.bottom, 5 + c.left + c.right, 2);
      std::vector<float> kept = t.outside(out);
      int32_t k = t.ready(preparePad(t.ctx, 0, "pad", in, out, c.top, c.left,
                                     c.bottom, c.right, -0.5f));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_EQ(ref::maxError(out, ref::pad(in, c.top, c.left, c.bottom,
                                            c.right, -0.5)),
                0.0);
      EXPECT_EQ(t.outside(out), kept);
    }
  });
}

TEST_F(Kernels, NearestUpsampleByIntegerFactors) {
  onThreads([](CPUContext &t) {
    for (auto [fh, fw] : {std::pair{2, 2}, std::pair{3, 1}, std::pair{1, 4}}) {
      View in = t.slice(2, 3, 4, 5, 1), out = t.slice(2, 3, 4 * fh, 5 * fw, 2);
      std::vector<float> kept = t.outside(out);
      int32_t k = t.ready(prepareUpsample(t.ctx, 0, "up", in, out));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_EQ(ref::maxError(out, ref::upsample(in, fh, fw)), 0.0)
          << fh << "x" << fw;
      EXPECT_EQ(t.outside(out), kept);
    }
  });
}

TEST_F(Kernels, ChannelShuffle) {
  onThreads([](CPUContext &t) {
    for (int64_t groups : {2, 3, 6, 1}) {
      View in = t.slice(2, 6, 3, 4, 1), out = t.slice(2, 6, 3, 4, 2);
      std::vector<float> kept = t.outside(out);
      int32_t k = t.ready(
          prepareChannelShuffle(t.ctx, 0, "shuffle", in, out, groups));
      ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
      EXPECT_EQ(ref::maxError(out, ref::shuffle(in, groups)), 0.0)
          << groups << " groups";
      EXPECT_EQ(t.outside(out), kept);
    }
  });
}

TEST_F(Kernels, LinearOnStridedRowsAndDenseImages) {
  onThreads([](CPUContext &t) {
    // N x K slices, and an N x C x H x W tensor read as K = C*H*W (dense
    // and a channel slice).
    View inputs[] = {t.slice(3, 37, 1, 1, 4), t.tensor(3, 4, 3, 2),
                     t.slice(3, 4, 3, 2, 1)};
    for (View in : inputs)
      for (bool withBias : {true, false}) {
        int64_t k = in.c * in.h * in.w;
        View out = t.slice(3, 11, 1, 1, 2);
        std::vector<float> w = t.random(11 * k), b = t.random(11);
        std::vector<float> kept = t.outside(out);
        int32_t id = t.ready(prepareLinear(t.ctx, 0, "fc", in, out,
                                           t.weight("fc.w", w),
                                           withBias ? t.weight("fc.b", b)
                                                    : nullptr));
        ASSERT_TRUE(t.run({id})) << lastError(t.ctx);
        EXPECT_LT(ref::maxError(out, each(out, [&](auto n, auto m, auto,
                                                    auto) {
                    double acc = withBias ? b[size_t(m)] : 0;
                    for (int64_t i = 0; i < k; ++i)
                      acc += double(w[size_t(m * k + i)]) *
                             in.data[n * in.batchStride + i];
                    return acc;
                  })),
                  1e-5);
        EXPECT_EQ(t.outside(out), kept);
      }
  });
}

TEST_F(Kernels, SoftmaxIsStableStridedAndInPlace) {
  onThreads([](CPUContext &t) {
    View in = t.slice(2, 10, 1, 1, 3), out = t.slice(2, 10, 1, 1, 1);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t f = 0; f < 10; ++f)
        ref::at(in, n, f, 0, 0) = 1000.0f + float(f) * (n ? -1 : 1);
    std::vector<float> kept = t.outside(out);
    int32_t k = t.ready(prepareSoftmax(t.ctx, 0, "softmax", in, out));
    int32_t inPlace =
        t.ready(prepareSoftmax(t.ctx, 0, "softmax_in_place", in, in));
    ASSERT_TRUE(t.run({k})) << lastError(t.ctx);
    EXPECT_EQ(t.outside(out), kept);
    ASSERT_TRUE(t.run({inPlace})) << lastError(t.ctx);
    for (int64_t n = 0; n < 2; ++n) {
      double denom = 0;
      for (int64_t f = 0; f < 10; ++f)
        denom += std::exp(double(f) * (n ? -1 : 1));
      for (int64_t f = 0; f < 10; ++f) {
        double want = std::exp(double(f) * (n ? -1 : 1)) / denom;
        EXPECT_NEAR(ref::at(out, n, f, 0, 0), want, 1e-6);
        EXPECT_NEAR(ref::at(in, n, f, 0, 0), want, 1e-6);
      }
    }
  });
}

// Every bad kernel fails at load with the layer's name and what is wrong;
// nothing runs.
TEST(KernelErrors, BadKernelsFailAtLoadWithTheirName) {
  struct Case {
    std::string expect;
    std::function<int32_t(CPUContext &, View in, View out)> prepare;
  } cases[] = {
      {"conv_a: conv2d: output 1x8x6x6 (batch stride 432) does not match the "
       "input 1x4x6x6 (batch stride 288) (expected 1x8x4x4)",
       [](CPUContext &t, View in, View out) {
         return prepareConv2d(t.ctx, 0, "conv_a", in, out, "w", nullptr, 3, 3,
                              1, 1, 0, 0, 1, 1, 1, ActNone);
       }},
      {"conv_b: conv2d: group count 3 does not divide",
       [](CPUContext &t, View in, View out) {
         return prepareConv2d(t.ctx, 0, "conv_b", in, out, "w", nullptr, 3, 3,
                              1, 1, 1, 1, 1, 1, 3, ActNone);
       }},
      {"conv_c: conv2d: weight 'missing' is not loaded",
       [](CPUContext &t, View in, View out) {
         return prepareConv2d(t.ctx, 0, "conv_c", in, out, "missing", nullptr,
                              3, 3, 1, 1, 1, 1, 1, 1, 1, ActNone);
       }},
      {"conv_d: conv2d: weight 'b' has 5 values, expected 8",
       [](CPUContext &t, View in, View out) {
         return prepareConv2d(t.ctx, 0, "conv_d", in, out, "w", "b", 3, 3, 1,
                              1, 1, 1, 1, 1, 1, ActRelu);
       }},
      {"conv_e: conv2d: the output overlaps the input",
       [](CPUContext &t, View in, View) {
         View o = view(t.ctx, in.data + 10 - t.base, 1, 8, 6, 6, 288);
         return prepareConv2d(t.ctx, 0, "conv_e", in, o, "w", nullptr, 3, 3,
                              1, 1, 1, 1, 1, 1, 1, ActNone);
       }},
      {"conv_f: conv2d: unknown activation 9",
       [](CPUContext &t, View in, View out) {
         return prepareConv2d(t.ctx, 0, "conv_f", in, out, "w", nullptr, 3, 3,
                              1, 1, 1, 1, 1, 1, 1, Act(9));
       }},
      {"conv_g: conv2d: output 1x8x6x6 is not in the arena",
       [](CPUContext &t, View in, View) {
         static float outside[8 * 36];
         return prepareConv2d(t.ctx, 0, "conv_g", in,
                              ios::rt::view(outside, 0, 1, 8, 6, 6), "w",
                              nullptr, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActNone);
       }},
      {"pool_a: pool2d: output 1x4x6x6 (batch stride 288) does not match the "
       "input 1x4x6x6 (batch stride 288) (expected 1x4x2x2, or 1x4x3x3 with "
       "ceil_mode)",
       [](CPUContext &t, View in, View) {
         return preparePool2d(t.ctx, 0, "pool_a", in, in, PoolMax, 3, 3, 2, 2,
                              0, 0, true);
       }},
      {"copy_a: copy: operand 0 partially overlaps the output",
       [](CPUContext &t, View in, View) {
         View shifted = in;
         shifted.data += 36; // one channel on
         return prepareCopy(t.ctx, 0, "copy_a", in, shifted);
       }},
      {"act_a: activation: output is a null view",
       [](CPUContext &t, View in, View) {
         return prepareActivation(t.ctx, 0, "act_a", in,
                                  View{nullptr, 1, 4, 6, 6, 144}, ActRelu);
       }},
      {"add_a: add: no operands",
       [](CPUContext &t, View in, View) {
         return prepareAdd(t.ctx, 0, "add_a", in, 0, &in);
       }},
      {"add_b: add: operand 1 1x4x6x1 (batch stride 288) neither matches the "
       "output",
       [](CPUContext &t, View in, View) {
         View column{in.data, 1, 4, 6, 1, 288};
         return prepareAddN(t.ctx, 0, "add_b", in, in, column);
       }},
      {"mul_a: mul: operand 0 (broadcast) overlaps the output",
       [](CPUContext &t, View in, View) {
         View first{in.data, 1, 4, 1, 1, 288};
         return prepareMul(t.ctx, 0, "mul_a", first, in, in);
       }},
      {"fc_a: linear: output 2x3x1x1 does not match the input",
       [](CPUContext &t, View in, View) {
         return prepareLinear(t.ctx, 0, "fc_a", in,
                              view(t.ctx, 5000, 2, 3, 1, 1, 3), "w", nullptr);
       }},
      {"fc_b: linear: weight 'w' has 288 values, expected 432",
       [](CPUContext &t, View in, View) {
         return prepareLinear(t.ctx, 0, "fc_b", in,
                              view(t.ctx, 5000, 1, 3, 1, 1, 3), "w", nullptr);
       }},
      {"sm_a: softmax: no stream 3 (the context has 1)",
       [](CPUContext &t, View in, View) {
         return prepareSoftmax(t.ctx, 3, "sm_a", in, in);
       }},
      {"bn_a: affine: weight 'shift' is not loaded",
       [](CPUContext &t, View in, View) {
         t.weight("scale", std::vector<float>(4, 1.0f));
         return prepareAffine(t.ctx, 0, "bn_a", in, in, "scale", "shift");
       }},
      {"pad_a: pad: negative padding -1, 0, 1, 0 (top, left, bottom, right)",
       [](CPUContext &t, View in, View out) {
         return preparePad(t.ctx, 0, "pad_a", in, out, -1, 0, 1, 0, 0.0f);
       }},
      {"pad_b: pad: output 1x8x6x6 (batch stride 432) does not match the "
       "input 1x4x6x6 (batch stride 288) (expected 1x4x7x8)",
       [](CPUContext &t, View in, View out) {
         return preparePad(t.ctx, 0, "pad_b", in, out, 1, 1, 0, 1, 0.0f);
       }},
      {"up_a: upsample: output 1x8x6x6 (batch stride 432) does not match the "
       "input 1x4x6x6 (batch stride 288): not an integer upsampling",
       [](CPUContext &t, View in, View out) {
         return prepareUpsample(t.ctx, 0, "up_a", in, out);
       }},
      {"shuffle_a: channel_shuffle: group count 3 does not divide the "
       "channels (4)",
       [](CPUContext &t, View in, View) {
         View other = view(t.ctx, 5000, 1, 4, 6, 6, 144);
         return prepareChannelShuffle(t.ctx, 0, "shuffle_a", in, other, 3);
       }},
  };
  for (const Case &c : cases) {
    CPUContext t;
    View in = t.slice(1, 4, 6, 6), out = t.slice(1, 8, 6, 6);
    t.weight("w", t.random(8 * 4 * 9));
    t.weight("b", t.random(5));
    std::vector<float> before(t.base, t.base + t.next);
    EXPECT_EQ(c.prepare(t, in, out), -1) << c.expect;
    EXPECT_FALSE(ok(t.ctx));
    std::string e = lastError(t.ctx);
    EXPECT_EQ(e.substr(0, c.expect.size()), c.expect);
    // Nothing runs: an inference of the failed context fails with the load
    // error, and the arena is as it was.
    EXPECT_FALSE(t.run({0}));
    EXPECT_EQ(std::string(lastError(t.ctx)), e);
    EXPECT_EQ(std::vector<float>(t.base, t.base + t.next), before);
  }
}

} // namespace
