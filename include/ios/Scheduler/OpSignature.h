//===- OpSignature.h - What an op is, as the scheduler sees it --*- C++ -*-===//
//
// An op signature is the self-contained description of one op that the
// scheduler, the stage-cost cache and every profiler work with: a kind, its
// attributes, per-sample shapes, the batch, and the device work it launches.
// Signatures are produced by the ops themselves (the dialect's
// SchedulableOpInterface); nothing below the dialect interprets a kind.
//
// No MLIR here: signatures cross process boundaries (exec servers, the
// measurement database) and the scheduler core is LLVM Support only.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SCHEDULER_OPSIGNATURE_H
#define IOS_SCHEDULER_OPSIGNATURE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace ios::sched {

/// An attribute value: an integer, a string or a list of integers.
class AttrValue {
public:
  enum class Kind : uint8_t { Int, Str, Ints };

  AttrValue() = default;
  AttrValue(int64_t v) : kind(Kind::Int), intValue(v) {}
  AttrValue(int v) : kind(Kind::Int), intValue(v) {}
  AttrValue(std::string v) : kind(Kind::Str), strValue(std::move(v)) {}
  AttrValue(const char *v) : kind(Kind::Str), strValue(v) {}
  AttrValue(llvm::ArrayRef<int64_t> v)
      : kind(Kind::Ints), intsValue(v.begin(), v.end()) {}
  AttrValue(std::initializer_list<int64_t> v)
      : kind(Kind::Ints), intsValue(v.begin(), v.end()) {}

  Kind getKind() const { return kind; }
  bool isInt() const { return kind == Kind::Int; }
  bool isStr() const { return kind == Kind::Str; }
  bool isInts() const { return kind == Kind::Ints; }
  int64_t getInt() const { return intValue; }
  llvm::StringRef getStr() const { return strValue; }
  llvm::ArrayRef<int64_t> getInts() const { return intsValue; }

  bool operator==(const AttrValue &o) const;
  bool operator!=(const AttrValue &o) const { return !(*this == o); }
  void print(llvm::raw_ostream &os) const;

private:
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  std::string strValue;
  llvm::SmallVector<int64_t, 4> intsValue;
};

/// One kernel an op launches, as a device model needs it: how much work, of
/// which kind, and how parallel it is. Device-independent: a device model
/// turns it into time (docs/Profilers.md).
struct KernelWork {
  enum class Kind : uint8_t {
    /// A dense GEMM-like kernel (implicit-GEMM convolution, inner product)
    /// over a `rows x cols` output in `tiles` independent problems (conv
    /// groups); bounded by FLOPs or bytes.
    Gemm,
    /// A depthwise convolution: FLOPs at the memory-bound efficiency.
    Depthwise,
    /// A memory-bound pass over `elements` outputs (element-wise, pools,
    /// copies, bias adds).
    Memory,
  };
  Kind kind = Kind::Memory;
  /// What the kernel is, for explanations ("conv", "bias", "copy", ...).
  const char *what = "";
  double flops = 0;
  double bytes = 0;
  /// Gemm: output rows (pixels x batch), columns per tile and tiles.
  double rows = 0, cols = 0, tiles = 1;
  /// Memory / Depthwise: output elements, the unit of parallelism.
  double elements = 0;
  /// Memory: independent planes reduced whole (global pooling): a plane per
  /// thread block instead of `elements`. 0 if not a plane reduction.
  double planes = 0;
  /// Gemm: a 3x3 stride-1 dense convolution, which cuDNN runs as Winograd.
  bool winograd = false;
  /// Issued through a library call with a heavier host cost (a cuDNN
  /// convolution or GEMM) rather than a plain kernel launch.
  bool libraryCall = false;

  bool operator==(const KernelWork &o) const;
};

/// What an op is, independent of its identity: two nodes with equal
/// signatures cost the same. Shapes are per sample (the batch is separate).
///
/// `work` is derived from the rest (equal signatures have equal work), so it
/// takes no part in equality or the canonical text; `modeled` is false for
/// ops that declare no work (ops outside the `ios` dialect).
struct OpSignature {
  std::string kind;
  /// Sorted by key, keys unique (use set()).
  llvm::SmallVector<std::pair<std::string, AttrValue>, 6> attrs;
  llvm::SmallVector<llvm::SmallVector<int64_t, 4>, 2> inputShapes;
  llvm::SmallVector<int64_t, 4> outputShape;
  int64_t batch = 1;
  /// The kernels the op launches, in order (empty for views).
  llvm::SmallVector<KernelWork, 2> work;
  bool modeled = false;

  OpSignature() = default;
  explicit OpSignature(std::string kind) : kind(std::move(kind)) {}

  /// Sets (or replaces) an attribute, keeping attrs sorted.
  OpSignature &set(llvm::StringRef key, AttrValue value);
  const AttrValue *get(llvm::StringRef key) const;
  std::optional<int64_t> getInt(llvm::StringRef key) const;
  std::optional<llvm::StringRef> getStr(llvm::StringRef key) const;
  std::optional<llvm::ArrayRef<int64_t>> getInts(llvm::StringRef key) const;

  /// Sums over `work`.
  double flops() const;
  double bytes() const;

  /// Canonical text, e.g.
  /// `conv{act=relu,groups=1,kernel=[3,3],stride=[1,1]}([64,35,35])->[96,35,35]x1`.
  /// Equal signatures <=> equal strings.
  std::string str() const;
  void print(llvm::raw_ostream &os) const;
  bool operator==(const OpSignature &o) const;
};

} // namespace ios::sched

#endif // IOS_SCHEDULER_OPSIGNATURE_H
