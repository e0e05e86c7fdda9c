//===- Main.cpp - The main() of emitted IOS programs ----------------------===//
//
// Written against the runtime API only, so it serves both backends: the CPU
// program the tests run and the CUDA program a GPU runs.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "Safetensors.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

int usage(const char *prog) {
  std::fprintf(stderr,
               "usage: %s WEIGHTS.safetensors [--input IN.safetensors] "
               "[--output OUT.safetensors] [--runs N] [--warmup N] "
               "[--seed S]\n",
               prog);
  return 2;
}

/// Reads tensor "input" of a safetensors file (on the host: no device
/// needed, whichever backend the program links).
bool readInput(const char *path, std::vector<float> &input) {
  std::map<std::string, ios::rt::detail::HostTensor> tensors;
  std::string error;
  if (!ios::rt::detail::readSafetensors(path, tensors, error)) {
    std::fprintf(stderr, "ios: input: %s\n", error.c_str());
    return false;
  }
  auto it = tensors.find("input");
  if (it == tensors.end()) {
    std::fprintf(stderr, "ios: input '%s' has no tensor \"input\"\n", path);
    return false;
  }
  if (it->second.data.size() != input.size()) {
    std::fprintf(stderr,
                 "ios: input '%s': tensor \"input\" has %zu values, the "
                 "program expects %zu\n",
                 path, it->second.data.size(), input.size());
    return false;
  }
  input = std::move(it->second.data);
  return true;
}

/// Writes one F32 tensor named "output" (shape: a flat vector) as
/// safetensors.
bool writeOutput(const char *path, const std::vector<float> &output) {
  std::string header = "{\"output\":{\"dtype\":\"F32\",\"shape\":[" +
                       std::to_string(output.size()) +
                       "],\"data_offsets\":[0," +
                       std::to_string(output.size() * sizeof(float)) + "]}}";
  while (header.size() % 8)
    header += ' ';
  std::ofstream os(path, std::ios::binary);
  uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = (n >> (8 * i)) & 0xff;
  os.write(reinterpret_cast<const char *>(len), 8);
  os.write(header.data(), header.size());
  os.write(reinterpret_cast<const char *>(output.data()),
           output.size() * sizeof(float));
  return bool(os);
}

} // namespace

int ios::rt::runMain(int argc, char **argv, const char *name,
                     void *(*create)(const char *),
                     int32_t (*run)(void *, const float *, float *),
                     void (*destroy)(void *), int64_t inputElements,
                     int64_t outputElements) {
  if (argc < 2)
    return usage(argv[0]);
  const char *weights = argv[1], *inputPath = nullptr, *outputPath = nullptr;
  int runs = 10, warmup = 2;
  unsigned seed = 0;
  for (int i = 2; i < argc; ++i) {
    auto next = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    const char *value = nullptr;
    if (!std::strcmp(argv[i], "--input") && (value = next()))
      inputPath = value;
    else if (!std::strcmp(argv[i], "--output") && (value = next()))
      outputPath = value;
    else if (!std::strcmp(argv[i], "--runs") && (value = next()))
      runs = std::max(1, std::atoi(value));
    else if (!std::strcmp(argv[i], "--warmup") && (value = next()))
      warmup = std::max(0, std::atoi(value));
    else if (!std::strcmp(argv[i], "--seed") && (value = next()))
      seed = unsigned(std::strtoul(value, nullptr, 10));
    else
      return usage(argv[0]);
  }

  std::vector<float> input(inputElements), output(outputElements);
  if (inputPath) {
    if (!readInput(inputPath, input))
      return 1;
  } else {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float &x : input)
      x = dist(rng);
  }

  void *model = create(weights);
  if (!model)
    return 1; // create() printed why
  auto failed = [&](int i) {
    std::fprintf(stderr, "ios: %s: inference %d failed\n", name, i);
    destroy(model);
    return 1;
  };
  for (int i = 0; i < warmup; ++i)
    if (!run(model, input.data(), output.data()))
      return failed(i);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!run(model, input.data(), output.data()))
      return failed(warmup + i);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  destroy(model);
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (float x : output)
    sum += x;
  std::printf("%s: %d runs, median %.3f ms, min %.3f ms, max %.3f ms; "
              "output %lld values, sum %.6g\n",
              name, runs, sorted[sorted.size() / 2], sorted.front(),
              sorted.back(), static_cast<long long>(outputElements), sum);
  if (outputPath && !writeOutput(outputPath, output)) {
    std::fprintf(stderr, "ios: cannot write '%s'\n", outputPath);
    return 1;
  }
  return 0;
}
