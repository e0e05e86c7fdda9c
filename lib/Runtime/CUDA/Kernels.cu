//===- Kernels.cu - Launches of the CUDA backend's own kernels ------------===//
//
// The kernels are in DeviceKernels.cuh (shared with the test-only device
// emulator); this file sizes the grids and launches them.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../Checks.h"

#include <algorithm>
#include <vector>

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
  // Operands identical to `out` (the API allows them at any position) are
  // counted, not read as operands: a launch sums at most kMaxOperands
  // others, and a launch after the first reads `out` as the sum so far, so
  // `out` must contribute its own value in the first launch, once per
  // occurrence.
  std::vector<const View *> others;
  int32_t selves = 0;
  for (int32_t k = 0; k < count; ++k) {
    if (detail::sameElements(in[k], out))
      ++selves;
    else
      others.push_back(&in[k]);
  }
  size_t first = 0;
  do {
    Operands ops{};
    ops.count = int(std::min<size_t>(kMaxOperands, others.size() - first));
    for (int k = 0; k < ops.count; ++k) {
      ops.data[k] = others[first + size_t(k)]->data;
      ops.stride[k] = others[first + size_t(k)]->batchStride;
    }
    float outWeight = first == 0 ? float(selves) : 1.0f;
    sumKernel<<<blocksFor(out.n * size), kThreads, 0, stream>>>(
        ops, out.data, out.batchStride, out.n, size, outWeight);
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
      return e;
    first += size_t(ops.count);
  } while (first < others.size());
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
