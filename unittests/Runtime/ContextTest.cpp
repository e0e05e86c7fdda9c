//===- ContextTest.cpp - streams, events, weights, packing ----------------===//

#include "ios/Runtime/Runtime.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

using namespace ios::rt;

namespace {

/// Writes a safetensors file of F32 tensors (name, shape, data).
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};
std::string writeSafetensors(const std::vector<TensorSpec> &tensors,
                             const std::string &tag,
                             const std::string &headerOverride = "") {
  std::string header = "{";
  size_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorSpec &t = tensors[i];
    std::string shape;
    for (size_t k = 0; k < t.shape.size(); ++k)
      shape += (k ? "," : "") + std::to_string(t.shape[k]);
    size_t bytes = t.data.size() * sizeof(float);
    header += (i ? "," : "") + std::string("\"") + t.name +
              "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += ",\"__metadata__\":{\"model\":\"test\"}}";
  if (!headerOverride.empty())
    header = headerOverride;
  std::string path = ::testing::TempDir() + "ios_rt_" + tag + ".safetensors";
  std::ofstream os(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    os.put(char((n >> (8 * i)) & 0xff));
  os << header;
  for (const TensorSpec &t : tensors)
    os.write(reinterpret_cast<const char *>(t.data.data()),
             t.data.size() * sizeof(float));
  return path;
}

TEST(Context, LoadsWeightsAndChecksSizes) {
  std::string path = writeSafetensors(
      {{"w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {2}, {7, 8}}}, "ok");
  Context *ctx = createContext(1, 0, 16, nullptr);
  ASSERT_TRUE(loadWeights(ctx, path.c_str())) << lastError(ctx);
  float *w = weight(ctx, "w", 6);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w[5], 6);
  EXPECT_EQ(weight(ctx, "w", 5), nullptr);
  EXPECT_NE(std::string(lastError(ctx)).find("'w' has 6 values, expected 5"),
            std::string::npos);
  EXPECT_EQ(weight(ctx, "missing", 1), nullptr);
  destroyContext(ctx);
}

TEST(Context, RejectsBrokenWeightFiles) {
  struct Case {
    std::string tag, header, expect;
  } cases[] = {
      {"dtype",
       "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
       "only F32"},
      {"range",
       "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4000]}}",
       "outside"},
      {"size",
       "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
       "8 bytes for 3 F32 values"},
      {"json", "{\"w\": [", "bad header"},
  };
  for (const Case &c : cases) {
    std::string path = writeSafetensors({{"w", {2}, {1, 2}}}, c.tag, c.header);
    Context *ctx = createContext(1, 0, 16, nullptr);
    EXPECT_FALSE(loadWeights(ctx, path.c_str())) << c.tag;
    EXPECT_NE(std::string(lastError(ctx)).find(c.expect), std::string::npos)
        << c.tag << ": " << lastError(ctx);
    destroyContext(ctx);
  }
  Context *ctx = createContext(1, 0, 16, nullptr);
  EXPECT_FALSE(loadWeights(ctx, "/nonexistent/w.safetensors"));
  EXPECT_NE(std::string(lastError(ctx)).find("cannot open"), std::string::npos);
  destroyContext(ctx);
}

TEST(Context, PacksMergedConvWeightsCentred) {
  // A 1x1 conv (2 out) and a 3x3 conv (1 out) over 1 input channel.
  std::string path = writeSafetensors(
      {{"a.w", {2, 1, 1, 1}, {10, 20}},
       {"b.w", {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
       {"a.b", {2}, {1, 2}},
       {"b.b", {1}, {3}}},
      "pack");
  Context *ctx = createContext(1, 0, 16, nullptr);
  ASSERT_TRUE(loadWeights(ctx, path.c_str()));
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 3, 1, 3, 3, "a.w", 0, 2, 1, 1));
  ASSERT_TRUE(packConvWeight(ctx, "m.w", 3, 1, 3, 3, "b.w", 2, 1, 3, 3));
  ASSERT_TRUE(packBias(ctx, "m.b", 3, "a.b", 0, 2));
  ASSERT_TRUE(packBias(ctx, "m.b", 3, "b.b", 2, 1));
  float *m = weight(ctx, "m.w", 27);
  ASSERT_NE(m, nullptr);
  std::vector<float> expected = {0, 0,  0, 0, 10, 0, 0, 0, 0,  // a, out 0
                                 0, 0,  0, 0, 20, 0, 0, 0, 0,  // a, out 1
                                 1, 2,  3, 4, 5,  6, 7, 8, 9}; // b
  EXPECT_EQ(std::vector<float>(m, m + 27), expected);
  float *b = weight(ctx, "m.b", 3);
  EXPECT_EQ(std::vector<float>(b, b + 3), (std::vector<float>{1, 2, 3}));
  EXPECT_FALSE(packConvWeight(ctx, "m.w", 3, 1, 3, 3, "b.w", 2, 1, 2, 2));
  destroyContext(ctx);
}

TEST(Context, EventsOrderWorkAcrossStreams) {
  // Stream 1 produces after a delay; stream 0 must wait for it through an
  // event before consuming. Without the wait the consumer would read zeros.
  Context *ctx = createContext(2, 2, 64, nullptr);
  float *a = arena(ctx);
  View src = view(a, 0, 1, 1, 4, 4), mid = view(a, 16, 1, 1, 4, 4),
       dst = view(a, 32, 1, 1, 4, 4);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 16; ++i)
      a[i] = float(round * 100 + i);
    record(ctx, 0, 0);
    wait(ctx, 1, 0);
    copy(ctx, 1, "produce", src, mid);
    record(ctx, 1, 1);
    wait(ctx, 0, 1);
    activation(ctx, 0, "consume", mid, dst, ActRelu);
    ASSERT_TRUE(synchronize(ctx)) << lastError(ctx);
    for (int i = 0; i < 16; ++i)
      ASSERT_EQ(a[32 + i], float(round * 100 + i));
  }
  destroyContext(ctx);
}

TEST(Context, WaitsReferToTheLatestRecordIssued) {
  // A wait issued before any record of its event does not block; later
  // waits block until the record issued before them completes.
  Context *ctx = createContext(2, 2, 16, nullptr);
  wait(ctx, 0, 1); // generation 0: already complete
  record(ctx, 0, 0);
  wait(ctx, 1, 0);
  record(ctx, 1, 1);
  wait(ctx, 0, 1);
  EXPECT_TRUE(synchronize(ctx));
  destroyContext(ctx);
}

TEST(Context, BadArgumentsFail) {
  const char *error = nullptr;
  EXPECT_EQ(createContext(0, 0, 0, &error), nullptr);
  EXPECT_NE(std::string(error).find("at least one stream"), std::string::npos);
  Context *ctx = createContext(1, 1, 16, nullptr);
  record(ctx, 5, 0);
  EXPECT_FALSE(synchronize(ctx));
  EXPECT_NE(std::string(lastError(ctx)).find("record: no event 5"),
            std::string::npos);
  destroyContext(ctx);
}

} // namespace

namespace {

TEST(Context, PrepareConv2dChecksAtLoad) {
  Context *ctx = createContext(2, 1, 1024, nullptr);
  float *a = arena(ctx);
  View in = view(a, 0, 1, 4, 8, 8), out = view(a, 256, 1, 6, 8, 8);
  EXPECT_TRUE(prepareConv2d(ctx, 1, "ok", in, out, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                            ActRelu, true))
      << lastError(ctx);
  // 8x8 with a 3x3 window and no padding is 6x6, not 8x8.
  EXPECT_FALSE(prepareConv2d(ctx, 0, "shape", in, out, 3, 3, 1, 1, 0, 0, 1,
                             1, 1, ActRelu, true));
  EXPECT_NE(std::string(lastError(ctx)).find("shape: conv2d:"),
            std::string::npos)
      << lastError(ctx);
  EXPECT_FALSE(prepareConv2d(ctx, 7, "stream", in, out, 3, 3, 1, 1, 1, 1, 1,
                             1, 1, ActRelu, true));
  EXPECT_NE(std::string(lastError(ctx)).find("no stream 7"), std::string::npos)
      << lastError(ctx);
  destroyContext(ctx);
}

} // namespace
