//===- Primitives.cpp - oneDNN plans of the CPU backend -------------------===//

#include "Primitives.h"

#include <algorithm>
#include <cstdio>

// Debian's oneDNN runs on OpenMP (DNNL_CPU_THREADING_RUNTIME is
// DNNL_RUNTIME_OMP); its thread count is per calling thread. Declared here
// rather than through <omp.h> so that no compiler's OpenMP runtime but the
// one oneDNN loads (libgomp) is involved.
extern "C" {
void omp_set_num_threads(int);
int omp_get_max_threads(void);
}

#if DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_OMP
#error "the CPU backend expects oneDNN built with the OpenMP runtime"
#endif

using namespace ios::rt;
using namespace ios::rt::cpu;
using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto F32 = memory::data_type::f32;

const dnnl::engine &ios::rt::cpu::engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

int ios::rt::cpu::setThreads(int threads) {
  int before = omp_get_max_threads();
  if (threads != before)
    omp_set_num_threads(threads);
  return before;
}

Worker::Worker() : strm(engine()) {}

char *Worker::scratch(size_t bytes) {
  if (bytes > size) {
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    buffer.reset(static_cast<char *>(std::aligned_alloc(64, rounded)));
    if (!buffer)
      throw dnnl::error(dnnl_out_of_memory, "cannot allocate scratch memory");
    size = rounded;
  }
  return buffer.get();
}

Plan::~Plan() = default;

void Plan::work(double flops, double grain) {
  useful = int(std::min(4096.0, std::max(1.0, flops / grain)));
}

// Work per thread below which a second thread does not pay: ~25 us of a
// core (convolutions at ~100 GFLOP/s, memory-bound ops at ~10 GB/s).
constexpr double kFlopGrain = 2.5e6, kElementGrain = 64e3;

namespace {

size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/// A view as an NCHW memory descriptor with its strides (the batch stride
/// is irrelevant, and given as dense, for one image).
memory::desc nchw(View v) {
  int64_t image = v.c * v.h * v.w;
  return memory::desc({v.n, v.c, v.h, v.w}, F32,
                      Dims{v.n == 1 ? image : v.batchStride, v.h * v.w, v.w,
                           1});
}
/// A view as N x F rows (linear, softmax).
memory::desc rows(View v) {
  int64_t f = v.c * v.h * v.w;
  return memory::desc({v.n, f}, F32, Dims{v.n == 1 ? f : v.batchStride, 1});
}

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::algorithm eltwiseOf(Act act) {
  switch (act) {
  case ActSigmoid:
    return dnnl::algorithm::eltwise_logistic;
  case ActTanh:
    return dnnl::algorithm::eltwise_tanh;
  default:
    return dnnl::algorithm::eltwise_relu;
  }
}

/// Makes one primitive per thread count: oneDNN reads the creating thread's
/// OpenMP thread count.
template <typename Make>
std::vector<Primitive> perCount(const std::vector<int> &counts, Make make) {
  std::vector<Primitive> out;
  for (int c : counts) {
    int before = setThreads(c);
    try {
      out.push_back(make());
    } catch (...) {
      setThreads(before);
      throw;
    }
    setThreads(before);
  }
  return out;
}

template <typename PD> Primitive primitiveOf(const PD &pd) {
  // IOS_CPU_VERBOSE=1: which oneDNN kernel each plan got (a "ref:"
  // kernel is a slow fallback worth knowing about).
  static const bool verbose = [] {
    const char *v = std::getenv("IOS_CPU_VERBOSE");
    return v && *v && *v != '0';
  }();
  if (verbose)
    std::fprintf(stderr, "ios-cpu: %s (%d threads)\n", pd.impl_info_str(),
                 omp_get_max_threads());
  return Primitive{dnnl::primitive(pd.get()), pd.scratchpad_desc().get_size()};
}

/// Runs `p` with `args`, its scratchpad at `scratch` (from the worker).
void execute(Worker &w, const Primitive &p,
             std::unordered_map<int, memory> args, char *scratch) {
  if (p.scratchpad)
    args.insert({DNNL_ARG_SCRATCHPAD,
                 memory({{int64_t(p.scratchpad)}, memory::data_type::u8,
                         Tag::x},
                        engine(), scratch)});
  p.prim.execute(w.stream(), args);
}

memory wrap(const memory::desc &d, const float *p) {
  return memory(d, engine(), const_cast<float *>(p));
}

float *image(View v, int64_t n) { return v.data + n * v.batchStride; }

/// Runs a plan whose only data are one input and one output view (pool,
/// softmax), once per image if it was planned on one image.
void runInOut(Worker &w, const Primitive &p, const memory::desc &src,
              const memory::desc &dst, bool perImage, View in, View out) {
  char *scratch = w.scratch(p.scratchpad);
  for (int64_t n = 0; n < (perImage ? in.n : 1); ++n)
    execute(w, p, {{DNNL_ARG_SRC, wrap(src, image(in, n))},
                   {DNNL_ARG_DST, wrap(dst, image(out, n))}},
            scratch);
  w.stream().wait();
}

} // namespace

bool ios::rt::cpu::dense(View v) {
  return v.n == 1 || v.batchStride == v.c * v.h * v.w;
}

View ios::rt::cpu::firstImage(View v) {
  return View{v.data, 1, v.c, v.h, v.w, v.c * v.h * v.w};
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

ConvPlan::ConvPlan(View in, View out, const detail::ConvShape &s, Act act,
                   bool bias, const std::vector<int> &counts) {
  const int64_t g = s.groups;
  // 1x1 convolutions are GEMMs on the NCHW planes: no reorder pays off
  // (image by image on strided views, where oneDNN has only a reference
  // kernel). Others (3x3, 1x7, depthwise, ...) run oneDNN's blocked kernels
  // through reorders, which take any strides.
  bool pointwise = g == 1 && s.kh == 1 && s.kw == 1 && s.sh == 1 &&
                   s.sw == 1 && s.ph == 0 && s.pw == 0;
  perImage = pointwise && !(dense(in) && dense(out));
  if (perImage) {
    in = firstImage(in);
    out = firstImage(out);
  }
  work(2.0 * double(out.n * out.c * out.h * out.w) * double(in.c / g) *
           double(s.kh * s.kw),
       kFlopGrain);
  userSrc = nchw(in);
  userDst = nchw(out);
  userWeights =
      g == 1 ? memory::desc({out.c, in.c, s.kh, s.kw}, F32, Tag::oihw)
             : memory::desc({g, out.c / g, in.c / g, s.kh, s.kw}, F32,
                            Tag::goihw);
  if (bias)
    biasDesc = memory::desc({out.c}, F32, Tag::x);
  memory::desc src = pointwise ? userSrc
                               : memory::desc({in.n, in.c, in.h, in.w}, F32,
                                              Tag::any);
  memory::desc dst = pointwise ? userDst
                               : memory::desc({out.n, out.c, out.h, out.w},
                                              F32, Tag::any);
  memory::desc weights(userWeights.dims(), F32, Tag::any);
  dnnl::primitive_attr attr = userScratchpad();
  if (act != ActNone) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, eltwiseOf(act), 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  Dims strides{s.sh, s.sw}, dilates{s.dh - 1, s.dw - 1}, pad{s.ph, s.pw};
  auto desc =
      bias ? dnnl::convolution_forward::desc(
                 dnnl::prop_kind::forward_inference,
                 dnnl::algorithm::convolution_direct, src, weights, biasDesc,
                 dst, strides, dilates, pad, pad)
           : dnnl::convolution_forward::desc(
                 dnnl::prop_kind::forward_inference,
                 dnnl::algorithm::convolution_direct, src, weights, dst,
                 strides, dilates, pad, pad);
  for (int c : counts) {
    int before = setThreads(c);
    try {
      dnnl::convolution_forward::primitive_desc pd(desc, attr, engine());
      Variant v;
      v.conv = primitiveOf(pd);
      v.src = pd.src_desc();
      v.dst = pd.dst_desc();
      v.weights = pd.weights_desc();
      if (v.src != userSrc)
        v.srcIn = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), userSrc, engine(), v.src));
      if (v.dst != userDst)
        v.dstOut = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), v.dst, engine(), userDst));
      if (v.weights != userWeights)
        v.weightsIn = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine(), userWeights, engine(), v.weights));
      variants.push_back(std::move(v));
    } catch (...) {
      setThreads(before);
      throw;
    }
    setThreads(before);
  }
}

int64_t ConvPlan::weightElements() const {
  return int64_t(userWeights.get_size() / sizeof(float));
}

std::vector<memory> ConvPlan::pack(const float *weight,
                                   dnnl::stream &stream) const {
  std::vector<memory> packed;
  memory user = wrap(userWeights, weight);
  for (const Variant &v : variants) {
    if (!v.weightsIn) {
      packed.push_back(user);
      continue;
    }
    memory m(v.weights, engine());
    v.weightsIn.execute(stream, user, m);
    packed.push_back(m);
  }
  stream.wait();
  return packed;
}

void ConvPlan::run(Worker &w, int variant, View in, View out,
                   const float *weight, const std::vector<memory> *packed,
                   const float *bias) const {
  const Variant &v = variants[size_t(variant)];
  dnnl::stream &strm = w.stream();
  size_t srcBytes = v.srcIn ? align64(v.src.get_size()) : 0;
  size_t dstBytes = v.dstOut ? align64(v.dst.get_size()) : 0;
  size_t weightBytes =
      !packed && v.weightsIn ? align64(v.weights.get_size()) : 0;
  char *scratch =
      w.scratch(srcBytes + dstBytes + weightBytes + v.conv.scratchpad);
  memory weights;
  if (packed) {
    weights = (*packed)[size_t(variant)];
  } else if (v.weightsIn) {
    weights = memory(v.weights, engine(), scratch + srcBytes + dstBytes);
    memory user = wrap(userWeights, weight);
    v.weightsIn.execute(strm, user, weights);
  } else {
    weights = wrap(userWeights, weight);
  }
  for (int64_t n = 0; n < (perImage ? in.n : 1); ++n) {
    memory userIn = wrap(userSrc, image(in, n));
    memory userOut = wrap(userDst, image(out, n));
    memory src = userIn, dst = userOut;
    if (v.srcIn) {
      src = memory(v.src, engine(), scratch);
      v.srcIn.execute(strm, userIn, src);
    }
    if (v.dstOut)
      dst = memory(v.dst, engine(), scratch + srcBytes);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    if (bias)
      args.insert({DNNL_ARG_BIAS, wrap(biasDesc, bias)});
    execute(w, v.conv, std::move(args),
            scratch + srcBytes + dstBytes + weightBytes);
    if (v.dstOut)
      v.dstOut.execute(strm, dst, userOut);
  }
  strm.wait();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

PoolPlan::PoolPlan(View in, View out, PoolKind kind, int64_t kh, int64_t kw,
                   int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                   const std::vector<int> &counts)
    : perImage(!(dense(in) && dense(out))) {
  bool global = kind == PoolGlobalMax || kind == PoolGlobalAvg;
  if (global) {
    kh = in.h;
    kw = in.w;
    sh = sw = 1;
    ph = pw = 0;
  }
  auto alg = kind == PoolMax || kind == PoolGlobalMax
                 ? dnnl::algorithm::pooling_max
             : kind == PoolAvg ? dnnl::algorithm::pooling_avg_include_padding
                               : dnnl::algorithm::pooling_avg;
  src = nchw(perImage ? firstImage(in) : in);
  dst = nchw(perImage ? firstImage(out) : out);
  work(double((perImage ? 1 : out.n) * out.c * out.h * out.w) *
           double(kh * kw),
       kElementGrain);
  dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg,
                                   src, dst, {sh, sw}, {kh, kw}, {ph, pw},
                                   {ph, pw});
  variants = perCount(counts, [&] {
    return primitiveOf(
        dnnl::pooling_forward::primitive_desc(desc, userScratchpad(),
                                              engine()));
  });
}

void PoolPlan::run(Worker &w, int variant, View in, View out) const {
  runInOut(w, variants[size_t(variant)], src, dst, perImage, in, out);
}

//===----------------------------------------------------------------------===//
// Elementwise: activation, copy, add, mul
//===----------------------------------------------------------------------===//

Elementwise Elementwise::of(View out, int32_t count, const View *in) {
  int64_t image = out.c * out.h * out.w;
  bool all = dense(out);
  for (int32_t k = 0; k < count; ++k)
    all = all && dense(in[k]);
  return all ? Elementwise{out.n * image, 1} : Elementwise{image, out.n};
}

ActivationPlan::ActivationPlan(int64_t length, Act act,
                               const std::vector<int> &counts)
    : desc({length}, F32, Tag::x) {
  work(double(length), kElementGrain);
  variants = perCount(counts, [&]() -> Primitive {
    if (act == ActNone) // a copy
      return primitiveOf(dnnl::reorder::primitive_desc(
          engine(), desc, engine(), desc, userScratchpad()));
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference,
                                  eltwiseOf(act), desc, 0.0f, 0.0f);
    return primitiveOf(dnnl::eltwise_forward::primitive_desc(
        d, userScratchpad(), engine()));
  });
}

void ActivationPlan::run(Worker &w, int variant, View in, View out) const {
  const Primitive &p = variants[size_t(variant)];
  char *scratch = w.scratch(p.scratchpad);
  Elementwise e = Elementwise::of(out, 1, &in);
  for (int64_t n = 0; n < e.calls; ++n) {
    const float *x = image(in, n);
    float *y = image(out, n);
    if (x == y && p.prim.get_kind() == dnnl::primitive::kind::reorder)
      continue; // a copy onto itself
    execute(w, p, {{DNNL_ARG_SRC, wrap(desc, x)}, {DNNL_ARG_DST, wrap(desc, y)}},
            scratch);
  }
  w.stream().wait();
}

SumPlan::SumPlan(int64_t length, const std::vector<float> &scales,
                 const std::vector<int> &counts)
    : desc({length}, F32, Tag::x) {
  work(double(length) * double(scales.size() + 1), kElementGrain);
  std::vector<memory::desc> srcs(scales.size(), desc);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::sum::primitive_desc(desc, scales, srcs, engine(),
                                                 userScratchpad()));
  });
}

void SumPlan::run(Worker &w, int variant, View out,
                  const std::vector<View> &in) const {
  const Primitive &p = variants[size_t(variant)];
  char *scratch = w.scratch(p.scratchpad);
  Elementwise e = Elementwise::of(out, int32_t(in.size()), in.data());
  for (int64_t n = 0; n < e.calls; ++n) {
    std::unordered_map<int, memory> args{
        {DNNL_ARG_DST, wrap(desc, image(out, n))}};
    for (size_t k = 0; k < in.size(); ++k)
      args.insert({DNNL_ARG_MULTIPLE_SRC + int(k), wrap(desc, image(in[k], n))});
    execute(w, p, std::move(args), scratch);
  }
  w.stream().wait();
}

MulPlan::MulPlan(int64_t length, const std::vector<int> &counts)
    : desc({length}, F32, Tag::x) {
  work(3.0 * double(length), kElementGrain);
  dnnl::binary::desc d(dnnl::algorithm::binary_mul, desc, desc, desc);
  variants = perCount(counts, [&] {
    return primitiveOf(
        dnnl::binary::primitive_desc(d, userScratchpad(), engine()));
  });
}

void MulPlan::run(Worker &w, int variant, View a, View b, View out) const {
  const Primitive &p = variants[size_t(variant)];
  char *scratch = w.scratch(p.scratchpad);
  const View ins[] = {a, b};
  Elementwise e = Elementwise::of(out, 2, ins);
  for (int64_t n = 0; n < e.calls; ++n)
    execute(w, p,
            {{DNNL_ARG_SRC_0, wrap(desc, image(a, n))},
             {DNNL_ARG_SRC_1, wrap(desc, image(b, n))},
             {DNNL_ARG_DST, wrap(desc, image(out, n))}},
            scratch);
  w.stream().wait();
}

//===----------------------------------------------------------------------===//
// Linear and softmax
//===----------------------------------------------------------------------===//

LinearPlan::LinearPlan(View in, View out, bool bias,
                       const std::vector<int> &counts)
    : src(rows(dense(in) && dense(out) ? in : firstImage(in))),
      dst(rows(dense(in) && dense(out) ? out : firstImage(out))),
      weights({out.c * out.h * out.w, in.c * in.h * in.w}, F32, Tag::oi),
      perImage(!(dense(in) && dense(out))) {
  if (bias)
    biasDesc = memory::desc({out.c * out.h * out.w}, F32, Tag::x);
  work(2.0 * double(src.dims()[0]) * double(weights.get_size() / 4),
       kFlopGrain);
  auto desc = bias ? dnnl::inner_product_forward::desc(
                         dnnl::prop_kind::forward_inference, src, weights,
                         biasDesc, dst)
                   : dnnl::inner_product_forward::desc(
                         dnnl::prop_kind::forward_inference, src, weights,
                         dst);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::inner_product_forward::primitive_desc(
        desc, userScratchpad(), engine()));
  });
}

void LinearPlan::run(Worker &w, int variant, View in, View out,
                     const float *weight, const float *bias) const {
  const Primitive &p = variants[size_t(variant)];
  char *scratch = w.scratch(p.scratchpad);
  for (int64_t n = 0; n < (perImage ? in.n : 1); ++n) {
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, wrap(src, image(in, n))},
        {DNNL_ARG_WEIGHTS, wrap(weights, weight)},
        {DNNL_ARG_DST, wrap(dst, image(out, n))}};
    if (bias)
      args.insert({DNNL_ARG_BIAS, wrap(biasDesc, bias)});
    execute(w, p, std::move(args), scratch);
  }
  w.stream().wait();
}

SoftmaxPlan::SoftmaxPlan(View in, View out, const std::vector<int> &counts)
    : src(rows(dense(in) && dense(out) ? in : firstImage(in))),
      dst(rows(dense(in) && dense(out) ? out : firstImage(out))),
      perImage(!(dense(in) && dense(out))) {
  work(4.0 * double(src.get_size() / 4), kElementGrain);
  dnnl::softmax_v2_forward::desc desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::softmax_accurate, src,
                                      dst, 1);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::softmax_v2_forward::primitive_desc(
        desc, userScratchpad(), engine()));
  });
}

void SoftmaxPlan::run(Worker &w, int variant, View in, View out) const {
  runInOut(w, variants[size_t(variant)], src, dst, perImage, in, out);
}
