//===- Checks.h - Argument checks shared by the runtime backends -*- C++ -*-===//
//
// Both backends validate every load call (views, weights, kernels) with the
// same rules, so a wrong shape, a view outside the arena, an output that
// overlaps an input or a missing weight is reported at load, with the
// layer's name, instead of corrupting memory at run time. Each check returns
// "" if the arguments are fine, else why not. Runtime-internal.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CHECKS_H
#define IOS_LIB_RUNTIME_CHECKS_H

#include "ios/Runtime/Runtime.h"

#include <string>
#include <vector>

namespace ios::rt::detail {

/// "LAYER: KIND: what", the form of every kernel error.
std::string opError(const char *layer, const char *kind,
                    const std::string &what);

/// The output size of one spatial dimension of a window op (the same rule as
/// the `ios` dialect: floor((in + 2p - d(k-1) - 1) / s) + 1), or -1 if the
/// window does not fit.
int64_t windowOutput(int64_t in, int64_t k, int64_t stride, int64_t pad,
                     int64_t dilation);
/// The ceil_mode output size of a pool (PyTorch's rule, as the dialect's:
/// ceil((in + 2p - k) / s) + 1, minus one if the last window would start
/// past the input and its left padding), or -1 if the window does not fit.
int64_t ceilPoolOutput(int64_t in, int64_t k, int64_t stride, int64_t pad);
/// How many taps of pool window `i` along one dimension an average divides
/// by: those inside the padded input (`countIncludePad`: the window clipped
/// at `in + pad`, so only the ceil_mode overhang does not count) or those
/// inside the input. At least 1.
int64_t poolTaps(int64_t i, int64_t in, int64_t k, int64_t stride,
                 int64_t pad, bool countIncludePad);

std::string describe(View v); // "NxCxHxW" (+ ", batch stride S" if strided)

/// A view's own well-formedness: non-null, positive sizes, batch stride at
/// least one image (when there are several).
std::string checkView(const char *role, View v);
/// The check of view(ctx, offset, n, c, h, w, batchStride): positive sizes,
/// a batch stride of at least c*h*w, every element of every image inside an
/// arena of `arenaFloats` floats (no overflow on absurd sizes).
std::string checkArenaView(int64_t offset, int64_t n, int64_t c, int64_t h,
                           int64_t w, int64_t batchStride,
                           int64_t arenaFloats);
/// `v` lies wholly inside [base, base + size).
std::string checkInArena(const char *role, View v, const float *base,
                         int64_t size);
/// Whether two views share any float.
bool overlaps(View a, View b);
/// Same data pointer and strides: element-wise ops may run in place.
bool sameElements(View a, View b);
/// Whether `v` is `like` with h = w = 1 (a per-channel (N, C, 1, 1)
/// operand that broadcasts over `like`'s H x W).
bool broadcastsTo(View v, View like);

struct ConvShape {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, groups;
};
std::string checkConv(View in, View out, const ConvShape &s);
/// The weight of a convolution: out.c x in.c / groups x kh x kw.
int64_t convWeightElements(View in, View out, const ConvShape &s);
/// "" for ActNone..ActSilu, else "unknown activation N".
std::string checkAct(Act act);

/// A pool's window after the global kinds took the whole plane.
struct PoolShape {
  int64_t kh, kw, sh, sw, ph, pw;
  static PoolShape of(View in, PoolKind kind, int64_t kh, int64_t kw,
                      int64_t sh, int64_t sw, int64_t ph, int64_t pw);
  /// The padding after the last window of a dimension that the output size
  /// needs: the left padding, or more for a ceil_mode overhang.
  int64_t padBottom(View in, View out) const;
  int64_t padRight(View in, View out) const;
};
/// Kind, window (padding at most half the kernel), and an output of the
/// floor or the ceil_mode size per dimension.
std::string checkPool(View in, View out, PoolKind kind, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                      int64_t pw);
/// Element-wise (copy, activation, affine, softmax): every operand has
/// `out`'s shape and either is `out` itself or does not overlap it.
std::string checkElementwise(View out, int32_t count, const View *in);
/// Broadcasting add / mul: at least one operand; each has `out`'s shape or
/// is (N, C, 1, 1) (broadcastsTo); an operand of `out`'s shape is `out`
/// itself or does not overlap it, a broadcast one does not overlap it.
std::string checkBroadcast(View out, int32_t count, const View *in);
/// Constant padding: non-negative amounts, out = in grown by them, no
/// overlap.
std::string checkPad(View in, View out, int64_t top, int64_t left,
                     int64_t bottom, int64_t right);
/// Nearest upsampling: out.h, out.w integer multiples (>= 1) of in's, same
/// N and C, no overlap.
std::string checkUpsample(View in, View out);
/// Channel shuffle: same shape, `groups` >= 1 divides C, no overlap.
std::string checkChannelShuffle(View in, View out, int64_t groups);
/// Linear: `in` is N x K (each image's c*h*w floats, contiguous in any view),
/// `out` N x M x 1 x 1, no overlap.
std::string checkLinear(View in, View out);
std::string checkSoftmax(View in, View out);

/// Why a weight `name` cannot serve as `elements` floats ("" if `values`,
/// the loaded tensor or null if none, has that many).
std::string checkWeight(const char *name, const std::vector<float> *values,
                        int64_t elements);
/// Whether an optional weight name (a bias) is given: non-null, non-empty.
bool named(const char *name);

/// Whether an `out x inChannels x srcKh x srcKw` source fits output channels
/// [outOffset, outOffset + out), rows [top, top + srcKh) and columns
/// [left, left + srcKw) of a `totalOut x inChannels x kh x kw` packed weight
/// ("" if it does, else why).
std::string checkPackConv(int64_t totalOut, int64_t inChannels, int64_t kh,
                          int64_t kw, int64_t outOffset, int64_t out,
                          int64_t srcKh, int64_t srcKw, int64_t top,
                          int64_t left);
/// Copies that source into the packed weight (the rest left as is).
void packConvInto(float *packed, const float *src, int64_t inChannels,
                  int64_t kh, int64_t kw, int64_t outOffset, int64_t out,
                  int64_t srcKh, int64_t srcKw, int64_t top, int64_t left);
/// Whether `size` values fit at `offset` of a `total`-value packed bias.
std::string checkPackBias(int64_t total, int64_t offset, int64_t size);

} // namespace ios::rt::detail

#endif // IOS_LIB_RUNTIME_CHECKS_H
