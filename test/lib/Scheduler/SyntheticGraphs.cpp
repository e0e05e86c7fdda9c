//===- SyntheticGraphs.cpp - Benchmark-shaped graphs and a toy cost -------===//

#include "Scheduler/SyntheticGraphs.h"

#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace ios::sched;
using namespace ios::sched::synthetic;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

//===----------------------------------------------------------------------===//
// IOS's merge rule
//===----------------------------------------------------------------------===//

namespace {
llvm::ArrayRef<int64_t> spatial(llvm::ArrayRef<int64_t> shape) {
  return shape.size() < 2 ? shape : shape.take_back(2);
}

void printInts(llvm::raw_ostream &os, llvm::ArrayRef<int64_t> v) {
  os << '[';
  for (int64_t x : v)
    os << x << ',';
  os << ']';
}
} // namespace

std::optional<std::string>
ios::sched::synthetic::iosMergeKey(const OpSignature &sig, NodeId producer,
                                   int64_t begin, int64_t end) {
  if (sig.kind != "conv" || sig.getInt("groups").value_or(1) != 1 ||
      sig.inputShapes.size() != 1)
    return std::nullopt;
  std::string key;
  llvm::raw_string_ostream os(key);
  os << producer << ':' << begin << ':' << end << ";s";
  printInts(os, sig.getInts("stride").value_or(llvm::ArrayRef<int64_t>()));
  os << ";i";
  printInts(os, spatial(sig.inputShapes[0]));
  os << ";o";
  printInts(os, spatial(sig.outputShape));
  os << ";a=" << sig.getStr("act").value_or("identity")
     << ";b=" << sig.batch;
  return key;
}

llvm::Expected<OpSignature>
ios::sched::synthetic::mergeConvs(const Graph &g,
                                  llvm::ArrayRef<unsigned> nodeIdxs) {
  if (nodeIdxs.size() < 2)
    return createStringError(inconvertibleErrorCode(),
                             "a merge of fewer than two convs");
  OpSignature merged = g.node(nodeIdxs[0]).sig;
  int64_t cout = 0, kh = 1, kw = 1, ph = 0, pw = 0;
  for (unsigned v : nodeIdxs) {
    const OpSignature &s = g.node(v).sig;
    if (s.kind != "conv" || s.outputShape.empty())
      return createStringError(inconvertibleErrorCode(),
                               "merge of a non-conv op '%s'", s.kind.c_str());
    cout += s.outputShape[0];
    if (auto k = s.getInts("kernel"); k && k->size() == 2) {
      kh = std::max(kh, (*k)[0]);
      kw = std::max(kw, (*k)[1]);
    }
    if (auto p = s.getInts("padding"); p && p->size() == 2) {
      ph = std::max(ph, (*p)[0]);
      pw = std::max(pw, (*p)[1]);
    }
  }
  merged.set("kernel", {kh, kw}).set("padding", {ph, pw}).set("groups", 1);
  merged.set("out_channels", cout);
  merged.outputShape[0] = cout;
  return merged;
}

//===----------------------------------------------------------------------===//
// NetBuilder
//===----------------------------------------------------------------------===//

llvm::SmallVector<int64_t, 4> NetBuilder::inShape(const Terms &in) {
  int64_t C = 0;
  for (const auto &term : in)
    C += term.front().channels();
  return {C, in.front().front().H, in.front().front().W};
}

NodeId NetBuilder::addNode(OpSignature sig, const Terms &in,
                           std::optional<int64_t> unit, llvm::StringRef name) {
  NodeSpec ns;
  ns.id = NodeId(nodes.size());
  ns.name = (name + "_" + llvm::Twine(ns.id)).str();
  sig.inputShapes.push_back(inShape(in));
  llvm::SmallVector<int64_t, 4> terms;
  for (const auto &term : in)
    terms.push_back(term.size());
  sig.set("terms", AttrValue(llvm::ArrayRef<int64_t>(terms)));
  sig.batch = batch;
  ns.sig = std::move(sig);
  if (in.size() == 1 && in[0].size() == 1)
    ns.mergeKey =
        iosMergeKey(ns.sig, in[0][0].node, in[0][0].begin, in[0][0].end);
  ns.unit = unit;
  ns.partHint = partHint;
  ns.blockHint = blockHint;
  for (const auto &term : in)
    for (const Val &v : term)
      if (v.node >= 0)
        edges.push_back({v.node, ns.id});
  nodes.push_back(std::move(ns));
  return nodes.back().id;
}

static int64_t outDim(int64_t x, int64_t k, int64_t s, int64_t p) {
  return (x + 2 * p - k) / s + 1;
}

NetBuilder::Val NetBuilder::conv(const Terms &in, int64_t outC, int64_t kh,
                                 int64_t kw, int64_t sh, int64_t sw,
                                 int64_t ph, int64_t pw, llvm::StringRef act,
                                 int64_t groups) {
  auto shape = inShape(in);
  int64_t H = outDim(shape[1], kh, sh, ph), W = outDim(shape[2], kw, sw, pw);
  OpSignature sig("conv");
  sig.set("out_channels", outC)
      .set("kernel", {kh, kw})
      .set("stride", {sh, sw})
      .set("padding", {ph, pw})
      .set("groups", groups)
      .set("act", act.str());
  sig.outputShape = {outC, H, W};
  NodeId id = addNode(std::move(sig), in, openUnit, "conv");
  return {id, 0, outC, H, W};
}

NetBuilder::Val NetBuilder::pool(const Terms &in, llvm::StringRef type,
                                 int64_t k, int64_t stride, int64_t pad) {
  auto shape = inShape(in);
  int64_t kh = k, kw = k;
  if (type == "global_avg") {
    kh = shape[1];
    kw = shape[2];
    stride = 1;
    pad = 0;
  }
  int64_t H = outDim(shape[1], kh, stride, pad),
          W = outDim(shape[2], kw, stride, pad);
  OpSignature sig("pool");
  sig.set("pool_type", type.str())
      .set("kernel", {kh, kw})
      .set("stride", {stride, stride})
      .set("padding", {pad, pad});
  sig.outputShape = {shape[0], H, W};
  NodeId id = addNode(std::move(sig), in, openUnit, "pool");
  return {id, 0, shape[0], H, W};
}

NetBuilder::Val NetBuilder::identity(const Terms &in) {
  auto shape = inShape(in);
  OpSignature sig("identity");
  sig.outputShape = shape;
  NodeId id = addNode(std::move(sig), in, openUnit, "identity");
  return {id, 0, shape[0], shape[1], shape[2]};
}

NetBuilder::Val NetBuilder::relu(const Terms &in) {
  auto shape = inShape(in);
  OpSignature sig("relu");
  sig.outputShape = shape;
  NodeId id = addNode(std::move(sig), in, openUnit, "relu");
  return {id, 0, shape[0], shape[1], shape[2]};
}

NetBuilder::Val NetBuilder::reluSepConv(const Terms &in, int64_t outC,
                                        int64_t k, int64_t stride) {
  beginUnit();
  Val r = relu(in);
  Val dw = conv({{r}}, r.channels(), k, k, stride, stride, k / 2, k / 2,
                "identity", r.channels());
  Val pw = conv({{dw}}, outC, 1, 1, 1, 1, 0, 0, "identity");
  endUnit();
  return pw;
}

NetBuilder::Val NetBuilder::reluConv(const Terms &in, int64_t outC, int64_t k,
                                     int64_t stride) {
  beginUnit();
  Val r = relu(in);
  Val c = conv({{r}}, outC, k, k, stride, stride, k / 2, k / 2, "identity");
  endUnit();
  return c;
}

llvm::Expected<Graph> NetBuilder::finish() {
  return Graph::build(std::move(nodes), edges, mergeConvs);
}

//===----------------------------------------------------------------------===//
// Inception V3
//===----------------------------------------------------------------------===//

namespace {
using Val = NetBuilder::Val;

Val inceptionA(NetBuilder &b, Val x, int64_t pf) {
  Val b1 = b.conv(x, 64, 1, 1, 0);
  Val b5 = b.conv(b.conv(x, 48, 1, 1, 0), 64, 5, 1, 2);
  Val b3 = b.conv(b.conv(b.conv(x, 64, 1, 1, 0), 96, 3, 1, 1), 96, 3, 1, 1);
  Val bp = b.conv(b.pool({{x}}, "avg", 3, 1, 1), pf, 1, 1, 0);
  return b.identity({{b1}, {b5}, {b3}, {bp}});
}

Val inceptionB(NetBuilder &b, Val x) {
  Val b3 = b.conv(x, 384, 3, 2, 0);
  Val bd = b.conv(b.conv(b.conv(x, 64, 1, 1, 0), 96, 3, 1, 1), 96, 3, 2, 0);
  Val bp = b.pool({{x}}, "max", 3, 2, 0);
  return b.identity({{b3}, {bd}, {bp}});
}

Val conv17(NetBuilder &b, Val x, int64_t c) { // 1x7
  return b.conv({{x}}, c, 1, 7, 1, 1, 0, 3);
}
Val conv71(NetBuilder &b, Val x, int64_t c) { // 7x1
  return b.conv({{x}}, c, 7, 1, 1, 1, 3, 0);
}

Val inceptionC(NetBuilder &b, Val x, int64_t c7) {
  Val b1 = b.conv(x, 192, 1, 1, 0);
  Val b7 = conv71(b, conv17(b, b.conv(x, c7, 1, 1, 0), c7), 192);
  Val bd = b.conv(x, c7, 1, 1, 0);
  bd = conv71(b, bd, c7);
  bd = conv17(b, bd, c7);
  bd = conv71(b, bd, c7);
  bd = conv17(b, bd, 192);
  Val bp = b.conv(b.pool({{x}}, "avg", 3, 1, 1), 192, 1, 1, 0);
  return b.identity({{b1}, {b7}, {bd}, {bp}});
}

Val inceptionD(NetBuilder &b, Val x) {
  Val b3 = b.conv(b.conv(x, 192, 1, 1, 0), 320, 3, 2, 0);
  Val b7 = b.conv(x, 192, 1, 1, 0);
  b7 = conv17(b, b7, 192);
  b7 = conv71(b, b7, 192);
  b7 = b.conv(b7, 192, 3, 2, 0);
  Val bp = b.pool({{x}}, "max", 3, 2, 0);
  return b.identity({{b3}, {b7}, {bp}});
}

Val inceptionE(NetBuilder &b, Val x) {
  Val b1 = b.conv(x, 320, 1, 1, 0);
  Val b3 = b.conv(x, 384, 1, 1, 0);
  Val b3a = b.conv({{b3}}, 384, 1, 3, 1, 1, 0, 1);
  Val b3b = b.conv({{b3}}, 384, 3, 1, 1, 1, 1, 0);
  Val bd = b.conv(b.conv(x, 448, 1, 1, 0), 384, 3, 1, 1);
  Val bda = b.conv({{bd}}, 384, 1, 3, 1, 1, 0, 1);
  Val bdb = b.conv({{bd}}, 384, 3, 1, 1, 1, 1, 0);
  Val bp = b.conv(b.pool({{x}}, "avg", 3, 1, 1), 192, 1, 1, 0);
  return b.identity({{b1}, {b3a}, {b3b}, {bda}, {bdb}, {bp}});
}
} // namespace

llvm::Expected<Graph> synthetic::inceptionV3(int64_t batch) {
  NetBuilder b(batch);
  Val x = b.input(3, 299, 299);
  x = b.conv(x, 32, 3, 2, 0);
  x = b.conv(x, 32, 3, 1, 0);
  x = b.conv(x, 64, 3, 1, 1);
  x = b.pool({{x}}, "max", 3, 2, 0);
  x = b.conv(x, 80, 1, 1, 0);
  x = b.conv(x, 192, 3, 1, 0);
  x = b.pool({{x}}, "max", 3, 2, 0);
  x = inceptionA(b, x, 32);
  x = inceptionA(b, x, 64);
  x = inceptionA(b, x, 64);
  x = inceptionB(b, x);
  for (int64_t c7 : {128, 160, 160, 192})
    x = inceptionC(b, x, c7);
  x = inceptionD(b, x);
  x = inceptionE(b, x);
  x = inceptionE(b, x);
  b.pool({{x}}, "global_avg", 0, 1, 0);
  return b.finish();
}

//===----------------------------------------------------------------------===//
// RandWire
//===----------------------------------------------------------------------===//

// The four Watts-Strogatz stage graphs of RandWire-large, from the public
// repository mit-han-lab/inter-operator-scheduler (MIT License, Copyright (c)
// 2021 MIT HAN Lab), python/ios/models/randwire_graphs/generated/. Format:
// n, m, then m edges "u v".
static const char *const kRandWireLarge[] = {
    // ws-16-4-0.75-2.txt
    "16 32 0 6 0 7 0 9 1 6 1 7 1 15 2 6 2 10 2 11 3 9 3 13 4 6 4 9 4 13 "
    "4 14 4 15 5 8 5 10 5 15 6 8 6 9 6 12 7 11 7 15 8 11 9 11 10 14 11 "
    "14 12 14 13 14 13 15 14 15 ",
    // ws-32-4-0.75-3.txt
    "32 64 0 2 0 13 0 25 0 30 1 8 1 20 1 22 2 3 2 16 2 24 2 30 3 6 3 7 "
    "3 26 4 12 4 22 5 15 5 21 5 27 6 11 6 21 6 31 7 8 7 9 7 15 8 23 8 27 "
    "9 10 9 11 9 19 10 12 10 30 11 13 11 15 11 17 11 28 12 14 12 26 12 "
    "31 13 14 13 16 13 21 13 31 14 16 14 28 14 29 15 19 15 22 16 18 17 "
    "18 17 19 18 24 18 31 20 21 20 22 21 23 21 26 22 31 24 31 25 26 26 "
    "31 27 29 29 30 29 31 ",
    // ws-32-4-0.75-4.txt
    "32 64 0 9 0 11 0 14 0 17 0 31 1 2 1 3 1 31 2 4 2 11 2 12 2 14 2 30 "
    "3 4 3 25 4 9 4 20 4 29 5 6 5 27 6 7 6 21 6 27 7 30 7 31 8 10 8 25 "
    "9 10 9 14 10 11 10 16 10 22 10 28 11 16 11 24 12 13 12 14 12 15 12 "
    "16 13 14 13 22 13 26 14 23 15 29 16 21 17 26 18 19 18 20 19 22 19 "
    "27 20 22 22 25 22 30 23 27 24 25 24 26 25 28 26 28 27 28 27 29 28 "
    "29 29 30 29 31 30 31 ",
    // ws-32-4-0.75-5.txt
    "32 64 0 17 0 20 0 24 1 10 1 22 1 26 1 29 2 19 2 22 2 28 3 6 3 7 3 "
    "8 3 9 4 5 4 7 4 26 5 6 5 23 5 24 6 8 7 8 7 11 7 18 7 23 8 11 8 25 "
    "9 11 9 19 9 27 9 29 10 12 10 17 10 30 11 14 11 23 11 30 12 13 12 25 "
    "12 31 13 16 13 27 13 28 14 24 15 16 15 18 15 21 16 17 16 22 17 21 "
    "18 24 19 22 20 23 20 28 20 29 22 25 23 30 24 26 25 28 27 28 27 29 "
    "27 30 29 31 30 31 ",
};

llvm::Expected<WSGraph> synthetic::parseWSGraph(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> toks;
  llvm::SplitString(text, toks);
  llvm::SmallVector<unsigned> nums;
  for (llvm::StringRef t : toks) {
    unsigned v;
    if (t.getAsInteger(10, v))
      return createStringError(inconvertibleErrorCode(),
                               "bad WS graph token '%s'", t.str().c_str());
    nums.push_back(v);
  }
  if (nums.size() < 2 || nums.size() != 2 + 2 * size_t(nums[1]))
    return createStringError(inconvertibleErrorCode(),
                             "bad WS graph: expected n, m and m edges");
  WSGraph g;
  g.n = nums[0];
  for (unsigned i = 0; i < nums[1]; ++i) {
    unsigned u = nums[2 + 2 * i], v = nums[3 + 2 * i];
    if (u >= g.n || v >= g.n || u >= v)
      return createStringError(inconvertibleErrorCode(),
                               "bad WS graph edge %u %u", u, v);
    g.edges.push_back({u, v});
  }
  return g;
}

std::vector<WSGraph> synthetic::randWireLargeStages() {
  std::vector<WSGraph> out;
  for (const char *t : kRandWireLarge)
    out.push_back(llvm::cantFail(parseWSGraph(t)));
  return out;
}

llvm::Expected<Graph> synthetic::randWire(llvm::ArrayRef<WSGraph> stages,
                                          int64_t batch, bool blockHints) {
  NetBuilder b(batch);
  const int64_t ch = 154;
  int64_t block = 0;
  auto nextBlock = [&] {
    if (blockHints)
      b.setBlockHint(block++);
  };
  Val x = b.input(3, 224, 224);
  nextBlock();
  x = b.conv(x, ch / 2, 3, 2, 1, "identity");
  int64_t c = ch;
  for (const WSGraph &ws : stages) {
    nextBlock();
    unsigned n = ws.n;
    std::vector<unsigned> indeg(n), outdeg(n);
    std::vector<std::vector<unsigned>> outs(n), ins(n);
    for (auto [u, v] : ws.edges) {
      ++indeg[v];
      ++outdeg[u];
      outs[u].push_back(v);
      ins[v].push_back(u);
    }
    // Same construction (= index) order as the reference: a LIFO worklist.
    std::vector<Val> outputs(n);
    std::vector<unsigned> stack;
    for (unsigned u = 0; u < n; ++u)
      if (!indeg[u])
        stack.push_back(u);
    while (!stack.empty()) {
      unsigned u = stack.back();
      stack.pop_back();
      if (ins[u].empty()) {
        outputs[u] = b.reluSepConv({{x}}, c, 3, 2);
      } else {
        std::vector<Val> term;
        for (unsigned p : ins[u])
          term.push_back(outputs[p]);
        outputs[u] = b.reluSepConv({term}, c, 3, 1);
      }
      for (unsigned v : outs[u])
        if (--indeg[v] == 0)
          stack.push_back(v);
    }
    std::vector<Val> sinks;
    for (unsigned u = 0; u < n; ++u)
      if (!outdeg[u])
        sinks.push_back(outputs[u]);
    x = b.identity({sinks});
    c *= 2;
  }
  nextBlock();
  x = b.relu({{x}});
  x = b.conv(x, 1280, 1, 1, 0, "identity");
  b.pool({{x}}, "global_avg", 0, 1, 0);
  return b.finish();
}

//===----------------------------------------------------------------------===//
// NasNet-like
//===----------------------------------------------------------------------===//

namespace {
Val sep(NetBuilder &b, const NetBuilder::Terms &in, int64_t F, int64_t k,
        int64_t stride) {
  Val v = b.reluSepConv(in, F, k, stride);
  return b.reluSepConv({{v}}, F, k, 1);
}

/// Projection of the previous-previous cell output to F channels at the
/// current spatial size (factorized reduction when the sizes differ).
Val project(NetBuilder &b, Val prev, Val cur, int64_t F) {
  if (prev.H == cur.H)
    return b.reluConv({{prev}}, F, 1, 1);
  int64_t stride = prev.H / cur.H > 1 ? 2 : 1;
  Val paths[2];
  for (Val &p : paths) {
    b.beginUnit();
    Val r = b.relu({{prev}});
    Val pl = b.pool({{r}}, "avg", 1, stride, 0);
    p = b.conv({{pl}}, F / 2, 1, 1, 1, 1, 0, 0, "identity");
    b.endUnit();
  }
  return b.identity({{paths[0]}, {paths[1]}});
}

Val normalCell(NetBuilder &b, Val prev, Val cur, int64_t F) {
  Val p1 = b.reluConv({{cur}}, F, 1, 1);
  Val p0 = project(b, prev, p1, F);
  Val c0l = sep(b, {{p1}}, F, 5, 1), c0r = sep(b, {{p0}}, F, 3, 1);
  Val c1l = sep(b, {{p0}}, F, 5, 1), c1r = sep(b, {{p0}}, F, 3, 1);
  Val c2l = b.pool({{p1}}, "avg", 3, 1, 1);
  Val c3l = b.pool({{p0}}, "avg", 3, 1, 1), c3r = b.pool({{p0}}, "avg", 3, 1, 1);
  Val c4l = sep(b, {{p1}}, F, 3, 1);
  return b.identity({{p0}, {c0l, c0r}, {c1l, c1r}, {c2l, p0}, {c3l, c3r},
                     {c4l, p1}});
}

Val reductionCell(NetBuilder &b, Val prev, Val cur, int64_t F) {
  Val p1 = b.reluConv({{cur}}, F, 1, 1);
  Val p0 = project(b, prev, p1, F);
  Val c0l = sep(b, {{p1}}, F, 5, 2), c0r = sep(b, {{p0}}, F, 7, 2);
  Val c1l = b.pool({{p1}}, "max", 3, 2, 1), c1r = sep(b, {{p0}}, F, 7, 2);
  Val c2l = b.pool({{p1}}, "avg", 3, 2, 1), c2r = sep(b, {{p0}}, F, 5, 2);
  Val c3l = b.pool({{c0l, c0r}}, "avg", 3, 1, 1);
  Val c4l = sep(b, {{c0l, c0r}}, F, 3, 1);
  Val c4r = b.pool({{p1}}, "max", 3, 2, 1);
  return b.identity({{c1l, c1r}, {c2l, c2r}, {c3l, c1l, c1r}, {c4l, c4r}});
}
} // namespace

llvm::Expected<Graph> synthetic::nasnetLike(int64_t batch) {
  NetBuilder b(batch);
  int64_t part = 0;
  Val x = b.input(3, 331, 331);
  b.setPartHint(part++);
  Val stem = b.conv(x, 96, 3, 2, 0, "identity");
  b.setPartHint(part++);
  Val s0 = reductionCell(b, stem, stem, 42);
  b.setPartHint(part++);
  Val s1 = reductionCell(b, stem, s0, 84);
  Val prev = s0, cur = s1;
  const int64_t filters[] = {168, 336, 672};
  for (int stack = 0; stack < 3; ++stack) {
    if (stack > 0) {
      b.setPartHint(part++);
      Val r = reductionCell(b, prev, cur, filters[stack]);
      prev = cur;
      cur = r;
    }
    for (int i = 0; i < 6; ++i) {
      b.setPartHint(part++);
      Val c = normalCell(b, prev, cur, filters[stack]);
      prev = cur;
      cur = c;
    }
  }
  b.setPartHint(part++);
  Val r = b.relu({{cur}});
  b.setPartHint(part++);
  b.pool({{r}}, "global_avg", 0, 1, 0);
  return b.finish();
}

//===----------------------------------------------------------------------===//
// SimpleAnalyticCost
//===----------------------------------------------------------------------===//

namespace {
constexpr double kPeakFlopsPerUs = 14e6;   // 14 TFLOP/s
constexpr double kBytesPerUs = 8e5;        // 800 GB/s
constexpr double kLaunchUs = 4.0;          // per kernel
constexpr double kJoinUs = 3.0;            // per extra concurrent group
constexpr double kSaturatingUs = 30.0;     // work that fills the device

double prod(llvm::ArrayRef<int64_t> v) {
  double p = 1;
  for (int64_t x : v)
    p *= double(x);
  return p;
}
} // namespace

std::pair<double, double>
SimpleAnalyticCost::opTime(const OpSignature &sig) {
  double B = double(sig.batch);
  double in = sig.inputShapes.empty() ? 0 : prod(sig.inputShapes[0]);
  double out = prod(sig.outputShape);
  double flops = 0, bytes = 0;
  if (sig.kind == "conv") {
    auto k = sig.getInts("kernel").value_or(llvm::ArrayRef<int64_t>());
    double kk = k.size() == 2 ? double(k[0] * k[1]) : 1;
    double cin = sig.inputShapes.empty() ? 1 : double(sig.inputShapes[0][0]);
    double groups = double(sig.getInt("groups").value_or(1));
    double cout = sig.outputShape.empty() ? 1 : double(sig.outputShape[0]);
    flops = 2 * B * out * kk * cin / groups;
    bytes = 4 * (B * (in + out) + cout * cin / groups * kk);
  } else if (sig.kind == "pool") {
    auto k = sig.getInts("kernel").value_or(llvm::ArrayRef<int64_t>());
    double kk = k.size() == 2 ? double(k[0] * k[1]) : 1;
    flops = B * out * kk;
    bytes = 4 * B * (in + out);
  } else {
    double values = 1;
    if (auto t = sig.getInts("terms"); t && !t->empty()) {
      double sum = 0;
      for (int64_t x : *t)
        sum += double(x);
      values = sum / double(t->size());
    }
    flops = B * in * values;
    bytes = 4 * B * (in * values + out);
  }
  double work = std::max(flops / kPeakFlopsPerUs, bytes / kBytesPerUs);
  // An op too small to fill the device runs at utilization
  // sqrt(work / kSaturatingUs): its time grows sublinearly with its work.
  double t = work < kSaturatingUs ? std::sqrt(work * kSaturatingUs) : work;
  return {kLaunchUs + t, work};
}

double SimpleAnalyticCost::getCost(const Graph &g, const Stage &stage) {
  if (stage.strategy == Strategy::Merge && stage.groups.size() > 1) {
    llvm::SmallVector<unsigned> idxs;
    for (const auto &grp : stage.groups)
      idxs.push_back(*g.indexOf(grp[0]));
    llvm::Expected<OpSignature> merged = g.mergedSignature(idxs);
    if (!merged) {
      llvm::consumeError(merged.takeError());
      return std::numeric_limits<double>::quiet_NaN();
    }
    return opTime(*merged).first;
  }
  double longest = 0, work = 0;
  for (const auto &grp : stage.groups) {
    double t = 0;
    for (NodeId id : grp) {
      auto [alone, w] = opTime(g.nodeById(id).sig);
      t += alone;
      work += w;
    }
    longest = std::max(longest, t);
  }
  return std::max(longest, work + kLaunchUs) +
         kJoinUs * double(stage.groups.size() - 1);
}
