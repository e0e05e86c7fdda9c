//===- Kernels.cu - Launches of the CUDA backend's own kernels ------------===//
//
// The kernels are in DeviceKernels.cuh (shared with the test-only device
// emulator); this file sizes the grids and keeps each launch's arguments.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../Checks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

using namespace ios::rt;

namespace ios::rt::cuda::kernels {
#include "DeviceKernels.cuh"
} // namespace ios::rt::cuda::kernels

using namespace ios::rt::cuda;
using namespace ios::rt::cuda::kernels;

static_assert(kActNone == ActNone && kActRelu == ActRelu &&
                  kActSigmoid == ActSigmoid && kActTanh == ActTanh &&
                  kActRelu6 == ActRelu6 && kActHardSigmoid == ActHardSigmoid &&
                  kActHardSwish == ActHardSwish && kActSilu == ActSilu,
              "DeviceKernels.cuh numbers the activations as Runtime.h");

DeviceLaunch::~DeviceLaunch() = default;

namespace {

int blocksFor(int64_t threads) {
  int64_t blocks = (threads + kThreads - 1) / kThreads;
  return int(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535));
}

/// One kernel launch: the kernel, its arguments (kept here, so the
/// argument pointers cudaLaunchKernel takes are made once) and its grid.
template <typename... A> class KernelCall final : public DeviceLaunch {
public:
  KernelCall(void (*kernel)(A...), int64_t threads, A... a)
      : kernel(kernel), args(a...), blocks(blocksFor(threads)) {
    std::apply([&](auto &...x) { argv = {static_cast<void *>(&x)...}; },
               args);
  }
  KernelCall(const KernelCall &) = delete;
  KernelCall &operator=(const KernelCall &) = delete;

  cudaError_t launch(cudaStream_t stream) const override {
    return cudaLaunchKernel(reinterpret_cast<const void *>(kernel),
                            dim3(unsigned(blocks)), dim3(kThreads),
                            const_cast<void **>(argv.data()), 0, stream);
  }

private:
  void (*kernel)(A...);
  std::tuple<A...> args;
  std::array<void *, sizeof...(A)> argv{};
  int blocks;
};

/// The kernel's parameter types, not deduced from the arguments (which
/// convert to them).
template <typename T> struct Parameter {
  using type = T;
};

template <typename... A>
Launch call(void (*kernel)(A...), int64_t threads,
            typename Parameter<A>::type... a) {
  return std::make_unique<KernelCall<A...>>(kernel, threads, a...);
}

/// Several launches in order.
class Sequence final : public DeviceLaunch {
public:
  cudaError_t launch(cudaStream_t stream) const override {
    for (const Launch &l : launches)
      if (cudaError_t e = l->launch(stream); e != cudaSuccess)
        return e;
    return cudaSuccess;
  }
  std::vector<Launch> launches;
};

int64_t imageSize(View v) { return v.c * v.h * v.w; }

/// An (N, C, 1, 1) operand of an op whose output has larger planes.
int perChannel(View operand, View out) {
  return operand.h * operand.w == 1 && out.h * out.w > 1;
}

} // namespace

Launch ios::rt::cuda::makeCopy(View in, View out) {
  int64_t size = imageSize(in);
  return call(copyKernel, in.n * size, in.data, in.batchStride, out.data,
              out.batchStride, in.n, size);
}

Launch ios::rt::cuda::makeActivation(View in, View out, Act act) {
  int64_t size = imageSize(in);
  return call(activationKernel, in.n * size, in.data, in.batchStride,
              out.data, out.batchStride, in.n, size, int(act));
}

Launch ios::rt::cuda::makeBiasActivation(View out, const float *bias,
                                         Act act) {
  return call(biasActivationKernel, out.n * imageSize(out), out.data,
              out.batchStride, bias, out.n, out.c, out.h * out.w, int(act));
}

Launch ios::rt::cuda::makeAdd(View out, int32_t count, const View *in) {
  int64_t size = imageSize(out), hw = out.h * out.w;
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
  auto sequence = std::make_unique<Sequence>();
  size_t first = 0;
  do {
    Operands ops{};
    ops.count = int(std::min<size_t>(kMaxOperands, others.size() - first));
    for (int k = 0; k < ops.count; ++k) {
      const View &v = *others[first + size_t(k)];
      ops.data[k] = v.data;
      ops.stride[k] = v.batchStride;
      ops.perChannel[k] = perChannel(v, out);
    }
    float outWeight = first == 0 ? float(selves) : 1.0f;
    sequence->launches.push_back(call(sumKernel, out.n * size, ops, out.data,
                                      out.batchStride, out.n, size, hw,
                                      outWeight));
    first += size_t(ops.count);
  } while (first < others.size());
  if (sequence->launches.size() == 1)
    return std::move(sequence->launches.front());
  return sequence;
}

Launch ios::rt::cuda::makeMul(View a, View b, View out) {
  int64_t size = imageSize(out);
  return call(mulKernel, out.n * size, a.data, a.batchStride,
              perChannel(a, out), b.data, b.batchStride, perChannel(b, out),
              out.data, out.batchStride, out.n, size, out.h * out.w);
}

Launch ios::rt::cuda::makeAffine(View in, View out, const float *scale,
                                 const float *shift) {
  return call(affineKernel, out.n * imageSize(out), in.data, in.batchStride,
              out.data, out.batchStride, scale, shift, out.n, out.c,
              out.h * out.w);
}

Launch ios::rt::cuda::makePad(View in, View out, int64_t top, int64_t left,
                              float value) {
  return call(padKernel, out.n * imageSize(out), in.data, in.batchStride,
              out.data, out.batchStride, out.n, out.c, in.h, in.w, out.h,
              out.w, top, left, value);
}

Launch ios::rt::cuda::makeUpsample(View in, View out) {
  return call(upsampleKernel, out.n * imageSize(out), in.data, in.batchStride,
              out.data, out.batchStride, out.n, out.c, in.h, in.w,
              out.h / in.h, out.w / in.w);
}

Launch ios::rt::cuda::makeChannelShuffle(View in, View out, int64_t groups) {
  return call(channelShuffleKernel, out.n * imageSize(out), in.data,
              in.batchStride, out.data, out.batchStride, out.n, out.c,
              out.h * out.w, groups);
}

Launch ios::rt::cuda::makePool(View in, View out, bool max, int64_t kh,
                               int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                               int64_t pw, bool countIncludePad) {
  PoolWindow p{kh, kw, sh, sw, ph, pw,
               max               ? kPoolMax
               : countIncludePad ? kPoolAvgIncludePad
                                 : kPoolAvgExcludePad};
  return call(poolKernel, out.n * imageSize(out), in.data, in.batchStride,
              out.data, out.batchStride, out.n, out.c, in.h, in.w, out.h,
              out.w, p);
}

Launch ios::rt::cuda::makeLinear(View in, View out, const float *weight,
                                 const float *bias) {
  int64_t k = imageSize(in), m = imageSize(out);
  return call(linearKernel, in.n * m * 32, in.data, in.batchStride, out.data,
              out.batchStride, weight, bias, in.n, k, m);
}
