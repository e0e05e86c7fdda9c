//===- Safetensors.cpp - Read safetensors files ----------------------------===//
//
// Format: 8-byte little-endian header size N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
//  "__metadata__": {"key": "value", ...}}, then the data (offsets relative to
// its start). The JSON parser is strict and knows exactly this subset:
// objects, strings (with escapes), arrays of non-negative integers. A key
// given twice in any object (tensor names, `__metadata__` keys, tensor
// fields) is an error naming it. Linear in the header size (plus one sort).
//
//===----------------------------------------------------------------------===//

#include "Safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_set>

using namespace ios::rt::detail;

namespace {

struct Entry {
  std::string name, dtype;
  std::vector<uint64_t> shape, offsets;
  bool haveDtype = false, haveShape = false, haveOffsets = false;
};

/// A strict parser for the JSON subset of a safetensors header.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s(text) {}

  /// Parses the whole header; on failure `error` says where and why.
  bool parse(std::vector<Entry> &entries, std::string &error) {
    std::unordered_set<std::string> seen;
    bool ok = expect('{') && object([&](const std::string &key) {
      if (!seen.insert(key).second)
        return fail("duplicate key '" + key + "'");
      if (key == "__metadata__")
        return metadata();
      Entry e;
      e.name = key;
      if (!tensor(e))
        return false;
      entries.push_back(std::move(e));
      return true;
    });
    if (ok) {
      skipSpace();
      if (i != s.size())
        ok = fail("trailing characters after the header object");
    }
    if (!ok)
      error = "bad header: " + why;
    return ok;
  }

private:
  bool fail(const std::string &what) {
    if (why.empty())
      why = what + " (at byte " + std::to_string(i) + " of the header)";
    return false;
  }
  void skipSpace() {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
      ++i;
  }
  char peek() {
    skipSpace();
    return i < s.size() ? s[i] : '\0';
  }
  bool expect(char c) {
    if (peek() != c)
      return fail(std::string("expected '") + c + "'" +
                  (i < s.size() ? std::string(", found '") + s[i] + "'"
                                : std::string(", found the end")));
    ++i;
    return true;
  }

  /// The members of an object whose '{' was consumed: `member(key)` parses
  /// each value.
  template <typename Fn> bool object(Fn member) {
    if (peek() == '}')
      return ++i, true;
    while (true) {
      std::string key;
      if (!string(key) || !expect(':') || !member(key))
        return false;
      if (peek() == ',') {
        ++i;
        continue;
      }
      return expect('}');
    }
  }

  bool tensor(Entry &e) {
    if (!expect('{'))
      return false;
    return object([&](const std::string &key) {
      if (key == "dtype") {
        if (e.haveDtype)
          return fail("tensor '" + e.name + "': duplicate \"dtype\"");
        e.haveDtype = true;
        return string(e.dtype);
      }
      if (key == "shape") {
        if (e.haveShape)
          return fail("tensor '" + e.name + "': duplicate \"shape\"");
        e.haveShape = true;
        return intArray(e.shape);
      }
      if (key == "data_offsets") {
        if (e.haveOffsets)
          return fail("tensor '" + e.name + "': duplicate \"data_offsets\"");
        e.haveOffsets = true;
        if (!intArray(e.offsets))
          return false;
        if (e.offsets.size() != 2)
          return fail("tensor '" + e.name +
                      "': data_offsets must have two entries");
        return true;
      }
      return fail("tensor '" + e.name + "': unexpected key '" + key + "'");
    });
  }

  /// "__metadata__": an object of strings, no key twice.
  bool metadata() {
    if (!expect('{'))
      return false;
    std::unordered_set<std::string> seen;
    return object([&](const std::string &key) {
      if (!seen.insert(key).second)
        return fail("duplicate __metadata__ key '" + key + "'");
      std::string value;
      return string(value);
    });
  }

  bool string(std::string &out) {
    if (peek() != '"')
      return fail("expected a string");
    ++i;
    out.clear();
    while (true) {
      if (i >= s.size())
        return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s[i++]);
      if (c == '"')
        return true;
      if (c < 0x20)
        return fail("control character in a string");
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (i >= s.size())
        return fail("unterminated string");
      char esc = s[i++];
      switch (esc) {
      case '"':
      case '\\':
      case '/':
        out += esc;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp))
          return false;
        if (cp >= 0xD800 && cp < 0xDC00) { // a surrogate pair
          uint32_t low;
          if (i + 1 >= s.size() || s[i] != '\\' || s[i + 1] != 'u')
            return fail("unpaired surrogate in a string");
          i += 2;
          if (!hex4(low))
            return false;
          if (low < 0xDC00 || low >= 0xE000)
            return fail("unpaired surrogate in a string");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          return fail("unpaired surrogate in a string");
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        return fail(std::string("bad escape '\\") + esc + "' in a string");
      }
    }
  }
  bool hex4(uint32_t &cp) {
    cp = 0;
    for (int k = 0; k < 4; ++k, ++i) {
      if (i >= s.size())
        return fail("unterminated string");
      char c = s[i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0)
        return fail("bad \\u escape in a string");
      cp = cp * 16 + uint32_t(d);
    }
    return true;
  }
  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  bool integer(uint64_t &out) {
    char c = peek();
    if (c < '0' || c > '9')
      return fail("expected a non-negative integer");
    if (c == '0' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')
      return fail("leading zero in an integer");
    out = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      uint64_t d = uint64_t(s[i++] - '0');
      if (out > (UINT64_MAX - d) / 10 || out * 10 + d > (uint64_t(1) << 62))
        return fail("integer too large");
      out = out * 10 + d;
    }
    if (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
      return fail("expected an integer, found a fraction or exponent");
    return true;
  }
  bool intArray(std::vector<uint64_t> &out) {
    if (!expect('['))
      return false;
    if (peek() == ']')
      return ++i, true;
    while (true) {
      uint64_t v;
      if (!integer(v))
        return false;
      out.push_back(v);
      if (peek() == ',') {
        ++i;
        continue;
      }
      return expect(']');
    }
  }

  const std::string &s;
  size_t i = 0;
  std::string why;
};

struct FileCloser {
  void operator()(std::FILE *f) const { std::fclose(f); }
};

/// Where the bytes come from: a file, read in order (seeking over gaps), or
/// memory.
class Source {
public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  /// Reads `bytes` at `offset` into `dst`.
  virtual bool read(uint64_t offset, void *dst, size_t bytes) = 0;
};

class FileSource : public Source {
public:
  FileSource(std::FILE *f, uint64_t size) : f(f), bytes(size) {}
  uint64_t size() const override { return bytes; }
  bool read(uint64_t offset, void *dst, size_t n) override {
    // A seek drops stdio's buffer: one per tensor would cost a read each.
    if (offset != at && std::fseek(f, long(offset), SEEK_SET) != 0)
      return false;
    at = offset + n;
    return std::fread(dst, 1, n, f) == n;
  }

private:
  std::FILE *f;
  uint64_t bytes, at = 0;
};

class MemorySource : public Source {
public:
  MemorySource(const void *data, size_t size)
      : data(static_cast<const char *>(data)), bytes(size) {}
  uint64_t size() const override { return bytes; }
  bool read(uint64_t offset, void *dst, size_t n) override {
    if (offset > bytes || n > bytes - offset)
      return false;
    std::memcpy(dst, data + offset, n);
    return true;
  }

private:
  const char *data;
  uint64_t bytes;
};

/// Reads every tensor of `in`; errors go through `fail`.
template <typename Fail>
bool readTensors(Source &in, std::map<std::string, HostTensor> &tensors,
                 Fail fail) {
  uint64_t fileSize = in.size();
  unsigned char sizeBytes[8];
  if (fileSize < 8 || !in.read(0, sizeBytes, 8))
    return fail("truncated: " + std::to_string(fileSize) +
                " bytes, less than the 8-byte header size");
  uint64_t headerSize = 0;
  for (int b = 7; b >= 0; --b)
    headerSize = (headerSize << 8) | sizeBytes[b];
  if (headerSize > fileSize - 8)
    return fail("truncated: the header size says " +
                std::to_string(headerSize) + " bytes but only " +
                std::to_string(fileSize - 8) + " follow");
  if (headerSize > 100000000)
    return fail("bad header: " + std::to_string(headerSize) +
                " bytes, over the format's 100 MB limit");
  if (headerSize < 2)
    return fail("bad header: " + std::to_string(headerSize) + " bytes");
  std::string header(size_t(headerSize), '\0');
  if (!in.read(8, &header[0], header.size()))
    return fail("cannot read the header");

  std::vector<Entry> entries;
  std::string why;
  if (!HeaderParser(header).parse(entries, why))
    return fail(why);

  const uint64_t dataSize = fileSize - 8 - headerSize;
  for (const Entry &e : entries) {
    if (!e.haveDtype || !e.haveShape || !e.haveOffsets)
      return fail("bad header: tensor '" + e.name + "' lacks \"" +
                  (!e.haveDtype   ? "dtype"
                   : !e.haveShape ? "shape"
                                  : "data_offsets") +
                  "\"");
    if (e.dtype != "F32")
      return fail("tensor '" + e.name + "' has dtype '" + e.dtype +
                  "'; only F32 is supported");
    uint64_t begin = e.offsets[0], end = e.offsets[1];
    if (begin > end || end > dataSize)
      return fail("tensor '" + e.name + "' has data_offsets [" +
                  std::to_string(begin) + ", " + std::to_string(end) +
                  ") outside the " + std::to_string(dataSize) +
                  " data bytes");
    uint64_t elements = 1;
    for (uint64_t d : e.shape) {
      if (d != 0 && elements > (UINT64_MAX / 8) / d)
        return fail("tensor '" + e.name + "' has an absurd shape");
      elements *= d;
    }
    if (end - begin != elements * sizeof(float))
      return fail("tensor '" + e.name + "' has " +
                  std::to_string(end - begin) + " bytes for " +
                  std::to_string(elements) + " F32 values");
  }
  // No two tensors share a byte. Empty tensors hold none: they cannot
  // overlap anything, wherever their (in-range) offsets point.
  std::vector<const Entry *> order, empty;
  for (const Entry &e : entries)
    (e.offsets[0] == e.offsets[1] ? empty : order).push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) {
    return a->offsets[0] < b->offsets[0];
  });
  for (size_t k = 1; k < order.size(); ++k)
    if (order[k]->offsets[0] < order[k - 1]->offsets[1])
      return fail("tensors '" + order[k - 1]->name + "' and '" +
                  order[k]->name + "' overlap (data_offsets [" +
                  std::to_string(order[k - 1]->offsets[0]) + ", " +
                  std::to_string(order[k - 1]->offsets[1]) + ") and [" +
                  std::to_string(order[k]->offsets[0]) + ", " +
                  std::to_string(order[k]->offsets[1]) + "))");

  // Read the data in file order straight into the tensors.
  order.insert(order.end(), empty.begin(), empty.end());
  std::map<std::string, HostTensor> loaded;
  for (const Entry *e : order) {
    HostTensor &t = loaded[e->name];
    for (uint64_t d : e->shape)
      t.shape.push_back(int64_t(d));
    uint64_t bytes = e->offsets[1] - e->offsets[0];
    t.data.resize(size_t(bytes / sizeof(float)));
    if (bytes && !in.read(8 + headerSize + e->offsets[0], t.data.data(),
                          size_t(bytes)))
      return fail("cannot read tensor '" + e->name + "'");
  }
  for (auto &[name, t] : loaded)
    tensors[name] = std::move(t);
  return true;
}

} // namespace

bool ios::rt::detail::readSafetensors(
    const std::string &path, std::map<std::string, HostTensor> &tensors,
    std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "'" + path + "': " + why;
    return false;
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    error = "cannot open '" + path + "'";
    return false;
  }
  std::FILE *f = file.get();
  if (std::fseek(f, 0, SEEK_END) != 0)
    return fail("cannot seek");
  long endPos = std::ftell(f);
  if (endPos < 0 || std::fseek(f, 0, SEEK_SET) != 0)
    return fail("cannot seek");
  FileSource in(f, uint64_t(endPos));
  return readTensors(in, tensors, fail);
}

bool ios::rt::detail::readSafetensors(
    const void *data, size_t size, std::map<std::string, HostTensor> &tensors,
    std::string &error) {
  auto fail = [&](const std::string &why) {
    error = "safetensors in memory: " + why;
    return false;
  };
  if (!data && size)
    return fail("no data");
  MemorySource in(data, size);
  return readTensors(in, tensors, fail);
}
