//===- Kernels.cpp - CPU kernels of the IOS runtime -----------------------===//
//
// Convolutions are GEMMs (Gemm.h) whose B operand is packed straight from the
// input windows (an implicit im2col: no column buffer), per image and group;
// 1x1/stride-1/unpadded convolutions read the input planes as B directly.
// Depthwise convolutions are direct loops whose inner loop runs along an
// output row (contiguous, vectorised for stride 1).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "Gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace ios::rt;
using namespace ios::rt::cpu;

namespace {

float *image(View v, int64_t n) { return v.data + n * v.batchStride; }

float applyAct(float x, Act act) {
  switch (act) {
  case ActRelu:
    return x > 0 ? x : 0;
  case ActSigmoid:
    return 1.0f / (1.0f + std::exp(-x));
  case ActTanh:
    return std::tanh(x);
  case ActNone:
    return x;
  }
  return x;
}

void applyAct(float *x, int64_t count, Act act) {
  switch (act) {
  case ActNone:
    return;
  case ActRelu:
    for (int64_t i = 0; i < count; ++i)
      x[i] = x[i] > 0 ? x[i] : 0;
    return;
  default:
    for (int64_t i = 0; i < count; ++i)
      x[i] = applyAct(x[i], act);
  }
}

/// The B operand of a convolution: row k = (c, i, j) of the window, column
/// p = (y, x) of the output; element = input(c, y*sh - ph + i*dh,
/// x*sw - pw + j*dw), zero in the padding.
struct ConvB {
  const float *src;
  int64_t H, W, kh, kw, sh, sw, ph, pw, dh, dw, ow;
};

void packConvB(const void *state, int64_t k0, int64_t kc, int64_t j0,
               int64_t nc, float *dst) {
  const ConvB &s = *static_cast<const ConvB *>(state);
  constexpr int64_t NR = kGemmNR;
  const int64_t khw = s.kh * s.kw, plane = s.H * s.W;
  for (int64_t jp = 0; jp < nc; jp += NR) {
    int64_t w = std::min(NR, nc - jp), p0 = j0 + jp;
    int64_t yb[NR], xb[NR];
    for (int64_t t = 0; t < w; ++t) {
      int64_t y = (p0 + t) / s.ow, x = (p0 + t) % s.ow;
      yb[t] = y * s.sh - s.ph;
      xb[t] = x * s.sw - s.pw;
    }
    // The panel's columns lie on one output row: one input row per k.
    bool oneRow = (p0 % s.ow) + w <= s.ow;
    for (int64_t k = k0; k < k0 + kc; ++k, dst += NR) {
      int64_t c = k / khw, r = k - c * khw, i = r / s.kw, j = r - i * s.kw;
      const float *src = s.src + c * plane;
      int64_t di = i * s.dh, dj = j * s.dw;
      if (oneRow) {
        int64_t iy = yb[0] + di;
        if (iy < 0 || iy >= s.H) {
          std::fill(dst, dst + NR, 0.0f);
          continue;
        }
        const float *row = src + iy * s.W;
        if (s.sw == 1) {
          int64_t x0 = xb[0] + dj;
          if (x0 >= 0 && x0 + w <= s.W) {
            std::copy(row + x0, row + x0 + w, dst);
          } else {
            for (int64_t t = 0; t < w; ++t) {
              int64_t ix = x0 + t;
              dst[t] = ix >= 0 && ix < s.W ? row[ix] : 0.0f;
            }
          }
        } else {
          for (int64_t t = 0; t < w; ++t) {
            int64_t ix = xb[t] + dj;
            dst[t] = ix >= 0 && ix < s.W ? row[ix] : 0.0f;
          }
        }
      } else {
        for (int64_t t = 0; t < w; ++t) {
          int64_t iy = yb[t] + di, ix = xb[t] + dj;
          dst[t] = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W
                       ? src[iy * s.W + ix]
                       : 0.0f;
        }
      }
      std::fill(dst + w, dst + NR, 0.0f);
    }
  }
}

/// One output plane of a depthwise convolution (one input channel).
void depthwisePlane(const float *src, int64_t H, int64_t W, const float *w,
                    float bias, float *dst, int64_t oh, int64_t ow,
                    const ConvParams &p) {
  std::fill(dst, dst + oh * ow, bias);
  for (int64_t i = 0; i < p.kh; ++i)
    for (int64_t j = 0; j < p.kw; ++j) {
      float wv = w[i * p.kw + j];
      int64_t dj = j * p.dw - p.pw;
      // Output columns x with 0 <= x*sw + dj < W.
      int64_t xlo = dj >= 0 ? 0 : (-dj + p.sw - 1) / p.sw;
      int64_t xhi = W - 1 - dj < 0 ? 0 : std::min(ow, (W - 1 - dj) / p.sw + 1);
      if (xlo >= xhi)
        continue;
      for (int64_t y = 0; y < oh; ++y) {
        int64_t iy = y * p.sh - p.ph + i * p.dh;
        if (iy < 0 || iy >= H)
          continue;
        const float *row = src + iy * W + dj;
        float *out = dst + y * ow;
        if (p.sw == 1) {
          for (int64_t x = xlo; x < xhi; ++x)
            out[x] += wv * row[x];
        } else {
          for (int64_t x = xlo; x < xhi; ++x)
            out[x] += wv * row[x * p.sw];
        }
      }
    }
  applyAct(dst, oh * ow, p.act);
}

} // namespace

std::string ios::rt::cpu::conv2d(View in, View out, const float *weight,
                                 const float *bias, const ConvParams &p) {
  if (std::string e = detail::checkConv(in, out, p); !e.empty())
    return e;
  if (std::string e = detail::checkAct(p.act); !e.empty())
    return e;
  if (!weight)
    return "no weight";
  const int64_t g = p.groups, cinG = in.c / g, coutG = out.c / g;
  const int64_t oh = out.h, ow = out.w, pixels = oh * ow;
  const int64_t plane = in.h * in.w, K = cinG * p.kh * p.kw;

  if (cinG == 1 && coutG == 1) {
    for (int64_t n = 0; n < in.n; ++n)
      for (int64_t c = 0; c < out.c; ++c)
        depthwisePlane(image(in, n) + c * plane, in.h, in.w,
                       weight + c * p.kh * p.kw, bias ? bias[c] : 0.0f,
                       image(out, n) + c * pixels, oh, ow, p);
    return {};
  }

  bool pointwise = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 &&
                   p.ph == 0 && p.pw == 0;
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t grp = 0; grp < g; ++grp) {
      const float *src = image(in, n) + grp * cinG * plane;
      float *dst = image(out, n) + grp * coutG * pixels;
      for (int64_t c = 0; c < coutG; ++c)
        std::fill(dst + c * pixels, dst + (c + 1) * pixels,
                  bias ? bias[grp * coutG + c] : 0.0f);
      const float *A = weight + grp * coutG * K;
      if (pointwise) {
        RowMajorB b{src, plane};
        gemm(coutG, pixels, K, A, K, packRowMajorB, &b, dst, pixels);
      } else {
        ConvB b{src, in.h, in.w, p.kh, p.kw, p.sh, p.sw,
                p.ph, p.pw,  p.dh, p.dw, ow};
        gemm(coutG, pixels, K, A, K, packConvB, &b, dst, pixels);
      }
      applyAct(dst, coutG * pixels, p.act);
    }
  return {};
}

std::string ios::rt::cpu::pool2d(View in, View out, PoolKind kind, int64_t kh,
                                 int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                 int64_t pw) {
  if (std::string e = detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
      !e.empty())
    return e;
  const int64_t plane = in.h * in.w;
  if (kind == PoolGlobalMax || kind == PoolGlobalAvg) {
    for (int64_t n = 0; n < in.n; ++n)
      for (int64_t c = 0; c < in.c; ++c) {
        const float *src = image(in, n) + c * plane;
        float *dst = image(out, n) + c;
        if (kind == PoolGlobalMax) {
          *dst = *std::max_element(src, src + plane);
        } else {
          double sum = 0;
          for (int64_t i = 0; i < plane; ++i)
            sum += src[i];
          *dst = float(sum / double(plane));
        }
      }
    return {};
  }
  const bool isMax = kind == PoolMax;
  const float area = float(kh * kw); // averages count the padding
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c) {
      const float *src = image(in, n) + c * plane;
      float *dst = image(out, n) + c * out.h * out.w;
      for (int64_t y = 0; y < out.h; ++y) {
        int64_t y0 = y * sh - ph;
        int64_t ilo = std::max<int64_t>(0, -y0),
                ihi = std::min(kh, in.h - y0);
        for (int64_t x = 0; x < out.w; ++x) {
          int64_t x0 = x * sw - pw;
          int64_t jlo = std::max<int64_t>(0, -x0),
                  jhi = std::min(kw, in.w - x0);
          float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
          for (int64_t i = ilo; i < ihi; ++i) {
            const float *row = src + (y0 + i) * in.w + x0;
            if (isMax)
              for (int64_t j = jlo; j < jhi; ++j)
                acc = std::max(acc, row[j]);
            else
              for (int64_t j = jlo; j < jhi; ++j)
                acc += row[j];
          }
          dst[y * out.w + x] = isMax ? acc : acc / area;
        }
      }
    }
  return {};
}

std::string ios::rt::cpu::activation(View in, View out, Act act) {
  if (std::string e = detail::checkElementwise(out, 1, &in); !e.empty())
    return e;
  if (std::string e = detail::checkAct(act); !e.empty())
    return e;
  const int64_t size = in.c * in.h * in.w;
  for (int64_t n = 0; n < in.n; ++n) {
    const float *src = image(in, n);
    float *dst = image(out, n);
    if (src != dst)
      std::memcpy(dst, src, size_t(size) * sizeof(float));
    applyAct(dst, size, act);
  }
  return {};
}

std::string ios::rt::cpu::add(View out, int32_t count, const View *in) {
  if (std::string e = detail::checkElementwise(out, count, in); !e.empty())
    return e;
  const int64_t size = out.c * out.h * out.w;
  std::vector<const float *> srcs(static_cast<size_t>(count));
  for (int64_t n = 0; n < out.n; ++n) {
    float *dst = image(out, n);
    for (int32_t k = 0; k < count; ++k)
      srcs[k] = image(in[k], n);
    // Two operands at a time: each pass streams three arrays.
    if (count == 1) {
      if (srcs[0] != dst)
        std::memcpy(dst, srcs[0], size_t(size) * sizeof(float));
      continue;
    }
    {
      const float *a = srcs[0], *b = srcs[1];
      for (int64_t i = 0; i < size; ++i)
        dst[i] = a[i] + b[i];
    }
    for (int32_t k = 2; k < count; ++k) {
      const float *a = srcs[k];
      for (int64_t i = 0; i < size; ++i)
        dst[i] += a[i];
    }
  }
  return {};
}

std::string ios::rt::cpu::mul(View a, View b, View out) {
  const View ins[] = {a, b};
  if (std::string e = detail::checkElementwise(out, 2, ins); !e.empty())
    return e;
  const int64_t size = out.c * out.h * out.w;
  for (int64_t n = 0; n < out.n; ++n) {
    const float *x = image(a, n), *y = image(b, n);
    float *dst = image(out, n);
    for (int64_t i = 0; i < size; ++i)
      dst[i] = x[i] * y[i];
  }
  return {};
}

std::string ios::rt::cpu::copy(View in, View out) {
  if (std::string e = detail::checkElementwise(out, 1, &in); !e.empty())
    return e;
  const int64_t size = in.c * in.h * in.w;
  for (int64_t n = 0; n < in.n; ++n)
    if (image(in, n) != image(out, n))
      std::memcpy(image(out, n), image(in, n), size_t(size) * sizeof(float));
  return {};
}

std::string ios::rt::cpu::linear(View in, View out, const float *weight,
                                 const float *bias) {
  if (std::string e = detail::checkLinear(in, out); !e.empty())
    return e;
  if (!weight)
    return "no weight";
  const int64_t k = in.c * in.h * in.w, m = out.c * out.h * out.w;
  constexpr int kLanes = 16;
  for (int64_t n = 0; n < in.n; ++n) {
    const float *x = image(in, n);
    float *y = image(out, n);
    for (int64_t j = 0; j < m; ++j) {
      const float *w = weight + j * k;
      // Independent partial sums: the loop vectorises without reassociation.
      float part[kLanes] = {};
      int64_t i = 0;
      for (; i + kLanes <= k; i += kLanes)
        for (int l = 0; l < kLanes; ++l)
          part[l] += w[i + l] * x[i + l];
      float acc = bias ? bias[j] : 0.0f;
      for (; i < k; ++i)
        acc += w[i] * x[i];
      for (int l = 0; l < kLanes; ++l)
        acc += part[l];
      y[j] = acc;
    }
  }
  return {};
}

std::string ios::rt::cpu::softmax(View in, View out) {
  if (std::string e = detail::checkSoftmax(in, out); !e.empty())
    return e;
  const int64_t f = in.c * in.h * in.w;
  for (int64_t n = 0; n < in.n; ++n) {
    const float *x = image(in, n);
    float *y = image(out, n);
    float top = *std::max_element(x, x + f);
    double sum = 0;
    for (int64_t i = 0; i < f; ++i)
      sum += (y[i] = std::exp(x[i] - top));
    for (int64_t i = 0; i < f; ++i)
      y[i] = float(y[i] / sum);
  }
  return {};
}
