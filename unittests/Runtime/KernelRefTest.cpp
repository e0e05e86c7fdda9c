//===- KernelRefTest.cpp - Every CPU kernel against a naive reference -----===//
//
// Inputs and outputs are channel slices of wider tensors (batch stride >
// c*h*w) at batch 2 unless a test says otherwise; every op runs on one
// thread and on two (IOS_CPU_CORES), the two primitives oneDNN builds.
//
//===----------------------------------------------------------------------===//

#include "ConvCases.h"
#include "Reference.h"
#include "ios/Runtime/Runtime.h"

#include <functional>
#include <gtest/gtest.h>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

class Kernels : public ::testing::Test {
protected:
  void SetUp() override { useCores(0); }
  void TearDown() override { destroyContext(ctx); }

  /// A fresh context whose ops run on `cores` threads (0: the default),
  /// small ones too.
  void useCores(int cores) {
    destroyContext(ctx);
    if (cores) {
      setenv("IOS_CPU_CORES", std::to_string(cores).c_str(), 1);
      setenv("IOS_CPU_SMALL_OPS", "all", 1);
    }
    ctx = createContext(1, 0, kArena, nullptr);
    unsetenv("IOS_CPU_CORES");
    unsetenv("IOS_CPU_SMALL_OPS");
    ASSERT_NE(ctx, nullptr);
    ASSERT_TRUE(!cores || cpuCores(ctx) == cores);
    base = arena(ctx);
    next = 0;
  }

  /// Channels [pad, pad + c) of a fresh random n x (c + 2 pad) x h x w
  /// tensor (a strided view when pad > 0).
  View slice(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad = 2) {
    View whole = view(base, next, n, c + 2 * pad, h, w);
    next += n * whole.batchStride;
    EXPECT_LE(next, kArena);
    for (int64_t i = 0; i < n * whole.batchStride; ++i)
      whole.data[i] = dist(rng);
    return channels(whole, pad, pad + c);
  }
  std::vector<float> random(int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float &x : v)
      x = dist(rng);
    return v;
  }
  /// Floats of the arena outside `v` (which must stay untouched).
  std::vector<float> outside(View v) {
    std::vector<float> keep;
    for (int64_t i = 0; i < next; ++i)
      if (!inView(v, base + i))
        keep.push_back(base[i]);
    return keep;
  }
  static bool inView(View v, const float *p) {
    int64_t off = p - v.data, image = v.c * v.h * v.w;
    if (off < 0)
      return false;
    int64_t n = v.n == 1 ? 0 : off / v.batchStride;
    return n < v.n && off - n * v.batchStride < image;
  }
  void expectSynced() { ASSERT_TRUE(synchronize(ctx)) << lastError(ctx); }
  std::string failure() {
    EXPECT_FALSE(synchronize(ctx));
    return lastError(ctx);
  }

  static constexpr int64_t kArena = 1 << 21;
  Context *ctx = nullptr;
  float *base = nullptr;
  int64_t next = 0;
  std::mt19937 rng{7};
  std::uniform_real_distribution<float> dist{-1.0f, 1.0f};
};

class Conv : public Kernels,
             public ::testing::WithParamInterface<std::tuple<ConvCase, int>> {
};

TEST_P(Conv, MatchesNaive) {
  auto [c, threads] = GetParam();
  useCores(threads);
  int64_t oh = convOutput(c.h, c.kh, c.sh, c.ph, c.dh);
  int64_t ow = convOutput(c.w, c.kw, c.sw, c.pw, c.dw);
  View in = slice(c.n, c.cin, c.h, c.w, 3);
  View out = slice(c.n, c.cout, oh, ow, 2);
  std::vector<float> w = random(c.cout * (c.cin / c.groups) * c.kh * c.kw);
  std::vector<float> b = random(c.cout);
  std::vector<float> kept = outside(out);
  std::vector<double> want =
      ref::conv(in, c.cout, w.data(), c.bias ? b.data() : nullptr, c.kh, c.kw,
                c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  conv2d(ctx, 0, c.name, in, out, w.data(), c.bias ? b.data() : nullptr, c.kh,
         c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.act);
  expectSynced();
  EXPECT_LT(ref::maxError(out, want), 2e-5);
  EXPECT_EQ(outside(out), kept) << "wrote outside its output slice";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Conv,
    ::testing::Combine(::testing::ValuesIn(convCases), ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<std::tuple<ConvCase, int>> &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::to_string(std::get<1>(info.param)) + "threads";
    });

struct PoolCase {
  const char *name;
  PoolKind kind;
  int64_t h, w, kh, kw, sh, sw, ph, pw;
};

class Pool : public Kernels,
             public ::testing::WithParamInterface<std::tuple<PoolCase, int>> {
};

TEST_P(Pool, MatchesNaive) {
  auto [p, threads] = GetParam();
  useCores(threads);
  bool global = p.kind == PoolGlobalMax || p.kind == PoolGlobalAvg;
  int64_t oh = global ? 1 : (p.h + 2 * p.ph - p.kh) / p.sh + 1;
  int64_t ow = global ? 1 : (p.w + 2 * p.pw - p.kw) / p.sw + 1;
  View in = slice(2, 5, p.h, p.w, 1), out = slice(2, 5, oh, ow, 3);
  std::vector<float> kept = outside(out);
  std::vector<double> want =
      ref::pool(in, p.kind, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw);
  pool2d(ctx, 0, p.name, in, out, p.kind, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw);
  expectSynced();
  EXPECT_LT(ref::maxError(out, want), 1e-6);
  EXPECT_EQ(outside(out), kept);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Pool,
    ::testing::Combine(::testing::Values(
        PoolCase{"max_k3_s2", PoolMax, 9, 8, 3, 3, 2, 2, 0, 0},
        PoolCase{"max_k3_s1_p1", PoolMax, 7, 7, 3, 3, 1, 1, 1, 1},
        PoolCase{"max_k2_s2", PoolMax, 8, 9, 2, 2, 2, 2, 0, 0},
        PoolCase{"avg_k3_s1_p1", PoolAvg, 7, 6, 3, 3, 1, 1, 1, 1},
        PoolCase{"avg_k3_s2_p1", PoolAvg, 9, 9, 3, 3, 2, 2, 1, 1},
        PoolCase{"avg_k5_s3", PoolAvg, 11, 10, 5, 5, 3, 3, 0, 0},
        PoolCase{"global_max", PoolGlobalMax, 6, 5, 6, 5, 1, 1, 0, 0},
        PoolCase{"global_avg", PoolGlobalAvg, 7, 7, 7, 7, 1, 1, 0, 0}),
                       ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<std::tuple<PoolCase, int>> &info) {
      return std::string(std::get<0>(info.param).name) + "_" +
             std::to_string(std::get<1>(info.param)) + "threads";
    });

TEST_F(Kernels, AddOfOneToNineOperands) {
  for (int threads : {1, 2}) {
    useCores(threads);
    for (int count : {1, 2, 3, 9}) {
      View out = slice(2, 3, 4, 5);
      std::vector<View> ins;
      for (int k = 0; k < count; ++k)
        ins.push_back(slice(2, 3, 4, 5, k % 3));
      std::vector<float> kept = outside(out);
      add(ctx, 0, "add", out, count, ins.data());
      expectSynced();
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t i = 0; i < 20; ++i) {
            double sum = 0;
            for (View v : ins)
              sum += ref::at(v, n, c, i / 5, i % 5);
            ASSERT_NEAR(ref::at(out, n, c, i / 5, i % 5), sum, 1e-5)
                << count << " operands";
          }
      EXPECT_EQ(outside(out), kept);
    }
  }
}

// The output may be any operand (the API allows it), or several.
TEST_F(Kernels, AddIntoItsOwnOperands) {
  for (int threads : {1, 2}) {
    useCores(threads);
    View a = slice(2, 3, 4, 5), b = slice(2, 3, 4, 5, 1),
         c = slice(2, 3, 4, 5, 0);
    auto sum = [&](std::initializer_list<View> vs) {
      std::vector<double> s;
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 60; ++i) {
          double acc = 0;
          for (View v : vs)
            acc += v.data[n * v.batchStride + i];
          s.push_back(acc);
        }
      return s;
    };
    // c = a + b + c: the output is operand 2.
    std::vector<double> want = sum({a, b, c});
    addN(ctx, 0, "add_into_2", c, a, b, c);
    expectSynced();
    EXPECT_LT(ref::maxError(c, want), 1e-6);
    // b = a + b + c + b: the output is operands 1 and 3.
    want = sum({a, b, c, b});
    addN(ctx, 0, "add_into_1_3", b, a, b, c, b);
    expectSynced();
    EXPECT_LT(ref::maxError(b, want), 1e-6);
    // a = a + a + a.
    want = sum({a, a, a});
    addN(ctx, 0, "add_thrice", a, a, a, a);
    expectSynced();
    EXPECT_LT(ref::maxError(a, want), 1e-6);
  }
}

TEST_F(Kernels, InPlaceElementwise) {
  for (int threads : {1, 2}) {
    useCores(threads);
    View a = slice(2, 4, 3, 3), b = slice(2, 4, 3, 3);
    std::vector<float> a0(a.data, a.data + a.batchStride * 2);
    // a = a + b, then a = a * b, then a = tanh(a), all in place.
    addN(ctx, 0, "add", a, a, b);
    mul(ctx, 0, "mul", a, b, a);
    activation(ctx, 0, "tanh", a, a, ActTanh);
    expectSynced();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 36; ++i) {
        float x = a0[size_t(n * a.batchStride + i)];
        float y = b.data[n * b.batchStride + i];
        EXPECT_NEAR(a.data[n * a.batchStride + i], std::tanh((x + y) * y), 1e-6);
      }
  }
}

TEST_F(Kernels, ActivationsCopyAndMulOnStridedViews) {
  for (int threads : {1, 2}) {
    useCores(threads);
    View in = slice(2, 3, 5, 4);
    for (Act act : {ActNone, ActRelu, ActSigmoid, ActTanh}) {
      View out = slice(2, 3, 5, 4, 1);
      std::vector<float> kept = outside(out);
      activation(ctx, 0, "act", in, out, act);
      expectSynced();
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 60; ++i)
          ASSERT_NEAR(out.data[n * out.batchStride + i],
                      ref::act(in.data[n * in.batchStride + i], act), 1e-6);
      EXPECT_EQ(outside(out), kept);
    }
    View b = slice(2, 3, 5, 4, 0), prod = slice(2, 3, 5, 4, 3),
         copied = slice(2, 3, 5, 4, 1);
    mul(ctx, 0, "mul", in, b, prod);
    expectSynced();
    std::vector<float> kept = outside(copied);
    copy(ctx, 0, "copy", in, copied);
    expectSynced();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 60; ++i) {
        float x = in.data[n * in.batchStride + i];
        EXPECT_FLOAT_EQ(prod.data[n * prod.batchStride + i],
                        x * b.data[n * b.batchStride + i]);
        EXPECT_EQ(copied.data[n * copied.batchStride + i], x);
      }
    EXPECT_EQ(outside(copied), kept);
  }
}

TEST_F(Kernels, LinearOnStridedRows) {
  for (int threads : {1, 2}) {
    useCores(threads);
    for (bool withBias : {true, false}) {
      View in = slice(3, 37, 1, 1, 4), out = slice(3, 11, 1, 1, 2);
      std::vector<float> w = random(11 * 37), b = random(11);
      std::vector<float> kept = outside(out);
      linear(ctx, 0, "fc", in, out, w.data(), withBias ? b.data() : nullptr);
      expectSynced();
      for (int64_t n = 0; n < 3; ++n)
        for (int64_t m = 0; m < 11; ++m) {
          double acc = withBias ? b[m] : 0;
          for (int64_t k = 0; k < 37; ++k)
            acc += double(w[m * 37 + k]) * ref::at(in, n, k, 0, 0);
          EXPECT_NEAR(ref::at(out, n, m, 0, 0), acc, 1e-5);
        }
      EXPECT_EQ(outside(out), kept);
    }
  }
}

TEST_F(Kernels, SoftmaxIsStableStridedAndInPlace) {
  for (int threads : {1, 2}) {
    useCores(threads);
    View in = slice(2, 10, 1, 1, 3), out = slice(2, 10, 1, 1, 1);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t f = 0; f < 10; ++f)
        ref::at(in, n, f, 0, 0) = 1000.0f + float(f) * (n ? -1 : 1);
    std::vector<float> kept = outside(out);
    softmax(ctx, 0, "softmax", in, out);
    expectSynced();
    EXPECT_EQ(outside(out), kept);
    softmax(ctx, 0, "softmax_in_place", in, in);
    expectSynced();
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
  }
}

TEST_F(Kernels, BadOpsFailWithTheirNameAndTouchNothing) {
  View in = slice(1, 4, 6, 6), out = slice(1, 8, 6, 6);
  std::vector<float> w = random(8 * 4 * 9), before(base, base + next);
  struct Case {
    std::string expect;
    std::function<void()> launch;
  } cases[] = {
      {"conv_a: conv2d: output 1x8x6x6 (batch stride 432) does not match the "
       "input 1x4x6x6 (batch stride 288) (expected 1x8x4x4)",
       [&] {
         conv2d(ctx, 0, "conv_a", in, out, w.data(), nullptr, 3, 3, 1, 1, 0,
                0, 1, 1, 1, ActNone);
       }},
      {"conv_b: conv2d: group count 3 does not divide",
       [&] {
         conv2d(ctx, 0, "conv_b", in, out, w.data(), nullptr, 3, 3, 1, 1, 1,
                1, 1, 1, 3, ActNone);
       }},
      {"conv_c: conv2d: missing weight",
       [&] {
         conv2d(ctx, 0, "conv_c", in, out, nullptr, nullptr, 3, 3, 1, 1, 1, 1,
                1, 1, 1, ActNone);
       }},
      {"conv_d: conv2d: the output overlaps the input",
       [&] {
         View o = view(in.data + 10, 0, 1, 8, 6, 6);
         conv2d(ctx, 0, "conv_d", in, o, w.data(), nullptr, 3, 3, 1, 1, 1, 1,
                1, 1, 1, ActNone);
       }},
      {"conv_e: conv2d: output 1x8x6x6 at arena offset 2097000 ends past the "
       "arena of 2097152 floats",
       [&] {
         View o = view(base, kArena - 152, 1, 8, 6, 6);
         conv2d(ctx, 0, "conv_e", in, o, w.data(), nullptr, 3, 3, 1, 1, 1, 1,
                1, 1, 1, ActNone);
       }},
      {"pool_a: pool2d: output 1x4x6x6 (batch stride 288) does not match",
       [&] {
         pool2d(ctx, 0, "pool_a", in, in, PoolMax, 3, 3, 2, 2, 0, 0);
       }},
      {"copy_a: copy: operand 0 partially overlaps the output",
       [&] {
         View shifted = in;
         shifted.data += 36; // one channel on
         copy(ctx, 0, "copy_a", in, shifted);
       }},
      {"copy_b: copy: operand 0 partially overlaps the output",
       [&] {
         View shifted = in;
         shifted.data += 1;
         copy(ctx, 0, "copy_b", in, shifted);
       }},
      {"act_a: activation: output is a null view",
       [&] {
         activation(ctx, 0, "act_a", in, View{nullptr, 1, 4, 6, 6, 144},
                    ActRelu);
       }},
      {"add_a: add: no operands", [&] { add(ctx, 0, "add_a", in, 0, &in); }},
      {"fc_a: linear: output 2x3x1x1 does not match the input",
       [&] {
         linear(ctx, 0, "fc_a", in, view(base, next, 2, 3, 1, 1), w.data(),
                nullptr);
       }},
      {"sm_a: softmax: no stream 3 (the context has 1)",
       [&] { softmax(ctx, 3, "sm_a", in, in); }},
  };
  for (const Case &c : cases) {
    c.launch();
    std::string e = failure();
    EXPECT_EQ(e.substr(0, c.expect.size()), c.expect);
    // Reported once: the next synchronize is clean again.
    EXPECT_TRUE(synchronize(ctx)) << c.expect;
  }
  EXPECT_EQ(std::vector<float>(base, base + next), before);
}

TEST_F(Kernels, FirstFailureIsKept) {
  View a = slice(1, 2, 2, 2), b = slice(1, 3, 2, 2);
  copy(ctx, 0, "first", a, b);
  copy(ctx, 0, "ok", a, a);
  copy(ctx, 0, "second", b, a);
  EXPECT_FALSE(synchronize(ctx));
  EXPECT_EQ(std::string(lastError(ctx)).rfind("first: copy:", 0), 0u)
      << lastError(ctx);
}

} // namespace
