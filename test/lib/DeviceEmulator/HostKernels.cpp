//===- HostKernels.cpp - The CUDA backend's kernels as host code ----------===//

#include "HostKernels.h"

#include "Device.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <ucontext.h>
#include <utility>
#include <vector>

// The CUDA built-ins the kernels use, for host code. The kernels below are
// compiled inside ios::emu::hostkernels, so these shadow the declarations
// <cuda_runtime.h> makes for device code.
namespace ios::emu {
uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
constexpr int warpSize = 32;
float __shfl_down_sync(unsigned mask, float var, unsigned delta,
                       int width = warpSize);
} // namespace ios::emu

namespace ios::emu::hostkernels {
#include "CUDA/DeviceKernels.cuh"
} // namespace ios::emu::hostkernels

using namespace ios::emu;

//===----------------------------------------------------------------------===//
// Warps in lock step
//===----------------------------------------------------------------------===//

namespace {

/// The 32 lanes of one warp as coroutines (ucontext): each runs until it
/// reaches a shuffle (or ends); when every lane has arrived, the values are
/// exchanged and the lanes go on.
struct Warp {
  static constexpr int kLanes = 32;
  static constexpr size_t kStack = 64 * 1024;
  enum State { Ready, AtShuffle, Done };

  ucontext_t host;
  ucontext_t lane[kLanes];
  std::unique_ptr<char[]> stacks{new char[kLanes * kStack]};
  State state[kLanes];
  uint3 tid[kLanes];
  float value[kLanes], result[kLanes];
  unsigned delta[kLanes];
  int width[kLanes];
  int current = 0, lanes = 0;
  const HostKernel *kernel = nullptr;
  void **args = nullptr;
  bool diverged = false;
};

Warp *active = nullptr; // the warp whose lanes are running

void laneMain() {
  Warp &w = *active;
  w.kernel->run(w.args);
  w.state[w.current] = Warp::Done; // uc_link returns to the scheduler
}

uint3 threadOf(unsigned linear, dim3 block) {
  return uint3{linear % block.x, (linear / block.x) % block.y,
               linear / (block.x * block.y)};
}

/// Runs lanes [first, first + count) of the current block in lock step.
bool runWarp(Warp &w, unsigned first, int count) {
  w.lanes = count;
  w.diverged = false;
  for (int i = 0; i < count; ++i) {
    getcontext(&w.lane[i]);
    w.lane[i].uc_stack.ss_sp = w.stacks.get() + size_t(i) * Warp::kStack;
    w.lane[i].uc_stack.ss_size = Warp::kStack;
    w.lane[i].uc_link = &w.host;
    makecontext(&w.lane[i], laneMain, 0);
    w.state[i] = Warp::Ready;
    w.tid[i] = threadOf(first + unsigned(i), blockDim);
  }
  Warp *outer = active;
  active = &w;
  while (true) {
    for (int i = 0; i < count; ++i)
      if (w.state[i] == Warp::Ready) {
        w.current = i;
        threadIdx = w.tid[i];
        swapcontext(&w.host, &w.lane[i]);
      }
    int waiting = 0;
    for (int i = 0; i < count; ++i)
      waiting += w.state[i] == Warp::AtShuffle;
    if (!waiting)
      break;
    if (waiting != count)
      w.diverged = true; // a shuffle some lanes of the mask never reach
    for (int i = 0; i < count; ++i) {
      if (w.state[i] != Warp::AtShuffle)
        continue;
      int segment = i % w.width[i];
      int source = i + int(w.delta[i]);
      bool inside = segment + int(w.delta[i]) < w.width[i] && source < count &&
                    w.state[source] == Warp::AtShuffle;
      w.result[i] = inside ? w.value[source] : w.value[i];
      w.state[i] = Warp::Ready;
    }
  }
  active = outer;
  return !w.diverged;
}

} // namespace

float ios::emu::__shfl_down_sync(unsigned mask, float var, unsigned delta,
                                 int width) {
  if (!active) {
    Device::get().report("kernel",
                         "__shfl_down_sync in a kernel not registered as "
                         "warp-synchronous (HostKernels.cpp)");
    return var;
  }
  Warp &w = *active;
  int i = w.current;
  if (mask != 0xffffffffu)
    w.diverged = true; // the kernels here always shuffle the full warp
  w.value[i] = var;
  w.delta[i] = delta;
  w.width[i] = width;
  w.state[i] = Warp::AtShuffle;
  swapcontext(&w.lane[i], &w.host);
  return w.result[i];
}

bool ios::emu::runGrid(const HostKernel &k, dim3 grid, dim3 block,
                       void **args) {
  gridDim = grid;
  blockDim = block;
  unsigned threads = block.x * block.y * block.z;
  static Warp warp;
  bool good = true;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        if (!k.warpSynchronous) {
          for (unsigned t = 0; t < threads; ++t) {
            threadIdx = threadOf(t, block);
            k.run(args);
          }
          continue;
        }
        warp.kernel = &k;
        warp.args = args;
        for (unsigned t = 0; t < threads; t += Warp::kLanes)
          good &= runWarp(warp, t,
                          int(std::min<unsigned>(Warp::kLanes, threads - t)));
      }
  if (!good)
    Device::get().report("kernel", std::string(k.name) +
                                       ": a warp shuffle not every lane of "
                                       "the warp reached (divergence)");
  return good;
}

//===----------------------------------------------------------------------===//
// The kernel table
//===----------------------------------------------------------------------===//

namespace {

namespace k = ios::emu::hostkernels;

template <typename T> T &arg(void **args, size_t i) {
  return *static_cast<T *>(args[i]);
}

template <typename... A, size_t... I>
void call(void (*f)(A...), void **args, std::index_sequence<I...>) {
  f(arg<std::decay_t<A>>(args, I)...);
}

template <typename... A, size_t... I>
void call(void (*f)(Op &, A...), Op &op, void **args,
          std::index_sequence<I...>) {
  f(op, arg<std::decay_t<A>>(args, I)...);
}

template <typename... A>
constexpr size_t arity(void (*)(A...)) {
  return sizeof...(A);
}

/// Only callable when the access declaration takes Op & and exactly the
/// kernel's parameters (it reads the same argument pointers).
template <typename... A>
constexpr bool sameParameters(void (*)(A...), void (*)(Op &, A...)) {
  return true;
}

template <typename... A, size_t... I>
std::function<void()> bindArgs(void (*)(A...), const HostKernel &k, dim3 grid,
                               dim3 block, void **args,
                               std::index_sequence<I...>) {
  auto copy = std::make_shared<std::tuple<std::decay_t<A>...>>(
      arg<std::decay_t<A>>(args, I)...);
  return [&k, grid, block, copy] {
    void *argv[] = {static_cast<void *>(&std::get<I>(*copy))...};
    if (!runGrid(k, grid, block, argv)) {
      Device &d = Device::get();
      d.sticky = d.lastError = cudaErrorLaunchFailure;
    }
  };
}

/// A table row: the kernel and the declaration of what it touches.
template <auto Kernel, auto Access>
HostKernel row(const char *name, bool warpSynchronous) {
  static_assert(sameParameters(Kernel, Access),
                "the access declaration takes Op & and the kernel's "
                "parameters");
  return HostKernel{
      name, warpSynchronous,
      [](void **args) {
        call(Kernel, args, std::make_index_sequence<arity(Kernel)>());
      },
      [](Op &op, void **args) {
        call(Access, op, args, std::make_index_sequence<arity(Kernel)>());
      },
      [](const HostKernel &k, dim3 grid, dim3 block, void **args) {
        return bindArgs(Kernel, k, grid, block, args,
                        std::make_index_sequence<arity(Kernel)>());
      }};
}

constexpr int64_t kFloat = sizeof(float);

/// An operand's images: n blocks of `size` floats `stride` apart, or of
/// its channels when it is per-channel (an (N, C, 1, 1) operand).
void operandAccess(Op &op, const float *p, int64_t stride, int perChannel,
                   int64_t n, int64_t size, int64_t hw, bool write,
                   const std::string &role) {
  op.strided(p, n, (perChannel ? size / hw : size) * kFloat, stride * kFloat,
             write, role);
}

void sumAccess(Op &op, k::Operands in, float *out, int64_t so, int64_t n,
               int64_t size, int64_t hw, float outWeight) {
  for (int i = 0; i < in.count; ++i)
    operandAccess(op, in.data[i], in.stride[i], in.perChannel[i], n, size, hw,
                  false, "operand " + std::to_string(i));
  if (outWeight != 0.0f)
    op.strided(out, n, size * kFloat, so * kFloat, false, "the sum so far");
  op.strided(out, n, size * kFloat, so * kFloat, true, "the sum");
  op.flops = double(n * size * (in.count + (outWeight != 0.0f)));
}

void mulAccess(Op &op, const float *a, int64_t sa, int aPerChannel,
               const float *b, int64_t sb, int bPerChannel, float *out,
               int64_t so, int64_t n, int64_t size, int64_t hw) {
  operandAccess(op, a, sa, aPerChannel, n, size, hw, false, "lhs");
  operandAccess(op, b, sb, bPerChannel, n, size, hw, false, "rhs");
  op.strided(out, n, size * kFloat, so * kFloat, true, "the product");
  op.flops = double(n * size);
}

void copyAccess(Op &op, const float *in, int64_t si, float *out, int64_t so,
                int64_t n, int64_t size) {
  op.strided(in, n, size * kFloat, si * kFloat, false, "the copy's source");
  op.strided(out, n, size * kFloat, so * kFloat, true,
             "the copy's destination");
}

void activationAccess(Op &op, const float *in, int64_t si, float *out,
                      int64_t so, int64_t n, int64_t size, int) {
  op.strided(in, n, size * kFloat, si * kFloat, false, "the input");
  op.strided(out, n, size * kFloat, so * kFloat, true, "the output");
  op.flops = double(n * size);
}

void biasActivationAccess(Op &op, float *out, int64_t so, const float *bias,
                          int64_t n, int64_t c, int64_t hw, int) {
  op.strided(out, n, c * hw * kFloat, so * kFloat, false,
             "the convolution's output");
  if (bias)
    op.read(bias, size_t(c * kFloat), "the bias");
  op.strided(out, n, c * hw * kFloat, so * kFloat, true, "the output");
  op.flops = double(n * c * hw);
}

void affineAccess(Op &op, const float *in, int64_t si, float *out, int64_t so,
                  const float *scale, const float *shift, int64_t n,
                  int64_t c, int64_t hw) {
  op.strided(in, n, c * hw * kFloat, si * kFloat, false, "the input");
  op.read(scale, size_t(c * kFloat), "the scale");
  op.read(shift, size_t(c * kFloat), "the shift");
  op.strided(out, n, c * hw * kFloat, so * kFloat, true, "the output");
  op.flops = 2.0 * double(n * c * hw);
}

void padAccess(Op &op, const float *in, int64_t si, float *out, int64_t so,
               int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t oh,
               int64_t ow, int64_t, int64_t, float) {
  op.strided(in, n, c * ih * iw * kFloat, si * kFloat, false, "the input");
  op.strided(out, n, c * oh * ow * kFloat, so * kFloat, true, "the output");
}

void upsampleAccess(Op &op, const float *in, int64_t si, float *out,
                    int64_t so, int64_t n, int64_t c, int64_t ih, int64_t iw,
                    int64_t fh, int64_t fw) {
  op.strided(in, n, c * ih * iw * kFloat, si * kFloat, false, "the input");
  op.strided(out, n, c * ih * fh * iw * fw * kFloat, so * kFloat, true,
             "the output");
}

void channelShuffleAccess(Op &op, const float *in, int64_t si, float *out,
                          int64_t so, int64_t n, int64_t c, int64_t hw,
                          int64_t) {
  op.strided(in, n, c * hw * kFloat, si * kFloat, false, "the input");
  op.strided(out, n, c * hw * kFloat, so * kFloat, true, "the output");
}

void poolAccess(Op &op, const float *in, int64_t si, float *out, int64_t so,
                int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t oh,
                int64_t ow, k::PoolWindow p) {
  op.strided(in, n, c * ih * iw * kFloat, si * kFloat, false, "the input");
  op.strided(out, n, c * oh * ow * kFloat, so * kFloat, true, "the output");
  op.flops = double(n * c * oh * ow * p.kh * p.kw);
}

void linearAccess(Op &op, const float *in, int64_t si, float *out, int64_t so,
                  const float *w, const float *b, int64_t n, int64_t kk,
                  int64_t m) {
  op.strided(in, n, kk * kFloat, si * kFloat, false, "the input");
  op.read(w, size_t(m * kk * kFloat), "the weight");
  if (b)
    op.read(b, size_t(m * kFloat), "the bias");
  op.strided(out, n, m * kFloat, so * kFloat, true, "the output");
  op.flops = 2.0 * double(n * m * kk);
}

/// Built on first use: kernels register from static constructors.
const std::vector<HostKernel> &table() {
  static const std::vector<HostKernel> kernels = {
#define ROW(kernel, warpSynchronous)                                           \
  row<&k::kernel##Kernel, &kernel##Access>(                                    \
      "ios::rt::cuda::kernels::" #kernel "Kernel", warpSynchronous)
      ROW(sum, false),         ROW(mul, false),
      ROW(copy, false),        ROW(activation, false),
      ROW(biasActivation, false), ROW(affine, false),
      ROW(pad, false),         ROW(upsample, false),
      ROW(channelShuffle, false), ROW(pool, false),
      ROW(linear, true),
#undef ROW
  };
  return kernels;
}

} // namespace

const HostKernel *ios::emu::findHostKernel(const std::string &name) {
  for (const HostKernel &k : table())
    if (name == k.name)
      return &k;
  return nullptr;
}
