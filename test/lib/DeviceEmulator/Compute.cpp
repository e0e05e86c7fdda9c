//===- Compute.cpp - The emulated cuDNN's arithmetic ----------------------===//

#include "Compute.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace ios::emu;

float ios::emu::toTf32(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) // finite: round 13 bits away
    u = (u + 0x0fffu + ((u >> 13) & 1u)) & ~0x1fffu;
  std::memcpy(&v, &u, 4);
  return v;
}

//===----------------------------------------------------------------------===//
// GEMM: C[M x P] += A[M x K] * B[K x P], row-major, B and C P wide.
//===----------------------------------------------------------------------===//

namespace {

typedef float V8 __attribute__((vector_size(32)));

inline V8 load(const float *p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float *p, V8 v) { std::memcpy(p, &v, sizeof v); }

/// Rows [m, m + MR) of C, columns [p0, p1), depth [k0, k1): a register tile
/// of MR rows x 16 columns.
template <int MR>
inline void tile(const float *A, int64_t K, const float *B, float *C,
                 int64_t P, int64_t p0, int64_t p1, int64_t k0, int64_t k1) {
  int64_t p = p0;
  for (; p + 16 <= p1; p += 16) {
    V8 c[MR][2];
    for (int r = 0; r < MR; ++r) {
      c[r][0] = load(C + r * P + p);
      c[r][1] = load(C + r * P + p + 8);
    }
    for (int64_t k = k0; k < k1; ++k) {
      V8 b0 = load(B + k * P + p), b1 = load(B + k * P + p + 8);
      for (int r = 0; r < MR; ++r) {
        float a = A[r * K + k];
        c[r][0] += a * b0;
        c[r][1] += a * b1;
      }
    }
    for (int r = 0; r < MR; ++r) {
      store(C + r * P + p, c[r][0]);
      store(C + r * P + p + 8, c[r][1]);
    }
  }
  for (; p < p1; ++p)
    for (int r = 0; r < MR; ++r) {
      float acc = C[r * P + p];
      for (int64_t k = k0; k < k1; ++k)
        acc += A[r * K + k] * B[k * P + p];
      C[r * P + p] = acc;
    }
}

inline void gemmBody(int64_t M, int64_t P, int64_t K, const float *A,
                     const float *B, float *C) {
  constexpr int64_t kColumns = 256, kDepth = 128;
  for (int64_t p0 = 0; p0 < P; p0 += kColumns) {
    int64_t p1 = std::min(P, p0 + kColumns);
    for (int64_t k0 = 0; k0 < K; k0 += kDepth) {
      int64_t k1 = std::min(K, k0 + kDepth);
      int64_t m = 0;
      for (; m + 4 <= M; m += 4)
        tile<4>(A + m * K, K, B, C + m * P, P, p0, p1, k0, k1);
      switch (M - m) {
      case 3:
        tile<3>(A + m * K, K, B, C + m * P, P, p0, p1, k0, k1);
        break;
      case 2:
        tile<2>(A + m * K, K, B, C + m * P, P, p0, p1, k0, k1);
        break;
      case 1:
        tile<1>(A + m * K, K, B, C + m * P, P, p0, p1, k0, k1);
        break;
      default:
        break;
      }
    }
  }
}

/// The same code for AVX2 + FMA (chosen at run time) and for any x86-64.
__attribute__((target("avx2,fma"), flatten)) void
gemmAvx2(int64_t M, int64_t P, int64_t K, const float *A, const float *B,
         float *C) {
  gemmBody(M, P, K, A, B, C);
}

__attribute__((flatten)) void gemmPortable(int64_t M, int64_t P, int64_t K,
                                           const float *A, const float *B,
                                           float *C) {
  gemmBody(M, P, K, A, B, C);
}

void gemm(int64_t M, int64_t P, int64_t K, const float *A, const float *B,
          float *C) {
  static const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  (avx2 ? gemmAvx2 : gemmPortable)(M, P, K, A, B, C);
}

} // namespace

void ios::emu::convolve(const float *x, const Tensor4 &xt, const float *w,
                        const ConvShape &s, bool tf32,
                        std::vector<float> &out) {
  const int64_t C = xt.c, H = xt.h, W = xt.w, P = s.oh * s.ow;
  const int64_t cg = s.cPerGroup, kg = s.k / s.groups;
  const int64_t depth = cg * s.r * s.s;
  out.assign(size_t(xt.n * s.k * P), 0.0f);
  std::vector<float> weights(w, w + s.k * depth);
  if (tf32)
    for (float &v : weights)
      v = toTf32(v);
  std::vector<float> image(size_t(C * H * W)), columns;
  const bool direct = s.r == 1 && s.s == 1 && s.strideH == 1 &&
                      s.strideW == 1 && s.padH == 0 && s.padW == 0;
  if (!direct)
    columns.resize(size_t(depth * P));
  for (int64_t n = 0; n < xt.n; ++n) {
    // The image, dense (descriptors may be strided).
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y) {
        float *row = image.data() + (c * H + y) * W;
        const float *src = x + xt.at(n, c, y, 0);
        if (xt.ws == 1)
          std::copy(src, src + W, row);
        else
          for (int64_t xx = 0; xx < W; ++xx)
            row[xx] = src[xx * xt.ws];
        if (tf32)
          for (int64_t xx = 0; xx < W; ++xx)
            row[xx] = toTf32(row[xx]);
      }
    for (int64_t g = 0; g < s.groups; ++g) {
      const float *plane = image.data() + g * cg * H * W;
      const float *B = plane;
      if (!direct) {
        // columns[(ci, i, j)][(oy, ox)] = the input under that tap.
        float *col = columns.data();
        for (int64_t ci = 0; ci < cg; ++ci)
          for (int64_t i = 0; i < s.r; ++i)
            for (int64_t j = 0; j < s.s; ++j, col += P)
              for (int64_t oy = 0; oy < s.oh; ++oy) {
                int64_t iy = oy * s.strideH - s.padH + i * s.dilH;
                float *row = col + oy * s.ow;
                if (iy < 0 || iy >= H) {
                  std::fill(row, row + s.ow, 0.0f);
                  continue;
                }
                const float *in = plane + (ci * H + iy) * W;
                for (int64_t ox = 0; ox < s.ow; ++ox) {
                  int64_t ix = ox * s.strideW - s.padW + j * s.dilW;
                  row[ox] = ix >= 0 && ix < W ? in[ix] : 0.0f;
                }
              }
        B = columns.data();
      }
      gemm(kg, P, depth, weights.data() + g * kg * depth, B,
           out.data() + (n * s.k + g * kg) * P);
    }
  }
}

//===----------------------------------------------------------------------===//
// Pooling, activations, softmax, tensor addition
//===----------------------------------------------------------------------===//

namespace {
inline void blend(float &y, float v, float alpha, float beta) {
  y = beta == 0.0f ? alpha * v : alpha * v + beta * y;
}
} // namespace

void ios::emu::pool(const float *x, const Tensor4 &xt, float *y,
                    const Tensor4 &yt, PoolMode mode, int64_t wh, int64_t ww,
                    int64_t ph, int64_t pw, int64_t sh, int64_t sw,
                    float alpha, float beta) {
  for (int64_t n = 0; n < yt.n; ++n)
    for (int64_t c = 0; c < yt.c; ++c)
      for (int64_t oy = 0; oy < yt.h; ++oy)
        for (int64_t ox = 0; ox < yt.w; ++ox) {
          double acc = mode == PoolMode::Max
                           ? -std::numeric_limits<double>::infinity()
                           : 0.0;
          int64_t valid = 0;
          for (int64_t i = 0; i < wh; ++i)
            for (int64_t j = 0; j < ww; ++j) {
              int64_t iy = oy * sh - ph + i, ix = ox * sw - pw + j;
              if (iy < 0 || iy >= xt.h || ix < 0 || ix >= xt.w)
                continue;
              double v = x[xt.at(n, c, iy, ix)];
              acc = mode == PoolMode::Max ? std::max(acc, v) : acc + v;
              ++valid;
            }
          if (mode == PoolMode::AverageIncludePadding)
            acc /= double(wh * ww);
          else if (mode == PoolMode::AverageExcludePadding)
            acc = valid ? acc / double(valid) : 0.0;
          blend(y[yt.at(n, c, oy, ox)], float(acc), alpha, beta);
        }
}

void ios::emu::activation(const float *x, const Tensor4 &xt, float *y,
                          const Tensor4 &yt, ActMode mode, double coef,
                          float alpha, float beta) {
  // One row at a time, the mode chosen once per row.
  auto rows = [&](auto f) {
    for (int64_t n = 0; n < yt.n; ++n)
      for (int64_t c = 0; c < yt.c; ++c)
        for (int64_t i = 0; i < yt.h; ++i) {
          const float *in = x + xt.at(n, c, i, 0);
          float *out = y + yt.at(n, c, i, 0);
          for (int64_t j = 0; j < yt.w; ++j)
            blend(out[j * yt.ws], f(in[j * xt.ws]), alpha, beta);
        }
  };
  switch (mode) {
  case ActMode::Relu:
    return rows([](float v) { return v > 0.0f ? v : 0.0f; });
  case ActMode::Identity:
    return rows([](float v) { return v; });
  default:
    return rows([&](float v) { return activate(mode, coef, v); });
  }
}

void ios::emu::softmax(const float *x, const Tensor4 &xt, float *y,
                       const Tensor4 &yt, bool instance, bool log,
                       bool accurate, float alpha, float beta) {
  // One softmax per image (instance) or per pixel (channel): the offsets
  // of its elements, in x and y.
  std::vector<std::pair<int64_t, int64_t>> group;
  std::vector<double> e;
  auto run = [&] {
    double top = -std::numeric_limits<double>::infinity();
    if (accurate || log)
      for (auto &[xi, yi] : group)
        top = std::max(top, double(x[xi]));
    if (!(accurate || log))
      top = 0.0;
    double sum = 0.0;
    e.resize(group.size());
    for (size_t i = 0; i < group.size(); ++i)
      sum += e[i] = std::exp(double(x[group[i].first]) - top);
    for (size_t i = 0; i < group.size(); ++i) {
      double v = log ? double(x[group[i].first]) - top - std::log(sum)
                     : e[i] / sum;
      blend(y[group[i].second], float(v), alpha, beta);
    }
  };
  for (int64_t n = 0; n < xt.n; ++n) {
    if (instance) {
      group.clear();
      for (int64_t c = 0; c < xt.c; ++c)
        for (int64_t i = 0; i < xt.h; ++i)
          for (int64_t j = 0; j < xt.w; ++j)
            group.push_back({xt.at(n, c, i, j), yt.at(n, c, i, j)});
      run();
      continue;
    }
    for (int64_t i = 0; i < xt.h; ++i)
      for (int64_t j = 0; j < xt.w; ++j) {
        group.clear();
        for (int64_t c = 0; c < xt.c; ++c)
          group.push_back({xt.at(n, c, i, j), yt.at(n, c, i, j)});
        run();
      }
  }
}

void ios::emu::addTensor(const float *a, const Tensor4 &at, float *c,
                         const Tensor4 &ct, float alpha, float beta) {
  auto pick = [](int64_t dim, int64_t i) { return dim == 1 ? 0 : i; };
  for (int64_t n = 0; n < ct.n; ++n)
    for (int64_t k = 0; k < ct.c; ++k)
      for (int64_t i = 0; i < ct.h; ++i)
        for (int64_t j = 0; j < ct.w; ++j) {
          float v = a[at.at(pick(at.n, n), pick(at.c, k), pick(at.h, i),
                            pick(at.w, j))];
          blend(c[ct.at(n, k, i, j)], v, alpha, beta);
        }
}
