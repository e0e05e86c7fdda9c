//===- Compute.h - The emulated cuDNN's arithmetic --------------*- C++ -*-===//
//
// What the emulated cuDNN calls compute, on 4-D float tensors with any
// (non-negative) strides, as their descriptors describe them. Written
// independently of the CPU runtime's kernels on purpose: the CUDA programs'
// outputs are compared with the CPU programs', so they must not share the
// arithmetic. Convolutions are an implicit-im2col GEMM with a register-tiled
// micro-kernel (AVX2/FMA where the CPU has it), fast enough to run every zoo
// network in the tests.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TEST_LIB_DEVICEEMULATOR_COMPUTE_H
#define IOS_TEST_LIB_DEVICEEMULATOR_COMPUTE_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ios::emu {

/// A 4-D tensor as a cuDNN descriptor describes it (strides in elements).
struct Tensor4 {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t ns = 0, cs = 0, hs = 0, ws = 0;
  int64_t at(int64_t i, int64_t j, int64_t y, int64_t x) const {
    return i * ns + j * cs + y * hs + x * ws;
  }
  int64_t elements() const { return n * c * h * w; }
  /// One past the largest offset it addresses.
  int64_t span() const {
    return elements() ? (n - 1) * ns + (c - 1) * cs + (h - 1) * hs +
                            (w - 1) * ws + 1
                      : 0;
  }
  bool sameDims(const Tensor4 &o) const {
    return n == o.n && c == o.c && h == o.h && w == o.w;
  }
  bool sameLayout(const Tensor4 &o) const {
    return sameDims(o) && ns == o.ns && cs == o.cs && hs == o.hs &&
           ws == o.ws;
  }
};

struct ConvShape {
  int64_t k = 0, cPerGroup = 0, r = 0, s = 0; // the filter, KCRS
  int64_t padH = 0, padW = 0, strideH = 1, strideW = 1, dilH = 1, dilW = 1;
  int64_t groups = 1;
  int64_t oh = 0, ow = 0;
};

/// TF32 (10 explicit mantissa bits, round to nearest even) of `v`.
float toTf32(float v);

/// out (dense n x k x oh x ow) = cross-correlation of x with w (KCRS,
/// dense); inputs rounded to TF32 first if `tf32`.
void convolve(const float *x, const Tensor4 &xt, const float *w,
              const ConvShape &s, bool tf32, std::vector<float> &out);

enum class PoolMode { Max, AverageIncludePadding, AverageExcludePadding };
/// y = alpha * pool(x) + beta * y (y not read when beta is 0).
void pool(const float *x, const Tensor4 &xt, float *y, const Tensor4 &yt,
          PoolMode mode, int64_t wh, int64_t ww, int64_t ph, int64_t pw,
          int64_t sh, int64_t sw, float alpha, float beta);

enum class ActMode { Sigmoid, Relu, Tanh, ClippedRelu, Elu, Identity };
inline float activate(ActMode mode, double coef, float v) {
  switch (mode) {
  case ActMode::Sigmoid:
    return float(1.0 / (1.0 + std::exp(-double(v))));
  case ActMode::Relu:
    return v > 0.0f ? v : 0.0f;
  case ActMode::Tanh:
    return float(std::tanh(double(v)));
  case ActMode::ClippedRelu:
    return float(std::min(std::max(double(v), 0.0), coef));
  case ActMode::Elu:
    return v > 0.0f ? v : float(coef * (std::exp(double(v)) - 1.0));
  case ActMode::Identity:
    return v;
  }
  return v;
}
/// y = alpha * act(x) + beta * y, element by element (x may be y).
void activation(const float *x, const Tensor4 &xt, float *y,
                const Tensor4 &yt, ActMode mode, double coef, float alpha,
                float beta);

/// y = alpha * softmax(x) + beta * y over C x H x W of each image
/// (`instance`) or over C at each pixel; `log` for log-softmax, `accurate`
/// subtracts the maximum first.
void softmax(const float *x, const Tensor4 &xt, float *y, const Tensor4 &yt,
             bool instance, bool log, bool accurate, float alpha, float beta);

/// c = alpha * a + beta * c, `a` broadcast along its dimensions of size 1.
void addTensor(const float *a, const Tensor4 &at, float *c, const Tensor4 &ct,
               float alpha, float beta);

} // namespace ios::emu

#endif // IOS_TEST_LIB_DEVICEEMULATOR_COMPUTE_H
