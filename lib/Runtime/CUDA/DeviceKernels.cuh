//===- DeviceKernels.cuh - The CUDA backend's kernels ----------*- CUDA -*-===//
//
// The kernel definitions alone, without launch code. Kernels.cu compiles
// them with nvcc inside namespace ios::rt::cuda::kernels; the test-only
// device emulator (test/lib/DeviceEmulator) compiles the same text as host
// C++ with the CUDA built-ins emulated (blockIdx, threadIdx, blockDim,
// gridDim, __shfl_down_sync, warp-synchronous lanes), so the kernels the
// tests run are these. Include it inside a namespace, after <cstdint> and
// <cmath>.
//
// Grid-stride loops over the elements of strided views: every view's images
// are `batchStride` floats apart, and within an image the c x h x w
// elements are contiguous. An operand marked per-channel is an (N, C, 1, 1)
// view broadcast over the h x w plane of each channel.
//
//===----------------------------------------------------------------------===//

constexpr int kThreads = 256;
constexpr int kMaxOperands = 8;

/// The activations, numbered as ios::rt::Act (Kernels.cu checks that).
enum KernelAct : int {
  kActNone = 0,
  kActRelu = 1,
  kActSigmoid = 2,
  kActTanh = 3,
  kActRelu6 = 4,
  kActHardSigmoid = 5,
  kActHardSwish = 6,
  kActSilu = 7
};

__device__ inline float relu6(float v) { return fminf(fmaxf(v, 0.0f), 6.0f); }
__device__ inline float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

/// One activation; hardsigmoid is PyTorch's relu6(x + 3) / 6.
__device__ inline float activate(int act, float v) {
  switch (act) {
  case kActRelu:
    return fmaxf(v, 0.0f);
  case kActSigmoid:
    return sigmoid(v);
  case kActTanh:
    return tanhf(v);
  case kActRelu6:
    return relu6(v);
  case kActHardSigmoid:
    return relu6(v + 3.0f) / 6.0f;
  case kActHardSwish:
    return v * (relu6(v + 3.0f) / 6.0f);
  case kActSilu:
    return v * sigmoid(v);
  default:
    return v;
  }
}

struct Operands {
  const float *data[kMaxOperands];
  int64_t stride[kMaxOperands];
  int perChannel[kMaxOperands]; // (N, C, 1, 1): one value per channel
  int count;
};

/// Element `off` of an image of `hw`-float planes in an operand that is
/// either whole or per-channel.
__device__ inline int64_t operandIndex(int perChannel, int64_t off,
                                       int64_t hw) {
  return perChannel ? off / hw : off;
}

/// out = outWeight * out + the sum of the operands; `out` is not read when
/// outWeight is 0 (it may hold anything, NaN included).
__global__ void sumKernel(Operands in, float *out, int64_t so, int64_t n,
                          int64_t size, int64_t hw, float outWeight) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    float acc = outWeight != 0.0f ? outWeight * out[img * so + off] : 0.0f;
    for (int k = 0; k < in.count; ++k)
      acc += in.data[k][img * in.stride[k] +
                        operandIndex(in.perChannel[k], off, hw)];
    out[img * so + off] = acc;
  }
}

__global__ void mulKernel(const float *a, int64_t sa, int aPerChannel,
                          const float *b, int64_t sb, int bPerChannel,
                          float *out, int64_t so, int64_t n, int64_t size,
                          int64_t hw) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    out[img * so + off] = a[img * sa + operandIndex(aPerChannel, off, hw)] *
                          b[img * sb + operandIndex(bPerChannel, off, hw)];
  }
}

__global__ void copyKernel(const float *in, int64_t si, float *out, int64_t so,
                           int64_t n, int64_t size) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    out[img * so + off] = in[img * si + off];
  }
}

/// out = act(in), element by element (in may be out).
__global__ void activationKernel(const float *in, int64_t si, float *out,
                                 int64_t so, int64_t n, int64_t size,
                                 int act) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    out[img * so + off] = activate(act, in[img * si + off]);
  }
}

/// A convolution's epilogue where cuDNN's fused call cannot do it: out =
/// act(out + bias[channel]) in place (bias may be null).
__global__ void biasActivationKernel(float *out, int64_t so,
                                     const float *bias, int64_t n, int64_t c,
                                     int64_t hw, int act) {
  int64_t size = c * hw, total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    float v = out[img * so + off];
    if (bias)
      v += bias[off / hw];
    out[img * so + off] = activate(act, v);
  }
}

/// out[n, c, ...] = in[n, c, ...] * scale[c] + shift[c] (in may be out).
__global__ void affineKernel(const float *in, int64_t si, float *out,
                             int64_t so, const float *scale,
                             const float *shift, int64_t n, int64_t c,
                             int64_t hw) {
  int64_t size = c * hw, total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size, ch = off / hw;
    out[img * so + off] = in[img * si + off] * scale[ch] + shift[ch];
  }
}

/// Constant padding: out is in with `top` rows and `left` columns of
/// `value` before it, and as many after as out's size leaves.
__global__ void padKernel(const float *in, int64_t si, float *out, int64_t so,
                          int64_t n, int64_t c, int64_t ih, int64_t iw,
                          int64_t oh, int64_t ow, int64_t top, int64_t left,
                          float value) {
  int64_t size = c * oh * ow, total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    int64_t ch = off / (oh * ow), y = (off / ow) % oh - top,
            x = off % ow - left;
    out[img * so + off] = y >= 0 && y < ih && x >= 0 && x < iw
                              ? in[img * si + (ch * ih + y) * iw + x]
                              : value;
  }
}

/// Nearest-neighbour upsampling by integer factors fh x fw.
__global__ void upsampleKernel(const float *in, int64_t si, float *out,
                               int64_t so, int64_t n, int64_t c, int64_t ih,
                               int64_t iw, int64_t fh, int64_t fw) {
  int64_t oh = ih * fh, ow = iw * fw, size = c * oh * ow, total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    int64_t ch = off / (oh * ow), y = (off / ow) % oh, x = off % ow;
    out[img * so + off] = in[img * si + (ch * ih + y / fh) * iw + x / fw];
  }
}

/// ShuffleNet's channel shuffle: out channel j * groups + g is in channel
/// g * (c / groups) + j.
__global__ void channelShuffleKernel(const float *in, int64_t si, float *out,
                                     int64_t so, int64_t n, int64_t c,
                                     int64_t hw, int64_t groups) {
  int64_t size = c * hw, total = n * size, perGroup = c / groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size, ch = off / hw;
    int64_t from = (ch % groups) * perGroup + ch / groups;
    out[img * so + off] = in[img * si + from * hw + off % hw];
  }
}

enum KernelPool : int { kPoolMax = 0, kPoolAvgIncludePad = 1, kPoolAvgExcludePad = 2 };

struct PoolWindow {
  int64_t kh, kw, sh, sw, ph, pw;
  int mode; // KernelPool
};

/// Pooling with PyTorch's window rule, which cuDNN's fixed-size windows do
/// not have: a window starts at (y * sh - ph, x * sw - pw) and is clipped at
/// the padded input's far edge (ceil_mode's last windows); counting the
/// padding divides by its taps inside the padded input, else by its taps
/// inside the input; max takes the taps inside the input.
__global__ void poolKernel(const float *in, int64_t si, float *out, int64_t so,
                           int64_t n, int64_t c, int64_t ih, int64_t iw,
                           int64_t oh, int64_t ow, PoolWindow p) {
  int64_t size = c * oh * ow, total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    int64_t ch = off / (oh * ow), y = (off / ow) % oh, x = off % ow;
    int64_t y0 = y * p.sh - p.ph, x0 = x * p.sw - p.pw;
    int64_t y1 = y0 + p.kh < ih + p.ph ? y0 + p.kh : ih + p.ph;
    int64_t x1 = x0 + p.kw < iw + p.pw ? x0 + p.kw : iw + p.pw;
    int64_t padded = (y1 - y0) * (x1 - x0);
    y0 = y0 > 0 ? y0 : 0;
    x0 = x0 > 0 ? x0 : 0;
    y1 = y1 < ih ? y1 : ih;
    x1 = x1 < iw ? x1 : iw;
    const float *plane = in + img * si + ch * ih * iw;
    float acc = p.mode == kPoolMax ? -INFINITY : 0.0f;
    for (int64_t yy = y0; yy < y1; ++yy)
      for (int64_t xx = x0; xx < x1; ++xx) {
        float v = plane[yy * iw + xx];
        acc = p.mode == kPoolMax ? fmaxf(acc, v) : acc + v;
      }
    int64_t taps = (y1 - y0) * (x1 - x0);
    if (p.mode == kPoolAvgIncludePad)
      acc /= float(padded);
    else if (p.mode == kPoolAvgExcludePad)
      acc = taps > 0 ? acc / float(taps) : 0.0f;
    out[img * so + off] = acc;
  }
}

/// One warp per output element: lanes stride over k, then a shuffle sum.
/// Each image's k inputs are contiguous (an N x K view, or a dense
/// N x C x H x W one read as K = C * H * W).
__global__ void linearKernel(const float *in, int64_t si, float *out,
                             int64_t so, const float *w, const float *b,
                             int64_t n, int64_t k, int64_t m) {
  int64_t warps = n * m;
  int lane = threadIdx.x & 31;
  for (int64_t wi = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
       wi < warps; wi += int64_t(blockDim.x) * gridDim.x / 32) {
    int64_t img = wi / m, j = wi - img * m;
    const float *x = in + img * si, *row = w + j * k;
    float acc = 0.0f;
    for (int64_t t = lane; t < k; t += 32)
      acc += row[t] * x[t];
    for (int offset = 16; offset > 0; offset /= 2)
      acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0)
      out[img * so + j] = acc + (b ? b[j] : 0.0f);
  }
}
