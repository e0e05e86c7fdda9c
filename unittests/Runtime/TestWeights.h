//===- TestWeights.h - Weight files and data for runtime tests -*- C++ -*-===//
//
// Shared by the runtime tests of both backends.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_UNITTESTS_RUNTIME_TESTWEIGHTS_H
#define IOS_UNITTESTS_RUNTIME_TESTWEIGHTS_H

#include <cstdint>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

namespace ios::rt::test {

/// `n` floats uniform in [-1, 1), reproducibly from `seed`.
inline std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// A safetensors file of F32 tensors in the test's temporary directory;
/// returns its path.
inline std::string writeWeights(const std::vector<Tensor> &tensors,
                                const std::string &tag) {
  std::string header = "{";
  size_t offset = 0;
  for (const Tensor &t : tensors) {
    std::string shape;
    for (size_t k = 0; k < t.shape.size(); ++k)
      shape += (k ? "," : "") + std::to_string(t.shape[k]);
    size_t bytes = t.data.size() * 4;
    header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name +
              "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  std::string path = ::testing::TempDir() + "ios_rt_stream_" + tag +
                     ".safetensors";
  std::ofstream os(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    os.put(char((n >> (8 * i)) & 0xff));
  os << header;
  for (const Tensor &t : tensors)
    os.write(reinterpret_cast<const char *>(t.data.data()),
             std::streamsize(t.data.size() * 4));
  return path;
}

} // namespace ios::rt::test

#endif // IOS_UNITTESTS_RUNTIME_TESTWEIGHTS_H
