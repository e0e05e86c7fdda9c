//===- Checks.h - Argument checks shared by the runtime backends -*- C++ -*-===//
//
// Both backends validate every op on the host when it is enqueued, with the
// same rules, so a wrong shape, a view outside the arena or an output that
// overlaps an input is reported (with the op's name, at the next
// synchronize) instead of corrupting memory. Runtime-internal.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CHECKS_H
#define IOS_LIB_RUNTIME_CHECKS_H

#include "ios/Runtime/Runtime.h"

#include <string>
#include <vector>

namespace ios::rt::detail {

/// The output size of one spatial dimension of a window op (the same rule as
/// the `ios` dialect: floor((in + 2p - d(k-1) - 1) / s) + 1), or -1 if the
/// window does not fit.
int64_t windowOutput(int64_t in, int64_t k, int64_t stride, int64_t pad,
                     int64_t dilation);

std::string describe(View v); // "NxCxHxW" (+ ", batch stride S" if strided)

/// A view's own well-formedness: non-null, positive sizes, batch stride at
/// least one image.
std::string checkView(const char *role, View v);
/// `v` lies inside [base, base + size) if it starts there (views of other
/// memory are the caller's business).
std::string checkInArena(const char *role, View v, const float *base,
                         int64_t size);
/// Whether two views share any float.
bool overlaps(View a, View b);
/// Same data pointer and strides: element-wise ops may run in place.
bool sameElements(View a, View b);

struct ConvShape {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, groups;
};
std::string checkConv(View in, View out, const ConvShape &s);
/// "" for ActNone..ActTanh, else "unknown activation N".
std::string checkAct(Act act);
std::string checkPool(View in, View out, PoolKind kind, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                      int64_t pw);
/// Element-wise: every operand has `out`'s shape and either is `out` itself
/// or does not overlap it.
std::string checkElementwise(View out, int32_t count, const View *in);
std::string checkLinear(View in, View out);
std::string checkSoftmax(View in, View out);

/// Why weight(name, elements) fails ("" if `values`, the loaded tensor or
/// null if none, has `elements` floats). Both backends make it the
/// inference's failure too: an op handed the resulting null (a bias, say)
/// must not run as if the model had none.
std::string checkWeight(const char *name, const std::vector<float> *values,
                        int64_t elements);

/// Whether an `out x inChannels x srcKh x srcKw` source fits output channels
/// [outOffset, outOffset + out) of a `totalOut x inChannels x kh x kw`
/// packed weight, centred ("" if it does, else why).
std::string checkPackConv(int64_t totalOut, int64_t inChannels, int64_t kh,
                          int64_t kw, int64_t outOffset, int64_t out,
                          int64_t srcKh, int64_t srcKw);
/// Copies that source into the packed weight (zero padding left as is).
void packConvInto(float *packed, const float *src, int64_t inChannels,
                  int64_t kh, int64_t kw, int64_t outOffset, int64_t out,
                  int64_t srcKh, int64_t srcKw);
/// Whether `size` values fit at `offset` of a `total`-value packed bias.
std::string checkPackBias(int64_t total, int64_t offset, int64_t size);

} // namespace ios::rt::detail

#endif // IOS_LIB_RUNTIME_CHECKS_H
