//===- DeviceKernels.cuh - The CUDA backend's kernels ----------*- CUDA -*-===//
//
// The kernel definitions alone, without launch code. Kernels.cu compiles
// them with nvcc inside namespace ios::rt::cuda::kernels; the test-only
// device emulator (test/lib/DeviceEmulator) compiles the same text as host
// C++ with the CUDA built-ins emulated (blockIdx, threadIdx, blockDim,
// gridDim, __shfl_down_sync, warp-synchronous lanes), so the kernels the
// tests run are these. Include it inside a namespace, after <cstdint>.
//
// Grid-stride loops over the n x (c*h*w) elements of strided views (every
// view's images are `batchStride` floats apart; within an image the
// elements are contiguous).
//
//===----------------------------------------------------------------------===//

constexpr int kThreads = 256;
constexpr int kMaxOperands = 8;

struct Operands {
  const float *data[kMaxOperands];
  int64_t stride[kMaxOperands];
  int count;
};

/// out = outWeight * out + the sum of the operands; `out` is not read when
/// outWeight is 0 (it may hold anything, NaN included).
__global__ void sumKernel(Operands in, float *out, int64_t so, int64_t n,
                          int64_t size, float outWeight) {
  int64_t total = n * size;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(blockDim.x) * gridDim.x) {
    int64_t img = i / size, off = i - img * size;
    float acc = outWeight != 0.0f ? outWeight * out[img * so + off] : 0.0f;
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
