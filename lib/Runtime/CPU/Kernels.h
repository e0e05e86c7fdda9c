//===- Kernels.h - CPU kernels of the IOS runtime ---------------*- C++ -*-===//
//
// Plain C++ kernels on NCHW views (any batch stride). Each checks its
// arguments (the rules of ../Checks.h) and returns an error message, or an
// empty string on success. They run on the calling thread.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CPU_KERNELS_H
#define IOS_LIB_RUNTIME_CPU_KERNELS_H

#include "../Checks.h"
#include "ios/Runtime/Runtime.h"

#include <string>

namespace ios::rt::cpu {

struct ConvParams : detail::ConvShape {
  Act act;
};

std::string conv2d(View in, View out, const float *weight, const float *bias,
                   const ConvParams &p);
std::string pool2d(View in, View out, PoolKind kind, int64_t kh, int64_t kw,
                   int64_t sh, int64_t sw, int64_t ph, int64_t pw);
std::string activation(View in, View out, Act act);
std::string add(View out, int32_t count, const View *in);
std::string mul(View a, View b, View out);
std::string copy(View in, View out);
std::string linear(View in, View out, const float *weight, const float *bias);
std::string softmax(View in, View out);

} // namespace ios::rt::cpu

#endif // IOS_LIB_RUNTIME_CPU_KERNELS_H
