//===- Kernels.h - The CUDA backend's own kernels ---------------*- C++ -*-===//
//
// The ops cuDNN has no call for: element-wise add/mul over strided views, a
// strided copy and a fully connected layer. Each launches on `stream` and
// returns the launch status. Runtime-internal.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CUDA_KERNELS_H
#define IOS_LIB_RUNTIME_CUDA_KERNELS_H

#include "ios/Runtime/Runtime.h"

#include <cuda_runtime.h>

namespace ios::rt::cuda {

cudaError_t launchCopy(cudaStream_t stream, View in, View out);
/// out = in[0] + ... + in[count-1]; any operands may be `out` itself
/// (sameElements), the others must not overlap it (checkElementwise).
cudaError_t launchAdd(cudaStream_t stream, View out, int32_t count,
                      const View *in);
cudaError_t launchMul(cudaStream_t stream, View a, View b, View out);
/// out[n, m] = sum_k in[n, k] * weight[m, k] + bias[m]; one warp per output.
cudaError_t launchLinear(cudaStream_t stream, View in, View out,
                         const float *weight, const float *bias);

} // namespace ios::rt::cuda

#endif // IOS_LIB_RUNTIME_CUDA_KERNELS_H
