//===- Checks.cpp - Argument checks shared by the runtime backends --------===//

#include "Checks.h"

#include <algorithm>

using namespace ios::rt;
using namespace ios::rt::detail;

int64_t ios::rt::detail::windowOutput(int64_t in, int64_t k, int64_t stride,
                                      int64_t pad, int64_t dilation) {
  int64_t effective = dilation * (k - 1) + 1;
  if (k < 1 || stride < 1 || pad < 0 || dilation < 1 ||
      in + 2 * pad < effective)
    return -1;
  return (in + 2 * pad - effective) / stride + 1;
}

std::string ios::rt::detail::describe(View v) {
  std::string s = std::to_string(v.n) + "x" + std::to_string(v.c) + "x" +
                  std::to_string(v.h) + "x" + std::to_string(v.w);
  if (v.batchStride != v.c * v.h * v.w)
    s += " (batch stride " + std::to_string(v.batchStride) + ")";
  return s;
}

std::string ios::rt::detail::checkView(const char *role, View v) {
  if (!v.data)
    return std::string(role) + " is a null view";
  if (v.n < 1 || v.c < 1 || v.h < 1 || v.w < 1)
    return std::string(role) + " has an empty or negative shape " +
           describe(v);
  if (v.n > 1 && v.batchStride < v.c * v.h * v.w)
    return std::string(role) + " " + describe(v) +
           " has a batch stride smaller than one image";
  return {};
}

namespace {
/// One past the view's last float, relative to its data pointer.
int64_t extent(View v) { return (v.n - 1) * v.batchStride + v.c * v.h * v.w; }
} // namespace

std::string ios::rt::detail::checkInArena(const char *role, View v,
                                          const float *base, int64_t size) {
  if (v.data < base || v.data >= base + size)
    return {};
  int64_t offset = v.data - base;
  if (offset + extent(v) > size)
    return std::string(role) + " " + describe(v) + " at arena offset " +
           std::to_string(offset) + " ends past the arena of " +
           std::to_string(size) + " floats";
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
  return a.data == b.data && a.n == b.n && a.c == b.c && a.h == b.h &&
         a.w == b.w && (a.n == 1 || a.batchStride == b.batchStride);
}

namespace {
bool sameShape(View a, View b) {
  return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}
std::string firstOf(std::string a, std::string b) {
  return a.empty() ? b : a;
}
} // namespace

std::string ios::rt::detail::checkConv(View in, View out, const ConvShape &s) {
  std::string e = firstOf(checkView("input", in), checkView("output", out));
  if (!e.empty())
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
    return "output " + describe(out) + " does not match the input " +
           describe(in) + " (expected " + std::to_string(in.n) + "x" +
           std::to_string(out.c) + "x" + std::to_string(oh) + "x" +
           std::to_string(ow) + ")";
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkPool(View in, View out, PoolKind kind,
                                       int64_t kh, int64_t kw, int64_t sh,
                                       int64_t sw, int64_t ph, int64_t pw) {
  std::string e = firstOf(checkView("input", in), checkView("output", out));
  if (!e.empty())
    return e;
  if (kind != PoolMax && kind != PoolAvg && kind != PoolGlobalMax &&
      kind != PoolGlobalAvg)
    return "unknown pooling kind " + std::to_string(int(kind));
  int64_t oh = 1, ow = 1;
  if (kind == PoolMax || kind == PoolAvg) {
    oh = windowOutput(in.h, kh, sh, ph, 1);
    ow = windowOutput(in.w, kw, sw, pw, 1);
    if (oh < 0 || ow < 0 || ph * 2 > kh || pw * 2 > kw)
      return "bad window: kernel " + std::to_string(kh) + "x" +
             std::to_string(kw) + ", stride " + std::to_string(sh) + "x" +
             std::to_string(sw) + ", padding " + std::to_string(ph) + "x" +
             std::to_string(pw) + " on a " + describe(in) + " input";
  }
  if (out.n != in.n || out.c != in.c || out.h != oh || out.w != ow)
    return "output " + describe(out) + " does not match the input " +
           describe(in) + " (expected " + std::to_string(in.n) + "x" +
           std::to_string(in.c) + "x" + std::to_string(oh) + "x" +
           std::to_string(ow) + ")";
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

std::string ios::rt::detail::checkLinear(View in, View out) {
  std::string e = firstOf(checkView("input", in), checkView("output", out));
  if (!e.empty())
    return e;
  if (in.n != out.n)
    return "output " + describe(out) + " does not match the input " +
           describe(in) + " (batch)";
  if (overlaps(in, out))
    return "the output overlaps the input";
  return {};
}

std::string ios::rt::detail::checkSoftmax(View in, View out) {
  std::string e = firstOf(checkView("input", in), checkView("output", out));
  if (!e.empty())
    return e;
  if (!sameShape(in, out))
    return "output " + describe(out) + " does not match the input " +
           describe(in);
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

std::string ios::rt::detail::checkPackConv(int64_t totalOut,
                                           int64_t inChannels, int64_t kh,
                                           int64_t kw, int64_t outOffset,
                                           int64_t out, int64_t srcKh,
                                           int64_t srcKw) {
  if (totalOut >= 1 && inChannels >= 1 && kh >= 1 && kw >= 1 && out >= 1 &&
      srcKh >= 1 && srcKw >= 1 && srcKh <= kh && srcKw <= kw &&
      (kh - srcKh) % 2 == 0 && (kw - srcKw) % 2 == 0 && outOffset >= 0 &&
      outOffset + out <= totalOut)
    return {};
  return "a " + std::to_string(out) + "x" + std::to_string(inChannels) + "x" +
         std::to_string(srcKh) + "x" + std::to_string(srcKw) +
         " source at output channel " + std::to_string(outOffset) +
         " does not fit a " + std::to_string(totalOut) + "x" +
         std::to_string(inChannels) + "x" + std::to_string(kh) + "x" +
         std::to_string(kw) + " weight";
}

void ios::rt::detail::packConvInto(float *packed, const float *src,
                                   int64_t inChannels, int64_t kh, int64_t kw,
                                   int64_t outOffset, int64_t out,
                                   int64_t srcKh, int64_t srcKw) {
  int64_t top = (kh - srcKh) / 2, left = (kw - srcKw) / 2;
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

std::string ios::rt::detail::checkAct(Act act) {
  if (act < ActNone || act > ActTanh)
    return "unknown activation " + std::to_string(int(act));
  return {};
}
