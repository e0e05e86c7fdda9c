//===- CPUContext.h - A CPU runtime context for tests -----------*- C++ -*-===//
//
// Views are carved from the context's arena one after the other (host
// memory on the CPU backend: tests write inputs and read outputs in place),
// weights are added by name, kernels prepared, then run as one inference
// (upload, launches, finishRun).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_UNITTESTS_RUNTIME_CPUCONTEXT_H
#define IOS_UNITTESTS_RUNTIME_CPUCONTEXT_H

#include "ios/Runtime/Runtime.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace ios::rt::test {

class CPUContext {
public:
  /// `cores` > 0: the kernels run on that many threads, small ones too
  /// (IOS_CPU_CORES, IOS_CPU_SMALL_OPS=all); 0: the defaults.
  explicit CPUContext(int cores = 0, int32_t streams = 1, int32_t events = 1,
                      int64_t floats = int64_t(1) << 21)
      : floats(floats) {
    if (cores) {
      setenv("IOS_CPU_CORES", std::to_string(cores).c_str(), 1);
      setenv("IOS_CPU_SMALL_OPS", "all", 1);
    }
    ctx = createContext(streams, events, floats);
    unsetenv("IOS_CPU_CORES");
    unsetenv("IOS_CPU_SMALL_OPS");
    EXPECT_TRUE(ok(ctx)) << lastError(ctx);
    EXPECT_TRUE(!cores || cpuCores(ctx) == cores);
    base = view(ctx, 0, 1, floats, 1, 1, floats).data;
  }
  ~CPUContext() { destroyContext(ctx); }
  CPUContext(const CPUContext &) = delete;
  CPUContext &operator=(const CPUContext &) = delete;

  /// Channels [pad, pad + c) of a fresh random n x (c + 2 pad) x h x w
  /// tensor (a strided view when pad > 0).
  View slice(int64_t n, int64_t c, int64_t h, int64_t w, int64_t pad = 2) {
    int64_t image = (c + 2 * pad) * h * w;
    View whole = view(ctx, next, n, c + 2 * pad, h, w, image);
    EXPECT_TRUE(ok(ctx)) << lastError(ctx);
    next += n * image;
    for (int64_t i = 0; i < n * image; ++i)
      whole.data[i] = dist(rng);
    return channels(whole, pad, pad + c);
  }
  /// A fresh random whole tensor.
  View tensor(int64_t n, int64_t c, int64_t h, int64_t w) {
    return slice(n, c, h, w, 0);
  }
  std::vector<float> random(int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float &x : v)
      x = dist(rng);
    return v;
  }
  /// Adds weight `name`; returns the name (for prepare calls).
  const char *weight(const char *name, const std::vector<float> &values) {
    EXPECT_TRUE(addWeight(ctx, name, values.data(), int64_t(values.size())))
        << lastError(ctx);
    return name;
  }

  /// One inference of `kernels` in order; false (lastError says why) if
  /// it failed.
  bool run(std::initializer_list<int32_t> kernels) {
    upload(ctx, nullptr);
    for (int32_t k : kernels)
      launch(ctx, k);
    return finishRun(ctx, nullptr) == 1;
  }
  /// Prepared `id` (>= 0), else the load error is the test's failure.
  int32_t ready(int32_t id) {
    EXPECT_GE(id, 0) << lastError(ctx);
    return id;
  }

  /// The arena's floats used so far outside `v` (which must stay
  /// untouched when a kernel writes `v`).
  std::vector<float> outside(View v) const {
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

  Context *ctx = nullptr;
  float *base = nullptr; ///< the arena (host memory)
  int64_t floats;
  int64_t next = 0;
  std::mt19937 rng{7};
  std::uniform_real_distribution<float> dist{-1.0f, 1.0f};
};

} // namespace ios::rt::test

#endif // IOS_UNITTESTS_RUNTIME_CPUCONTEXT_H
