//===- Kernels.cpp - CPU kernels of the IOS runtime -----------------------===//
//
// Convolutions are an im2col (skipped for 1x1/stride-1/unpadded convs) and a
// register-blocked GEMM whose inner loop runs over contiguous output pixels,
// so the compiler vectorises it; depthwise convolutions are direct loops.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cmath>
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

std::string shapeError(const char *what, View a, View b) {
  auto s = [](View v) {
    return std::to_string(v.n) + "x" + std::to_string(v.c) + "x" +
           std::to_string(v.h) + "x" + std::to_string(v.w);
  };
  return std::string(what) + ": shape " + s(a) + " does not match " + s(b);
}

bool sameShape(View a, View b) {
  return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

/// C[M x N] += A[M x K] * B[K x N]; row-major with leading dimensions.
void gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
          const float *B, int64_t ldb, float *C, int64_t ldc) {
  constexpr int64_t kBlockN = 512, kBlockK = 128;
  for (int64_t j0 = 0; j0 < N; j0 += kBlockN) {
    int64_t nb = std::min(kBlockN, N - j0);
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      int64_t kb = std::min(kBlockK, K - k0);
      int64_t i = 0;
      for (; i + 4 <= M; i += 4) {
        float *c0 = C + (i + 0) * ldc + j0, *c1 = C + (i + 1) * ldc + j0;
        float *c2 = C + (i + 2) * ldc + j0, *c3 = C + (i + 3) * ldc + j0;
        for (int64_t k = k0; k < k0 + kb; ++k) {
          const float *b = B + k * ldb + j0;
          float a0 = A[(i + 0) * lda + k], a1 = A[(i + 1) * lda + k];
          float a2 = A[(i + 2) * lda + k], a3 = A[(i + 3) * lda + k];
          for (int64_t j = 0; j < nb; ++j) {
            float bj = b[j];
            c0[j] += a0 * bj;
            c1[j] += a1 * bj;
            c2[j] += a2 * bj;
            c3[j] += a3 * bj;
          }
        }
      }
      for (; i < M; ++i) {
        float *c = C + i * ldc + j0;
        for (int64_t k = k0; k < k0 + kb; ++k) {
          const float *b = B + k * ldb + j0;
          float a = A[i * lda + k];
          for (int64_t j = 0; j < nb; ++j)
            c[j] += a * b[j];
        }
      }
    }
  }
}

} // namespace

std::string ios::rt::cpu::conv2d(View in, View out, const float *weight,
                                 const float *bias, const ConvParams &p) {
  int64_t g = p.groups;
  if (g < 1 || in.c % g || out.c % g)
    return "conv2d: bad group count " + std::to_string(g);
  int64_t oh = (in.h + 2 * p.ph - p.dh * (p.kh - 1) - 1) / p.sh + 1;
  int64_t ow = (in.w + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw + 1;
  if (in.n != out.n || out.h != oh || out.w != ow)
    return "conv2d: output " + std::to_string(out.h) + "x" +
           std::to_string(out.w) + " does not match the computed " +
           std::to_string(oh) + "x" + std::to_string(ow);
  int64_t cinG = in.c / g, coutG = out.c / g;
  int64_t pixels = oh * ow, k = cinG * p.kh * p.kw;

  if (cinG == 1 && coutG == 1) {
    // Depthwise: one channel in, one channel out, per group.
    for (int64_t n = 0; n < in.n; ++n)
      for (int64_t c = 0; c < out.c; ++c) {
        const float *src = image(in, n) + c * in.h * in.w;
        const float *w = weight + c * p.kh * p.kw;
        float *dst = image(out, n) + c * pixels;
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t x = 0; x < ow; ++x) {
            float acc = bias ? bias[c] : 0.0f;
            for (int64_t i = 0; i < p.kh; ++i) {
              int64_t iy = y * p.sh - p.ph + i * p.dh;
              if (iy < 0 || iy >= in.h)
                continue;
              for (int64_t j = 0; j < p.kw; ++j) {
                int64_t ix = x * p.sw - p.pw + j * p.dw;
                if (ix >= 0 && ix < in.w)
                  acc += w[i * p.kw + j] * src[iy * in.w + ix];
              }
            }
            dst[y * ow + x] = applyAct(acc, p.act);
          }
      }
    return {};
  }

  bool direct = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 &&
                p.ph == 0 && p.pw == 0;
  std::vector<float> col(direct ? 0 : size_t(k * pixels));
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t grp = 0; grp < g; ++grp) {
      const float *src = image(in, n) + grp * cinG * in.h * in.w;
      const float *B = src;
      if (!direct) {
        // im2col: row (c, i, j) holds input pixel (c, y*sh-ph+i*dh,
        // x*sw-pw+j*dw) for every output pixel (y, x); zero outside.
        for (int64_t c = 0; c < cinG; ++c)
          for (int64_t i = 0; i < p.kh; ++i)
            for (int64_t j = 0; j < p.kw; ++j) {
              float *row = col.data() + ((c * p.kh + i) * p.kw + j) * pixels;
              const float *plane = src + c * in.h * in.w;
              for (int64_t y = 0; y < oh; ++y) {
                int64_t iy = y * p.sh - p.ph + i * p.dh;
                float *r = row + y * ow;
                if (iy < 0 || iy >= in.h) {
                  std::fill(r, r + ow, 0.0f);
                  continue;
                }
                for (int64_t x = 0; x < ow; ++x) {
                  int64_t ix = x * p.sw - p.pw + j * p.dw;
                  r[x] = ix >= 0 && ix < in.w ? plane[iy * in.w + ix] : 0.0f;
                }
              }
            }
        B = col.data();
      }
      float *dst = image(out, n) + grp * coutG * pixels;
      for (int64_t c = 0; c < coutG; ++c)
        std::fill(dst + c * pixels, dst + (c + 1) * pixels,
                  bias ? bias[grp * coutG + c] : 0.0f);
      gemm(coutG, pixels, k, weight + grp * coutG * k, k, B, pixels, dst,
           pixels);
      if (p.act != ActNone)
        for (int64_t i = 0; i < coutG * pixels; ++i)
          dst[i] = applyAct(dst[i], p.act);
    }
  return {};
}

std::string ios::rt::cpu::pool2d(View in, View out, PoolKind kind, int64_t kh,
                                 int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                 int64_t pw) {
  if (in.n != out.n || in.c != out.c)
    return shapeError("pool2d", in, out);
  bool isMax = kind == PoolMax || kind == PoolGlobalMax;
  float area = float(kh * kw); // averages count the padding
  for (int64_t n = 0; n < in.n; ++n)
    for (int64_t c = 0; c < in.c; ++c) {
      const float *src = image(in, n) + c * in.h * in.w;
      float *dst = image(out, n) + c * out.h * out.w;
      for (int64_t y = 0; y < out.h; ++y)
        for (int64_t x = 0; x < out.w; ++x) {
          float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
          for (int64_t i = 0; i < kh; ++i) {
            int64_t iy = y * sh - ph + i;
            if (iy < 0 || iy >= in.h)
              continue;
            for (int64_t j = 0; j < kw; ++j) {
              int64_t ix = x * sw - pw + j;
              if (ix < 0 || ix >= in.w)
                continue;
              float v = src[iy * in.w + ix];
              acc = isMax ? std::max(acc, v) : acc + v;
            }
          }
          dst[y * out.w + x] = isMax ? acc : acc / area;
        }
    }
  return {};
}

std::string ios::rt::cpu::activation(View in, View out, Act act) {
  if (!sameShape(in, out))
    return shapeError("activation", in, out);
  int64_t size = in.c * in.h * in.w;
  for (int64_t n = 0; n < in.n; ++n) {
    const float *src = image(in, n);
    float *dst = image(out, n);
    for (int64_t i = 0; i < size; ++i)
      dst[i] = applyAct(src[i], act);
  }
  return {};
}

std::string ios::rt::cpu::add(View out, int32_t count, const View *in) {
  if (count < 1)
    return "add: no operands";
  for (int32_t k = 0; k < count; ++k)
    if (!sameShape(in[k], out))
      return shapeError("add", in[k], out);
  int64_t size = out.c * out.h * out.w;
  for (int64_t n = 0; n < out.n; ++n) {
    float *dst = image(out, n);
    std::vector<const float *> srcs(count);
    for (int32_t k = 0; k < count; ++k)
      srcs[k] = image(in[k], n);
    for (int64_t i = 0; i < size; ++i) {
      float acc = srcs[0][i];
      for (int32_t k = 1; k < count; ++k)
        acc += srcs[k][i];
      dst[i] = acc;
    }
  }
  return {};
}

std::string ios::rt::cpu::mul(View a, View b, View out) {
  if (!sameShape(a, out) || !sameShape(b, out))
    return shapeError("mul", a, b);
  int64_t size = out.c * out.h * out.w;
  for (int64_t n = 0; n < out.n; ++n) {
    const float *x = image(a, n), *y = image(b, n);
    float *dst = image(out, n);
    for (int64_t i = 0; i < size; ++i)
      dst[i] = x[i] * y[i];
  }
  return {};
}

std::string ios::rt::cpu::copy(View in, View out) {
  if (!sameShape(in, out))
    return shapeError("copy", in, out);
  int64_t size = in.c * in.h * in.w;
  for (int64_t n = 0; n < in.n; ++n)
    std::copy(image(in, n), image(in, n) + size, image(out, n));
  return {};
}

std::string ios::rt::cpu::linear(View in, View out, const float *weight,
                                 const float *bias) {
  int64_t k = in.c * in.h * in.w, m = out.c * out.h * out.w;
  if (in.n != out.n)
    return shapeError("linear", in, out);
  for (int64_t n = 0; n < in.n; ++n) {
    const float *x = image(in, n);
    float *y = image(out, n);
    for (int64_t j = 0; j < m; ++j) {
      const float *w = weight + j * k;
      float acc = bias ? bias[j] : 0.0f;
      for (int64_t i = 0; i < k; ++i)
        acc += w[i] * x[i];
      y[j] = acc;
    }
  }
  return {};
}

std::string ios::rt::cpu::softmax(View in, View out) {
  if (!sameShape(in, out))
    return shapeError("softmax", in, out);
  int64_t f = in.c * in.h * in.w;
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
