//===- Reference.h - Naive reference kernels for the runtime tests -*- C++ -*-//
//
// The definitions, loop by loop, in double precision, on (possibly strided)
// views.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_UNITTESTS_RUNTIME_REFERENCE_H
#define IOS_UNITTESTS_RUNTIME_REFERENCE_H

#include "ios/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ios::rt::ref {

inline float &at(View v, int64_t n, int64_t c, int64_t y, int64_t x) {
  return v.data[n * v.batchStride + (c * v.h + y) * v.w + x];
}

inline double act(double v, Act a) {
  switch (a) {
  case ActRelu:
    return v > 0 ? v : 0;
  case ActSigmoid:
    return 1 / (1 + std::exp(-v));
  case ActTanh:
    return std::tanh(v);
  case ActRelu6:
    return std::min(std::max(v, 0.0), 6.0);
  case ActHardSigmoid:
    return std::min(std::max(v + 3, 0.0), 6.0) / 6;
  case ActHardSwish:
    return v * std::min(std::max(v + 3, 0.0), 6.0) / 6;
  case ActSilu:
    return v / (1 + std::exp(-v));
  default:
    return v;
  }
}

/// The expected output of a convolution, as a dense n x oc x oh x ow array.
inline std::vector<double> conv(View in, int64_t oc, const float *w,
                                const float *b, int64_t kh, int64_t kw,
                                int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                                int64_t dh, int64_t dw, int64_t groups, Act a) {
  int64_t oh = (in.h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  int64_t ow = (in.w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  int64_t cinG = in.c / groups, coutG = oc / groups;
  std::vector<double> out(size_t(in.n * oc * oh * ow));
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int64_t g = o / coutG;
          double acc = b ? b[o] : 0.0;
          for (int64_t ci = 0; ci < cinG; ++ci)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t iy = y * sh - ph + i * dh, ix = x * sw - pw + j * dw;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                  continue;
                acc += double(w[((o * cinG + ci) * kh + i) * kw + j]) *
                       at(in, n, g * cinG + ci, iy, ix);
              }
          out[size_t(((n * oc + o) * oh + y) * ow + x)] = act(acc, a);
        }
  return out;
}

/// PyTorch's pooling (avg_pool2d / max_pool2d), window by window: the
/// output size `oh` x `ow` (floor or ceil_mode) is given; a window starts at
/// y * s - p and is clipped at the padded input (in + p) for the divisor
/// that counts padding, at the input for the taps and the other divisor.
inline std::vector<double> pool(View in, PoolKind kind, int64_t kh, int64_t kw,
                                int64_t sh, int64_t sw, int64_t ph,
                                int64_t pw, bool countIncludePad, int64_t oh,
                                int64_t ow) {
  if (kind == PoolGlobalMax || kind == PoolGlobalAvg) {
    kh = in.h;
    kw = in.w;
    sh = sw = 1;
    ph = pw = 0;
  }
  bool isMax = kind == PoolMax || kind == PoolGlobalMax;
  std::vector<double> out(size_t(in.n * in.c * oh * ow));
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int64_t y0 = y * sh - ph, x0 = x * sw - pw;
          int64_t y1 = std::min(y0 + kh, in.h + ph),
                  x1 = std::min(x0 + kw, in.w + pw);
          int64_t padded = (y1 - y0) * (x1 - x0);
          y0 = std::max<int64_t>(y0, 0);
          x0 = std::max<int64_t>(x0, 0);
          y1 = std::min(y1, in.h);
          x1 = std::min(x1, in.w);
          double acc = isMax ? -std::numeric_limits<double>::infinity() : 0;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) {
              double v = at(in, n, c, iy, ix);
              acc = isMax ? std::max(acc, v) : acc + v;
            }
          double divisor =
              countIncludePad ? double(padded) : double((y1 - y0) * (x1 - x0));
          out[size_t(((n * in.c + c) * oh + y) * ow + x)] =
              isMax ? acc : acc / divisor;
        }
  return out;
}

/// Floor-mode pooling (the output size of the window rule), counting the
/// padding.
inline std::vector<double> pool(View in, PoolKind kind, int64_t kh, int64_t kw,
                                int64_t sh, int64_t sw, int64_t ph,
                                int64_t pw) {
  bool global = kind == PoolGlobalMax || kind == PoolGlobalAvg;
  int64_t oh = global ? 1 : (in.h + 2 * ph - kh) / sh + 1;
  int64_t ow = global ? 1 : (in.w + 2 * pw - kw) / sw + 1;
  return pool(in, kind, kh, kw, sh, sw, ph, pw, true, oh, ow);
}

/// Constant padding.
inline std::vector<double> pad(View in, int64_t top, int64_t left,
                               int64_t bottom, int64_t right, double value) {
  int64_t oh = in.h + top + bottom, ow = in.w + left + right;
  std::vector<double> out(size_t(in.n * in.c * oh * ow), value);
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c)
      for (int64_t y = 0; y < in.h; ++y)
        for (int64_t x = 0; x < in.w; ++x)
          out[size_t(((n * in.c + c) * oh + y + top) * ow + x + left)] =
              at(in, n, c, y, x);
  return out;
}

/// Nearest upsampling by integer factors.
inline std::vector<double> upsample(View in, int64_t fh, int64_t fw) {
  int64_t oh = in.h * fh, ow = in.w * fw;
  std::vector<double> out(size_t(in.n * in.c * oh * ow));
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          out[size_t(((n * in.c + c) * oh + y) * ow + x)] =
              at(in, n, c, y / fh, x / fw);
  return out;
}

/// ShuffleNet's channel shuffle: x.view(N, g, C/g, H, W).transpose(1, 2).
inline std::vector<double> shuffle(View in, int64_t groups) {
  int64_t per = in.c / groups, plane = in.h * in.w;
  std::vector<double> out(size_t(in.n * in.c * plane));
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t i = 0; i < groups; ++i)
      for (int64_t j = 0; j < per; ++j)
        for (int64_t p = 0; p < plane; ++p)
          out[size_t((n * in.c + j * groups + i) * plane + p)] =
              at(in, n, i * per + j, p / in.w, p % in.w);
  return out;
}

/// Applies `f(n, c, y, x)` to every element of an n x c x h x w output, as
/// a dense array.
template <typename F>
std::vector<double> each(int64_t n, int64_t c, int64_t h, int64_t w, F f) {
  std::vector<double> out;
  out.reserve(size_t(n * c * h * w));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          out.push_back(f(i, j, y, x));
  return out;
}

/// An operand of a broadcasting op: (N, C, 1, 1) views give their channel's
/// value everywhere.
inline double operand(View v, int64_t n, int64_t c, int64_t y, int64_t x) {
  return v.h == 1 && v.w == 1 ? at(v, n, c, 0, 0) : at(v, n, c, y, x);
}

/// Largest |got - want| / max(1, |want|) over a view and a dense array.
inline double maxError(View got, const std::vector<double> &want) {
  double worst = 0;
  size_t i = 0;
  for (int64_t n = 0; n < got.n; ++n)
    for (int64_t c = 0; c < got.c; ++c)
      for (int64_t y = 0; y < got.h; ++y)
        for (int64_t x = 0; x < got.w; ++x, ++i) {
          double w = want[i];
          double e = std::fabs(double(at(got, n, c, y, x)) - w) /
                     std::max(1.0, std::fabs(w));
          worst = std::max(worst, std::isnan(e) ? 1e30 : e);
        }
  return worst;
}

} // namespace ios::rt::ref

#endif // IOS_UNITTESTS_RUNTIME_REFERENCE_H
