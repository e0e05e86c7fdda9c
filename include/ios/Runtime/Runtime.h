//===- Runtime.h - The API emitted IOS programs call ------------*- C++ -*-===//
//
// Programs printed by `ios-translate --ios-to-cpp` / `--ios-to-cuda` call only
// this API. It has two backends with the same semantics:
//
//  * CPU (libIOSRuntimeCPU; programs also link -ldnnl -lgomp): oneDNN
//    primitives planned once per configuration, one worker thread per
//    stream, the cores shared between the streams that can run, events as
//    real cross-thread synchronisation (so a missing join is a data race
//    ThreadSanitizer reports);
//  * CUDA (libIOSRuntimeCUDA, built when the CUDA toolkit and cuDNN are found):
//    one cudaStream_t and one cudnnHandle_t per stream, cudaEvent_t events,
//    cuDNN convolutions whose algorithm is chosen once at load.
//
// Memory: the program allocates one arena (its size and every tensor's offset
// come from the compiler's memory plan) and refers to tensors as Views into
// it. Weights live in the context, loaded by name from a safetensors file.
//
// Errors: every function that can fail returns false (or nullptr) and leaves
// a message in the context (lastError). Kernel launches record the first
// failure (with the op's name) and report it at the next synchronize().
//
//===----------------------------------------------------------------------===//

#ifndef IOS_RUNTIME_RUNTIME_H
#define IOS_RUNTIME_RUNTIME_H

#include <cstddef>
#include <cstdint>

namespace ios::rt {

enum Act : int32_t { ActNone = 0, ActRelu = 1, ActSigmoid = 2, ActTanh = 3 };
enum PoolKind : int32_t {
  PoolMax = 0,
  PoolAvg = 1, // counts padding (cuDNN AVERAGE_COUNT_INCLUDE_PADDING)
  PoolGlobalMax = 2,
  PoolGlobalAvg = 3
};

/// An NCHW tensor view: `data` is image 0, channel 0; consecutive images are
/// `batchStride` floats apart (c*h*w for a whole tensor, more for a channel
/// slice of a wider one). Rank-2 tensors (N x F) are views with h = w = 1.
struct View {
  float *data;
  int64_t n, c, h, w;
  int64_t batchStride;
};

/// A whole tensor at `base + offset` (floats).
inline View view(float *base, int64_t offset, int64_t n, int64_t c, int64_t h,
                 int64_t w) {
  return View{base + offset, n, c, h, w, c * h * w};
}
/// Channels [begin, end) of `v` (no copy).
inline View channels(View v, int64_t begin, int64_t end) {
  return View{v.data + begin * v.h * v.w, v.n, end - begin, v.h, v.w,
              v.batchStride};
}

/// The same memory seen as another shape of equal size (a whole tensor).
inline View reshape(View v, int64_t n, int64_t c, int64_t h, int64_t w) {
  return View{v.data, n, c, h, w, c * h * w};
}

class Context;

/// A context with `numStreams` streams (>= 1), `numEvents` events and an
/// arena of `arenaFloats` floats. Returns nullptr and sets *error (if given)
/// on failure, e.g. "no CUDA device" on a machine without a GPU.
Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats, const char **error);
void destroyContext(Context *ctx);
/// The arena's base (device memory for CUDA).
float *arena(Context *ctx);
/// The last error message ("" if none).
const char *lastError(Context *ctx);

/// Loads every tensor of a safetensors file (F32 only) into the context.
bool loadWeights(Context *ctx, const char *path);
/// A loaded (or packed) weight by name, checked against the expected element
/// count; nullptr (and lastError set) if missing or of another size, and
/// then the next synchronize() fails too (an op given the nullptr, a bias
/// say, must not run as if the model had none).
float *weight(Context *ctx, const char *name, int64_t elements);
/// Packs one source of a merged convolution's weight, at load: `name`
/// (created zero-filled on first use) is a `totalOut x inChannels x kh x kw`
/// OIHW tensor; the source (`out x inChannels x srcKh x srcKw`) is copied to
/// output channels [outOffset, outOffset + out), centred in the kh x kw
/// window (smaller kernels zero-padded).
bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw);
/// Packs one source bias (`size` floats) into `name` (`total` floats,
/// created zero-filled on first use) at `offset`.
bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size);

/// Prepares a convolution configuration at load, before any inference: the
/// CUDA backend builds its descriptors, chooses the algorithm
/// (cudnnGetConvolutionForwardAlgorithm_v7) and sizes the stream's
/// workspace; the CPU backend creates its oneDNN primitives (one per thread
/// count an op may be granted). Emitted create() functions call it for
/// every convolution; the CUDA backend runs a conv2d only if it was
/// prepared for the same stream and configuration (otherwise the op fails:
/// nothing is planned inside an inference). False (and lastError set) if
/// the configuration is invalid or cannot be planned.
bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                   int64_t groups, Act act, bool hasBias);
/// The same with conv2d()'s arguments: also reorders the weight (one of the
/// context's weights, from weight()) into the layout the CPU primitives
/// want, at load instead of at the first inference.
bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, const float *weight, const float *bias,
                   int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                   int64_t pw, int64_t dh, int64_t dw, int64_t groups,
                   Act act);

// Leaf ops, enqueued on `stream` in order. `opName` names the op in errors.
void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act);
void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw);
void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act);
/// out = in[0] + ... + in[count-1]; any operand may be `out` itself.
void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in);
/// add() with the operands as arguments (what emitted code calls).
template <typename... Views>
void addN(Context *ctx, int32_t stream, const char *opName, View out,
          Views... in) {
  const View views[] = {in...};
  add(ctx, stream, opName, out, int32_t(sizeof...(in)), views);
}
void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out);
/// out = in (same shape); materialises a concat operand or a strided slice.
void copy(Context *ctx, int32_t stream, const char *opName, View in, View out);
/// out[n, m] = sum_k in[n, k] * weight[m, k] + bias[m]
void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias);
/// Softmax over the feature axis of an N x F view.
void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out);

// Synchronisation between streams: never a device-wide barrier inside an
// inference.
/// `event` completes when the work enqueued on `stream` so far has finished.
void record(Context *ctx, int32_t event, int32_t stream);
/// Work enqueued on `stream` after this waits for `event`.
void wait(Context *ctx, int32_t stream, int32_t event);
/// The host waits for all streams; returns false if any op failed.
bool synchronize(Context *ctx);

/// CPU backend only: how many cores the context's streams share
/// (IOS_CPU_CORES, else the CPUs the process may run on).
int32_t cpuCores(Context *ctx);
/// CPU backend only: the most threads the context's ops ran with at once
/// since the last reset (at most cpuCores() unless IOS_CPU_SHARE=0).
int32_t cpuPeakThreads(Context *ctx, bool reset);

/// Host <-> arena copies (count floats), ordered after stream 0's work.
bool upload(Context *ctx, float *dst, const float *src, int64_t count);
bool download(Context *ctx, float *dst, const float *src, int64_t count);

/// The `main` of emitted programs compiled with -DIOS_MAIN:
///   PROGRAM WEIGHTS.safetensors [--input IN.safetensors] [--output
///   OUT.safetensors] [--runs N] [--warmup N] [--seed S]
/// loads the weights, reads the input (tensor "input"; default: seeded
/// uniform [-1, 1)), runs N timed inferences, prints the latencies and
/// writes the output (tensor "output"). Returns the process exit code.
int runMain(int argc, char **argv, const char *name,
            void *(*create)(const char *),
            int32_t (*run)(void *, const float *, float *),
            void (*destroy)(void *), int64_t inputElements,
            int64_t outputElements);

} // namespace ios::rt

#endif // IOS_RUNTIME_RUNTIME_H
