//===- Kernels.cu - Launches of the CUDA backend's own kernels ------------===//
//
// The kernels are in DeviceKernels.cuh (shared with the test-only device
// emulator); this file sizes the grids and launches them.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>

using namespace ios::rt;

namespace ios::rt::cuda::kernels {
#include "DeviceKernels.cuh"
} // namespace ios::rt::cuda::kernels

using namespace ios::rt::cuda::kernels;

namespace {

int blocksFor(int64_t elements) {
  int64_t blocks = (elements + kThreads - 1) / kThreads;
  return int(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535));
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
