//===- Safetensors.cpp - Writing weights files ----------------------------===//

#include "ios/Support/Safetensors.h"

#include "ios/Support/FileOutput.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"

llvm::Error ios::writeSafetensors(llvm::StringRef path,
                                  llvm::ArrayRef<NamedTensor> tensors) {
  llvm::json::Object header;
  llvm::StringSet<> names;
  uint64_t offset = 0;
  for (const NamedTensor &t : tensors) {
    if (!names.insert(t.name).second)
      return llvm::createStringError("duplicate tensor name '" + t.name + "'");
    uint64_t count = 1;
    for (int64_t d : t.shape)
      count *= uint64_t(d);
    if (count != t.data.size())
      return llvm::createStringError("tensor '" + t.name +
                                     "': data does not match its shape");
    llvm::json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    uint64_t end = offset + 4 * count;
    header[t.name] = llvm::json::Object{
        {"dtype", "F32"},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{int64_t(offset), int64_t(end)}}};
    offset = end;
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(header));
  // The data starts 8-byte aligned: pad the header with spaces.
  text.append((8 - text.size() % 8) % 8, ' ');
  return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
    char size[8];
    llvm::support::endian::write64le(size, text.size());
    os.write(size, 8);
    os << text;
    for (const NamedTensor &t : tensors)
      for (float v : t.data) {
        char bytes[4];
        llvm::support::endian::write32le(bytes, llvm::bit_cast<uint32_t>(v));
        os.write(bytes, 4);
      }
    return llvm::Error::success();
  });
}
