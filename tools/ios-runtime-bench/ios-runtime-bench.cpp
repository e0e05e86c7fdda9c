//===- ios-runtime-bench.cpp - Convolution speed of the CPU runtime -------===//
//
// Prints a table: time and GFLOP/s of representative convolutions (Inception
// and NasNet shapes) on the CPU backend, one stream, median of --runs.
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
#include <random>
#include <vector>

namespace {

struct Case {
  const char *name;
  int64_t cin, cout, h, w, k, stride, pad, groups;
};

} // namespace

/// Prints the milliseconds loadWeights takes to read `path`.
static int timeLoadWeights(const char *path) {
  const char *error = nullptr;
  ios::rt::Context *ctx = ios::rt::createContext(1, 0, 0, &error);
  if (!ctx) {
    std::fprintf(stderr, "ios-runtime-bench: %s\n", error);
    return 1;
  }
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
  const Case cases[] = {
      {"3x3 conv 288->384, 35x35, stride 1", 288, 384, 35, 35, 3, 1, 1, 1},
      {"3x3 conv 288->384, 35x35, stride 2", 288, 384, 35, 35, 3, 2, 0, 1},
      {"1x1 conv 768->192, 17x17", 768, 192, 17, 17, 1, 1, 0, 1},
      {"3x3 conv 32->64, 147x147", 32, 64, 147, 147, 3, 1, 1, 1},
      {"depthwise 5x5, 168 ch, 42x42", 168, 168, 42, 42, 5, 1, 2, 168},
      {"depthwise 7x7, 336 ch, 42x42, stride 2", 336, 336, 42, 42, 7, 2, 3,
       336},
  };
  std::printf("%-42s %10s %10s\n", "convolution (batch 1, CPU backend)",
              "ms", "GFLOP/s");
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (const Case &c : cases) {
    int64_t oh = (c.h + 2 * c.pad - c.k) / c.stride + 1;
    int64_t ow = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    int64_t in = c.cin * c.h * c.w, out = c.cout * oh * ow;
    const char *error = nullptr;
    ios::rt::Context *ctx =
        ios::rt::createContext(1, 0, in + out, &error);
    if (!ctx) {
      std::fprintf(stderr, "ios-runtime-bench: %s\n", error);
      return 1;
    }
    float *a = ios::rt::arena(ctx);
    for (int64_t i = 0; i < in; ++i)
      a[i] = dist(rng);
    std::vector<float> w(size_t(c.cout * (c.cin / c.groups) * c.k * c.k));
    std::vector<float> b(size_t(c.cout));
    for (float &x : w)
      x = dist(rng) * 0.05f;
    ios::rt::View vin = ios::rt::view(a, 0, 1, c.cin, c.h, c.w);
    ios::rt::View vout = ios::rt::view(a, in, 1, c.cout, oh, ow);
    std::vector<double> ms;
    for (int r = 0; r < runs + 1; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      ios::rt::conv2d(ctx, 0, c.name, vin, vout, w.data(), b.data(), c.k, c.k,
                      c.stride, c.stride, c.pad, c.pad, 1, 1, c.groups,
                      ios::rt::ActRelu);
      if (!ios::rt::synchronize(ctx)) {
        std::fprintf(stderr, "ios-runtime-bench: %s\n",
                     ios::rt::lastError(ctx));
        return 1;
      }
      if (r > 0) // the first run warms up
        ms.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    double flops = 2.0 * double(out) * double(c.cin / c.groups) * c.k * c.k;
    std::printf("%-42s %10.2f %10.1f\n", c.name, median,
                flops / (median * 1e6));
    ios::rt::destroyContext(ctx);
  }
  return 0;
}
