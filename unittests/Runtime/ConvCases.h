//===- ConvCases.h - Convolution shapes the runtime tests cover -*- C++ -*-===//
//
// Shared by both backends' tests: stride 2, padding, dilation, groups,
// depthwise with stride/dilation/asymmetric kernels, depth multiplier,
// 1xk/kx1, no bias (with and without an activation), several GEMM
// blocks, batch 3.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_UNITTESTS_RUNTIME_CONVCASES_H
#define IOS_UNITTESTS_RUNTIME_CONVCASES_H

#include "ios/Runtime/Runtime.h"

#include <cstdint>

namespace ios::rt::test {

struct ConvCase {
  const char *name;
  int64_t n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  Act act;
  bool bias;
};

/// The output size of a case (the runtime's window rule).
inline int64_t convOutput(int64_t in, int64_t k, int64_t s, int64_t p,
                          int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

inline const ConvCase convCases[] = {
    {"k3_s1_p1", 2, 8, 16, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu, true},
    {"k3_s2_p0", 2, 6, 5, 10, 11, 3, 3, 2, 2, 0, 0, 1, 1, 1, ActNone, true},
    {"pointwise", 2, 24, 13, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, ActSigmoid,
     true},
    {"pointwise_s2", 2, 12, 7, 9, 9, 1, 1, 2, 2, 0, 0, 1, 1, 1, ActNone, true},
    {"dilated", 2, 5, 6, 11, 10, 3, 3, 1, 1, 2, 2, 2, 2, 1, ActTanh, true},
    {"groups4", 2, 8, 12, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 4, ActRelu, true},
    {"depthwise", 2, 6, 6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 6, ActNone, true},
    {"depthwise_k5_s2", 2, 5, 5, 11, 12, 5, 5, 2, 2, 2, 2, 1, 1, 5, ActRelu,
     true},
    {"depthwise_dilated", 2, 4, 4, 12, 12, 3, 3, 1, 1, 2, 2, 2, 2, 4, ActNone,
     true},
    {"depthwise_k7x1", 2, 3, 3, 9, 6, 7, 1, 1, 1, 3, 0, 1, 1, 3, ActRelu,
     false},
    {"multiplier", 2, 4, 8, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 4, ActNone, true},
    {"k1x7", 2, 5, 7, 9, 9, 1, 7, 1, 1, 0, 3, 1, 1, 1, ActRelu, true},
    {"k7x1_s2", 2, 5, 7, 15, 9, 7, 1, 2, 1, 3, 0, 1, 1, 1, ActNone, true},
    {"no_bias", 2, 3, 4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActNone, false},
    {"no_bias_relu", 1, 4, 4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu, false},
    // M = 70 (not a multiple of 6), K = 360 (two K blocks), N = 1369 (two
    // N blocks).
    {"blocks", 1, 40, 70, 37, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, ActRelu, true},
    {"stem_k3_s2", 1, 3, 8, 29, 29, 3, 3, 2, 2, 0, 0, 1, 1, 1, ActRelu, true},
    {"k5_p2_batch3", 3, 4, 6, 8, 7, 5, 5, 1, 1, 2, 2, 1, 1, 1, ActRelu, true},
};

} // namespace ios::rt::test

#endif // IOS_UNITTESTS_RUNTIME_CONVCASES_H
