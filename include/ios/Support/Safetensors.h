//===- Safetensors.h - Writing weights files ---------------------*- C++ -*-===//
//
// The compiler side writes weights it derives (e.g. TOSA constants converted
// to the ios layout) in the format the runtime loads: safetensors, f32
// tensors. Written atomically (FileOutput.h).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SUPPORT_SAFETENSORS_H
#define IOS_SUPPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ios {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data; ///< row-major, product(shape) values
};

/// Writes `tensors` (unique names) as an f32 safetensors file.
llvm::Error writeSafetensors(llvm::StringRef path,
                             llvm::ArrayRef<NamedTensor> tensors);

} // namespace ios

#endif // IOS_SUPPORT_SAFETENSORS_H
