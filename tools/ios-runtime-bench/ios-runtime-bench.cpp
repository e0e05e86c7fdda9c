//===- ios-runtime-bench.cpp - Speed and threading of the CPU runtime -----===//
//
// Prints three tables for the CPU backend (oneDNN), minimum and median of
// --runs after one warm-up run:
//
//  1. convolutions (Inception, NasNet and SqueezeNet shapes) on 1 thread and
//     on all cores: ms and GFLOP/s;
//  2. memory bandwidth: a 64 MiB copy, 1 thread and all cores;
//  3. a stage of two concurrent groups (two streams, fork/join), with the
//     cores shared between the streams (the runtime's policy) and without
//     (IOS_CPU_SHARE=0: every op takes all cores), beside the same ops on one
//     stream: latency, the most threads that ran at once, the process's
//     threads and its involuntary context switches per inference.
//
// `--load-weights FILE` instead times loadWeights of one safetensors file
// (python3 -m ios.bench.safetensors prints the table).
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace ios;

namespace {

struct Case {
  const char *name;
  int64_t n, cin, cout, h, w, k, stride, pad, groups;
};

struct Stats {
  double min, median;
};

/// Runs `once` (which returns false on failure) runs + 1 times.
bool timeIt(int runs, const std::function<bool()> &once, Stats &s) {
  std::vector<double> ms;
  for (int r = 0; r < runs + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!once())
      return false;
    if (r > 0) // the first run warms up
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
  }
  std::sort(ms.begin(), ms.end());
  s = {ms.front(), ms[ms.size() / 2]};
  return true;
}

/// A context whose ops run on `cores` threads (0: the machine's), with core
/// sharing on or off.
rt::Context *makeContext(int cores, bool share, int32_t streams,
                         int32_t events, int64_t floats) {
  if (cores)
    setenv("IOS_CPU_CORES", std::to_string(cores).c_str(), 1);
  if (!share)
    setenv("IOS_CPU_SHARE", "0", 1);
  rt::Context *ctx = rt::createContext(streams, events, floats);
  unsetenv("IOS_CPU_CORES");
  unsetenv("IOS_CPU_SHARE");
  return ctx;
}

/// The end of a context's load (finishCreate): null, with the message
/// printed, if a load call failed.
rt::Context *loaded(rt::Context *ctx) {
  if (rt::finishCreate(ctx))
    return ctx;
  std::fprintf(stderr, "ios-runtime-bench: %s\n", rt::lastError(nullptr));
  return nullptr;
}

/// One inference: `body` launches (and orders) the prepared kernels.
bool infer(rt::Context *ctx, const std::function<void()> &body) {
  rt::upload(ctx, nullptr);
  body();
  if (rt::finishRun(ctx, nullptr))
    return true;
  std::fprintf(stderr, "ios-runtime-bench: %s\n", rt::lastError(ctx));
  return false;
}

/// The arena's data (host memory on the CPU backend), to fill inputs.
float *arenaData(rt::Context *ctx, int64_t floats) {
  return rt::view(ctx, 0, 1, floats, 1, 1, floats).data;
}

int processThreads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::atoi(line.c_str() + 8);
  return -1;
}

long involuntarySwitches() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_nivcsw;
}

std::mt19937 rng(0);

void fill(float *p, int64_t n, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < n; ++i)
    p[i] = dist(rng);
}

} // namespace

/// Prints the milliseconds loadWeights takes to read `path`.
static int timeLoadWeights(const char *path) {
  ios::rt::Context *ctx = ios::rt::createContext(1, 0, 0);
  auto t0 = std::chrono::steady_clock::now();
  bool ok = ios::rt::loadWeights(ctx, path);
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
  if (!ok)
    std::fprintf(stderr, "ios-runtime-bench: %s\n", ios::rt::lastError(ctx));
  else
    std::printf("%.3f\n", ms);
  ios::rt::destroyContext(ctx);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  int runs = 5;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--runs"))
      runs = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--load-weights"))
      return timeLoadWeights(argv[i + 1]);
  rt::Context *probe = loaded(makeContext(0, true, 1, 0, 1));
  if (!probe)
    return 1;
  const int cores = rt::cpuCores(probe);
  rt::destroyContext(probe);

  const Case cases[] = {
      {"3x3 288->384, 35x35, stride 1", 1, 288, 384, 35, 35, 3, 1, 1, 1},
      {"3x3 288->384, 35x35, stride 2", 1, 288, 384, 35, 35, 3, 2, 0, 1},
      {"1x1 768->192, 17x17", 1, 768, 192, 17, 17, 1, 1, 0, 1},
      {"1x1 768->192, 17x17, batch 8", 8, 768, 192, 17, 17, 1, 1, 0, 1},
      {"3x3 32->64, 147x147", 1, 32, 64, 147, 147, 3, 1, 1, 1},
      {"1x1 64->16, 55x55 (SqueezeNet)", 1, 64, 16, 55, 55, 1, 1, 0, 1},
      {"3x3 16->64, 55x55 (SqueezeNet)", 1, 16, 64, 55, 55, 3, 1, 1, 1},
      {"depthwise 5x5, 168 ch, 42x42", 1, 168, 168, 42, 42, 5, 1, 2, 168},
      {"depthwise 7x7, 336 ch, 42x42, s2", 1, 336, 336, 42, 42, 7, 2, 3, 336},
  };
  std::printf("convolution (CPU backend, ms / GFLOP/s)  %9s %9s %9s %9s\n",
              "1 thread", "GFLOP/s", (std::to_string(cores) + " thr").c_str(),
              "GFLOP/s");
  for (const Case &c : cases) {
    int64_t oh = (c.h + 2 * c.pad - c.k) / c.stride + 1;
    int64_t ow = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    int64_t in = c.n * c.cin * c.h * c.w, out = c.n * c.cout * oh * ow;
    std::vector<float> w(size_t(c.cout * (c.cin / c.groups) * c.k * c.k));
    std::vector<float> b(size_t(c.cout));
    fill(w.data(), int64_t(w.size()), 0.05f);
    double flops = 2.0 * double(out) * double(c.cin / c.groups) * c.k * c.k;
    std::printf("%-40s", c.name);
    for (int threads : {1, cores}) {
      rt::Context *ctx = makeContext(threads, true, 1, 0, in + out);
      rt::addWeight(ctx, "w", w.data(), int64_t(w.size()));
      rt::addWeight(ctx, "b", b.data(), int64_t(b.size()));
      int32_t conv = rt::prepareConv2d(
          ctx, 0, c.name, rt::view(ctx, 0, c.n, c.cin, c.h, c.w, in / c.n),
          rt::view(ctx, in, c.n, c.cout, oh, ow, out / c.n), "w", "b", c.k,
          c.k, c.stride, c.stride, c.pad, c.pad, 1, 1, c.groups, rt::ActRelu);
      if (!loaded(ctx))
        return 1;
      fill(arenaData(ctx, in), in, 1.0f);
      Stats s;
      if (!timeIt(runs, [&] {
            return infer(ctx, [&] { rt::launch(ctx, conv); });
          }, s))
        return 1;
      std::printf(" %9.3f %9.1f", s.min, flops / (s.min * 1e6));
      rt::destroyContext(ctx);
    }
    std::printf("\n");
  }

  // Bandwidth: read + write of a 64 MiB tensor.
  const int64_t floats = 16 << 20;
  std::printf("\nmemory bandwidth (64 MiB copy)           %9s %9s %9s %9s\n",
              "1 thread", "GB/s", (std::to_string(cores) + " thr").c_str(),
              "GB/s");
  std::printf("%-40s", "copy");
  for (int threads : {1, cores}) {
    rt::Context *ctx = makeContext(threads, true, 1, 0, 2 * floats);
    int32_t copy = rt::prepareCopy(
        ctx, 0, "copy", rt::view(ctx, 0, 1, floats, 1, 1, floats),
        rt::view(ctx, floats, 1, floats, 1, 1, floats));
    if (!loaded(ctx))
      return 1;
    fill(arenaData(ctx, floats), floats, 1.0f);
    Stats s;
    if (!timeIt(runs, [&] {
          return infer(ctx, [&] { rt::launch(ctx, copy); });
        }, s))
      return 1;
    std::printf(" %9.3f %9.1f", s.min, 2.0 * floats * 4 / (s.min * 1e6));
    rt::destroyContext(ctx);
  }
  std::printf("\n");

  // Two groups of two 3x3 convolutions (192 -> 192 channels, 35x35).
  const int64_t C = 192, H = 35, T = C * H * H;
  std::vector<float> w(static_cast<size_t>(C * C * 9)), b(static_cast<size_t>(C));
  fill(w.data(), int64_t(w.size()), 0.02f);
  std::printf("\ntwo-group stage (2 x two 3x3 192->192 convs, 35x35, batch 1)"
              "\n%-28s %9s %9s %12s %9s %14s\n",
              "", "min ms", "median", "peak thr", "threads",
              "invol. cs/inf");
  struct Mode {
    const char *name;
    int32_t streams;
    bool share;
  } modes[] = {{"one stream", 1, true},
               {"two streams, shared cores", 2, true},
               {"two streams, no sharing", 2, false}};
  for (const Mode &m : modes) {
    rt::Context *ctx = makeContext(0, m.share, m.streams, 2, 5 * T);
    rt::addWeight(ctx, "w", w.data(), int64_t(w.size()));
    rt::addWeight(ctx, "b", b.data(), int64_t(b.size()));
    auto at = [&](int64_t k) { return rt::view(ctx, k * T, 1, C, H, H, T); };
    int32_t s1 = m.streams - 1;
    auto conv = [&](int32_t stream, const char *name, int64_t from,
                    int64_t to) {
      return rt::prepareConv2d(ctx, stream, name, at(from), at(to), "w", "b",
                               3, 3, 1, 1, 1, 1, 1, 1, 1, rt::ActRelu);
    };
    int32_t a1 = conv(0, "a1", 0, 1), b1 = conv(s1, "b1", 0, 2),
            a2 = conv(0, "a2", 1, 3), b2 = conv(s1, "b2", 2, 4);
    if (!loaded(ctx))
      return 1;
    fill(arenaData(ctx, T), T, 1.0f);
    auto stage = [&] {
      return infer(ctx, [&] {
        if (s1) {
          rt::record(ctx, 0, 0);
          rt::wait(ctx, s1, 0);
        }
        for (int32_t k : {a1, b1, a2, b2})
          rt::launch(ctx, k);
        if (s1) {
          rt::record(ctx, 1, s1);
          rt::wait(ctx, 0, 1);
        }
      });
    };
    if (!stage()) // a first inference: the threads start
      return 1;
    rt::cpuPeakThreads(ctx, true);
    long cs0 = involuntarySwitches();
    Stats s;
    if (!timeIt(runs, stage, s))
      return 1;
    long cs = involuntarySwitches() - cs0;
    std::printf("%-28s %9.3f %9.3f %7d of %2d %9d %14.1f\n", m.name, s.min,
                s.median, rt::cpuPeakThreads(ctx, false), cores,
                processThreads(), double(cs) / (runs + 1));
    rt::destroyContext(ctx);
  }
  return 0;
}
