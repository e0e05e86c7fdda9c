//===- Primitives.h - oneDNN plans of the CPU backend -----------*- C++ -*-===//
//
// Every op of the CPU backend runs as oneDNN primitives (or, where oneDNN
// has none, a plain loop). A plan holds the primitives of one configuration
// (shapes, strides and parameters, not the data): one variant per thread
// count an op may be granted (Cores::counts()), because oneDNN fixes a
// primitive's thread count when it is created. Plans are made on the host at
// load, once per configuration.
//
// A plan's bind() makes what one kernel launches: for each variant, the
// list of primitive executions with their arguments (oneDNN memory objects
// over the kernel's views, its weights, reordered into the primitive's
// layout at load, and the stream's scratch memory). Views and weights do
// not move after load, so a launch only executes that list: no memory
// object, argument map or primitive is made while a program runs.
//
// Views are NCHW with a batch stride: a channel slice of a wider tensor is a
// strided memory descriptor, never a copy. Where oneDNN has only reference
// kernels for non-dense data (1x1 convolutions on NCHW, pooling, inner
// product, softmax, binary ops), a plan runs image by image: one image of a
// slice is dense. Convolutions whose best kernels want a blocked layout
// reorder their input and output through the stream's scratch memory (1x1
// convolutions run on the NCHW views directly).
//
// Every plan method throws dnnl::error on failure.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CPU_PRIMITIVES_H
#define IOS_LIB_RUNTIME_CPU_PRIMITIVES_H

#include "../Checks.h"
#include "ios/Runtime/Runtime.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <vector>

namespace ios::rt::cpu {

const dnnl::engine &engine();

/// Sets the calling thread's OpenMP thread count (what oneDNN uses for the
/// primitives this thread creates and runs); returns the previous one.
int setThreads(int threads);

/// What one kernel runs for one thread count, made at load: primitive
/// executions with their arguments, and plain loops before / after them.
/// Memory in the stream's scratch is placed by offset; bindScratch() points
/// it at the stream's buffer (at load, again whenever the buffer grows).
class Bound {
public:
  /// Executes everything on `stream` (the worker's) and waits for it.
  void run(dnnl::stream &stream) const;

  /// A memory object over `data` (a view, a weight), kept alive here.
  dnnl_memory_t user(const dnnl::memory::desc &d, const void *data);
  /// A memory object that lives in the stream's scratch (bound later).
  dnnl_memory_t scratch(const dnnl::memory::desc &d);
  /// Adds the execution of `p` with `args` (and its scratchpad of
  /// `scratchpad` bytes, if any).
  void step(const dnnl::primitive &p,
            const std::vector<std::pair<int, dnnl_memory_t>> &args,
            size_t scratchpad = 0);
  /// Keeps a memory object the steps refer to (e.g. reordered weights).
  void keep(const dnnl::memory &m) { memories.push_back(m); }
  /// Appends `other`'s executions and loops (its scratch memory placed
  /// after this one's).
  void append(Bound &&other);

  /// Bytes of the stream's scratch this needs; points its scratch memory
  /// at `base`.
  size_t scratchBytes() const { return bytes; }
  void bindScratch(char *base) const;

  /// Plain loops (run on the worker, one thread).
  std::function<void()> before, after;

private:
  struct Step {
    dnnl::primitive prim;
    std::vector<dnnl_exec_arg_t> args;
  };
  std::vector<Step> steps;
  std::vector<dnnl::memory> memories;
  std::vector<std::pair<dnnl::memory, size_t>> inScratch;
  size_t bytes = 0;
};

/// One Bound per thread count (indexed like Cores::counts()).
using Variants = std::vector<Bound>;

/// A primitive and the bytes of scratchpad it needs.
struct Primitive {
  dnnl::primitive prim;
  size_t scratchpad = 0;
};

class Plan {
public:
  virtual ~Plan();
  /// The most threads worth giving this op: an OpenMP team costs a wake-up
  /// and a barrier per call, so small ops run on their worker alone.
  int maxThreads() const { return useful; }

protected:
  /// Sets maxThreads() from the op's work: `flops` (or element touches)
  /// per call, at least `grain` per thread.
  void work(double flops, double grain);
  int useful = 1;
};

/// Whether a view's images are back to back (or there is one image).
bool dense(View v);
/// Image 0 of `v` alone: what plans run per image on when a view is not
/// dense (oneDNN has only reference kernels for some ops on such views).
View firstImage(View v);

class ConvPlan : public Plan {
public:
  ConvPlan(View in, View out, const detail::ConvShape &s, Act act,
           bool bias, const std::vector<int> &counts);
  /// Reorders the weight into each variant's layout on `host` (at load).
  Variants bind(View in, View out, const float *weight, const float *bias,
                dnnl::stream &host) const;

private:
  struct Variant {
    Primitive conv;
    dnnl::memory::desc src, dst, weights;
    dnnl::reorder srcIn, dstOut, weightsIn; // empty if not needed
  };
  dnnl::memory::desc userSrc, userDst, userWeights, biasDesc;
  std::vector<Variant> variants;
};

class PoolPlan : public Plan {
public:
  /// `in`/`out` decide the window count (floor or ceil_mode sizes).
  PoolPlan(View in, View out, PoolKind kind, const detail::PoolShape &p,
           bool countIncludePad, const std::vector<int> &counts);
  Variants bind(View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  /// Average pooling counting the padding divides every window by kh*kw
  /// in oneDNN; a ceil_mode window running past the padded input divides
  /// by its taps inside it: bind() rescales those outputs.
  bool rescale = false;
  detail::PoolShape shape;
  std::vector<Primitive> variants;
};

/// The elementwise ops run on `length` contiguous floats per call: the
/// whole batch when every view is dense, else one image per call.
struct Elementwise {
  int64_t length, calls;
  static Elementwise of(View out, int32_t count, const View *in);
};

/// activation and copy (ActNone: a reorder); some activations are two
/// eltwise steps (hardsigmoid: linear, then clip).
class ActivationPlan : public Plan {
public:
  ActivationPlan(int64_t length, Act act, const std::vector<int> &counts);
  Variants bind(View in, View out) const;

private:
  dnnl::memory::desc desc;
  bool isCopy;
  std::vector<std::vector<Primitive>> variants; // steps per variant
};

/// out = sum_k scales[k] * in[k]; out may be in[0] itself (only in[0]).
class SumPlan : public Plan {
public:
  SumPlan(int64_t length, const std::vector<float> &scales,
          const std::vector<int> &counts);
  Variants bind(View out, const std::vector<View> &in) const;

private:
  dnnl::memory::desc desc;
  std::vector<Primitive> variants;
};

/// out = a (op) b, `b` of a's shape or (N, C, 1, 1) (broadcast), image by
/// image unless all are dense and of one shape; out may be a.
class BinaryPlan : public Plan {
public:
  BinaryPlan(View a, View b, View out, dnnl::algorithm alg,
             const std::vector<int> &counts);
  Variants bind(View a, View b, View out) const;

private:
  dnnl::memory::desc srcA, srcB, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

/// out = in * scale[c] + shift[c] (a binary mul with a binary add post-op).
class AffinePlan : public Plan {
public:
  AffinePlan(View in, const std::vector<int> &counts);
  Variants bind(View in, View out, const float *scale,
                const float *shift) const;

private:
  dnnl::memory::desc image, channel;
  std::vector<Primitive> variants;
};

/// Constant padding: the border filled by a loop, the input reordered into
/// the output's interior (a strided view of it).
class PadPlan : public Plan {
public:
  PadPlan(View in, View out, int64_t top, int64_t left,
          const std::vector<int> &counts);
  Variants bind(View in, View out, float value) const;

private:
  dnnl::memory::desc src, interior;
  int64_t top, left;
  std::vector<Primitive> variants;
};

/// Nearest-neighbour upsampling by integer factors (resampling_nearest).
class UpsamplePlan : public Plan {
public:
  UpsamplePlan(View in, View out, const std::vector<int> &counts);
  Variants bind(View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

/// ShuffleNet's channel shuffle (shuffle_forward over the channels).
class ShufflePlan : public Plan {
public:
  ShufflePlan(View in, View out, int64_t groups,
              const std::vector<int> &counts);
  Variants bind(View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

/// out[n, :] = W in[n, :] + b over N x K rows (each image's floats).
class LinearPlan : public Plan {
public:
  LinearPlan(View in, View out, bool bias, const std::vector<int> &counts);
  Variants bind(View in, View out, const float *weight,
                const float *bias) const;

private:
  dnnl::memory::desc src, dst, weights, biasDesc;
  bool perImage;
  std::vector<Primitive> variants;
};

class SoftmaxPlan : public Plan {
public:
  SoftmaxPlan(View in, View out, const std::vector<int> &counts);
  Variants bind(View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

/// add / mul whose operands all broadcast ((N, C, 1, 1) into N x C x H x
/// W): a plain loop, `count` variants of it.
Variants broadcastOnly(View out, std::vector<View> in, bool multiply,
                       size_t count);

} // namespace ios::rt::cpu

#endif // IOS_LIB_RUNTIME_CPU_PRIMITIVES_H
