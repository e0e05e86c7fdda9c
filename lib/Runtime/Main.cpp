//===- Main.cpp - The main() of emitted IOS programs ----------------------===//
//
// Written against the runtime API only, so it serves both backends: the CPU
// program the tests run and the CUDA program a GPU runs. The handle
// create() returns is the program's context (finishCreate's result), so
// --profile can turn the runtime's profiling on.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "Safetensors.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

void printUsage(std::FILE *to, const char *prog) {
  std::fprintf(to,
               "usage: %s WEIGHTS.safetensors [--input IN.safetensors] "
               "[--output OUT.safetensors]\n"
               "       [--warmup N] [--runs N] [--seed S] [--profile]\n"
               "  --input FILE   the inputs: tensors \"input\", \"input1\", "
               "... (default: seeded uniform [-1, 1))\n"
               "  --output FILE  writes the outputs (\"output\", "
               "\"output1\", ...) with their shapes\n"
               "  --warmup N     untimed inferences first (default 2)\n"
               "  --runs N       timed inferences (default 10)\n"
               "  --seed S       the seed of the default inputs (default 0)\n"
               "  --profile      per-stage and per-kernel median times of "
               "the timed inferences\n",
               prog);
}

/// A tensor of the program: its shape as written to files.
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Reads the inputs from a safetensors file (on the host: no device
/// needed, whichever backend the program links).
bool readInputs(const char *path, const std::vector<Tensor> &inputs,
                std::vector<std::vector<float>> &data) {
  std::map<std::string, ios::rt::detail::HostTensor> tensors;
  std::string error;
  if (!ios::rt::detail::readSafetensors(path, tensors, error)) {
    std::fprintf(stderr, "ios: input: %s\n", error.c_str());
    return false;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor &t = inputs[i];
    auto it = tensors.find(t.name);
    if (it == tensors.end()) {
      std::fprintf(stderr, "ios: input '%s' has no tensor \"%s\"\n", path,
                   t.name.c_str());
      return false;
    }
    if (int64_t(it->second.data.size()) != t.elements()) {
      std::fprintf(stderr,
                   "ios: input '%s': tensor \"%s\" has %zu values (shape "
                   "%s), the program expects %" PRId64 " (shape %s)\n",
                   path, t.name.c_str(), it->second.data.size(),
                   shapeString(it->second.shape).c_str(), t.elements(),
                   shapeString(t.shape).c_str());
      return false;
    }
    data[i] = std::move(it->second.data);
  }
  return true;
}

/// Writes F32 tensors as safetensors, each with its shape.
bool writeOutputs(const char *path, const std::vector<Tensor> &outputs,
                  const std::vector<std::vector<float>> &data) {
  std::string header = "{";
  size_t offset = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string shape;
    for (size_t k = 0; k < outputs[i].shape.size(); ++k)
      shape += (k ? "," : "") + std::to_string(outputs[i].shape[k]);
    size_t bytes = data[i].size() * sizeof(float);
    header += (i ? "," : "") + std::string("\"") + outputs[i].name +
              "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  while (header.size() % 8)
    header += ' ';
  std::ofstream os(path, std::ios::binary);
  uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = (n >> (8 * i)) & 0xff;
  os.write(reinterpret_cast<const char *>(len), 8);
  os.write(header.data(), std::streamsize(header.size()));
  for (const std::vector<float> &d : data)
    os.write(reinterpret_cast<const char *>(d.data()),
             std::streamsize(d.size() * sizeof(float)));
  return bool(os);
}

/// The value at quantile `q` of sorted `v` (nearest rank).
double quantile(const std::vector<double> &v, double q) {
  size_t i = size_t(q * double(v.size()) + 0.999999);
  return v[std::min(v.size() - 1, i ? i - 1 : 0)];
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Parses a non-negative integer flag value; false if it is not one.
bool parseCount(const char *s, long long max, long long &out) {
  if (!s || !*s)
    return false;
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (*end || errno || v < 0 || v > max)
    return false;
  out = v;
  return true;
}

/// Per-stage and per-kernel median times over the profiled runs.
class Profile {
public:
  void add(ios::rt::Context *ctx) {
    const ios::rt::ProfileEntry *entries = nullptr;
    int32_t count = ios::rt::profile(ctx, &entries);
    for (int32_t i = 0; i < count; ++i) {
      const ios::rt::ProfileEntry &e = entries[i];
      std::string key = e.kernel < 0 ? std::string(e.layer)
                                     : "#" + std::to_string(e.kernel);
      auto [it, inserted] = rows.try_emplace(key);
      if (inserted) {
        it->second.label = e.layer;
        it->second.kernel = e.kernel;
        it->second.stream = e.stream;
        order.push_back(key);
      }
      it->second.ms.push_back(e.endMs - e.startMs);
    }
  }
  void print(const char *name) const {
    std::printf("%s: profile (median ms over the timed runs)\n", name);
    for (bool stages : {true, false}) {
      std::printf("  %-8s %-6s %10s  %s\n", stages ? "stage" : "kernel",
                  "stream", "ms", stages ? "" : "layer");
      for (const std::string &key : order) {
        const Row &r = rows.at(key);
        if ((r.kernel < 0) != stages)
          continue;
        std::printf("  %-8s %-6d %10.4f  %s\n",
                    stages ? r.label.substr(6).c_str()
                           : std::to_string(r.kernel).c_str(),
                    r.stream, median(r.ms), stages ? "" : r.label.c_str());
      }
    }
  }

private:
  struct Row {
    std::string label;
    int32_t kernel, stream;
    std::vector<double> ms;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
};

} // namespace

int ios::rt::runMain(int argc, char **argv, const char *name,
                     int32_t numInputs, int32_t numOutputs,
                     const int64_t *shapes, const int32_t *ranks,
                     void *(*create)(const char *),
                     int32_t (*run)(void *, const float *const *,
                                    float *const *),
                     void (*destroy)(void *)) {
  const char *prog = argc > 0 ? argv[0] : name;
  auto bad = [&](const std::string &why) {
    std::fprintf(stderr, "%s: %s\n", prog, why.c_str());
    printUsage(stderr, prog);
    return 2;
  };
  const char *weights = nullptr, *inputPath = nullptr, *outputPath = nullptr;
  long long runs = 10, warmup = 2, seed = 0;
  bool profiling = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      printUsage(stdout, prog);
      return 0;
    }
    if (flag == "--profile") {
      profiling = true;
      continue;
    }
    bool takesValue = flag == "--input" || flag == "--output" ||
                      flag == "--runs" || flag == "--warmup" ||
                      flag == "--seed";
    if (takesValue) {
      if (i + 1 >= argc)
        return bad(flag + " needs a value");
      const char *value = argv[++i];
      if (flag == "--input")
        inputPath = value;
      else if (flag == "--output")
        outputPath = value;
      else if (!parseCount(value, flag == "--seed" ? 4294967295LL : 1000000,
                           flag == "--runs"     ? runs
                           : flag == "--warmup" ? warmup
                                                : seed) ||
               (flag == "--runs" && runs < 1))
        return bad(flag + " takes " +
                   (flag == "--runs" ? "a positive" : "a non-negative") +
                   " integer, not '" + value + "'");
      continue;
    }
    if (flag.size() > 1 && flag[0] == '-')
      return bad("unknown option '" + flag + "'");
    if (weights)
      return bad("one weights file, not '" + flag + "' too");
    weights = argv[i];
  }
  if (!weights)
    return bad("no weights file");

  std::vector<Tensor> inputs, outputs;
  for (int32_t i = 0; i < numInputs + numOutputs; ++i) {
    bool isInput = i < numInputs;
    int32_t k = isInput ? i : i - numInputs;
    Tensor t{std::string(isInput ? "input" : "output") +
                 (k ? std::to_string(k) : ""),
             {shapes + 4 * i, shapes + 4 * i + (ranks[i] == 2 ? 2 : 4)}};
    (isInput ? inputs : outputs).push_back(t);
  }
  std::vector<std::vector<float>> inData(inputs.size()),
      outData(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    outData[i].resize(size_t(outputs[i].elements()));
  if (inputPath) {
    if (!readInputs(inputPath, inputs, inData))
      return 1;
  } else {
    std::mt19937 rng{static_cast<std::mt19937::result_type>(seed)};
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (size_t i = 0; i < inputs.size(); ++i) {
      inData[i].resize(size_t(inputs[i].elements()));
      for (float &x : inData[i])
        x = dist(rng);
    }
  }
  std::vector<const float *> in;
  std::vector<float *> out;
  for (auto &d : inData)
    in.push_back(d.data());
  for (auto &d : outData)
    out.push_back(d.data());

  void *model = create(weights);
  if (!model) {
    std::fprintf(stderr, "ios: %s: cannot load: %s\n", name,
                 lastError(nullptr));
    return 1;
  }
  auto *ctx = static_cast<Context *>(model);
  auto infer = [&](long long i) {
    if (run(model, in.data(), out.data()))
      return true;
    std::fprintf(stderr, "ios: %s: inference %lld failed: %s\n", name, i,
                 lastError(ctx));
    destroy(model);
    return false;
  };
  for (long long i = 0; i < warmup; ++i)
    if (!infer(i))
      return 1;
  if (profiling)
    setProfiling(ctx, true);
  Profile profile;
  std::vector<double> ms;
  for (long long i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!infer(warmup + i))
      return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
    if (profiling)
      profile.add(ctx);
  }
  destroy(model);
  std::sort(ms.begin(), ms.end());
  std::printf("%s: %lld runs, median %.3f ms, min %.3f ms, p90 %.3f ms, p99 "
              "%.3f ms, max %.3f ms\n",
              name, runs, ms[ms.size() / 2], ms.front(), quantile(ms, 0.9),
              quantile(ms, 0.99), ms.back());
  for (size_t i = 0; i < outputs.size(); ++i) {
    double sum = 0;
    for (float x : outData[i])
      sum += x;
    std::printf("%s: %s %s, sum %.6g\n", name, outputs[i].name.c_str(),
                shapeString(outputs[i].shape).c_str(), sum);
  }
  if (profiling)
    profile.print(name);
  if (outputPath && !writeOutputs(outputPath, outputs, outData)) {
    std::fprintf(stderr, "ios: cannot write '%s'\n", outputPath);
    return 1;
  }
  return 0;
}
