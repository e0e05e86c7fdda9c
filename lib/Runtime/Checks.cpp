//===- Checks.cpp - Argument checks shared by the runtime backends --------===//

#include "Checks.h"

#include <algorithm>

using namespace ios::rt;
using namespace ios::rt::detail;

std::string ios::rt::detail::opError(const char *layer, const char *kind,
                                     const std::string &what) {
  return std::string(layer && *layer ? layer : "<unnamed op>") + ": " + kind +
         ": " + what;
}

int64_t ios::rt::detail::windowOutput(int64_t in, int64_t k, int64_t stride,
                                      int64_t pad, int64_t dilation) {
  if (k < 1 || stride < 1 || pad < 0 || dilation < 1 ||
      k > (in + 2 * pad) / dilation + 1)
    return -1;
  int64_t effective = dilation * (k - 1) + 1;
  if (in + 2 * pad < effective)
    return -1;
  return (in + 2 * pad - effective) / stride + 1;
}

int64_t ios::rt::detail::ceilPoolOutput(int64_t in, int64_t k, int64_t stride,
                                        int64_t pad) {
  if (windowOutput(in, k, stride, pad, 1) < 0)
    return -1;
  int64_t span = in + 2 * pad - k;
  int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= in + pad)
    --out;
  return out;
}

int64_t ios::rt::detail::poolTaps(int64_t i, int64_t in, int64_t k,
                                  int64_t stride, int64_t pad,
                                  bool countIncludePad) {
  int64_t start = i * stride - pad;
  int64_t taps = countIncludePad
                     ? std::min(start + k, in + pad) - start
                     : std::min(start + k, in) - std::max<int64_t>(start, 0);
  return std::max<int64_t>(taps, 1);
}

std::string ios::rt::detail::describe(View v) {
  std::string s = std::to_string(v.n) + "x" + std::to_string(v.c) + "x" +
                  std::to_string(v.h) + "x" + std::to_string(v.w);
  if (v.batchStride != v.c * v.h * v.w)
    s += " (batch stride " + std::to_string(v.batchStride) + ")";
  return s;
}

namespace {

/// a * b, or -1 if either is negative or the product overflows.
int64_t product(int64_t a, int64_t b) {
  int64_t p;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &p))
    return -1;
  return p;
}

/// Floats from a view's first to one past its last element, or -1 if that
/// overflows.
int64_t extent(int64_t n, int64_t c, int64_t h, int64_t w,
               int64_t batchStride) {
  int64_t image = product(product(c, h), w);
  int64_t before = product(n - 1, batchStride);
  int64_t sum;
  if (image < 0 || before < 0 || __builtin_add_overflow(before, image, &sum))
    return -1;
  return sum;
}
int64_t extent(View v) { return extent(v.n, v.c, v.h, v.w, v.batchStride); }

bool sameShape(View a, View b) {
  return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

std::string firstOf(std::string a, std::string b) {
  return a.empty() ? b : a;
}

std::string checkInOut(View in, View out) {
  return firstOf(checkView("input", in), checkView("output", out));
}

std::string mismatch(View out, View in, const std::string &expected) {
  return "output " + describe(out) + " does not match the input " +
         describe(in) + (expected.empty() ? "" : " (expected " + expected + ")");
}

std::string shape4(int64_t n, int64_t c, int64_t h, int64_t w) {
  return std::to_string(n) + "x" + std::to_string(c) + "x" +
         std::to_string(h) + "x" + std::to_string(w);
}

} // namespace

std::string ios::rt::detail::checkView(const char *role, View v) {
  if (!v.data)
    return std::string(role) + " is a null view";
  if (v.n < 1 || v.c < 1 || v.h < 1 || v.w < 1)
    return std::string(role) + " has an empty or negative shape " +
           describe(v);
  if (extent(v) < 0)
    return std::string(role) + " " + describe(v) + " is too large";
  if (v.n > 1 && v.batchStride < v.c * v.h * v.w)
    return std::string(role) + " " + describe(v) +
           " has a batch stride smaller than one image";
  return {};
}

std::string ios::rt::detail::checkArenaView(int64_t offset, int64_t n,
                                            int64_t c, int64_t h, int64_t w,
                                            int64_t batchStride,
                                            int64_t arenaFloats) {
  std::string what = "view " + shape4(n, c, h, w) + " (batch stride " +
                     std::to_string(batchStride) + ") at offset " +
                     std::to_string(offset);
  if (n < 1 || c < 1 || h < 1 || w < 1)
    return what + ": sizes must be positive";
  int64_t image = product(product(c, h), w);
  if (image < 0 || batchStride < image)
    return what + ": the batch stride is smaller than one image (" +
           std::to_string(image) + " floats)";
  int64_t size = extent(n, c, h, w, batchStride);
  if (offset < 0 || size < 0 || size > arenaFloats ||
      offset > arenaFloats - size)
    return what + " is outside the arena of " + std::to_string(arenaFloats) +
           " floats";
  return {};
}

std::string ios::rt::detail::checkInArena(const char *role, View v,
                                          const float *base, int64_t size) {
  int64_t floats = extent(v);
  if (v.data < base || v.data >= base + size || floats < 0 ||
      v.data - base > size - floats) {
    std::string where = v.data >= base && v.data < base + size
                            ? " at arena offset " +
                                  std::to_string(v.data - base) +
                                  " ends past the arena of " +
                                  std::to_string(size) + " floats"
                            : " is not in the arena";
    return std::string(role) + " " + describe(v) + where;
  }
  return {};
}

bool ios::rt::detail::overlaps(View a, View b) {
  // Quick reject on the whole extents, then walk both images' intervals in
  // address order (batch strides may differ).
  const float *aEnd = a.data + extent(a), *bEnd = b.data + extent(b);
  if (aEnd <= b.data || bEnd <= a.data)
    return false;
  int64_t la = a.c * a.h * a.w, lb = b.c * b.h * b.w;
  int64_t i = 0, j = 0;
  while (i < a.n && j < b.n) {
    const float *s0 = a.data + i * a.batchStride, *e0 = s0 + la;
    const float *s1 = b.data + j * b.batchStride, *e1 = s1 + lb;
    if (s0 < e1 && s1 < e0)
      return true;
    if (e0 <= e1)
      ++i;
    else
      ++j;
  }
  return false;
}

bool ios::rt::detail::sameElements(View a, View b) {
  return a.data == b.data && sameShape(a, b) &&
         (a.n == 1 || a.batchStride == b.batchStride);
}

bool ios::rt::detail::broadcastsTo(View v, View like) {
  return v.n == like.n && v.c == like.c && v.h == 1 && v.w == 1;
}

std::string ios::rt::detail::checkConv(View in, View out, const ConvShape &s) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (s.groups < 1 || in.c % s.groups || out.c % s.groups)
    return "group count " + std::to_string(s.groups) +
           " does not divide the input channels (" + std::to_string(in.c) +
           ") and the output channels (" + std::to_string(out.c) + ")";
  int64_t oh = windowOutput(in.h, s.kh, s.sh, s.ph, s.dh);
  int64_t ow = windowOutput(in.w, s.kw, s.sw, s.pw, s.dw);
  if (oh < 0 || ow < 0)
    return "bad window: kernel " + std::to_string(s.kh) + "x" +
           std::to_string(s.kw) + ", stride " + std::to_string(s.sh) + "x" +
           std::to_string(s.sw) + ", padding " + std::to_string(s.ph) + "x" +
           std::to_string(s.pw) + ", dilation " + std::to_string(s.dh) + "x" +
           std::to_string(s.dw) + " on a " + describe(in) + " input";
  if (out.n != in.n || out.h != oh || out.w != ow)
    return mismatch(out, in, shape4(in.n, out.c, oh, ow));
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

int64_t ios::rt::detail::convWeightElements(View in, View out,
                                            const ConvShape &s) {
  return out.c * (in.c / std::max<int64_t>(s.groups, 1)) * s.kh * s.kw;
}

std::string ios::rt::detail::checkAct(Act act) {
  if (act < ActNone || act > ActSilu)
    return "unknown activation " + std::to_string(int(act));
  return {};
}

PoolShape PoolShape::of(View in, PoolKind kind, int64_t kh, int64_t kw,
                        int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  if (kind == PoolGlobalMax || kind == PoolGlobalAvg)
    return {in.h, in.w, 1, 1, 0, 0};
  return {kh, kw, sh, sw, ph, pw};
}

int64_t PoolShape::padBottom(View in, View out) const {
  return std::max(ph, (out.h - 1) * sh + kh - in.h - ph);
}

int64_t PoolShape::padRight(View in, View out) const {
  return std::max(pw, (out.w - 1) * sw + kw - in.w - pw);
}

std::string ios::rt::detail::checkPool(View in, View out, PoolKind kind,
                                       int64_t kh, int64_t kw, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (kind != PoolMax && kind != PoolAvg && kind != PoolGlobalMax &&
      kind != PoolGlobalAvg)
    return "unknown pooling kind " + std::to_string(int(kind));
  PoolShape p = PoolShape::of(in, kind, kh, kw, sh, sw, ph, pw);
  int64_t oh = windowOutput(in.h, p.kh, p.sh, p.ph, 1);
  int64_t ow = windowOutput(in.w, p.kw, p.sw, p.pw, 1);
  if (oh < 0 || ow < 0 || p.ph * 2 > p.kh || p.pw * 2 > p.kw)
    return "bad window: kernel " + std::to_string(p.kh) + "x" +
           std::to_string(p.kw) + ", stride " + std::to_string(p.sh) + "x" +
           std::to_string(p.sw) + ", padding " + std::to_string(p.ph) + "x" +
           std::to_string(p.pw) + " on a " + describe(in) + " input";
  int64_t ch = ceilPoolOutput(in.h, p.kh, p.sh, p.ph);
  int64_t cw = ceilPoolOutput(in.w, p.kw, p.sw, p.pw);
  if (out.n != in.n || out.c != in.c || (out.h != oh && out.h != ch) ||
      (out.w != ow && out.w != cw))
    return mismatch(out, in,
                    shape4(in.n, in.c, oh, ow) +
                        (ch != oh || cw != ow
                             ? ", or " + shape4(in.n, in.c, ch, cw) +
                                   " with ceil_mode"
                             : ""));
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkElementwise(View out, int32_t count,
                                              const View *in) {
  if (count < 1 || !in)
    return "no operands";
  std::string e = checkView("output", out);
  for (int32_t k = 0; k < count && e.empty(); ++k) {
    std::string role = "operand " + std::to_string(k);
    e = checkView(role.c_str(), in[k]);
    if (e.empty() && !sameShape(in[k], out))
      e = role + " " + describe(in[k]) + " does not match the output " +
          describe(out);
    if (e.empty() && !sameElements(in[k], out) && overlaps(in[k], out))
      e = role + " partially overlaps the output";
  }
  return e;
}

std::string ios::rt::detail::checkBroadcast(View out, int32_t count,
                                            const View *in) {
  if (count < 1 || !in)
    return "no operands";
  std::string e = checkView("output", out);
  for (int32_t k = 0; k < count && e.empty(); ++k) {
    std::string role = "operand " + std::to_string(k);
    e = checkView(role.c_str(), in[k]);
    if (!e.empty())
      break;
    if (sameShape(in[k], out)) {
      if (!sameElements(in[k], out) && overlaps(in[k], out))
        e = role + " partially overlaps the output";
    } else if (broadcastsTo(in[k], out)) {
      if (overlaps(in[k], out))
        e = role + " (broadcast) overlaps the output";
    } else {
      e = role + " " + describe(in[k]) + " neither matches the output " +
          describe(out) + " nor is " + shape4(out.n, out.c, 1, 1);
    }
  }
  return e;
}

std::string ios::rt::detail::checkPad(View in, View out, int64_t top,
                                      int64_t left, int64_t bottom,
                                      int64_t right) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (top < 0 || left < 0 || bottom < 0 || right < 0)
    return "negative padding " + std::to_string(top) + ", " +
           std::to_string(left) + ", " + std::to_string(bottom) + ", " +
           std::to_string(right) + " (top, left, bottom, right)";
  if (out.n != in.n || out.c != in.c || out.h != in.h + top + bottom ||
      out.w != in.w + left + right)
    return mismatch(out, in,
                    shape4(in.n, in.c, in.h + top + bottom,
                           in.w + left + right));
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkUpsample(View in, View out) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (out.n != in.n || out.c != in.c || out.h % in.h || out.w % in.w)
    return mismatch(out, in, "") + ": not an integer upsampling";
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkChannelShuffle(View in, View out,
                                                 int64_t groups) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (!sameShape(in, out))
    return mismatch(out, in, "");
  if (groups < 1 || in.c % groups)
    return "group count " + std::to_string(groups) +
           " does not divide the channels (" + std::to_string(in.c) + ")";
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkLinear(View in, View out) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (in.n != out.n || out.h != 1 || out.w != 1)
    return mismatch(out, in, shape4(in.n, out.c, 1, 1));
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkSoftmax(View in, View out) {
  if (std::string e = checkInOut(in, out); !e.empty())
    return e;
  if (!sameShape(in, out))
    return mismatch(out, in, "");
  if (!sameElements(in, out) && overlaps(in, out))
    return "the output partially overlaps the input";
  return {};
}

std::string ios::rt::detail::checkWeight(const char *name,
                                         const std::vector<float> *values,
                                         int64_t elements) {
  std::string quoted = std::string("weight '") + (name ? name : "") + "'";
  if (!values)
    return quoted + " is not loaded";
  if (int64_t(values->size()) != elements)
    return quoted + " has " + std::to_string(values->size()) +
           " values, expected " + std::to_string(elements);
  return {};
}

bool ios::rt::detail::named(const char *name) { return name && *name; }

std::string ios::rt::detail::checkPackConv(int64_t totalOut,
                                           int64_t inChannels, int64_t kh,
                                           int64_t kw, int64_t outOffset,
                                           int64_t out, int64_t srcKh,
                                           int64_t srcKw, int64_t top,
                                           int64_t left) {
  if (totalOut >= 1 && inChannels >= 1 && kh >= 1 && kw >= 1 && out >= 1 &&
      srcKh >= 1 && srcKw >= 1 && top >= 0 && left >= 0 &&
      top + srcKh <= kh && left + srcKw <= kw && outOffset >= 0 &&
      outOffset + out <= totalOut)
    return {};
  return "a " + shape4(out, inChannels, srcKh, srcKw) +
         " source at output channel " + std::to_string(outOffset) + ", row " +
         std::to_string(top) + ", column " + std::to_string(left) +
         " does not fit a " + shape4(totalOut, inChannels, kh, kw) +
         " weight";
}

void ios::rt::detail::packConvInto(float *packed, const float *src,
                                   int64_t inChannels, int64_t kh, int64_t kw,
                                   int64_t outOffset, int64_t out,
                                   int64_t srcKh, int64_t srcKw, int64_t top,
                                   int64_t left) {
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < inChannels; ++c)
      for (int64_t i = 0; i < srcKh; ++i)
        for (int64_t j = 0; j < srcKw; ++j)
          packed[(((outOffset + o) * inChannels + c) * kh + top + i) * kw +
                 left + j] =
              src[((o * inChannels + c) * srcKh + i) * srcKw + j];
}

std::string ios::rt::detail::checkPackBias(int64_t total, int64_t offset,
                                           int64_t size) {
  if (total >= 1 && size >= 1 && offset >= 0 && offset + size <= total)
    return {};
  return std::to_string(size) + " values at offset " + std::to_string(offset) +
         " do not fit " + std::to_string(total);
}
