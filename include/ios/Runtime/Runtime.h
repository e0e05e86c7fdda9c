//===- Runtime.h - The API emitted IOS programs call ------------*- C++ -*-===//
//
// Runtime API v2. Programs printed by `ios-translate --ios-to-cpp` /
// `--ios-to-cuda` call only this API. Two backends, same semantics:
//
//  * CPU (libIOSRuntimeCPU; programs also link -ldnnl -lgomp): oneDNN
//    primitives made at load, one worker thread per stream, the cores shared
//    between the streams that can run, events as real cross-thread
//    synchronisation (a missing join is a data race ThreadSanitizer
//    reports);
//  * CUDA (libIOSRuntimeCUDA, built when the CUDA toolkit and cuDNN are
//    found): one cudaStream_t and one cudnnHandle_t per stream, cudaEvent_t
//    events, cuDNN descriptors and algorithms chosen at load.
//
// A program has two phases:
//  * load (the emitted create()): the context, the weights, every tensor's
//    view and every kernel are prepared: views are range-checked against the
//    arena, weights resolved by name and size-checked, descriptors,
//    algorithms, workspaces and oneDNN primitives made. Kernels are numbered
//    0, 1, ... in the order they are prepared.
//  * run (the emitted run()): upload(), then launch(k) / record / wait /
//    stage markers in launch order, then finishRun(). No lookup by name, no
//    string building, no descriptor creation, no allocation happens here.
//
// Memory: one arena per context (its size and every tensor's offset come
// from the compiler's memory plan); tensors are Views into it. Weights live
// in the context, by name.
//
// Errors are sticky: the first failure of a load call is kept in the
// context (lastError), and every later load call does nothing and returns
// -1 / false, so create() is a straight sequence of calls checked once, by
// finishCreate(). A kernel that fails during an inference records its error
// (with the layer's name); finishRun() reports it; the next upload() clears
// it.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_RUNTIME_RUNTIME_H
#define IOS_RUNTIME_RUNTIME_H

#include <cstddef>
#include <cstdint>

namespace ios::rt {

/// Fused / element-wise activations (values match the ios dialect's
/// Activation enum).
enum Act : int32_t {
  ActNone = 0,
  ActRelu = 1,
  ActSigmoid = 2,
  ActTanh = 3,
  ActRelu6 = 4,       // min(max(x, 0), 6)
  ActHardSigmoid = 5, // relu6(x + 3) / 6 (PyTorch's)
  ActHardSwish = 6,   // x * hardsigmoid(x)
  ActSilu = 7         // x * sigmoid(x)
};

/// Pooling (values match the ios dialect's PoolKind enum). The output
/// view's size decides how many windows there are (ceil_mode only changes
/// the output size: windows that start inside the padded input and run past
/// it are clipped).
enum PoolKind : int32_t {
  PoolMax = 0,
  PoolAvg = 1,
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

//--- Load ------------------------------------------------------------------

/// A context with `numStreams` streams (>= 1), `numEvents` events (>= 0)
/// and a zeroed arena of `arenaFloats` floats. Never null: a failure (e.g.
/// "no CUDA device") is the context's sticky error.
Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats);
/// Finishes queued work and frees everything (null: nothing).
void destroyContext(Context *ctx);
/// True while no load call has failed.
bool ok(Context *ctx);
/// The first error message ("" if none): the load error, else the last
/// failed inference's. lastError(nullptr): the message of the last
/// finishCreate() that failed on this thread.
const char *lastError(Context *ctx);

/// Loads every tensor of a safetensors file (F32) into the context.
bool loadWeights(Context *ctx, const char *path);
/// The same from memory (`size` bytes of a safetensors file; the data is
/// copied).
bool loadWeightsFromMemory(Context *ctx, const void *data, size_t size);
/// Adds one weight the program carries itself (`count` floats, copied); a
/// weight of that name is replaced.
bool addWeight(Context *ctx, const char *name, const float *data,
               int64_t count);
/// Packs one source of a merged convolution's weight: `name` (created
/// zero-filled on first use) is a `totalOut x inChannels x kh x kw` OIHW
/// tensor; the source (`out x inChannels x srcKh x srcKw`) is copied to
/// output channels [outOffset, outOffset + out), rows [top, top + srcKh),
/// columns [left, left + srcKw) of the window.
bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw, int64_t top, int64_t left);
/// Packs one source bias (`size` floats) into `name` (`total` floats,
/// created zero-filled on first use) at `offset`.
bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size);

/// The view at `offset` floats into the context's arena, checked: every
/// element of every image inside the arena, sizes positive, the batch stride
/// at least c*h*w. A bad view is the sticky error (the returned view then
/// has data = nullptr, which every later call rejects).
View view(Context *ctx, int64_t offset, int64_t n, int64_t c, int64_t h,
          int64_t w, int64_t batchStride);
/// Input #index of run() is copied into `v` (dense NCHW on the host).
bool bindInput(Context *ctx, int32_t index, View v);
/// Output #index of run() is copied out of `v` (dense NCHW on the host).
bool bindOutput(Context *ctx, int32_t index, View v);

// Kernels. Each returns its id (>= 0) or -1. `layer` names the op in
// errors and profiles (copied). Every view must come from view(ctx, ...)
// (inside the arena). Shapes are checked against each other and the
// attributes; weights are looked up by name and size-checked, so a missing
// or short bias is an error naming the tensor. A bias of nullptr or ""
// means none.
int32_t prepareConv2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight, const char *bias,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                      int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                      int64_t groups, Act act);
/// Max or average pooling; the global kinds take the whole plane (kernel,
/// strides and padding are ignored). The output has the floor or the ceil
/// mode size (PyTorch's rules); windows are clipped at the padded input.
/// Average pooling divides by the taps inside the padded input
/// (countIncludePad) or inside the input.
int32_t preparePool2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, PoolKind kind, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                      int64_t pw, bool countIncludePad);
/// out = act(in) element-wise (in place if `out` is `in`).
int32_t prepareActivation(Context *ctx, int32_t stream, const char *layer,
                          View in, View out, Act act);
/// out = in[0] + ... + in[count-1]; an input of shape (N, C, 1, 1)
/// broadcasts over H x W; any input may be `out` itself.
int32_t prepareAdd(Context *ctx, int32_t stream, const char *layer, View out,
                   int32_t count, const View *in);
/// prepareAdd with the inputs as arguments (what emitted code calls).
template <typename... Views>
int32_t prepareAddN(Context *ctx, int32_t stream, const char *layer, View out,
                    Views... in) {
  const View views[] = {in...};
  return prepareAdd(ctx, stream, layer, out, int32_t(sizeof...(in)), views);
}
/// out = a * b; an (N, C, 1, 1) operand broadcasts over H x W; either
/// operand may be `out` itself.
int32_t prepareMul(Context *ctx, int32_t stream, const char *layer, View a,
                   View b, View out);
/// out[n, c, ...] = in[n, c, ...] * scale[c] + shift[c].
int32_t prepareAffine(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *scale,
                      const char *shift);
/// Constant spatial padding: `out` is `in` with `top`/`left`/`bottom`/
/// `right` rows/columns of `value` around it.
int32_t preparePad(Context *ctx, int32_t stream, const char *layer, View in,
                   View out, int64_t top, int64_t left, int64_t bottom,
                   int64_t right, float value);
/// Nearest-neighbour upsampling by out.h / in.h, out.w / in.w (integers).
int32_t prepareUpsample(Context *ctx, int32_t stream, const char *layer,
                        View in, View out);
/// ShuffleNet's channel shuffle: out channel j*groups + i = in channel
/// i*(C/groups) + j.
int32_t prepareChannelShuffle(Context *ctx, int32_t stream,
                              const char *layer, View in, View out,
                              int64_t groups);
/// out = in (same shape).
int32_t prepareCopy(Context *ctx, int32_t stream, const char *layer, View in,
                    View out);
/// out[n, m] = sum_k in[n, k] * weight[m, k] + bias[m] (in: N x K views,
/// or N x C x H x W read as K = C*H*W when dense; out: N x M x 1 x 1).
int32_t prepareLinear(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight,
                      const char *bias);
/// Softmax over the feature axis of an N x F view.
int32_t prepareSoftmax(Context *ctx, int32_t stream, const char *layer,
                       View in, View out);

/// The end of create(): returns `ctx` if every load call succeeded;
/// otherwise keeps the error message (see lastError(nullptr)), destroys the
/// context and returns nullptr.
void *finishCreate(Context *ctx);

//--- Run -------------------------------------------------------------------

/// Starts an inference: clears the previous one's error and copies
/// inputs[i] into the view bound to input i, ordered before stream 0's work
/// (`inputs` may be null if no input is bound).
void upload(Context *ctx, const float *const *inputs);
/// Enqueues kernel `kernel` on its stream.
void launch(Context *ctx, int32_t kernel);
/// `event` completes when the work enqueued on `stream` so far has finished.
void record(Context *ctx, int32_t event, int32_t stream);
/// Work enqueued on `stream` after this waits for `event` (as
/// cudaStreamWaitEvent: the latest record issued before it; none yet, no
/// wait).
void wait(Context *ctx, int32_t stream, int32_t event);
/// Stage `index` of the schedule starts (on stream 0, after the previous
/// stage's join): a marker for profiles; nothing is timed unless profiling
/// is on.
void stage(Context *ctx, int32_t index);
/// Ends an inference: waits for all streams, copies every bound output to
/// outputs[i] (`outputs` may be null if none is bound) and returns 1, or 0
/// if anything failed (lastError says what).
int32_t finishRun(Context *ctx, float *const *outputs);

//--- Embedding and tools -----------------------------------------------------

/// Turns profiling on: stage() and launch() then time stages and kernels
/// (CPU: host clock on each stream's worker; CUDA: events), read back after
/// finishRun by profile().
void setProfiling(Context *ctx, bool on);
struct ProfileEntry {
  const char *layer; // kernel's layer, or "stage N"
  int32_t stream;
  int32_t kernel;        // the kernel's id, -1 for a stage
  double startMs, endMs; // since upload()
};
/// The last inference's timeline (valid until the next run): kernels in
/// launch order per stream, then stages. Returns the number of entries.
int32_t profile(Context *ctx, const ProfileEntry **entries);

/// CPU backend only: how many cores the context's streams share
/// (IOS_CPU_CORES, else the CPUs the process may run on).
int32_t cpuCores(Context *ctx);
/// CPU backend only: the most threads the context's ops ran with at once
/// since the last reset (at most cpuCores() unless IOS_CPU_SHARE=0).
int32_t cpuPeakThreads(Context *ctx, bool reset);

/// The `main` of emitted programs compiled with -DIOS_MAIN. `shapes` holds
/// 4 values (N, C, H, W; H = W = 1 for rank 2) per tensor and `ranks` one
/// (2 or 4), inputs first. Usage (also printed by --help, exit 0):
///   PROGRAM WEIGHTS.safetensors [--input IN.safetensors]
///           [--output OUT.safetensors] [--warmup N] [--runs N] [--seed S]
///           [--profile]
/// Inputs are read from the tensors "input", "input1", ... (default: seeded
/// uniform [-1, 1)), outputs written as "output", "output1", ... with their
/// shapes. Prints min/median/p90/p99/max latency over --runs; --profile
/// prints per-stage and per-kernel times of the timed runs (median).
/// A bad flag or file is a message and exit code 2 / 1, never a crash.
int runMain(int argc, char **argv, const char *name, int32_t numInputs,
            int32_t numOutputs, const int64_t *shapes, const int32_t *ranks,
            void *(*create)(const char *),
            int32_t (*run)(void *, const float *const *, float *const *),
            void (*destroy)(void *));

} // namespace ios::rt

#endif // IOS_RUNTIME_RUNTIME_H
