//===- TranslateToDot.cpp - ios IR to Graphviz ----------------------------===//
//
// One digraph per function, top to bottom with tight rank spacing. Graph ops
// are compact boxes, their layer name and their kind with its key
// attributes (the result shape is in the tooltip), so a deep network stays
// about 4 times taller than wide (scheduled Inception V3: 1502x5949 px;
// left to right it is 38 times wider than tall). Network inputs are
// ellipses; parameters are left out (they would drown the picture). In a
// scheduled function every stage is a cluster and an op is filled with the
// colour of its group's stream, so what runs together sits in one box.
//
//===----------------------------------------------------------------------===//

#include "ios/Target/Dot.h"

#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace ios;

namespace {

/// Stream colours (ColorBrewer Set3): the ops of group j of every stage.
constexpr const char *kGroupColours[] = {
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3",
    "#fdb462", "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd"};

std::string shapeString(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t)
    return "?";
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(t.getShape(), os, "x");
  return s;
}

std::string pairString(ArrayRef<int64_t> v) {
  return llvm::formatv("{0}x{1}", v[0], v[1]).str();
}

/// Escapes a string for a double-quoted Graphviz label (newlines become
/// Graphviz line breaks).
std::string escape(StringRef s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

/// What an op computes, in a few words, from its schedule signature (the
/// conventional attribute names of signatures: kernel, stride, groups, act,
/// pool_type, begin/end).
std::string summary(const sched::OpSignature &sig) {
  std::string s = sig.kind;
  if (auto type = sig.getStr("pool_type"))
    s = type->str() + " " + s;
  if (auto k = sig.getInts("kernel"); k && k->size() == 2)
    s += " " + pairString(*k);
  if (auto st = sig.getInts("stride");
      st && st->size() == 2 && ((*st)[0] != 1 || (*st)[1] != 1))
    s += "/" + pairString(*st);
  if (auto g = sig.getInt("groups"); g && *g != 1)
    s += llvm::formatv(" g{0}", *g).str();
  for (StringRef key : {"act", "act_type"})
    if (auto act = sig.getStr(key); act && *act != "identity")
      s += " " + act->str();
  if (auto b = sig.getInt("begin"), e = sig.getInt("end"); b && e)
    s += llvm::formatv(" [{0}:{1}]", *b, *e).str();
  return s;
}

/// An op's kind with its key attributes ("conv 3x3 relu").
std::string kindOf(Operation *op) {
  auto iface = dyn_cast<SchedulableOpInterface>(op);
  return iface ? summary(iface.getScheduleSignature())
               : op->getName().getStringRef().str();
}

/// Layer name (ios.name or the location's) and kind; the kind alone for an
/// op without a name.
std::string label(Operation *op) {
  std::string kind = kindOf(op);
  if (std::optional<std::string> name = layerName(op))
    return *name + "\n" + kind;
  return kind;
}

/// Everything about an op, for the SVG tooltip: name, kind, result shapes.
std::string tooltip(Operation *op) {
  std::string text = label(op);
  for (Value r : op->getResults())
    text += "\n" + shapeString(r.getType());
  return text;
}

class DotPrinter {
public:
  explicit DotPrinter(raw_ostream &os) : os(os) {}

  LogicalResult print(func::FuncOp func) {
    os << "digraph \"" << escape(func.getSymName()) << "\" {\n"
       << "  rankdir=TB;\n  compound=true;\n  nodesep=0.15;\n  ranksep=0.25;\n"
       << "  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
          "fontname=\"Helvetica\", fontsize=10, margin=\"0.06,0.03\", "
          "height=0.3];\n"
       << "  edge [color=\"#555555\"];\n";
    for (BlockArgument arg : func.getArguments()) {
      if (func.getArgAttr(arg.getArgNumber(), IOSDialect::kParamAttrName)) {
        parameters.insert(arg);
        continue;
      }
      std::string id = newId();
      ids[arg] = id;
      os << "  " << id << " [shape=ellipse, label=\""
         << escape(llvm::formatv("input {0}\n{1}", arg.getArgNumber(),
                                 shapeString(arg.getType()))
                       .str())
         << "\"];\n";
    }
    printBlock(func.getBody().front(), "  ");
    os << edges;
    os << "}\n";
    return success();
  }

private:
  std::string newId() { return "n" + std::to_string(counter++); }

  /// The node that stands for `v`: ops map to themselves; results of groups
  /// and stages are traced back through their yields.
  std::optional<std::string> nodeOf(Value v) {
    while (true) {
      if (auto it = ids.find(v); it != ids.end())
        return it->second;
      Operation *def = v.getDefiningOp();
      if (!def || !isa<StageOp, GroupOp>(def))
        return std::nullopt;
      auto result = cast<OpResult>(v);
      Operation *term = def->getRegion(0).front().getTerminator();
      v = term->getOperand(result.getResultNumber());
    }
  }

  /// `fill`: the colour of the op's stream, if it is in a group.
  void printOp(Operation *op, StringRef indent, const char *fill = nullptr) {
    std::string id = newId();
    for (Value r : op->getResults())
      ids[r] = id;
    os << indent << id;
    if (isa<func::ReturnOp>(op))
      os << " [label=\"output\", shape=ellipse];\n";
    else
      os << " [label=\"" << escape(label(op)) << "\", tooltip=\""
         << escape(tooltip(op)) << "\""
         << (fill ? llvm::formatv(", fillcolor=\"{0}\"", fill).str() : "")
         << "];\n";
    for (Value operand : op->getOperands())
      if (auto src = nodeOf(operand))
        edges += "  " + *src + " -> " + id + ";\n";
  }

  void printBlock(Block &block, StringRef indent) {
    unsigned stageIndex = 0;
    for (Operation &op : block) {
      if (auto stage = dyn_cast<StageOp>(op)) {
        printStage(stage, stageIndex++, indent);
        continue;
      }
      // Constants and what is computed from parameters alone (the packed
      // weights of merge stages) are parameters: left out like arguments.
      bool fromParameters =
          !isa<SchedulableOpInterface>(op) &&
          !op.hasTrait<OpTrait::IsTerminator>() &&
          llvm::all_of(op.getOperands(),
                       [&](Value v) { return parameters.contains(v); });
      if (op.hasTrait<OpTrait::ConstantLike>() || fromParameters) {
        parameters.insert(op.result_begin(), op.result_end());
        continue;
      }
      printOp(&op, indent);
    }
  }

  void printStage(StageOp stage, unsigned index, StringRef indent) {
    std::string title = llvm::formatv("stage {0}: {1}", index,
                                      stringifyStrategy(stage.getStrategy()))
                            .str();
    if (auto latency = stage.getLatencyMs())
      title += llvm::formatv(", {0:F3} ms", latency->convertToDouble()).str();
    os << indent << "subgraph cluster_s" << index << " {\n"
       << indent << "  label=\"" << escape(title) << "\";\n"
       << indent << "  style=dashed; color=\"#333333\"; fontname=\"Helvetica\";\n";
    std::string inner = (indent + "  ").str();
    unsigned g = 0;
    for (GroupOp group : stage.getGroups()) {
      os << inner << "// group " << g << "\n";
      for (Operation &op : group.getBody().front().without_terminator())
        printOp(&op, inner, kGroupColours[g % std::size(kGroupColours)]);
      ++g;
    }
    os << indent << "}\n";
  }

  raw_ostream &os;
  std::string edges;
  llvm::DenseMap<Value, std::string> ids;
  llvm::DenseSet<Value> parameters;
  unsigned counter = 0;
};

} // namespace

LogicalResult ios::translateToDot(Operation *op, raw_ostream &os) {
  SmallVector<func::FuncOp> funcs;
  if (auto func = dyn_cast<func::FuncOp>(op))
    funcs.push_back(func);
  else
    op->walk([&](func::FuncOp f) { funcs.push_back(f); });
  if (funcs.empty())
    return op->emitError() << "--ios-to-dot found no function to draw";
  for (func::FuncOp func : funcs) {
    if (func.isExternal())
      continue;
    DotPrinter printer(os);
    if (failed(printer.print(func)))
      return failure();
  }
  return success();
}
