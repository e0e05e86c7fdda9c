//===- SafetensorsTest.cpp - The runtime's safetensors reader -------------===//
//
// A real file written by the python side (`python3 -m ios.zoo sample
// --weights`) read back value for value, and hand-made broken files, each
// rejected with its own clear message.
//
//===----------------------------------------------------------------------===//

#include "Safetensors.h"
#include "ios/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

using namespace ios::rt;
using ios::rt::detail::HostTensor;
using ios::rt::detail::readSafetensors;

namespace {

std::string tempPath(const std::string &tag) {
  return ::testing::TempDir() + "ios_rt_st_" + tag + ".safetensors";
}

/// Writes the 8-byte size, `header` and `data` bytes.
std::string writeRaw(const std::string &tag, const std::string &header,
                     const std::string &data,
                     int64_t sizeOverride = -1) {
  std::string path = tempPath(tag);
  std::ofstream os(path, std::ios::binary);
  uint64_t n = sizeOverride >= 0 ? uint64_t(sizeOverride) : header.size();
  for (int i = 0; i < 8; ++i)
    os.put(char((n >> (8 * i)) & 0xff));
  os << header << data;
  return path;
}

std::string floats(std::initializer_list<float> values) {
  std::string bytes(values.size() * 4, '\0');
  size_t i = 0;
  for (float v : values)
    std::memcpy(&bytes[4 * i++], &v, 4);
  return bytes;
}

/// readSafetensors' error for a file (empty if it loads).
std::string errorOf(const std::string &path) {
  std::map<std::string, HostTensor> tensors;
  std::string error;
  if (readSafetensors(path, tensors, error))
    return {};
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(Safetensors, ReadsNamesShapesValuesAndMetadata) {
  // Escapes in names, metadata, empty shapes (scalars), padding spaces.
  std::string header =
      "{\"__metadata__\": {\"format\": \"pt\", \"note\": \"a\\\"b\"},"
      " \"w\\u00e9\": {\"dtype\": \"F32\", \"shape\": [2, 2],"
      " \"data_offsets\": [0, 16]},\n\"s\":{\"shape\":[],\"dtype\":\"F32\","
      "\"data_offsets\":[16,20]}, \"e\": {\"dtype\": \"F32\", \"shape\": [0, "
      "3], \"data_offsets\": [20, 20]}}   ";
  std::string path =
      writeRaw("good", header, floats({1.5f, -2.0f, 3.25f, 4.0f, 7.0f}));
  std::map<std::string, HostTensor> t;
  std::string error;
  ASSERT_TRUE(readSafetensors(path, t, error)) << error;
  ASSERT_EQ(t.size(), 3u);
  const HostTensor &w = t.at("w\xC3\xA9");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(w.data, (std::vector<float>{1.5f, -2.0f, 3.25f, 4.0f}));
  EXPECT_EQ(t.at("s").shape, std::vector<int64_t>{});
  EXPECT_EQ(t.at("s").data, std::vector<float>{7.0f});
  EXPECT_TRUE(t.at("e").data.empty());
}

TEST(Safetensors, EmptyHeaderIsNoTensors) {
  std::map<std::string, HostTensor> t;
  std::string error;
  EXPECT_TRUE(readSafetensors(writeRaw("empty", "{}", ""), t, error)) << error;
  EXPECT_TRUE(t.empty());
}

struct BadCase {
  const char *tag;
  std::string header, data;
  const char *expect;
};

TEST(Safetensors, RejectsBrokenFilesWithClearMessages) {
  const std::string two = floats({1, 2});
  auto tensor = [](const std::string &body) {
    return "{\"w\":{" + body + "}}";
  };
  const BadCase cases[] = {
      {"dtype", tensor(R"("dtype":"F16","shape":[2],"data_offsets":[0,4])"),
       two, "has dtype 'F16'; only F32 is supported"},
      {"range", tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,400])"),
       two, "outside the 8 data bytes"},
      {"reversed",
       tensor(R"("dtype":"F32","shape":[0],"data_offsets":[8,4])"), two,
       "outside"},
      {"count", tensor(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"),
       two, "has 8 bytes for 3 F32 values"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       two, "tensors 'a' and 'b' overlap"},
      {"nooffsets", tensor(R"("dtype":"F32","shape":[2])"), two,
       "lacks \"data_offsets\""},
      {"noshape", tensor(R"("dtype":"F32","data_offsets":[0,8])"), two,
       "lacks \"shape\""},
      {"unknownkey",
       tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1)"), two,
       "unexpected key 'x'"},
      {"dupkey",
       R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
       R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       two, "duplicate key 'w'"},
      {"unterminated", "{\"w\": [", two, "bad header"},
      {"colon", tensor(R"("dtype" "F32")"), two, "expected ':'"},
      {"trailingcomma",
       tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,8],)"), two,
       "expected a string"},
      {"garbage",
       tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])") + "x", two,
       "trailing characters"},
      {"negative", tensor(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"),
       two, "expected a non-negative integer"},
      {"fraction",
       tensor(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), two,
       "fraction"},
      {"leadingzero",
       tensor(R"("dtype":"F32","shape":[02],"data_offsets":[0,8])"), two,
       "leading zero"},
      {"offsetsarity",
       tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0])"), two,
       "data_offsets must have two entries"},
      {"metadatanumber", R"({"__metadata__":{"a":1}})", "",
       "expected a string"},
      {"dupmetadatakey", R"({"__metadata__":{"a":"1","b":"2","a":"3"}})", "",
       "duplicate __metadata__ key 'a'"},
      {"dupmetadata",
       R"({"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}})", "",
       "duplicate key '__metadata__'"},
      {"dupdtype",
       tensor(R"("dtype":"F32","dtype":"F32","shape":[2],)"
              R"("data_offsets":[0,8])"),
       two, "tensor 'w': duplicate \"dtype\""},
      {"badescape", "{\"w\\q\":{}}", "", "bad escape"},
      {"notobject", "[1, 2]", "", "expected '{'"},
      {"huge",
       tensor(R"("dtype":"F32","shape":[4294967296,4294967296,4294967296],)"
              R"("data_offsets":[0,8])"),
       two, "absurd shape"},
  };
  for (const BadCase &c : cases) {
    std::string e = errorOf(writeRaw(c.tag, c.header, c.data));
    EXPECT_NE(e.find(c.expect), std::string::npos)
        << c.tag << ": got \"" << e << "\", expected \"" << c.expect << "\"";
    EXPECT_NE(e.find(tempPath(c.tag)), std::string::npos) << c.tag << ": " << e;
  }
}

/// An empty tensor holds no byte: wherever its (in-range) offsets point, it
/// overlaps nothing, whatever the order of the keys.
TEST(Safetensors, EmptyTensorsNeverOverlap) {
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string inside =
      R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]})";
  const std::string atStart =
      R"("f":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]})";
  const std::string atEnd =
      R"("g":{"dtype":"F32","shape":[0],"data_offsets":[8,8]})";
  const std::string orders[] = {
      "{" + a + "," + inside + "," + atStart + "," + atEnd + "}",
      "{" + atEnd + "," + inside + "," + atStart + "," + a + "}",
      "{" + atStart + "," + a + "," + atEnd + "," + inside + "}",
  };
  for (size_t i = 0; i < std::size(orders); ++i) {
    std::map<std::string, HostTensor> t;
    std::string error;
    ASSERT_TRUE(readSafetensors(
        writeRaw("emptyorder" + std::to_string(i), orders[i], floats({1, 2})),
        t, error))
        << orders[i] << ": " << error;
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t.at("a").data, (std::vector<float>{1, 2}));
    EXPECT_TRUE(t.at("e").data.empty());
    EXPECT_EQ(t.at("f").shape, (std::vector<int64_t>{3, 0}));
  }
  // Still bounds-checked.
  std::string e = errorOf(writeRaw(
      "emptyout",
      "{" + a + R"(,"e":{"dtype":"F32","shape":[0],"data_offsets":[12,12]}})",
      floats({1, 2})));
  EXPECT_NE(e.find("tensor 'e' has data_offsets [12, 12) outside the 8 data "
                   "bytes"),
            std::string::npos)
      << e;
}

TEST(Safetensors, MissingAndTruncatedFiles) {
  EXPECT_NE(errorOf("/nonexistent/dir/w.safetensors")
                .find("cannot open '/nonexistent/dir/w.safetensors'"),
            std::string::npos);
  {
    std::string path = tempPath("short");
    std::ofstream(path, std::ios::binary) << "abc";
    EXPECT_NE(errorOf(path).find("truncated: 3 bytes"), std::string::npos)
        << errorOf(path);
  }
  // The header size says more than the file holds.
  std::string path = writeRaw("cut", "{}", "", 1000);
  EXPECT_NE(errorOf(path).find("truncated: the header size says 1000 bytes"),
            std::string::npos)
      << errorOf(path);
  // A valid header whose data was cut off.
  path = writeRaw("cutdata",
                  R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                  floats({1, 2}));
  EXPECT_NE(errorOf(path).find("outside the 8 data bytes"), std::string::npos)
      << errorOf(path);
}

TEST(Safetensors, LoadWeightsReportsTheReadersError) {
  Context *ctx = createContext(1, 0, 16);
  std::string path = writeRaw(
      "ctx", R"({"w":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
      floats({1, 2}));
  EXPECT_FALSE(loadWeights(ctx, path.c_str()));
  std::string message = "loadWeights: '" + path +
                        "': tensor 'w' has dtype 'I32'; only F32 is supported";
  EXPECT_EQ(std::string(lastError(ctx)), message);
  // The load error is sticky: create() fails with it.
  EXPECT_EQ(finishCreate(ctx), nullptr);
  EXPECT_EQ(std::string(lastError(nullptr)), message);
}

/// The zoo's own file, written by the python side, read back exactly.
TEST(Safetensors, ReadsTheZoosWeights) {
  std::string path = tempPath("zoo"), sums = ::testing::TempDir() +
                                             "ios_rt_st_zoo.sums";
  std::string python = IOS_PYTHON;
  std::string env = "PYTHONPATH=" IOS_SOURCE_DIR "/python ";
  std::string gen = env + python + " -m ios.zoo squeezenet --weights " + path +
                    " -o /dev/null";
  ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  // name, element count and float64 sum of every tensor, by numpy.
  std::string dump =
      env + python +
      " -c \"import sys; from ios import safetensors; t, _ = "
      "safetensors.load(sys.argv[1]); [print(k, v.size, repr(float("
      "v.astype('float64').sum())), repr(float(v.ravel()[-1]))) for k, v in "
      "sorted(t.items())]\" " +
      path + " > " + sums;
  ASSERT_EQ(std::system(dump.c_str()), 0) << dump;

  std::map<std::string, HostTensor> t;
  std::string error;
  ASSERT_TRUE(readSafetensors(path, t, error)) << error;
  std::ifstream in(sums);
  std::string name;
  size_t count, checked = 0;
  double sum, last;
  while (in >> name >> count >> sum >> last) {
    ASSERT_TRUE(t.count(name)) << name;
    const HostTensor &x = t.at(name);
    ASSERT_EQ(x.data.size(), count) << name;
    int64_t elements = 1;
    for (int64_t d : x.shape)
      elements *= d;
    EXPECT_EQ(size_t(elements), count) << name;
    double s = 0;
    for (float v : x.data)
      s += v;
    EXPECT_NEAR(s, sum, 1e-9 * std::max(1.0, std::fabs(sum))) << name;
    EXPECT_EQ(double(x.data.back()), last) << name;
    ++checked;
  }
  EXPECT_EQ(checked, t.size());
  EXPECT_GT(checked, 10u);

  // And through the API: the context finds them by name and size. The
  // first 1-D tensor (a bias) is read by an identity linear layer whose
  // bias it is: out = 0 * in + bias.
  Context *ctx = createContext(1, 0, 4096);
  ASSERT_TRUE(loadWeights(ctx, path.c_str())) << lastError(ctx);
  auto bias = std::find_if(t.begin(), t.end(), [](const auto &kv) {
    return kv.second.shape.size() == 1 && kv.second.data.size() <= 2048;
  });
  ASSERT_NE(bias, t.end());
  int64_t m = int64_t(bias->second.data.size());
  std::vector<float> zeros(static_cast<size_t>(m), 0.0f), got = zeros;
  ASSERT_TRUE(addWeight(ctx, "zero", zeros.data(), m));
  View one = view(ctx, 0, 1, 1, 1, 1, 1), out = view(ctx, 1, 1, m, 1, 1, m);
  int32_t k = prepareLinear(ctx, 0, "fc", one, out, "zero", bias->first.c_str());
  ASSERT_GE(k, 0) << lastError(ctx);
  ASSERT_TRUE(bindOutput(ctx, 0, out));
  ASSERT_NE(finishCreate(ctx), nullptr) << lastError(nullptr);
  float *outputs[] = {got.data()};
  upload(ctx, nullptr);
  launch(ctx, k);
  ASSERT_EQ(finishRun(ctx, outputs), 1) << lastError(ctx);
  EXPECT_EQ(got, bias->second.data) << bias->first;
  destroyContext(ctx);
}

} // namespace
