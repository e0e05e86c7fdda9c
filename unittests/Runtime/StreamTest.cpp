//===- StreamTest.cpp - Streams, events, bindings, profiles, cores ---------===//
//
// Programs written the way the compiler emits them: kernels prepared on
// their streams at load, then inferences of upload / launch / record / wait /
// stage / finishRun.
//
//===----------------------------------------------------------------------===//

#include "CPUContext.h"
#include "Reference.h"
#include "TestWeights.h"
#include "ios/Runtime/Runtime.h"

#include <chrono>
#include <cstdlib>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::test;

namespace {

/// A slow producer: a 3x3 conv of 48 -> 48 channels on 48x48 (~40 MFLOP)
/// with weights `tag`.w / `tag`.b.
struct Producer {
  static constexpr int64_t C = 48, H = 48, size = C * H * H;
  std::string w, b;
  std::vector<float> wv, bv;
  Producer(CPUContext &t, const std::string &tag, unsigned seed)
      : w(tag + ".w"), b(tag + ".b"), wv(randomVector(C * C * 9, seed)),
        bv(randomVector(C, seed + 1)) {
    t.weight(w.c_str(), wv);
    t.weight(b.c_str(), bv);
  }
  int32_t prepare(CPUContext &t, int32_t stream, View in, View out) const {
    return t.ready(prepareConv2d(t.ctx, stream, "producer", in, out,
                                 w.c_str(), b.c_str(), 3, 3, 1, 1, 1, 1, 1, 1,
                                 1, ActRelu));
  }
  std::vector<double> expected(View in) const {
    return ref::conv(in, C, wv.data(), bv.data(), 3, 3, 1, 1, 1, 1, 1, 1, 1,
                     ActRelu);
  }
  static View at(Context *ctx, int64_t k) {
    return view(ctx, k * size, 1, C, H, H, size);
  }
};

/// A dense host tensor seen as a view (for the reference).
View hostView(std::vector<float> &x, int64_t c, int64_t h) {
  return ios::rt::view(x.data(), 0, 1, c, h, h);
}

TEST(Streams, ConsumerWaitsForProducerOnAnotherStream) {
  CPUContext t(0, 2, 1, 3 * Producer::size);
  View in = Producer::at(t.ctx, 0), mid = Producer::at(t.ctx, 1),
       out = Producer::at(t.ctx, 2);
  Producer p(t, "p", 1);
  int32_t produce = p.prepare(t, 1, in, mid);
  int32_t consume =
      t.ready(prepareCopy(t.ctx, 0, "consumer", mid, out));
  ASSERT_TRUE(bindInput(t.ctx, 0, in) && bindOutput(t.ctx, 0, out));
  for (unsigned round = 0; round < 4; ++round) {
    // A new input each round: a stale result fails.
    std::vector<float> x = randomVector(Producer::size, 100 + round);
    std::vector<float> got(Producer::size);
    const float *inputs[] = {x.data()};
    float *outputs[] = {got.data()};
    upload(t.ctx, inputs);
    launch(t.ctx, produce);
    record(t.ctx, 0, 1);
    wait(t.ctx, 0, 0);
    launch(t.ctx, consume);
    ASSERT_EQ(finishRun(t.ctx, outputs), 1) << lastError(t.ctx);
    std::vector<double> want =
        p.expected(hostView(x, Producer::C, Producer::H));
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-4) << "round " << round << " at " << i;
  }
}

TEST(Streams, AWaitRefersToTheLatestRecordIssuedBeforeIt) {
  // Event 0 is recorded twice on stream 1, after two slow producers; each
  // wait on stream 0 must see the producer recorded just before it.
  CPUContext t(0, 2, 1, 5 * Producer::size);
  auto at = [&](int64_t k) { return Producer::at(t.ctx, k); };
  View x = at(0);
  for (int64_t i = 0; i < Producer::size; ++i)
    x.data[i] = t.dist(t.rng);
  Producer first(t, "first", 1), second(t, "second", 2);
  int32_t k1 = first.prepare(t, 1, at(0), at(1));
  int32_t c1 = t.ready(prepareCopy(t.ctx, 0, "copy_first", at(1), at(2)));
  int32_t k2 = second.prepare(t, 1, at(0), at(3));
  int32_t c2 = t.ready(prepareCopy(t.ctx, 0, "copy_second", at(3), at(4)));
  upload(t.ctx, nullptr);
  launch(t.ctx, k1);
  record(t.ctx, 0, 1);
  wait(t.ctx, 0, 0);
  launch(t.ctx, c1);
  launch(t.ctx, k2);
  record(t.ctx, 0, 1);
  wait(t.ctx, 0, 0);
  launch(t.ctx, c2);
  ASSERT_EQ(finishRun(t.ctx, nullptr), 1) << lastError(t.ctx);
  // 432-term float sums in oneDNN's blocked order: ~1e-5 of rounding.
  EXPECT_LT(ref::maxError(at(2), first.expected(at(0))), 4e-5);
  EXPECT_LT(ref::maxError(at(4), second.expected(at(0))), 4e-5);
}

TEST(Streams, WaitOnANeverRecordedEventDoesNotBlock) {
  CPUContext t(0, 2, 2, 16);
  auto t0 = std::chrono::steady_clock::now();
  upload(t.ctx, nullptr);
  wait(t.ctx, 0, 1);
  wait(t.ctx, 1, 0);
  EXPECT_EQ(finishRun(t.ctx, nullptr), 1) << lastError(t.ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

/// The emitted programs' pattern: stages fork from stream 0 and join back
/// with the same events every stage and every inference; the result matches
/// a one-stream run of the same ops, and the profile has every kernel and
/// stage.
class ForkJoin {
public:
  static constexpr int64_t C = 8, H = 12, size = C * H * H;
  static constexpr int kGroups = 3, kStages = 4;

  /// Stage s: group g computes t[g] = relu(conv_{s,g}(x)) on stream g (or
  /// 0); then stream 0 sums them into x (the next stage's input).
  explicit ForkJoin(int32_t streams)
      : t(0, streams, streams, size * (1 + kGroups)), streams(streams) {
    View x = view(t.ctx, 0, 1, C, H, H, size);
    std::vector<View> parts;
    for (int g = 0; g < kGroups; ++g)
      parts.push_back(view(t.ctx, size * (1 + g), 1, C, H, H, size));
    t.weight("bias", randomVector(C, 99));
    for (int s = 0; s < kStages; ++s) {
      for (int g = 0; g < kGroups; ++g) {
        std::string w = "w" + std::to_string(s) + "_" + std::to_string(g);
        t.weight(w.c_str(), randomVector(C * C * 9, unsigned(10 + s * 3 + g)));
        convs.push_back(t.ready(prepareConv2d(
            t.ctx, stream(g), ("conv" + std::to_string(g)).c_str(), x,
            parts[size_t(g)], w.c_str(), "bias", 3, 3, 1, 1, 1, 1, 1, 1, 1,
            ActRelu)));
      }
      sums.push_back(t.ready(prepareAdd(t.ctx, 0, "sum", x, kGroups,
                                        parts.data())));
    }
    EXPECT_TRUE(bindInput(t.ctx, 0, x) && bindOutput(t.ctx, 0, x));
  }
  int32_t stream(int g) const { return streams == 1 ? 0 : g; }

  std::vector<float> run(const std::vector<float> &x0) {
    std::vector<float> out(size);
    const float *inputs[] = {x0.data()};
    float *outputs[] = {out.data()};
    upload(t.ctx, inputs);
    for (int s = 0; s < kStages; ++s) {
      stage(t.ctx, s);
      for (int g = 0; g < kGroups; ++g) {
        if (stream(g)) {
          record(t.ctx, 0, 0);
          wait(t.ctx, stream(g), 0);
        }
        launch(t.ctx, convs[size_t(s * kGroups + g)]);
        if (stream(g)) {
          record(t.ctx, stream(g), stream(g));
          wait(t.ctx, 0, stream(g));
        }
      }
      launch(t.ctx, sums[size_t(s)]);
    }
    EXPECT_EQ(finishRun(t.ctx, outputs), 1) << lastError(t.ctx);
    return out;
  }

  CPUContext t;
  int32_t streams;
  std::vector<int32_t> convs, sums;
};

TEST(Streams, ForkJoinStagesMatchOneStream) {
  ForkJoin one(1), many(ForkJoin::kGroups);
  for (unsigned inference = 0; inference < 5; ++inference) {
    std::vector<float> x0 = randomVector(ForkJoin::size, 1000 + inference);
    std::vector<float> want = one.run(x0), got = many.run(x0);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-4 * std::max(1.0f, std::fabs(want[i])))
          << "inference " << inference << " at " << i;
  }
}

TEST(Streams, ProfileHasEveryKernelAndStage) {
  ForkJoin f(ForkJoin::kGroups);
  std::vector<float> x0 = randomVector(ForkJoin::size, 5);
  f.run(x0);
  EXPECT_EQ(profile(f.t.ctx, nullptr), 0) << "profiling is off by default";
  setProfiling(f.t.ctx, true);
  for (int inference = 0; inference < 2; ++inference) {
    f.run(x0);
    const ProfileEntry *entries = nullptr;
    int32_t count = profile(f.t.ctx, &entries);
    ASSERT_EQ(count, ForkJoin::kStages * (ForkJoin::kGroups + 1) +
                         ForkJoin::kStages);
    std::vector<int> launched(size_t(count), 0);
    int stages = 0;
    double lastStageStart = -1;
    for (int32_t i = 0; i < count; ++i) {
      const ProfileEntry &e = entries[i];
      EXPECT_LE(0.0, e.startMs);
      EXPECT_LE(e.startMs, e.endMs);
      if (e.kernel < 0) {
        // Stages come last, in order, on stream 0.
        EXPECT_EQ(std::string(e.layer), "stage " + std::to_string(stages));
        EXPECT_EQ(e.stream, 0);
        EXPECT_GE(e.startMs, lastStageStart);
        lastStageStart = e.startMs;
        ++stages;
        continue;
      }
      EXPECT_EQ(stages, 0) << "a kernel after the stages";
      ASSERT_LT(e.kernel, count);
      ++launched[size_t(e.kernel)];
      bool isSum = std::string(e.layer) == "sum";
      EXPECT_EQ(e.stream, isSum ? 0 : std::string(e.layer).back() - '0')
          << e.layer;
    }
    EXPECT_EQ(stages, ForkJoin::kStages);
    for (int32_t k : f.convs)
      EXPECT_EQ(launched[size_t(k)], 1) << "kernel " << k;
    for (int32_t k : f.sums)
      EXPECT_EQ(launched[size_t(k)], 1) << "kernel " << k;
  }
  setProfiling(f.t.ctx, false);
  f.run(x0);
  EXPECT_EQ(profile(f.t.ctx, nullptr), 0);
}

TEST(Streams, DestroyWithQueuedWorkFinishesIt) {
  Context *ctx = createContext(2, 1, 3 * Producer::size);
  std::vector<float> w = randomVector(Producer::C * Producer::C * 9, 3);
  addWeight(ctx, "w", w.data(), int64_t(w.size()));
  std::vector<int32_t> kernels;
  for (int i = 0; i < 3; ++i)
    kernels.push_back(prepareConv2d(
        ctx, i % 2, "producer", Producer::at(ctx, 0),
        Producer::at(ctx, 1 + i % 2), "w", nullptr, 3, 3, 1, 1, 1, 1, 1, 1,
        1, ActNone));
  ASSERT_TRUE(ok(ctx)) << lastError(ctx);
  upload(ctx, nullptr);
  for (int32_t k : kernels)
    launch(ctx, k);
  destroyContext(ctx); // joins the workers; must neither hang nor crash
}

/// Several inputs and outputs, bound to strided views: copied in before the
/// first kernel and out after the last, image by image.
TEST(Bindings, SeveralStridedInputsAndOutputs) {
  CPUContext t(0, 1, 0, 4096);
  View a = t.slice(2, 3, 2, 2, 1), b = t.slice(2, 3, 2, 2, 2);
  View sum = t.slice(2, 3, 2, 2, 1), prod = t.tensor(2, 3, 2, 2);
  int32_t add = t.ready(prepareAddN(t.ctx, 0, "add", sum, a, b));
  int32_t mul = t.ready(prepareMul(t.ctx, 0, "mul", a, b, prod));
  ASSERT_TRUE(bindInput(t.ctx, 1, b) && bindInput(t.ctx, 0, a) &&
              bindOutput(t.ctx, 0, sum) && bindOutput(t.ctx, 1, prod))
      << lastError(t.ctx);
  for (int inference = 0; inference < 2; ++inference) {
    std::vector<float> x = t.random(24), y = t.random(24);
    std::vector<float> s(24, -7.0f), p(24, -7.0f);
    const float *inputs[] = {x.data(), y.data()};
    float *outputs[] = {s.data(), p.data()};
    upload(t.ctx, inputs);
    launch(t.ctx, add);
    launch(t.ctx, mul);
    ASSERT_EQ(finishRun(t.ctx, outputs), 1) << lastError(t.ctx);
    for (size_t i = 0; i < 24; ++i) {
      EXPECT_FLOAT_EQ(s[i], x[i] + y[i]) << i;
      EXPECT_FLOAT_EQ(p[i], x[i] * y[i]) << i;
    }
  }
}

TEST(Bindings, BadBindingsFailAtLoad) {
  struct Case {
    const char *expect;
    bool (*bind)(Context *, View);
  } cases[] = {
      {"bindInput -1: negative index",
       [](Context *ctx, View v) { return bindInput(ctx, -1, v); }},
      {"bindOutput 0: the view is a null view",
       [](Context *ctx, View) {
         return bindOutput(ctx, 0, View{nullptr, 1, 1, 1, 1, 1});
       }},
      {"bindInput 0: the view 1x1x2x2 is not in the arena",
       [](Context *ctx, View) {
         static float outside[4];
         return bindInput(ctx, 0, ios::rt::view(outside, 0, 1, 1, 2, 2));
       }},
  };
  for (const Case &c : cases) {
    CPUContext t(0, 1, 0, 64);
    EXPECT_FALSE(c.bind(t.ctx, t.tensor(1, 1, 2, 2)));
    EXPECT_EQ(std::string(lastError(t.ctx)), c.expect);
  }
  // A view past the arena is refused where it is made.
  CPUContext t(0, 1, 0, 64);
  View v = view(t.ctx, 60, 1, 1, 2, 4, 8);
  EXPECT_EQ(v.data, nullptr);
  EXPECT_EQ(std::string(lastError(t.ctx)),
            "view 1x1x2x4 (batch stride 8) at offset 60 is outside the arena "
            "of 64 floats");
  EXPECT_FALSE(bindInput(t.ctx, 0, v));
}

/// A bad run call fails that inference with a message; the next upload()
/// starts clean.
TEST(Bindings, BadRunCallsFailTheInference) {
  struct Case {
    const char *expect;
    void (*calls)(Context *, int32_t kernel);
    bool withInput;
  } cases[] = {
      {"upload: no data for input 0",
       [](Context *ctx, int32_t k) { launch(ctx, k); }, false},
      {"launch: no kernel 5 (the context has 1)",
       [](Context *ctx, int32_t) { launch(ctx, 5); }, true},
      {"record: no event 3 or no stream 0",
       [](Context *ctx, int32_t) { record(ctx, 3, 0); }, true},
      {"wait: no event 0 or no stream 2",
       [](Context *ctx, int32_t) { wait(ctx, 2, 0); }, true},
  };
  for (const Case &c : cases) {
    CPUContext t(0, 2, 1, 64);
    View in = t.tensor(1, 2, 2, 2), out = t.tensor(1, 2, 2, 2);
    int32_t k = t.ready(prepareActivation(t.ctx, 0, "relu", in, out, ActRelu));
    ASSERT_TRUE(bindInput(t.ctx, 0, in) && bindOutput(t.ctx, 0, out));
    std::vector<float> x = t.random(8), y(8);
    const float *inputs[] = {x.data()};
    float *outputs[] = {y.data()};
    upload(t.ctx, c.withInput ? inputs : nullptr);
    c.calls(t.ctx, k);
    EXPECT_EQ(finishRun(t.ctx, outputs), 0) << c.expect;
    EXPECT_EQ(std::string(lastError(t.ctx)), c.expect);
    EXPECT_TRUE(ok(t.ctx)) << "a run error is not a load error";
    // The next inference is clean.
    upload(t.ctx, inputs);
    launch(t.ctx, k);
    EXPECT_EQ(finishRun(t.ctx, outputs), 1) << lastError(t.ctx);
    EXPECT_EQ(std::string(lastError(t.ctx)), "");
    EXPECT_EQ(y[0], std::max(x[0], 0.0f));
  }
  // An output without a buffer.
  CPUContext t(0, 1, 0, 64);
  ASSERT_TRUE(bindOutput(t.ctx, 0, t.tensor(1, 1, 2, 2)));
  upload(t.ctx, nullptr);
  EXPECT_EQ(finishRun(t.ctx, nullptr), 0);
  EXPECT_EQ(std::string(lastError(t.ctx)),
            "finishRun: no buffer for output 0");
}

/// A context with 2 streams on `cores` cores, sharing them or not, and
/// Producers on both streams: a two-group stage.
struct TwoGroups {
  TwoGroups(int cores, bool share)
      : t(sharing(cores, share), 2, 2, 5 * Producer::size), p(t, "p", 3) {
    unsetenv("IOS_CPU_SHARE");
    View in = Producer::at(t.ctx, 0);
    for (int i = 0; i < 2; ++i) {
      first.push_back(p.prepare(t, 0, in, Producer::at(t.ctx, 1 + i)));
      second.push_back(p.prepare(t, 1, in, Producer::at(t.ctx, 3 + i)));
    }
  }
  /// `cores`, with IOS_CPU_SHARE=0 set for the context's creation unless
  /// `share`.
  static int sharing(int cores, bool share) {
    if (!share)
      setenv("IOS_CPU_SHARE", "0", 1);
    return cores;
  }
  /// Both streams run slow convolutions at the same time (three
  /// inferences); returns the most threads that ran at once.
  int32_t peak() {
    for (int round = 0; round < 3; ++round) {
      upload(t.ctx, nullptr);
      record(t.ctx, 0, 0);
      wait(t.ctx, 1, 0);
      for (int i = 0; i < 4; ++i) {
        launch(t.ctx, first[size_t(i % 2)]);
        launch(t.ctx, second[size_t(i % 2)]);
      }
      record(t.ctx, 1, 1);
      wait(t.ctx, 0, 1);
      EXPECT_EQ(finishRun(t.ctx, nullptr), 1) << lastError(t.ctx);
    }
    return cpuPeakThreads(t.ctx, true);
  }
  CPUContext t;
  Producer p;
  std::vector<int32_t> first, second;
};

TEST(Cores, OneStreamUsesEveryCore) {
  TwoGroups g(4, true);
  EXPECT_EQ(cpuCores(g.t.ctx), 4);
  cpuPeakThreads(g.t.ctx, true);
  ASSERT_TRUE(g.t.run({g.second[0], g.second[0], g.second[0]}))
      << lastError(g.t.ctx);
  EXPECT_EQ(cpuPeakThreads(g.t.ctx, true), 4);
  EXPECT_LT(ref::maxError(Producer::at(g.t.ctx, 3),
                          g.p.expected(Producer::at(g.t.ctx, 0))),
            4e-5);
}

TEST(Cores, ConcurrentGroupsShareTheCores) {
  // Shared: the two streams' ops never run on more than the 4 cores
  // together. Not shared (the baseline): each op takes all 4.
  TwoGroups shared(4, true);
  int32_t peak = shared.peak();
  EXPECT_LE(peak, 4);
  EXPECT_GE(peak, 2);
  TwoGroups unshared(4, false);
  EXPECT_GT(unshared.peak(), 4);
}

} // namespace
