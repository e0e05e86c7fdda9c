//===- Kernels.h - The CUDA backend's own kernels ---------------*- C++ -*-===//
//
// The ops cuDNN has no call for (or none that matches the API's semantics):
// strided copies, element-wise activations cuDNN lacks, a convolution's
// bias + activation epilogue where cuDNN's fused call cannot take the
// activation, broadcasting add/mul, per-channel affine, constant padding,
// nearest upsampling, channel shuffle, pooling with PyTorch's clipped
// windows, a fully connected layer. Each make* function fixes a launch's
// arguments and grid once, at load; DeviceLaunch::launch only enqueues it
// (cudaLaunchKernel, whose status is the launch's: no cudaGetLastError).
// The arguments must already be checked (../Checks.h). Runtime-internal.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CUDA_KERNELS_H
#define IOS_LIB_RUNTIME_CUDA_KERNELS_H

#include "ios/Runtime/Runtime.h"

#include <cuda_runtime.h>

#include <memory>

namespace ios::rt::cuda {

class DeviceLaunch {
public:
  virtual ~DeviceLaunch();
  /// Enqueues the launch(es) on `stream`.
  virtual cudaError_t launch(cudaStream_t stream) const = 0;
};
using Launch = std::unique_ptr<DeviceLaunch>;

Launch makeCopy(View in, View out);
/// out = act(in) (in may be out), any activation.
Launch makeActivation(View in, View out, Act act);
/// out = act(out + bias[c]) in place; `bias` may be null.
Launch makeBiasActivation(View out, const float *bias, Act act);
/// out = in[0] + ... + in[count-1]; an operand may be `out` itself
/// (sameElements, at any position) or an (N, C, 1, 1) view broadcast over
/// the plane; the others must not overlap `out`.
Launch makeAdd(View out, int32_t count, const View *in);
/// out = a * b, either of them (N, C, 1, 1) broadcast over the plane.
Launch makeMul(View a, View b, View out);
/// out = in * scale[c] + shift[c].
Launch makeAffine(View in, View out, const float *scale, const float *shift);
/// out = in with `top` rows and `left` columns of `value` before it (and
/// what out's size leaves after it).
Launch makePad(View in, View out, int64_t top, int64_t left, float value);
/// Nearest upsampling by out.h / in.h and out.w / in.w.
Launch makeUpsample(View in, View out);
Launch makeChannelShuffle(View in, View out, int64_t groups);
/// Max or average pooling with PyTorch's windows (clipped at the padded
/// input's far edge, as ceil_mode needs); average divides by the taps
/// inside the padded input (countIncludePad) or inside the input.
Launch makePool(View in, View out, bool max, int64_t kh, int64_t kw,
                int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                bool countIncludePad);
/// out[n, m] = sum_k in[n, k] * weight[m, k] + bias[m] (bias may be null;
/// each image's k = c*h*w inputs contiguous); one warp per output.
Launch makeLinear(View in, View out, const float *weight, const float *bias);

} // namespace ios::rt::cuda

#endif // IOS_LIB_RUNTIME_CUDA_KERNELS_H
