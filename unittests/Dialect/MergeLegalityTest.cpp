//===- MergeLegalityTest.cpp - The DP is offered what the rewrite does -----===//
//
// Property: a pair of convolutions is offered to the scheduler as mergeable
// (equal merge keys) if and only if merging them the way the rewrite does -
// one convolution over the largest kernel and padding, each kernel
// zero-padded centred (offset (K - k) / 2), one activation - computes
// exactly what the two convolutions compute. Exactness is checked
// numerically, in double precision, on random data; for offered pairs the
// real rewrite (buildMerge) is run and must build exactly that convolution.
//
//===----------------------------------------------------------------------===//

#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>

using namespace mlir;
using namespace ios;

namespace {

/// A convolution's configuration (one input channel group, square input).
struct Conv {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, groups;
  bool relu;
};

/// Output size of one dimension, or nullopt if the window does not fit.
std::optional<int64_t> outSize(int64_t in, int64_t k, int64_t s, int64_t p,
                               int64_t d) {
  int64_t span = d * (k - 1) + 1;
  if (in + 2 * p < span)
    return std::nullopt;
  return (in + 2 * p - span) / s + 1;
}

/// NCHW (N = 1) tensor of doubles.
struct Tensor {
  int64_t c, h, w;
  std::vector<double> v;
  double &at(int64_t ci, int64_t y, int64_t x) { return v[(ci * h + y) * w + x]; }
  double get(int64_t ci, int64_t y, int64_t x) const {
    if (y < 0 || y >= h || x < 0 || x >= w)
      return 0;
    return v[(ci * h + y) * w + x];
  }
};

/// A plain convolution (weights O x C/groups x kh x kw).
Tensor convolve(const Tensor &in, const std::vector<double> &weights,
                int64_t outC, const Conv &c) {
  Tensor out{outC, *outSize(in.h, c.kh, c.sh, c.ph, c.dh),
             *outSize(in.w, c.kw, c.sw, c.pw, c.dw), {}};
  out.v.assign(out.c * out.h * out.w, 0);
  int64_t cinG = in.c / c.groups, coutG = outC / c.groups;
  for (int64_t o = 0; o < outC; ++o)
    for (int64_t y = 0; y < out.h; ++y)
      for (int64_t x = 0; x < out.w; ++x) {
        double sum = 0;
        int64_t g = o / coutG;
        for (int64_t ci = 0; ci < cinG; ++ci)
          for (int64_t i = 0; i < c.kh; ++i)
            for (int64_t j = 0; j < c.kw; ++j)
              sum += weights[((o * cinG + ci) * c.kh + i) * c.kw + j] *
                     in.get(g * cinG + ci, y * c.sh - c.ph + i * c.dh,
                            x * c.sw - c.pw + j * c.dw);
        out.at(o, y, x) = c.relu ? std::max(sum, 0.0) : sum;
      }
  return out;
}

class MergeLegalityTest : public ::testing::Test {
protected:
  MergeLegalityTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = ModuleOp::create(UnknownLoc::get(&ctx));
  }

  RankedTensorType t(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&ctx));
  }

  /// Two convs (2 output channels each) on one function's input(s).
  SmallVector<Conv2dOp> build(int64_t cin, int64_t hw, const Conv &a,
                              const Conv &b, bool sameInput) {
    OpBuilder builder(&ctx);
    builder.setInsertionPointToEnd(module->getBody());
    SmallVector<Type> args = {t({1, cin, hw, hw}), t({1, cin, hw, hw})};
    for (const Conv &c : {a, b}) {
      args.push_back(t({2, cin / c.groups, c.kh, c.kw}));
      args.push_back(t({2}));
    }
    auto fn = func::FuncOp::create(builder, loc, "f",
                                   builder.getFunctionType(args, {}));
    builder.setInsertionPointToEnd(fn.addEntryBlock());
    SmallVector<Conv2dOp> convs;
    for (auto [i, c] : llvm::enumerate(SmallVector<Conv>{a, b}))
      convs.push_back(Conv2dOp::create(
          builder, loc, fn.getArgument(sameInput ? 0 : i),
          fn.getArgument(2 + 2 * i), fn.getArgument(3 + 2 * i),
          builder.getDenseI64ArrayAttr({c.sh, c.sw}),
          builder.getDenseI64ArrayAttr({c.ph, c.pw}),
          builder.getDenseI64ArrayAttr({c.dh, c.dw}),
          builder.getI64IntegerAttr(c.groups),
          ActivationAttr::get(&ctx, c.relu ? Activation::relu
                                           : Activation::none)));
    func::ReturnOp::create(builder, loc);
    return convs;
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  Location loc = UnknownLoc::get(&ctx);
};

/// Whether the rewrite's construction (one undilated, ungrouped convolution
/// of the pair's input over the largest kernel and padding, the weights
/// concatenated as they are with each kernel zero-padded to the largest,
/// centred, one activation) computes both convolutions exactly, on random
/// data.
bool rewriteIsExact(const Conv &a, const Conv &b, int64_t cin, int64_t hw,
                    bool sameInput, std::mt19937 &rng) {
  if (!sameInput || a.relu != b.relu || a.sh != b.sh || a.sw != b.sw)
    return false; // one input, one stride and one activation for the merge
  // A grouped conv's weight (C/groups input channels) does not concatenate
  // into an ungrouped one.
  if (a.groups != 1 || b.groups != 1)
    return false;
  std::uniform_real_distribution<double> uni(-1, 1);
  Tensor x{cin, hw, hw, {}};
  for (int64_t i = 0; i < cin * hw * hw; ++i)
    x.v.push_back(uni(rng));
  Conv merged{std::max(a.kh, b.kh), std::max(a.kw, b.kw), a.sh, a.sw,
              std::max(a.ph, b.ph), std::max(a.pw, b.pw), 1, 1, 1, a.relu};
  if (!outSize(hw, merged.kh, merged.sh, merged.ph, 1) ||
      !outSize(hw, merged.kw, merged.sw, merged.pw, 1))
    return false;
  // Centring needs an even kernel growth.
  for (const Conv &c : {a, b})
    if ((merged.kh - c.kh) % 2 || (merged.kw - c.kw) % 2)
      return false;
  std::vector<double> packed;
  std::vector<Tensor> originals;
  for (const Conv &c : {a, b}) {
    std::vector<double> w(2 * (cin / c.groups) * c.kh * c.kw);
    for (double &v : w)
      v = uni(rng);
    originals.push_back(convolve(x, w, 2, c));
    // The kernel zero-padded, centred, in the merged (undilated) window.
    int64_t top = (merged.kh - c.kh) / 2, left = (merged.kw - c.kw) / 2;
    for (int64_t o = 0; o < 2; ++o)
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t i = 0; i < merged.kh; ++i)
          for (int64_t j = 0; j < merged.kw; ++j) {
            int64_t li = i - top, lj = j - left;
            bool tap = li >= 0 && li < c.kh && lj >= 0 && lj < c.kw;
            packed.push_back(tap ? w[((o * cin + ci) * c.kh + li) * c.kw + lj]
                                 : 0);
          }
  }
  Tensor out = convolve(x, packed, 4, merged);
  for (auto [m, orig] : llvm::enumerate(originals)) {
    if (orig.h != out.h || orig.w != out.w)
      return false;
    for (int64_t o = 0; o < 2; ++o)
      for (int64_t y = 0; y < out.h; ++y)
        for (int64_t xx = 0; xx < out.w; ++xx)
          if (std::abs(out.at(2 * m + o, y, xx) - orig.get(o, y, xx)) > 1e-9)
            return false;
  }
  return true;
}

TEST_F(MergeLegalityTest, OfferedIffTheRewriteIsExact) {
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int64_t> kernel(1, 5), stride(1, 3),
      pad(0, 3), dilation(1, 2), coin(0, 1), size(5, 12);
  auto randomConv = [&] {
    return Conv{kernel(rng), kernel(rng), stride(rng), stride(rng),
                pad(rng),    pad(rng),    dilation(rng) == 1 || coin(rng) ? 1 : 2,
                1,           coin(rng) && coin(rng) ? 2 : 1,
                coin(rng) == 1};
  };
  unsigned offered = 0, exact = 0, tried = 0;
  while (tried < 4000) {
    Conv a = randomConv(), b = randomConv();
    // Half the pairs share stride, activation and groups, and half of those
    // have kernels with a common centre (or one off), so that offered pairs
    // are frequent and the boundary is probed from both sides.
    if (coin(rng)) {
      b.sh = a.sh;
      b.sw = a.sw;
      b.relu = a.relu;
      b.groups = a.groups = 1;
      b.dh = b.dw = a.dh = a.dw = 1;
      if (coin(rng)) {
        std::uniform_int_distribution<int64_t> grow(0, 2), off(-1, 1);
        int64_t gh = grow(rng), gw = grow(rng);
        b.kh = a.kh + 2 * gh;
        b.kw = a.kw + 2 * gw;
        b.ph = std::max<int64_t>(0, a.ph + gh + (coin(rng) ? 0 : off(rng)));
        b.pw = std::max<int64_t>(0, a.pw + gw + (coin(rng) ? 0 : off(rng)));
      }
    }
    int64_t hw = size(rng), cin = 2;
    bool sameInput = coin(rng) || coin(rng);
    if (!outSize(hw, a.kh, a.sh, a.ph, a.dh) ||
        !outSize(hw, a.kw, a.sw, a.pw, a.dw) ||
        !outSize(hw, b.kh, b.sh, b.ph, b.dh) ||
        !outSize(hw, b.kw, b.sw, b.pw, b.dw))
      continue;
    ++tried;
    SmallVector<Conv2dOp> convs = build(cin, hw, a, b, sameInput);
    ASSERT_TRUE(succeeded(verify(*module)));
    std::optional<std::string> ka = convs[0].getMergeKey(),
                               kb = convs[1].getMergeKey();
    bool isOffered = ka && kb && *ka == *kb;
    bool isExact = rewriteIsExact(a, b, cin, hw, sameInput, rng);
    SCOPED_TRACE(llvm::formatv("a: k {0}x{1} s {2}x{3} p {4}x{5} d {6}x{7} "
                               "g {8} relu {9}; b: k {10}x{11} s {12}x{13} p "
                               "{14}x{15} d {16}x{17} g {18} relu {19}; input "
                               "{20}, same {21}",
                               a.kh, a.kw, a.sh, a.sw, a.ph, a.pw, a.dh,
                               a.dw, a.groups, a.relu, b.kh, b.kw, b.sh, b.sw,
                               b.ph, b.pw, b.dh, b.dw, b.groups, b.relu, hw,
                               sameInput)
                     .str());
    ASSERT_EQ(isOffered, isExact);
    offered += isOffered;
    exact += isExact;
    if (isOffered) {
      // The real rewrite builds that convolution: the largest padding and
      // kernel, each kernel zero-padded centred.
      OpBuilder builder(convs[0]);
      SmallVector<Operation *> members = {convs[0], convs[1]};
      FailureOr<SmallVector<Operation *>> ops =
          cast<SchedulableOpInterface>(members[0]).buildMerge(builder,
                                                              members);
      ASSERT_TRUE(succeeded(ops));
      auto merged = cast<Conv2dOp>((*ops)[0]);
      EXPECT_EQ(merged.getPadding()[0], std::max(a.ph, b.ph));
      EXPECT_EQ(merged.getPadding()[1], std::max(a.pw, b.pw));
      auto concat = merged.getWeight().getDefiningOp<tensor::ConcatOp>();
      ASSERT_TRUE(concat);
      for (auto [c, w] : llvm::zip(SmallVector<Conv>{a, b},
                                   concat.getInputs())) {
        int64_t top = 0, left = 0;
        if (auto padOp = w.getDefiningOp<tensor::PadOp>()) {
          top = padOp.getStaticLow()[2];
          left = padOp.getStaticLow()[3];
        }
        EXPECT_EQ(top, (std::max(a.kh, b.kh) - c.kh) / 2);
        EXPECT_EQ(left, (std::max(a.kw, b.kw) - c.kw) / 2);
      }
      EXPECT_TRUE(succeeded(verify(*module)));
    }
    module->getBody()->clear();
  }
  // The property is not vacuous: both sides occur often.
  EXPECT_GT(offered, tried / 20);
  EXPECT_LT(offered, tried - tried / 20);
  EXPECT_EQ(offered, exact);
}

TEST_F(MergeLegalityTest, StrideTwoThreeByThreeAndTwoByTwo) {
  // Both give 4x4 from 9x9, but a 2x2 kernel cannot be centred in a 3x3 one:
  // never offered (the rewrite could not build it).
  Conv k3{3, 3, 2, 2, 0, 0, 1, 1, 1, true}, k2{2, 2, 2, 2, 0, 0, 1, 1, 1, true};
  SmallVector<Conv2dOp> convs = build(2, 9, k3, k2, true);
  EXPECT_EQ(convs[0].getType().getShape(), convs[1].getType().getShape());
  EXPECT_NE(convs[0].getMergeKey(), convs[1].getMergeKey());
  std::mt19937 rng(1);
  EXPECT_FALSE(rewriteIsExact(k3, k2, 2, 9, true, rng));
}

TEST_F(MergeLegalityTest, InferenceWithoutLocationIsSilent) {
  // InferTypeOpInterface's contract: no location, no diagnostic.
  bool reported = false;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &) {
    reported = true;
    return success();
  });
  OpBuilder builder(&ctx);
  Block block;
  Value x = block.addArgument(t({1, 4, 3, 3}), loc);
  Value w = block.addArgument(t({8, 4, 5, 5}), loc); // window > input
  Value b = block.addArgument(t({8}), loc);
  SmallVector<Value> operands = {x, w, b};
  Conv2dOp::Properties props;
  props.setStrides(builder.getDenseI64ArrayAttr({1, 1}));
  props.setPadding(builder.getDenseI64ArrayAttr({0, 0}));
  props.setDilations(builder.getDenseI64ArrayAttr({1, 1}));
  props.setGroups(builder.getI64IntegerAttr(1));
  props.setAct(ActivationAttr::get(&ctx, Activation::none));
  Conv2dOp::Adaptor adaptor(operands, builder.getDictionaryAttr({}), props);
  SmallVector<Type> inferred;
  EXPECT_TRUE(failed(Conv2dOp::inferReturnTypes(&ctx, std::nullopt, adaptor,
                                                inferred)));
  EXPECT_FALSE(reported);
  EXPECT_TRUE(failed(
      Conv2dOp::inferReturnTypes(&ctx, loc, adaptor, inferred)));
  EXPECT_TRUE(reported);
}

} // namespace
