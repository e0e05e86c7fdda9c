//===- Safetensors.h - Read safetensors files (runtime-internal) -*- C++ -*-===//
//
// The runtime's own reader (C++ standard library only: emitted programs link
// nothing else). F32 tensors only; every offset is bounds-checked.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_SAFETENSORS_H
#define IOS_LIB_RUNTIME_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ios::rt::detail {

struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Reads every tensor of `path`; on failure returns false and sets `error`
/// (naming the file).
bool readSafetensors(const std::string &path,
                     std::map<std::string, HostTensor> &tensors,
                     std::string &error);
/// The same from `size` bytes of a safetensors file in memory.
bool readSafetensors(const void *data, size_t size,
                     std::map<std::string, HostTensor> &tensors,
                     std::string &error);

} // namespace ios::rt::detail

#endif // IOS_LIB_RUNTIME_SAFETENSORS_H
