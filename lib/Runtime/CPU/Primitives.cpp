//===- Primitives.cpp - oneDNN plans of the CPU backend -------------------===//

#include "Primitives.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

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

Plan::~Plan() = default;

void Plan::work(double flops, double grain) {
  useful = int(std::min(4096.0, std::max(1.0, flops / grain)));
}

// Work per thread below which a second thread does not pay: ~25 us of a
// core (convolutions at ~100 GFLOP/s, memory-bound ops at ~10 GB/s).
constexpr double kFlopGrain = 2.5e6, kElementGrain = 64e3;

namespace {

size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

} // namespace

//===----------------------------------------------------------------------===//
// Bound
//===----------------------------------------------------------------------===//

void Bound::run(dnnl::stream &stream) const {
  if (before)
    before();
  for (const Step &s : steps)
    if (dnnl_status_t status =
            dnnl_primitive_execute(s.prim.get(), stream.get(),
                                   int(s.args.size()), s.args.data());
        status != dnnl_success)
      throw dnnl::error(status, "could not execute a primitive");
  if (!steps.empty())
    stream.wait();
  if (after)
    after();
}

dnnl_memory_t Bound::user(const memory::desc &d, const void *data) {
  memories.emplace_back(d, engine(), const_cast<void *>(data));
  return memories.back().get();
}

dnnl_memory_t Bound::scratch(const memory::desc &d) {
  inScratch.emplace_back(memory(d, engine(), DNNL_MEMORY_NONE), bytes);
  bytes += align64(d.get_size());
  return inScratch.back().first.get();
}

void Bound::step(const dnnl::primitive &p,
                 const std::vector<std::pair<int, dnnl_memory_t>> &args,
                 size_t scratchpad) {
  Step s{p, {}};
  for (auto [arg, m] : args)
    if (m)
      s.args.push_back({arg, m});
  if (scratchpad)
    s.args.push_back(
        {DNNL_ARG_SCRATCHPAD,
         scratch(memory::desc({int64_t(scratchpad)}, memory::data_type::u8,
                              Tag::x))});
  steps.push_back(std::move(s));
}

void Bound::append(Bound &&other) {
  for (auto &[m, offset] : other.inScratch)
    inScratch.emplace_back(m, offset + bytes);
  bytes += other.bytes;
  steps.insert(steps.end(), other.steps.begin(), other.steps.end());
  memories.insert(memories.end(), other.memories.begin(),
                  other.memories.end());
  // Loops around the steps: this one's before all, the other's after all.
  if (other.before) {
    auto first = std::move(before), second = std::move(other.before);
    before = [first, second] {
      if (first)
        first();
      second();
    };
  }
  if (other.after) {
    auto first = std::move(after), second = std::move(other.after);
    after = [first, second] {
      if (first)
        first();
      second();
    };
  }
}

void Bound::bindScratch(char *base) const {
  for (const auto &[m, offset] : inScratch)
    m.set_data_handle(base + offset);
}

namespace {

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

/// An activation as oneDNN eltwise operations, applied in order.
struct Elt {
  dnnl::algorithm alg;
  float alpha, beta;
};
std::vector<Elt> eltsOf(Act act) {
  using A = dnnl::algorithm;
  switch (act) {
  case ActRelu:
    return {{A::eltwise_relu, 0.0f, 0.0f}};
  case ActSigmoid:
    return {{A::eltwise_logistic, 0.0f, 0.0f}};
  case ActTanh:
    return {{A::eltwise_tanh, 0.0f, 0.0f}};
  case ActRelu6:
    return {{A::eltwise_clip_v2, 0.0f, 6.0f}};
  case ActHardSigmoid: // relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
    return {{A::eltwise_linear, 1.0f / 6.0f, 0.5f},
            {A::eltwise_clip_v2, 0.0f, 1.0f}};
  case ActHardSwish: // oneDNN 2.6: x * relu6(x + 3) / 6
    return {{A::eltwise_hardswish, 0.0f, 0.0f}};
  case ActSilu: // swish with alpha 1: x * sigmoid(x)
    return {{A::eltwise_swish, 1.0f, 0.0f}};
  default:
    return {};
  }
}

/// Makes one primitive per thread count: oneDNN reads the creating thread's
/// OpenMP thread count.
template <typename Make>
auto perCount(const std::vector<int> &counts, Make make) {
  std::vector<decltype(make())> out;
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

float *image(View v, int64_t n) { return v.data + n * v.batchStride; }

/// Binds a plan whose only data are one input and one output view (pool,
/// softmax, upsampling, shuffle), once per image if it was planned on one.
Variants bindInOut(const std::vector<Primitive> &variants,
                   const memory::desc &src, const memory::desc &dst,
                   bool perImage, View in, View out) {
  Variants bound(variants.size());
  for (size_t k = 0; k < variants.size(); ++k)
    for (int64_t n = 0; n < (perImage ? in.n : 1); ++n)
      bound[k].step(variants[k].prim,
                    {{DNNL_ARG_SRC, bound[k].user(src, image(in, n))},
                     {DNNL_ARG_DST, bound[k].user(dst, image(out, n))}},
                    variants[k].scratchpad);
  return bound;
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
  // 1x1 convolutions on dense views are GEMMs on the NCHW planes: no
  // reorder pays off. Others (3x3, 1x7, depthwise, ...), and 1x1 ones on
  // strided views (a channel slice of a concatenation or of a merged conv's
  // output, batch > 1), where oneDNN's NCHW kernel would run image by image
  // (2.3x slower than batched on SqueezeNet at batch 8), run oneDNN's
  // blocked kernels through reorders, which take any strides.
  bool gemm = g == 1 && s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 &&
              s.ph == 0 && s.pw == 0 && dense(in) && dense(out);
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
  memory::desc src =
      gemm ? userSrc : memory::desc({in.n, in.c, in.h, in.w}, F32, Tag::any);
  memory::desc dst = gemm ? userDst
                          : memory::desc({out.n, out.c, out.h, out.w}, F32,
                                         Tag::any);
  memory::desc weights(userWeights.dims(), F32, Tag::any);
  dnnl::primitive_attr attr = userScratchpad();
  if (act != ActNone) {
    dnnl::post_ops ops;
    for (const Elt &e : eltsOf(act))
      ops.append_eltwise(1.0f, e.alg, e.alpha, e.beta);
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
  variants = perCount(counts, [&] {
    dnnl::convolution_forward::primitive_desc pd(desc, attr, engine());
    Variant v;
    v.conv = primitiveOf(pd);
    v.src = pd.src_desc();
    v.dst = pd.dst_desc();
    v.weights = pd.weights_desc();
    if (v.src != userSrc)
      v.srcIn = dnnl::reorder(
          dnnl::reorder::primitive_desc(engine(), userSrc, engine(), v.src));
    if (v.dst != userDst)
      v.dstOut = dnnl::reorder(
          dnnl::reorder::primitive_desc(engine(), v.dst, engine(), userDst));
    if (v.weights != userWeights)
      v.weightsIn = dnnl::reorder(dnnl::reorder::primitive_desc(
          engine(), userWeights, engine(), v.weights));
    return v;
  });
}

Variants ConvPlan::bind(View in, View out, const float *weight,
                        const float *bias, dnnl::stream &host) const {
  Variants bound(variants.size());
  memory user(userWeights, engine(), const_cast<float *>(weight));
  // Variants whose primitives want the same layout share one reordered copy.
  std::vector<memory> packed;
  for (size_t k = 0; k < variants.size(); ++k) {
    const Variant &v = variants[k];
    Bound &b = bound[k];
    memory w = user;
    if (v.weightsIn) {
      auto same = std::find_if(packed.begin(), packed.end(), [&](memory &m) {
        return m.get_desc() == v.weights;
      });
      if (same != packed.end()) {
        w = *same;
      } else {
        w = memory(v.weights, engine());
        v.weightsIn.execute(host, user, w);
        host.wait();
        packed.push_back(w);
      }
    }
    b.keep(w);
    dnnl_memory_t biasMem = bias ? b.user(biasDesc, bias) : nullptr;
    dnnl_memory_t src = v.srcIn ? b.scratch(v.src) : nullptr;
    dnnl_memory_t dst = v.dstOut ? b.scratch(v.dst) : nullptr;
    dnnl_memory_t userIn = b.user(userSrc, in.data);
    dnnl_memory_t userOut = b.user(userDst, out.data);
    if (v.srcIn)
      b.step(v.srcIn, {{DNNL_ARG_FROM, userIn}, {DNNL_ARG_TO, src}});
    b.step(v.conv.prim,
           {{DNNL_ARG_SRC, src ? src : userIn},
            {DNNL_ARG_WEIGHTS, w.get()},
            {DNNL_ARG_BIAS, biasMem},
            {DNNL_ARG_DST, dst ? dst : userOut}},
           v.conv.scratchpad);
    if (v.dstOut)
      b.step(v.dstOut, {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, userOut}});
  }
  return bound;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

PoolPlan::PoolPlan(View in, View out, PoolKind kind,
                   const detail::PoolShape &p, bool countIncludePad,
                   const std::vector<int> &counts)
    : perImage(!(dense(in) && dense(out))), shape(p) {
  bool isMax = kind == PoolMax || kind == PoolGlobalMax;
  bool includePad = kind == PoolAvg && countIncludePad;
  auto alg = isMax        ? dnnl::algorithm::pooling_max
             : includePad ? dnnl::algorithm::pooling_avg_include_padding
                          : dnnl::algorithm::pooling_avg_exclude_padding;
  Dims padL{p.ph, p.pw}, padR{p.padBottom(in, out), p.padRight(in, out)};
  rescale = includePad && (padR[0] > p.ph || padR[1] > p.pw);
  src = nchw(perImage ? firstImage(in) : in);
  dst = nchw(perImage ? firstImage(out) : out);
  work(double((perImage ? 1 : out.n) * out.c * out.h * out.w) *
           double(p.kh * p.kw),
       kElementGrain);
  dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg,
                                   src, dst, {p.sh, p.sw}, {p.kh, p.kw}, padL,
                                   padR);
  variants = perCount(counts, [&] {
    return primitiveOf(
        dnnl::pooling_forward::primitive_desc(desc, userScratchpad(),
                                              engine()));
  });
}

Variants PoolPlan::bind(View in, View out) const {
  Variants bound = bindInOut(variants, src, dst, perImage, in, out);
  if (!rescale)
    return bound;
  // Windows of the ceil_mode overhang: oneDNN divided by kh*kw, PyTorch
  // (counting padding) by the taps inside the padded input.
  auto factors = [](int64_t outSize, int64_t inSize, int64_t k, int64_t s,
                    int64_t p) {
    std::vector<std::pair<int64_t, float>> f;
    for (int64_t i = 0; i < outSize; ++i)
      if (int64_t taps = detail::poolTaps(i, inSize, k, s, p, true); taps != k)
        f.push_back({i, float(k) / float(taps)});
    return f;
  };
  auto rows = factors(out.h, in.h, shape.kh, shape.sh, shape.ph);
  auto cols = factors(out.w, in.w, shape.kw, shape.sw, shape.pw);
  auto fix = [out, rows, cols] {
    for (int64_t n = 0; n < out.n; ++n)
      for (int64_t c = 0; c < out.c; ++c) {
        float *plane = image(out, n) + c * out.h * out.w;
        for (auto [y, fy] : rows)
          for (int64_t x = 0; x < out.w; ++x)
            plane[y * out.w + x] *= fy;
        for (int64_t y = 0; y < out.h; ++y)
          for (auto [x, fx] : cols)
            plane[y * out.w + x] *= fx;
      }
  };
  for (Bound &b : bound)
    b.after = fix;
  return bound;
}

//===----------------------------------------------------------------------===//
// Elementwise: activation, copy, add, mul, affine
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
    : desc({length}, F32, Tag::x), isCopy(act == ActNone) {
  work(double(length), kElementGrain);
  variants = perCount(counts, [&] {
    std::vector<Primitive> steps;
    if (isCopy)
      steps.push_back(primitiveOf(dnnl::reorder::primitive_desc(
          engine(), desc, engine(), desc, userScratchpad())));
    for (const Elt &e : eltsOf(act)) {
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference,
                                    e.alg, desc, e.alpha, e.beta);
      steps.push_back(primitiveOf(dnnl::eltwise_forward::primitive_desc(
          d, userScratchpad(), engine())));
    }
    return steps;
  });
}

Variants ActivationPlan::bind(View in, View out) const {
  Variants bound(variants.size());
  Elementwise e = Elementwise::of(out, 1, &in);
  for (size_t k = 0; k < variants.size(); ++k)
    for (int64_t n = 0; n < e.calls; ++n) {
      const float *x = image(in, n);
      float *y = image(out, n);
      if (isCopy && x == y)
        continue; // a copy onto itself
      dnnl_memory_t src = bound[k].user(desc, x), dst = bound[k].user(desc, y);
      // Later steps (hardsigmoid's clip) run in place on the output.
      for (const Primitive &p : variants[k]) {
        bound[k].step(p.prim, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                      p.scratchpad);
        src = dst;
      }
    }
  return bound;
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

Variants SumPlan::bind(View out, const std::vector<View> &in) const {
  Variants bound(variants.size());
  Elementwise e = Elementwise::of(out, int32_t(in.size()), in.data());
  for (size_t k = 0; k < variants.size(); ++k) {
    Bound &b = bound[k];
    for (int64_t n = 0; n < e.calls; ++n) {
      std::vector<std::pair<int, dnnl_memory_t>> args{
          {DNNL_ARG_DST, b.user(desc, image(out, n))}};
      for (size_t i = 0; i < in.size(); ++i)
        args.push_back({DNNL_ARG_MULTIPLE_SRC + int(i),
                        b.user(desc, image(in[i], n))});
      b.step(variants[k].prim, args, variants[k].scratchpad);
    }
  }
  return bound;
}

BinaryPlan::BinaryPlan(View a, View b, View out, dnnl::algorithm alg,
                       const std::vector<int> &counts) {
  bool broadcast = b.h != out.h || b.w != out.w;
  const View ins[] = {a, b};
  Elementwise e = Elementwise::of(out, 2, ins);
  perImage = broadcast || e.calls > 1;
  if (broadcast) {
    // One image: C x HW with a per-channel operand.
    srcA = dst = memory::desc({1, out.c, out.h * out.w}, F32, Tag::abc);
    srcB = memory::desc({1, out.c, 1}, F32, Tag::abc);
  } else {
    srcA = srcB = dst = memory::desc({e.length}, F32, Tag::x);
  }
  work(3.0 * double(e.length), kElementGrain);
  dnnl::binary::desc d(alg, srcA, srcB, dst);
  variants = perCount(counts, [&] {
    return primitiveOf(
        dnnl::binary::primitive_desc(d, userScratchpad(), engine()));
  });
}

Variants BinaryPlan::bind(View a, View b, View out) const {
  Variants bound(variants.size());
  for (size_t k = 0; k < variants.size(); ++k)
    for (int64_t n = 0; n < (perImage ? out.n : 1); ++n)
      bound[k].step(variants[k].prim,
                    {{DNNL_ARG_SRC_0, bound[k].user(srcA, image(a, n))},
                     {DNNL_ARG_SRC_1, bound[k].user(srcB, image(b, n))},
                     {DNNL_ARG_DST, bound[k].user(dst, image(out, n))}},
                    variants[k].scratchpad);
  return bound;
}

AffinePlan::AffinePlan(View in, const std::vector<int> &counts)
    : image({1, in.c, in.h * in.w}, F32, Tag::abc),
      channel({1, in.c, 1}, F32, Tag::abc) {
  work(3.0 * double(in.c * in.h * in.w), kElementGrain);
  dnnl::binary::desc d(dnnl::algorithm::binary_mul, image, channel, image);
  dnnl::primitive_attr attr = userScratchpad();
  dnnl::post_ops ops;
  ops.append_binary(dnnl::algorithm::binary_add, channel);
  attr.set_post_ops(ops);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::binary::primitive_desc(d, attr, engine()));
  });
}

Variants AffinePlan::bind(View in, View out, const float *scale,
                          const float *shift) const {
  Variants bound(variants.size());
  for (size_t k = 0; k < variants.size(); ++k) {
    Bound &b = bound[k];
    dnnl_memory_t s = b.user(channel, scale), t = b.user(channel, shift);
    for (int64_t n = 0; n < in.n; ++n)
      b.step(variants[k].prim,
             {{DNNL_ARG_SRC_0, b.user(image, ::image(in, n))},
              {DNNL_ARG_SRC_1, s},
              {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, t},
              {DNNL_ARG_DST, b.user(image, ::image(out, n))}},
             variants[k].scratchpad);
  }
  return bound;
}

Variants ios::rt::cpu::broadcastOnly(View out, std::vector<View> in,
                                     bool multiply, size_t count) {
  Variants bound(count);
  auto loop = [out, in, multiply] {
    int64_t plane = out.h * out.w;
    for (int64_t n = 0; n < out.n; ++n)
      for (int64_t c = 0; c < out.c; ++c) {
        float v = multiply ? 1.0f : 0.0f;
        for (View x : in)
          v = multiply ? v * image(x, n)[c] : v + image(x, n)[c];
        std::fill_n(image(out, n) + c * plane, plane, v);
      }
  };
  for (Bound &b : bound)
    b.after = loop;
  return bound;
}

//===----------------------------------------------------------------------===//
// Data movement: pad, upsample, channel shuffle
//===----------------------------------------------------------------------===//

PadPlan::PadPlan(View in, View out, int64_t top, int64_t left,
                 const std::vector<int> &counts)
    : src(nchw(in)),
      interior({in.n, in.c, in.h, in.w}, F32,
               Dims{in.n == 1 ? out.c * out.h * out.w : out.batchStride,
                    out.h * out.w, out.w, 1}),
      top(top), left(left) {
  work(double(out.n * out.c * out.h * out.w), kElementGrain);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::reorder::primitive_desc(
        engine(), src, engine(), interior, userScratchpad()));
  });
}

Variants PadPlan::bind(View in, View out, float value) const {
  Variants bound(variants.size());
  int64_t bottom = out.h - top - in.h, right = out.w - left - in.w;
  auto border = [out, value, top = top, left = left, bottom, right] {
    for (int64_t n = 0; n < out.n; ++n)
      for (int64_t c = 0; c < out.c; ++c) {
        float *plane = image(out, n) + c * out.h * out.w;
        std::fill_n(plane, top * out.w, value);
        std::fill_n(plane + (out.h - bottom) * out.w, bottom * out.w, value);
        for (int64_t y = top; y < out.h - bottom; ++y) {
          std::fill_n(plane + y * out.w, left, value);
          std::fill_n(plane + (y + 1) * out.w - right, right, value);
        }
      }
  };
  for (size_t k = 0; k < variants.size(); ++k) {
    bound[k].step(
        variants[k].prim,
        {{DNNL_ARG_FROM, bound[k].user(src, in.data)},
         {DNNL_ARG_TO, bound[k].user(interior, out.data + top * out.w + left)}},
        variants[k].scratchpad);
    bound[k].before = border;
  }
  return bound;
}

UpsamplePlan::UpsamplePlan(View in, View out, const std::vector<int> &counts)
    : perImage(!(dense(in) && dense(out))) {
  src = nchw(perImage ? firstImage(in) : in);
  dst = nchw(perImage ? firstImage(out) : out);
  work(double((perImage ? 1 : out.n) * out.c * out.h * out.w),
       kElementGrain);
  dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference,
                                   dnnl::algorithm::resampling_nearest, src,
                                   dst);
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::resampling_forward::primitive_desc(
        d, userScratchpad(), engine()));
  });
}

Variants UpsamplePlan::bind(View in, View out) const {
  return bindInOut(variants, src, dst, perImage, in, out);
}

ShufflePlan::ShufflePlan(View in, View out, int64_t groups,
                         const std::vector<int> &counts)
    : perImage(!(dense(in) && dense(out))) {
  src = nchw(perImage ? firstImage(in) : in);
  dst = nchw(perImage ? firstImage(out) : out);
  work(double((perImage ? 1 : out.n) * out.c * out.h * out.w),
       kElementGrain);
  // oneDNN views the axis as (C / G) x G and transposes it; ShuffleNet's
  // (groups x C / groups) is that with G = C / groups.
  dnnl::shuffle_forward::desc d(dnnl::prop_kind::forward_inference, src, 1,
                                int(in.c / groups));
  variants = perCount(counts, [&] {
    return primitiveOf(dnnl::shuffle_forward::primitive_desc(
        d, engine(), userScratchpad()));
  });
}

Variants ShufflePlan::bind(View in, View out) const {
  return bindInOut(variants, src, dst, perImage, in, out);
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

Variants LinearPlan::bind(View in, View out, const float *weight,
                          const float *bias) const {
  Variants bound(variants.size());
  for (size_t k = 0; k < variants.size(); ++k) {
    Bound &b = bound[k];
    dnnl_memory_t w = b.user(weights, weight);
    dnnl_memory_t bm = bias ? b.user(biasDesc, bias) : nullptr;
    for (int64_t n = 0; n < (perImage ? in.n : 1); ++n)
      b.step(variants[k].prim,
             {{DNNL_ARG_SRC, b.user(src, image(in, n))},
              {DNNL_ARG_WEIGHTS, w},
              {DNNL_ARG_BIAS, bm},
              {DNNL_ARG_DST, b.user(dst, image(out, n))}},
             variants[k].scratchpad);
  }
  return bound;
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

Variants SoftmaxPlan::bind(View in, View out) const {
  return bindInOut(variants, src, dst, perImage, in, out);
}
