//===- StreamTest.cpp - Streams, events, errors, weights, packing ---------===//

#include "Reference.h"
#include "TestWeights.h"
#include "ios/Runtime/Runtime.h"

#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

/// A slow producer: a 3x3 conv of 48 -> 48 channels on 48x48 (~40 MFLOP).
struct Producer {
  static constexpr int64_t C = 48, H = 48, size = C * H * H;
  std::vector<float> w, b;
  explicit Producer(unsigned seed)
      : w(randomVector(C * C * 9, seed)), b(randomVector(C, seed + 1)) {}
  void enqueue(Context *ctx, int32_t stream, View in, View out) const {
    conv2d(ctx, stream, "producer", in, out, w.data(), b.data(), 3, 3, 1, 1, 1,
           1, 1, 1, 1, ActRelu);
  }
  std::vector<double> expected(View in) const {
    return ref::conv(in, C, w.data(), b.data(), 3, 3, 1, 1, 1, 1, 1, 1, 1,
                     ActRelu);
  }
};

TEST(Streams, ConsumerWaitsForProducerOnAnotherStream) {
  Context *ctx = createContext(2, 1, 3 * Producer::size, nullptr);
  ASSERT_NE(ctx, nullptr);
  float *a = arena(ctx);
  View in = view(a, 0, 1, Producer::C, Producer::H, Producer::H);
  View mid = view(a, Producer::size, 1, Producer::C, Producer::H, Producer::H);
  View out = view(a, 2 * Producer::size, 1, Producer::C, Producer::H,
                  Producer::H);
  for (unsigned round = 0; round < 4; ++round) {
    // A new input and new weights each round: a stale result fails.
    std::vector<float> x = randomVector(Producer::size, 100 + round);
    ASSERT_TRUE(upload(ctx, in.data, x.data(), Producer::size));
    Producer p(round);
    p.enqueue(ctx, 1, in, mid);
    record(ctx, 0, 1);
    wait(ctx, 0, 0);
    copy(ctx, 0, "consumer", mid, out);
    std::vector<float> got(Producer::size);
    ASSERT_TRUE(download(ctx, got.data(), out.data, Producer::size));
    ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
    std::vector<double> want = p.expected(in);
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-4) << "round " << round << " at " << i;
  }
  destroyContext(ctx);
}

TEST(Streams, AWaitRefersToTheLatestRecordIssuedBeforeIt) {
  // Event 0 is recorded twice on stream 1, after two slow producers; each
  // wait on stream 0 must see the producer recorded just before it.
  Context *ctx = createContext(2, 1, 5 * Producer::size, nullptr);
  float *a = arena(ctx);
  auto at = [&](int64_t k) {
    return view(a, k * Producer::size, 1, Producer::C, Producer::H,
                Producer::H);
  };
  std::vector<float> x = randomVector(Producer::size, 5);
  ASSERT_TRUE(upload(ctx, a, x.data(), Producer::size));
  Producer first(1), second(2);
  first.enqueue(ctx, 1, at(0), at(1));
  record(ctx, 0, 1);
  wait(ctx, 0, 0);
  copy(ctx, 0, "copy_first", at(1), at(2));
  second.enqueue(ctx, 1, at(0), at(3));
  record(ctx, 0, 1);
  wait(ctx, 0, 0);
  copy(ctx, 0, "copy_second", at(3), at(4));
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  // 432-term float sums in oneDNN's blocked order: ~1e-5 of rounding.
  EXPECT_LT(ref::maxError(at(2), first.expected(at(0))), 4e-5);
  EXPECT_LT(ref::maxError(at(4), second.expected(at(0))), 4e-5);
  destroyContext(ctx);
}

TEST(Streams, WaitOnANeverRecordedEventDoesNotBlock) {
  Context *ctx = createContext(2, 2, 16, nullptr);
  wait(ctx, 0, 1);
  wait(ctx, 1, 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(synchronize(ctx));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  destroyContext(ctx);
}

/// The emitted programs' pattern: stages fork from stream 0 and join back
/// with the same events every stage and every inference; the result matches
/// a one-stream run of the same ops.
TEST(Streams, ForkJoinStagesMatchOneStream) {
  constexpr int64_t C = 8, H = 12, size = C * H * H;
  constexpr int kGroups = 3, kStages = 4;
  std::vector<std::vector<float>> weights;
  for (int i = 0; i < kStages * kGroups; ++i)
    weights.push_back(randomVector(C * C * 9, 10 + i));
  std::vector<float> bias = randomVector(C, 99);
  // Stage s: group g computes t[g] = relu(conv_{s,g}(x)); then stream 0 sums
  // them into x (the next stage's input).
  auto program = [&](Context *ctx, int streams, const std::vector<float> &x0) {
    float *a = arena(ctx);
    View x = view(a, 0, 1, C, H, H);
    EXPECT_TRUE(upload(ctx, x.data, x0.data(), size));
    for (int s = 0; s < kStages; ++s) {
      std::vector<View> t;
      for (int g = 0; g < kGroups; ++g) {
        int32_t stream = streams == 1 ? 0 : g;
        if (stream) {
          record(ctx, 0, 0);
          wait(ctx, stream, 0);
        }
        t.push_back(view(a, size * (1 + g), 1, C, H, H));
        conv2d(ctx, stream, "conv", x, t.back(),
               weights[size_t(s * kGroups + g)].data(), bias.data(), 3, 3, 1,
               1, 1, 1, 1, 1, 1, ActRelu);
        if (stream) {
          record(ctx, stream, stream);
          wait(ctx, 0, stream);
        }
      }
      add(ctx, 0, "sum", x, kGroups, t.data());
    }
    std::vector<float> out(size);
    EXPECT_TRUE(download(ctx, out.data(), x.data, size));
    EXPECT_TRUE(synchronize(ctx)) << lastError(ctx);
    return out;
  };
  Context *one = createContext(1, 1, size * 4, nullptr);
  Context *many = createContext(kGroups, kGroups, size * 4, nullptr);
  for (unsigned inference = 0; inference < 5; ++inference) {
    std::vector<float> x0 = randomVector(size, 1000 + inference);
    std::vector<float> want = program(one, 1, x0);
    std::vector<float> got = program(many, kGroups, x0);
    ASSERT_EQ(got, want) << "inference " << inference;
  }
  destroyContext(one);
  destroyContext(many);
}

TEST(Streams, DestroyWithQueuedWorkFinishesIt) {
  Context *ctx = createContext(2, 1, 3 * Producer::size, nullptr);
  float *a = arena(ctx);
  Producer p(3);
  View in = view(a, 0, 1, Producer::C, Producer::H, Producer::H);
  for (int i = 0; i < 3; ++i)
    p.enqueue(ctx, i % 2, in,
              view(a, (1 + i % 2) * Producer::size, 1, Producer::C,
                   Producer::H, Producer::H));
  destroyContext(ctx); // joins the workers; must neither hang nor crash
}

TEST(Streams, UploadAndDownloadAreBoundsChecked) {
  Context *ctx = createContext(1, 0, 100, nullptr);
  std::vector<float> host(50, 1.0f);
  EXPECT_TRUE(upload(ctx, arena(ctx) + 50, host.data(), 50));
  EXPECT_FALSE(upload(ctx, arena(ctx) + 51, host.data(), 50));
  EXPECT_NE(std::string(lastError(ctx)).find("upload: the range"),
            std::string::npos)
      << lastError(ctx);
  EXPECT_FALSE(download(ctx, host.data(), arena(ctx) + 90, 11));
  EXPECT_NE(std::string(lastError(ctx)).find("download: the range"),
            std::string::npos);
  EXPECT_FALSE(upload(ctx, arena(ctx), nullptr, 1));
  destroyContext(ctx);
}

/// IOS's merge stage: a 1x1, a 3x3 and a 5x5 conv of one input become one
/// 5x5 conv over packed weights; its output channels equal the three convs'.
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
    tensors.push_back(
        {std::string(b.name) + ".b", {b.out}, randomVector(size_t(b.out), ++seed)});
  }
  std::string path = writeWeights(tensors, "merge");
  Context *ctx = createContext(1, 0, 1 << 14, nullptr);
  ASSERT_TRUE(loadWeights(ctx, path.c_str())) << lastError(ctx);
  int64_t offset = 0;
  for (const Branch &b : branches) {
    std::string w = std::string(b.name) + ".w", bias = std::string(b.name) + ".b";
    ASSERT_TRUE(packConvWeight(ctx, "m.w", 12, Cin, 5, 5, w.c_str(), offset,
                               b.out, b.k, b.k))
        << lastError(ctx);
    ASSERT_TRUE(packBias(ctx, "m.b", 12, bias.c_str(), offset, b.out))
        << lastError(ctx);
    offset += b.out;
  }
  float *a = arena(ctx);
  View in = view(a, 0, 1, Cin, H, H), merged = view(a, 1000, 1, 12, H, H);
  std::vector<float> x = randomVector(Cin * H * H, 77);
  std::copy(x.begin(), x.end(), in.data);
  conv2d(ctx, 0, "merged", in, merged, weight(ctx, "m.w", 12 * Cin * 25),
         weight(ctx, "m.b", 12), 5, 5, 1, 1, 2, 2, 1, 1, 1, ActRelu);
  View separate = view(a, 3000, 1, 12, H, H);
  offset = 0;
  for (const Branch &b : branches) {
    std::string w = std::string(b.name) + ".w", bias = std::string(b.name) + ".b";
    conv2d(ctx, 0, b.name, in, channels(separate, offset, offset + b.out),
           weight(ctx, w.c_str(), b.out * Cin * b.k * b.k),
           weight(ctx, bias.c_str(), b.out), b.k, b.k, 1, 1, b.k / 2, b.k / 2,
           1, 1, 1, ActRelu);
    offset += b.out;
  }
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  for (int64_t i = 0; i < 12 * H * H; ++i)
    ASSERT_NEAR(merged.data[i], separate.data[i], 1e-5) << i;
  // And the packing's errors.
  EXPECT_FALSE(packConvWeight(ctx, "m.w", 12, Cin, 5, 5, "b.w", 0, 5, 3, 2));
  EXPECT_NE(std::string(lastError(ctx)).find("does not fit"),
            std::string::npos);
  EXPECT_FALSE(packConvWeight(ctx, "m.w", 12, Cin, 5, 5, "b.w", 10, 5, 3, 3));
  EXPECT_FALSE(packConvWeight(ctx, "m.w", 13, Cin, 5, 5, "b.w", 0, 5, 3, 3));
  EXPECT_NE(std::string(lastError(ctx)).find("exists with 1800 values"),
            std::string::npos)
      << lastError(ctx);
  EXPECT_FALSE(packConvWeight(ctx, "x.w", 12, Cin, 5, 5, "b.w", 0, 4, 3, 3));
  EXPECT_NE(std::string(lastError(ctx)).find("'b.w' has 270 values"),
            std::string::npos)
      << lastError(ctx);
  EXPECT_FALSE(packBias(ctx, "m.b", 12, "c.b", 9, 4));
  EXPECT_FALSE(packBias(ctx, "x.b", 12, "missing.b", 0, 4));
  EXPECT_NE(std::string(lastError(ctx)).find("'missing.b' is not loaded"),
            std::string::npos)
      << lastError(ctx);
  destroyContext(ctx);
}

/// A weight of the wrong size, or missing: weight() says so at once, and the
/// inference fails with that message at the next synchronize, even where the
/// op given the null pointer would run (a conv without its bias).
TEST(Weights, MissingOrWrongSizedWeightFailsTheInference) {
  std::string path = writeWeights({{"conv.w", {4, 2, 3, 3}, randomVector(72, 1)},
                                   {"conv.b", {3}, randomVector(3, 2)}},
                                  "mismatch");
  Context *ctx = createContext(1, 0, 1024, nullptr);
  ASSERT_TRUE(loadWeights(ctx, path.c_str()));
  float *w = weight(ctx, "conv.w", 4 * 3 * 9);
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(std::string(lastError(ctx)),
            "weight 'conv.w' has 72 values, expected 108");
  float *a = arena(ctx);
  conv2d(ctx, 0, "Mixed_5b.conv", view(a, 0, 1, 3, 5, 5),
         view(a, 100, 1, 4, 5, 5), w, nullptr, 3, 3, 1, 1, 1, 1, 1, 1, 1,
         ActNone);
  EXPECT_FALSE(synchronize(ctx));
  EXPECT_EQ(std::string(lastError(ctx)),
            "weight 'conv.w' has 72 values, expected 108");
  EXPECT_TRUE(synchronize(ctx)); // reported once
  // A bias that is missing or has another size: not a conv without bias.
  for (auto [name, message] :
       {std::pair{"missing.b", "weight 'missing.b' is not loaded"},
        std::pair{"conv.b", "weight 'conv.b' has 3 values, expected 4"}}) {
    conv2d(ctx, 0, "conv", view(a, 0, 1, 2, 5, 5), view(a, 100, 1, 4, 5, 5),
           weight(ctx, "conv.w", 72), weight(ctx, name, 4), 3, 3, 1, 1, 1, 1,
           1, 1, 1, ActNone);
    EXPECT_FALSE(synchronize(ctx));
    EXPECT_EQ(std::string(lastError(ctx)), message);
  }
  destroyContext(ctx);
}

} // namespace

namespace {

/// A context with `streams` streams on `cores` cores, sharing or not.
Context *onCores(int cores, bool share, int32_t streams, int64_t floats) {
  setenv("IOS_CPU_CORES", std::to_string(cores).c_str(), 1);
  if (!share)
    setenv("IOS_CPU_SHARE", "0", 1);
  Context *ctx = createContext(streams, 2, floats, nullptr);
  unsetenv("IOS_CPU_CORES");
  unsetenv("IOS_CPU_SHARE");
  return ctx;
}

/// Both streams run slow convolutions at the same time (a two-group stage,
/// three times); returns the most threads that ran at once.
int32_t peakOfTwoGroups(Context *ctx) {
  float *a = arena(ctx);
  auto at = [&](int64_t k) {
    return view(a, k * Producer::size, 1, Producer::C, Producer::H,
                Producer::H);
  };
  Producer p(3);
  for (int round = 0; round < 3; ++round) {
    record(ctx, 0, 0);
    wait(ctx, 1, 0);
    for (int i = 0; i < 4; ++i) {
      p.enqueue(ctx, 0, at(0), at(1 + i % 2));
      p.enqueue(ctx, 1, at(0), at(3 + i % 2));
    }
    record(ctx, 1, 1);
    wait(ctx, 0, 1);
    EXPECT_TRUE(synchronize(ctx)) << lastError(ctx);
  }
  return cpuPeakThreads(ctx, true);
}

} // namespace

TEST(Cores, OneStreamUsesEveryCore) {
  Context *ctx = onCores(4, true, 2, 5 * Producer::size);
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(cpuCores(ctx), 4);
  Producer p(1);
  float *a = arena(ctx);
  View in = view(a, 0, 1, Producer::C, Producer::H, Producer::H),
       out = view(a, Producer::size, 1, Producer::C, Producer::H, Producer::H);
  for (int i = 0; i < 3; ++i)
    p.enqueue(ctx, 1, in, out);
  ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
  EXPECT_EQ(cpuPeakThreads(ctx, true), 4);
  EXPECT_LT(ref::maxError(out, p.expected(in)), 4e-5);
  destroyContext(ctx);
}

TEST(Cores, ConcurrentGroupsShareTheCores) {
  // Shared: the two streams' ops never run on more than the 4 cores
  // together. Not shared (the baseline): each op takes all 4.
  Context *shared = onCores(4, true, 2, 5 * Producer::size);
  ASSERT_NE(shared, nullptr);
  int32_t peak = peakOfTwoGroups(shared);
  EXPECT_LE(peak, 4);
  EXPECT_GE(peak, 2);
  destroyContext(shared);
  Context *unshared = onCores(4, false, 2, 5 * Producer::size);
  ASSERT_NE(unshared, nullptr);
  EXPECT_GT(peakOfTwoGroups(unshared), 4);
  destroyContext(unshared);
}

/// Weights the context owns are reordered once and cached; packing new
/// values into the same tensor (same pointer) must not reuse the stale copy.
TEST(Weights, RepackedWeightsAreNotStale) {
  constexpr int64_t C = 8, H = 7, size = C * H * H;
  std::vector<float> w1 = randomVector(C * C * 9, 1),
                     w2 = randomVector(C * C * 9, 2);
  std::string path =
      writeWeights({{"w1", {C, C, 3, 3}, w1}, {"w2", {C, C, 3, 3}, w2}},
                   "repack");
  Context *ctx = createContext(1, 0, 2 * size, nullptr);
  ASSERT_TRUE(loadWeights(ctx, path.c_str())) << lastError(ctx);
  float *a = arena(ctx);
  View in = view(a, 0, 1, C, H, H), out = view(a, size, 1, C, H, H);
  std::vector<float> x = randomVector(size, 9);
  std::copy(x.begin(), x.end(), in.data);
  const float *packed = nullptr;
  for (auto [source, w] : {std::pair{"w1", &w1}, std::pair{"w2", &w2}}) {
    ASSERT_TRUE(packConvWeight(ctx, "p", C, C, 3, 3, source, 0, C, 3, 3))
        << lastError(ctx);
    const float *p = weight(ctx, "p", C * C * 9);
    ASSERT_NE(p, nullptr);
    if (packed)
      ASSERT_EQ(p, packed) << "the packed tensor moved: the test needs it not to";
    packed = p;
    // The overload with the weight reorders it here, at load.
    ASSERT_TRUE(prepareConv2d(ctx, 0, "conv", in, out, p, nullptr, 3, 3, 1,
                              1, 1, 1, 1, 1, 1, ActNone))
        << lastError(ctx);
    conv2d(ctx, 0, "conv", in, out, p, nullptr, 3, 3, 1, 1, 1, 1, 1, 1, 1,
           ActNone);
    ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
    EXPECT_LT(ref::maxError(out, ref::conv(in, C, w->data(), nullptr, 3, 3, 1,
                                           1, 1, 1, 1, 1, 1, ActNone)),
              1e-5)
        << "weights " << source;
  }
  EXPECT_FALSE(prepareConv2d(ctx, 0, "conv_nw", in, out, nullptr, nullptr, 3,
                             3, 1, 1, 1, 1, 1, 1, 1, ActNone));
  EXPECT_EQ(std::string(lastError(ctx)), "conv_nw: conv2d: missing weight");
  destroyContext(ctx);
}
