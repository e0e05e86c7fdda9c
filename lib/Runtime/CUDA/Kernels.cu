//===- Kernels.cu - The CUDA backend's own kernels ------------------------===//
//
// Grid-stride loops over the n x (c*h*w) elements of strided views (every
// view's images are `batchStride` floats apart; within an image the
// elements are contiguous).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>

using namespace ios::rt;

namespace {

constexpr int kThreads = 256;
constexpr int kMaxOperands = 8;

struct Operands {
  const float *data[kMaxOperands];
  int64_t stride[kMaxOperands];
  int count;
};

int blocksFor(int64_t elements) {
  int64_t blocks = (elements + kThreads - 1) / kThreads;
  return int(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535));
}

/// out = sum of the operands (+ out itself if `accumulate`).
__global__ void sumKernel(Operands in, float *out, int64_t so, int64_t n,
                          int64_t size, bool accumulate) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    float acc = accumulate ? out[img * so + off] : 0.0f;
    for (int k = 0; k < in.count; ++k)
      acc += in.data[k][img * in.stride[k] + off];
    out[img * so + off] = acc;
  }
}

__global__ void mulKernel(const float *a, int64_t sa, const float *b,
                          int64_t sb, float *out, int64_t so, int64_t n,
                          int64_t size) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    out[img * so + off] = a[img * sa + off] * b[img * sb + off];
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

/// One warp per output element: lanes stride over k, then a shuffle sum.
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

} // namespace

cudaError_t ios::rt::cuda::launchCopy(cudaStream_t stream, View in, View out) {
  int64_t size = in.c * in.h * in.w;
  copyKernel<<<blocksFor(in.n * size), kThreads, 0, stream>>>(
      in.data, in.batchStride, out.data, out.batchStride, in.n, size);
  return cudaGetLastError();
}

cudaError_t ios::rt::cuda::launchAdd(cudaStream_t stream, View out,
                                     int32_t count, const View *in) {
  int64_t size = out.c * out.h * out.w;
  // Operands in chunks of kMaxOperands; later chunks accumulate into `out`
  // (the stream orders the launches).
  for (int32_t first = 0; first < count; first += kMaxOperands) {
    Operands ops{};
    ops.count = int(std::min<int32_t>(kMaxOperands, count - first));
    for (int k = 0; k < ops.count; ++k) {
      ops.data[k] = in[first + k].data;
      ops.stride[k] = in[first + k].batchStride;
    }
    sumKernel<<<blocksFor(out.n * size), kThreads, 0, stream>>>(
        ops, out.data, out.batchStride, out.n, size, first > 0);
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
      return e;
  }
  return cudaSuccess;
}

cudaError_t ios::rt::cuda::launchMul(cudaStream_t stream, View a, View b,
                                     View out) {
  int64_t size = out.c * out.h * out.w;
  mulKernel<<<blocksFor(out.n * size), kThreads, 0, stream>>>(
      a.data, a.batchStride, b.data, b.batchStride, out.data, out.batchStride,
      out.n, size);
  return cudaGetLastError();
}

cudaError_t ios::rt::cuda::launchLinear(cudaStream_t stream, View in, View out,
                                        const float *weight,
                                        const float *bias) {
  int64_t k = in.c * in.h * in.w, m = out.c * out.h * out.w;
  linearKernel<<<blocksFor(in.n * m * 32), kThreads, 0, stream>>>(
      in.data, in.batchStride, out.data, out.batchStride, weight, bias, in.n,
      k, m);
  return cudaGetLastError();
}
