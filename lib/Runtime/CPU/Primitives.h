//===- Primitives.h - oneDNN plans of the CPU backend -----------*- C++ -*-===//
//
// Every op of the CPU backend runs as oneDNN primitives. A plan holds them
// for one configuration (shapes, strides and parameters, not the data): one
// variant per thread count an op may be granted (Cores::counts()), because
// oneDNN fixes a primitive's thread count when it is created. Plans are made
// on the host, once per configuration (prepareConv2d, or an op's first
// launch), and run on a stream's worker with the thread count it was
// granted; running a plan only wraps the views' pointers in oneDNN memory
// objects.
//
// Views are NCHW with a batch stride: a channel slice of a wider tensor is a
// strided memory descriptor, never a copy. Where oneDNN has only reference
// kernels for non-dense data (1x1 convolutions on NCHW, pooling, inner
// product, softmax), a plan runs image by image: one image of a slice is
// dense. Convolutions whose best kernels want a blocked layout reorder their
// input and output through the stream's scratch memory (1x1 convolutions
// run on the NCHW views directly).
//
// Every plan method throws dnnl::error on failure.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CPU_PRIMITIVES_H
#define IOS_LIB_RUNTIME_CPU_PRIMITIVES_H

#include "../Checks.h"
#include "ios/Runtime/Runtime.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace ios::rt::cpu {

const dnnl::engine &engine();

/// Sets the calling thread's OpenMP thread count (what oneDNN uses for the
/// primitives this thread creates and runs); returns the previous one.
int setThreads(int threads);

/// A stream worker's oneDNN state: used by that worker only.
class Worker {
public:
  Worker();
  dnnl::stream &stream() { return strm; }
  /// At least `bytes` of 64-byte aligned scratch (grown on first need, then
  /// reused by every op of the stream).
  char *scratch(size_t bytes);

  /// Set by an event wait: the stream just passed a fork and stays
  /// runnable even if its queue is empty for a moment (the host is still
  /// enqueueing the stage's ops, the other groups' first).
  bool afterWait = false;

private:
  dnnl::stream strm;
  std::unique_ptr<char, decltype(&std::free)> buffer{nullptr, &std::free};
  size_t size = 0;
};

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
  /// The weight reordered into each variant's layout, on the calling
  /// thread (at load): what run() takes as `packed`.
  std::vector<dnnl::memory> pack(const float *weight,
                                 dnnl::stream &stream) const;
  /// `packed` may be null: the weight is then reordered into scratch.
  void run(Worker &w, int variant, View in, View out, const float *weight,
           const std::vector<dnnl::memory> *packed, const float *bias) const;
  int64_t weightElements() const;

private:
  struct Variant {
    Primitive conv;
    dnnl::memory::desc src, dst, weights;
    dnnl::reorder srcIn, dstOut, weightsIn; // empty if not needed
  };
  dnnl::memory::desc userSrc, userDst, userWeights, biasDesc;
  bool perImage = false; // one primitive call per image (strided 1x1)
  std::vector<Variant> variants;
};

class PoolPlan : public Plan {
public:
  PoolPlan(View in, View out, PoolKind kind, int64_t kh, int64_t kw,
           int64_t sh, int64_t sw, int64_t ph, int64_t pw,
           const std::vector<int> &counts);
  void run(Worker &w, int variant, View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

/// The elementwise ops run on `length` contiguous floats per call: the
/// whole batch when every view is dense, else one image per call.
struct Elementwise {
  int64_t length, calls;
  static Elementwise of(View out, int32_t count, const View *in);
};

/// activation (ActNone: a copy) and copy.
class ActivationPlan : public Plan {
public:
  ActivationPlan(int64_t length, Act act, const std::vector<int> &counts);
  void run(Worker &w, int variant, View in, View out) const;

private:
  dnnl::memory::desc desc;
  std::vector<Primitive> variants;
};

/// out = sum_k scales[k] * in[k]; out may be in[0] itself (only in[0]).
class SumPlan : public Plan {
public:
  SumPlan(int64_t length, const std::vector<float> &scales,
          const std::vector<int> &counts);
  void run(Worker &w, int variant, View out, const std::vector<View> &in) const;

private:
  dnnl::memory::desc desc;
  std::vector<Primitive> variants;
};

/// out = a * b; out may be a.
class MulPlan : public Plan {
public:
  MulPlan(int64_t length, const std::vector<int> &counts);
  void run(Worker &w, int variant, View a, View b, View out) const;

private:
  dnnl::memory::desc desc;
  std::vector<Primitive> variants;
};

class LinearPlan : public Plan {
public:
  LinearPlan(View in, View out, bool bias, const std::vector<int> &counts);
  void run(Worker &w, int variant, View in, View out, const float *weight,
           const float *bias) const;

private:
  dnnl::memory::desc src, dst, weights, biasDesc;
  bool perImage;
  std::vector<Primitive> variants;
};

class SoftmaxPlan : public Plan {
public:
  SoftmaxPlan(View in, View out, const std::vector<int> &counts);
  void run(Worker &w, int variant, View in, View out) const;

private:
  dnnl::memory::desc src, dst;
  bool perImage;
  std::vector<Primitive> variants;
};

} // namespace ios::rt::cpu

#endif // IOS_LIB_RUNTIME_CPU_PRIMITIVES_H
