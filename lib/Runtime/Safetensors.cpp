//===- Safetensors.cpp - Read safetensors files ----------------------------===//
//
// Format: 8-byte little-endian header size N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
//  "__metadata__": {...}}, then the data (offsets relative to its start).
//
//===----------------------------------------------------------------------===//

#include "Safetensors.h"

#include <cstring>
#include <fstream>
#include <sstream>

using namespace ios::rt::detail;

namespace {

/// A strict parser for the JSON subset a safetensors header uses.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s(text) {}

  bool parse(std::map<std::string, HostTensor> &tensors,
             std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>>
                 &ranges,
             std::string &error) {
    if (!expect('{', error))
      return false;
    skipSpace();
    if (peek() == '}')
      return ++i, true;
    while (true) {
      std::string name;
      if (!string(name, error) || !expect(':', error))
        return false;
      if (name == "__metadata__") {
        if (!skipValue(error))
          return false;
      } else {
        HostTensor t;
        std::string dtype;
        uint64_t begin = 0, end = 0;
        bool haveOffsets = false;
        if (!expect('{', error))
          return false;
        while (true) {
          std::string key;
          if (!string(key, error) || !expect(':', error))
            return false;
          if (key == "dtype") {
            if (!string(dtype, error))
              return false;
          } else if (key == "shape") {
            std::vector<uint64_t> dims;
            if (!intArray(dims, error))
              return false;
            for (uint64_t d : dims)
              t.shape.push_back(int64_t(d));
          } else if (key == "data_offsets") {
            std::vector<uint64_t> off;
            if (!intArray(off, error))
              return false;
            if (off.size() != 2)
              return fail("tensor '" + name +
                              "': data_offsets must have two entries",
                          error);
            begin = off[0];
            end = off[1];
            haveOffsets = true;
          } else if (!skipValue(error)) {
            return false;
          }
          skipSpace();
          if (peek() == ',') {
            ++i;
            continue;
          }
          if (!expect('}', error))
            return false;
          break;
        }
        if (dtype != "F32")
          return fail("tensor '" + name + "' has dtype '" + dtype +
                          "'; only F32 is supported",
                      error);
        if (!haveOffsets)
          return fail("tensor '" + name + "' has no data_offsets", error);
        ranges.push_back({name, {begin, end}});
        tensors[name] = std::move(t);
      }
      skipSpace();
      if (peek() == ',') {
        ++i;
        continue;
      }
      if (!expect('}', error))
        return false;
      return true;
    }
  }

private:
  bool fail(const std::string &why, std::string &error) {
    error = "bad header: " + why;
    return false;
  }
  void skipSpace() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' ||
                            s[i] == '\t'))
      ++i;
  }
  char peek() { return i < s.size() ? s[i] : '\0'; }
  bool expect(char c, std::string &error) {
    skipSpace();
    if (peek() != c)
      return fail(std::string("expected '") + c + "' at byte " +
                      std::to_string(i),
                  error);
    ++i;
    return true;
  }
  bool string(std::string &out, std::string &error) {
    skipSpace();
    if (peek() != '"')
      return fail("expected a string at byte " + std::to_string(i), error);
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size())
        ++i;
      out += s[i++];
    }
    if (i >= s.size())
      return fail("unterminated string", error);
    ++i;
    return true;
  }
  bool integer(uint64_t &out, std::string &error) {
    skipSpace();
    if (!(peek() >= '0' && peek() <= '9'))
      return fail("expected a non-negative integer at byte " +
                      std::to_string(i),
                  error);
    out = 0;
    while (peek() >= '0' && peek() <= '9')
      out = out * 10 + uint64_t(s[i++] - '0');
    return true;
  }
  bool intArray(std::vector<uint64_t> &out, std::string &error) {
    if (!expect('[', error))
      return false;
    skipSpace();
    if (peek() == ']')
      return ++i, true;
    while (true) {
      uint64_t v;
      if (!integer(v, error))
        return false;
      out.push_back(v);
      skipSpace();
      if (peek() == ',') {
        ++i;
        continue;
      }
      return expect(']', error);
    }
  }
  /// Skips any JSON value (metadata).
  bool skipValue(std::string &error) {
    skipSpace();
    char c = peek();
    if (c == '"') {
      std::string ignored;
      return string(ignored, error);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i;
      skipSpace();
      if (peek() == close)
        return ++i, true;
      while (true) {
        if (c == '{') {
          std::string key;
          if (!string(key, error) || !expect(':', error))
            return false;
        }
        if (!skipValue(error))
          return false;
        skipSpace();
        if (peek() == ',') {
          ++i;
          continue;
        }
        return expect(close, error);
      }
    }
    // Numbers, true, false, null.
    size_t start = i;
    while (i < s.size() && std::strchr("+-.0123456789eEtruefalsn", s[i]))
      ++i;
    if (i == start)
      return fail("unexpected character at byte " + std::to_string(i), error);
    return true;
  }

  const std::string &s;
  size_t i = 0;
};

} // namespace

bool ios::rt::detail::readSafetensors(
    const std::string &path, std::map<std::string, HostTensor> &tensors,
    std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  auto fail = [&](const std::string &why) {
    error = "'" + path + "': " + why;
    return false;
  };
  if (bytes.size() < 8)
    return fail("truncated (no header size)");
  uint64_t headerSize = 0;
  for (int b = 7; b >= 0; --b)
    headerSize = (headerSize << 8) | uint8_t(bytes[b]);
  if (headerSize > bytes.size() - 8)
    return fail("truncated (header of " + std::to_string(headerSize) +
                " bytes)");
  std::string header = bytes.substr(8, headerSize);
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> ranges;
  std::string why;
  std::map<std::string, HostTensor> parsed;
  if (!HeaderParser(header).parse(parsed, ranges, why))
    return fail(why);
  uint64_t dataSize = bytes.size() - 8 - headerSize;
  const char *data = bytes.data() + 8 + headerSize;
  for (auto &[name, range] : ranges) {
    HostTensor &t = parsed[name];
    uint64_t elements = 1;
    for (int64_t d : t.shape)
      elements *= uint64_t(d);
    auto [begin, end] = range;
    if (begin > end || end > dataSize)
      return fail("tensor '" + name + "' has data_offsets [" +
                  std::to_string(begin) + ", " + std::to_string(end) +
                  ") outside the " + std::to_string(dataSize) +
                  " data bytes");
    if (end - begin != elements * sizeof(float))
      return fail("tensor '" + name + "' has " + std::to_string(end - begin) +
                  " bytes for " + std::to_string(elements) + " F32 values");
    t.data.resize(elements);
    std::memcpy(t.data.data(), data + begin, end - begin);
  }
  for (auto &[name, t] : parsed)
    tensors[name] = std::move(t);
  return true;
}
