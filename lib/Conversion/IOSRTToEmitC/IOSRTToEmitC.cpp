//===- IOSRTToEmitC.cpp - iosrt programs to runtime API calls -------------===//
//
// Every iosrt op is one runtime call (RuntimeCallOpInterface), made either at
// load or at each inference. The pass splits each program function into the
// C entry points a user links against - create (load), run (inference),
// destroy, error - placing each op by its phase, then one conversion
// pattern turns every op into its `emitc.call_opaque` and the type
// converter turns views into `ios::rt::View` values. Kernels are prepared in
// create() and launched by number in run(), so run() is a straight list of
// launches, records and waits.
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Passes.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOSRT/IR/IOSRT.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

namespace ios {
#define GEN_PASS_DEF_CONVERTIOSRTTOEMITC
#include "ios/Conversion/Passes.h.inc"
} // namespace ios

using namespace mlir;
using namespace ios;
namespace rt = ios::rtir;

namespace {

/// `s` as a C string literal: quotes, backslashes and every byte outside
/// printable ASCII escaped (three-digit octal, so no following character can
/// extend the escape).
std::string cString(StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += '\\';
      out += char('0' + (c >> 6));
      out += char('0' + ((c >> 3) & 7));
      out += char('0' + (c & 7));
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

/// `s` safe inside a `//` comment: no line breaks (which would end it) and no
/// backslashes (one at the end of the line would splice the next line in).
std::string commentText(StringRef s) {
  std::string out;
  for (unsigned char c : s)
    out += (c < 0x20 || c >= 0x7f || c == '\\') ? '?' : char(c);
  return out;
}

/// Whether `s` can be pasted into a C identifier.
bool isIdentifierText(StringRef s) {
  return !s.empty() && !llvm::isDigit(s.front()) &&
         llvm::all_of(s, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}


struct Types {
  explicit Types(MLIRContext *ctx) {
    auto opaque = [&](StringRef s) { return emitc::OpaqueType::get(ctx, s); };
    context = emitc::PointerType::get(opaque("ios::rt::Context"));
    voidPtr = emitc::PointerType::get(opaque("void"));
    constCharPtr = emitc::PointerType::get(opaque("const char"));
    constVoidPtr = emitc::PointerType::get(opaque("const void"));
    size = emitc::SizeTType::get(ctx);
    inputs = emitc::PointerType::get(opaque("const float *const"));
    outputs = emitc::PointerType::get(opaque("float *const"));
    view = opaque("ios::rt::View");
    i32 = IntegerType::get(ctx, 32);
  }
  Type context, voidPtr, constVoidPtr, size, constCharPtr, inputs, outputs,
      view, i32;
};

/// The runtime context inside an entry point: the context argument of
/// prepare(), else the value its first op makes (create's createContext,
/// the cast of run's handle).
Value contextOf(emitc::FuncOp fn) {
  Block &body = fn.getBody().front();
  if (body.getNumArguments() &&
      body.getArgument(0).getType() == Types(fn.getContext()).context)
    return body.getArgument(0);
  return body.front().getResult(0);
}

/// The one pattern: an iosrt op becomes its runtime call. The context is
/// the entry point's first value.
struct RuntimeCallPattern
    : OpInterfaceConversionPattern<rt::RuntimeCallOpInterface> {
  RuntimeCallPattern(const TypeConverter &converter, MLIRContext *ctx,
                     ModuleOp module)
      : OpInterfaceConversionPattern(converter, ctx), module(module) {}

  LogicalResult
  matchAndRewrite(rt::RuntimeCallOpInterface op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    auto fn = op->getParentOfType<emitc::FuncOp>();
    if (!fn)
      return rewriter.notifyMatchFailure(op, "not inside an entry point");
    Value context = contextOf(fn);
    rt::RuntimeCall call = op.getRuntimeCall();
    Location loc = op->getLoc();
    SmallVector<Value> callOperands = {context};
    SmallVector<Attribute> args = {rewriter.getIndexAttr(0)};
    auto operand = [&](Value v) {
      args.push_back(rewriter.getIndexAttr(callOperands.size()));
      callOperands.push_back(v);
    };
    for (const rt::RuntimeArg &arg : call.args) {
      using Kind = rt::RuntimeArg::Kind;
      switch (arg.kind) {
      case Kind::Int32:
        args.push_back(rewriter.getI32IntegerAttr(arg.i));
        break;
      case Kind::Int64:
        args.push_back(rewriter.getI64IntegerAttr(arg.i));
        break;
      case Kind::Bool:
        args.push_back(rewriter.getBoolAttr(arg.i != 0));
        break;
      case Kind::Float:
        args.push_back(rewriter.getF32FloatAttr(arg.f));
        break;
      case Kind::String:
        args.push_back(emitc::OpaqueAttr::get(getContext(), cString(arg.s)));
        break;
      case Kind::Enum:
        args.push_back(emitc::OpaqueAttr::get(getContext(), arg.s));
        break;
      case Kind::View: {
        unsigned index =
            llvm::find(op->getOperands(), arg.value) - op->operand_begin();
        operand(operands[index]);
        break;
      }
      case Kind::Floats:
        operand(global(rewriter, fn, arg.data));
        break;
      }
    }
    bool returnsView = call.callee == "view";
    auto callOp = emitc::CallOpaqueOp::create(
        rewriter, loc,
        returnsView ? TypeRange(Types(getContext()).view) : TypeRange(),
        ("ios::rt::" + call.callee), callOperands,
        rewriter.getArrayAttr(args));
    if (returnsView)
      rewriter.replaceOp(op, callOp.getResults());
    else
      rewriter.eraseOp(op);
    return success();
  }

  /// A static array holding a constant's values, next to the entry point.
  Value global(ConversionPatternRewriter &rewriter, emitc::FuncOp fn,
               DenseElementsAttr data) const {
    std::string name = llvm::formatv("{0}_constant{1}", fn.getSymName(),
                                     constants++)
                           .str();
    auto type = emitc::ArrayType::get({data.getNumElements()},
                                      data.getElementType());
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(fn);
      emitc::GlobalOp::create(
          rewriter, fn.getLoc(), name, type,
          data.reshape(RankedTensorType::get({data.getNumElements()},
                                             data.getElementType())),
          /*extern=*/false, /*static=*/true, /*const=*/true);
    }
    return emitc::GetGlobalOp::create(rewriter, fn.getLoc(), type, name);
  }

  ModuleOp module;
  mutable unsigned constants = 0;
};

/// The entry points of one program function.
class Program {
public:
  Program(func::FuncOp func, std::string prefix, OpBuilder &b)
      : func(func), prefix(std::move(prefix)), b(b), t(func.getContext()),
        loc(func.getLoc()) {}

  void build(bool emitMain);
  /// The declarations of build()'s entry points, for the C header.
  void buildDeclarations();

private:
  /// The inputs' and outputs' shapes (4 values each, H = W = 1 for rank 2)
  /// and ranks, inputs first: what runMain and the header describe.
  struct Signature {
    SmallVector<int64_t> shapes;
    SmallVector<int32_t> ranks;
    int32_t inputs = 0, outputs = 0;
  };
  Signature signature();

  emitc::FuncOp entry(StringRef suffix, ArrayRef<Type> args, ArrayRef<Type> results) {
    auto fn = emitc::FuncOp::create(b, loc, prefix + "_" + suffix.str(),
                                    b.getFunctionType(args, results));
    fn.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
    fn.addEntryBlock();
    return fn;
  }
  /// A call of the operands, then the `extra` literal arguments.
  Value call(Type result, StringRef callee, ValueRange operands,
             ArrayRef<Attribute> extra = {}) {
    SmallVector<Attribute> args;
    for (unsigned i = 0; i < operands.size(); ++i)
      args.push_back(b.getIndexAttr(i));
    llvm::append_range(args, extra);
    auto op = emitc::CallOpaqueOp::create(
        b, loc, result ? TypeRange(result) : TypeRange(), callee, operands,
        b.getArrayAttr(args));
    return result ? op.getResult(0) : Value();
  }
  void comment(StringRef text) {
    emitc::VerbatimOp::create(b, loc, b.getStringAttr("// " + text.str()));
  }

  void header();
  /// The entry points' names, argument and result types (one list).
  struct EntryPoint {
    StringRef suffix;
    SmallVector<Type> args, results;
  };
  SmallVector<EntryPoint> entryPoints() const;
  /// The entry point that build() defines with this suffix.
  emitc::FuncOp define(StringRef suffix) {
    for (const EntryPoint &e : entryPoints())
      if (e.suffix == suffix)
        return entry(e.suffix, e.args, e.results);
    llvm_unreachable("not an entry point");
  }
  void buildCreate();
  void buildRun();
  void buildDestroyAndError();
  void buildMain();

  func::FuncOp func;
  std::string prefix;
  OpBuilder &b;
  Types t;
  Location loc;
};

void Program::header() {
  int64_t arena = func->getAttrOfType<IntegerAttr>(rt::kArenaAttrName).getInt();
  int64_t stages = llvm::range_size(func.getOps<rt::StageOp>());
  int64_t kernels = llvm::count_if(func.getOps<rt::RuntimeCallOpInterface>(),
                                   [](rt::RuntimeCallOpInterface op) {
                                     return op.getRuntimeCall().phase ==
                                            rt::RuntimePhase::Kernel;
                                   });
  comment(llvm::formatv("{0}: {1} stage(s), {2} kernel(s) on {3} stream(s); "
                        "arena {4:F2} MiB",
                        commentText(func.getSymName()), stages, kernels,
                        func->getAttrOfType<IntegerAttr>(rt::kStreamsAttrName)
                            .getInt(),
                        arena * 4.0 / (1 << 20))
              .str());
  if (auto attr =
          func->getAttrOfType<ScheduleAttr>(IOSDialect::kScheduleAttrName))
    comment(llvm::formatv("scheduled for {0}, batch {1}, by {2} ({3}): "
                          "estimated {4:F3} ms, sequential {5:F3} ms",
                          commentText(attr.getDevice()), attr.getBatch(),
                          commentText(attr.getProfiler()),
                          stringifyScheduleStrategy(attr.getStrategy()),
                          attr.getLatencyMs().getValueAsDouble(),
                          attr.getSequentialMs().getValueAsDouble())
                .str());
}

SmallVector<Program::EntryPoint> Program::entryPoints() const {
  return {{"create", {t.constCharPtr}, {t.voidPtr}},
          {"create_from_memory", {t.constVoidPtr, t.size}, {t.voidPtr}},
          {"run", {t.voidPtr, t.inputs, t.outputs}, {t.i32}},
          {"destroy", {t.voidPtr}, {}},
          {"error", {t.voidPtr}, {t.constCharPtr}}};
}

void Program::buildCreate() {
  // prepare(): what both creates do once the weights are in - views,
  // program constants, packed weights and kernels, in program order.
  auto prepare = emitc::FuncOp::create(
      b, loc, prefix + "_prepare", b.getFunctionType({t.context}, {t.voidPtr}));
  prepare.setSpecifiersAttr(b.getStrArrayAttr({"static"}));
  prepare.addEntryBlock();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&prepare.getBody().front());
    IRMapping mapping;
    for (auto op : func.getOps<rt::RuntimeCallOpInterface>())
      if (op.getRuntimeCall().phase != rt::RuntimePhase::Run)
        b.clone(*op, mapping);
    Value handle =
        call(t.voidPtr, "ios::rt::finishCreate", {prepare.getArgument(0)});
    emitc::ReturnOp::create(b, loc, handle);
  }
  auto attr = [&](StringRef name) {
    return b.getI32IntegerAttr(
        func->getAttrOfType<IntegerAttr>(name).getInt());
  };
  auto create = [&](StringRef suffix, StringRef load) {
    emitc::FuncOp fn = define(suffix);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.getBody().front());
    Value context = call(
        t.context, "ios::rt::createContext", {},
        {attr(rt::kStreamsAttrName), attr(rt::kEventsAttrName),
         b.getI64IntegerAttr(
             func->getAttrOfType<IntegerAttr>(rt::kArenaAttrName).getInt())});
    SmallVector<Value> operands = {context};
    llvm::append_range(operands, fn.getArguments());
    call(Type(), load, operands);
    Value handle =
        emitc::CallOp::create(b, loc, prepare, ValueRange{context})
            .getResult(0);
    emitc::ReturnOp::create(b, loc, handle);
  };
  create("create", "ios::rt::loadWeights");
  create("create_from_memory", "ios::rt::loadWeightsFromMemory");
}

void Program::buildRun() {
  emitc::FuncOp fn = define("run");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Value context = emitc::CastOp::create(b, loc, t.context, fn.getArgument(0));
  call(Type(), "ios::rt::upload", {context, fn.getArgument(1)});
  // Kernels launch by number: the order create() prepared them in.
  int32_t kernel = 0;
  for (auto op : func.getOps<rt::RuntimeCallOpInterface>()) {
    switch (op.getRuntimeCall().phase) {
    case rt::RuntimePhase::Load:
      break;
    case rt::RuntimePhase::Kernel:
      call(Type(), "ios::rt::launch", {context},
           {b.getI32IntegerAttr(kernel++)});
      break;
    case rt::RuntimePhase::Run:
      if (auto stage = dyn_cast<rt::StageOp>(*op))
        comment(llvm::formatv(
                    "stage {0}: {1}, {2} group(s){3}", stage.getIndex(),
                    stringifyStrategy(stage.getStrategy()), stage.getGroups(),
                    stage.getLatencyMs()
                        ? llvm::formatv(", estimated {0:F4} ms",
                                        stage.getLatencyMs()->convertToDouble())
                              .str()
                        : std::string())
                    .str());
      b.clone(*op);
      break;
    }
  }
  Value result =
      call(t.i32, "ios::rt::finishRun", {context, fn.getArgument(2)});
  emitc::ReturnOp::create(b, loc, result);
}

void Program::buildDestroyAndError() {
  {
    emitc::FuncOp fn = define("destroy");
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.getBody().front());
    Value context =
        emitc::CastOp::create(b, loc, t.context, fn.getArgument(0));
    call(Type(), "ios::rt::destroyContext", {context});
    emitc::ReturnOp::create(b, loc, Value());
  }
  emitc::FuncOp fn = define("error");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&fn.getBody().front());
  Value context = emitc::CastOp::create(b, loc, t.context, fn.getArgument(0));
  Value message = call(t.constCharPtr, "ios::rt::lastError", {context});
  emitc::ReturnOp::create(b, loc, message);
}

/// `int main` (compiled with -DIOS_MAIN) runs the program through the
/// runtime's runMain with its tensors' shapes.
Program::Signature Program::signature() {
  Signature sig;
  // Rank 2 is a view with h = w = 1 bound to a rank-2 tensor; the binding
  // ops keep the rank.
  auto add = [&](rt::ViewOp view, int32_t rank) {
    llvm::append_range(sig.shapes, view.getShape());
    sig.ranks.push_back(rank);
  };
  for (auto in : func.getOps<rt::InputOp>()) {
    add(in.getView().getDefiningOp<rt::ViewOp>(), in.getRank());
    ++sig.inputs;
  }
  for (auto out : func.getOps<rt::OutputOp>()) {
    add(out.getView().getDefiningOp<rt::ViewOp>(), out.getRank());
    ++sig.outputs;
  }
  return sig;
}

void Program::buildMain() {
  auto [shapes, ranks, inputs, outputs] = signature();
  auto global = [&](StringRef suffix, Type element, DenseElementsAttr init) {
    auto type = emitc::ArrayType::get({int64_t(init.getNumElements())},
                                      element);
    emitc::GlobalOp::create(b, loc, prefix + "_" + suffix.str(), type, init,
                            false, true, true);
    return std::make_pair(prefix + "_" + suffix.str(), type);
  };
  auto [shapesName, shapesType] = global(
      "shapes", b.getI64Type(),
      DenseElementsAttr::get(
          RankedTensorType::get({int64_t(shapes.size())}, b.getI64Type()),
          ArrayRef(shapes)));
  auto [ranksName, ranksType] = global(
      "ranks", b.getI32Type(),
      DenseElementsAttr::get(
          RankedTensorType::get({int64_t(ranks.size())}, b.getI32Type()),
          ArrayRef(ranks)));

  emitc::VerbatimOp::create(b, loc, "#ifdef IOS_MAIN");
  auto argv = emitc::PointerType::get(
      emitc::PointerType::get(emitc::OpaqueType::get(b.getContext(), "char")));
  auto fn = emitc::FuncOp::create(b, loc, "main",
                                  b.getFunctionType({t.i32, argv}, {t.i32}));
  fn.addEntryBlock();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.getBody().front());
    Value s = emitc::GetGlobalOp::create(b, loc, shapesType, shapesName);
    Value r = emitc::GetGlobalOp::create(b, loc, ranksType, ranksName);
    auto opaque = [&](StringRef text) {
      return emitc::OpaqueAttr::get(b.getContext(), text);
    };
    auto index = [&](unsigned i) { return b.getIndexAttr(i); };
    Value code =
        emitc::CallOpaqueOp::create(
            b, loc, TypeRange(t.i32), "ios::rt::runMain",
            ValueRange{fn.getArgument(0), fn.getArgument(1), s, r},
            b.getArrayAttr({index(0), index(1),
                            opaque(cString(func.getSymName())),
                            b.getI32IntegerAttr(inputs),
                            b.getI32IntegerAttr(outputs), index(2), index(3),
                            opaque("&" + prefix + "_create"),
                            opaque("&" + prefix + "_run"),
                            opaque("&" + prefix + "_destroy")}))
            .getResult(0);
    emitc::ReturnOp::create(b, loc, code);
  }
  emitc::VerbatimOp::create(b, loc, "#endif");
}

void Program::buildDeclarations() {
  header();
  Signature sig = signature();
  std::string upper = StringRef(prefix).upper();
  std::string defines =
      llvm::formatv("#define {0}_NUM_INPUTS {1}\n#define {0}_NUM_OUTPUTS {2}",
                    upper, sig.inputs, sig.outputs)
          .str();
  // Per tensor: its shape, and its element count (the float buffer run()
  // reads or writes).
  for (auto [i, rank] : llvm::enumerate(sig.ranks)) {
    bool input = int32_t(i) < sig.inputs;
    int64_t index = input ? i : i - sig.inputs;
    ArrayRef<int64_t> dims = ArrayRef(sig.shapes).slice(4 * i, 4);
    comment(llvm::formatv("{0} {1}: {2}", input ? "input" : "output", index,
                          llvm::join(llvm::map_range(dims.take_front(rank),
                                                     [](int64_t d) {
                                                       return std::to_string(d);
                                                     }),
                                     "x"))
                .str());
    int64_t elements = 1;
    for (int64_t d : dims)
      elements *= d;
    defines += llvm::formatv("\n#define {0}_{1}{2}_ELEMENTS {3}", upper,
                             input ? "INPUT" : "OUTPUT", index, elements)
                   .str();
  }
  emitc::VerbatimOp::create(b, loc, defines);
  for (const EntryPoint &e : entryPoints()) {
    auto fn = emitc::FuncOp::create(b, loc, prefix + "_" + e.suffix.str(),
                                    b.getFunctionType(e.args, e.results));
    fn.setPrivate();
  }
}

void Program::build(bool emitMain) {
  header();
  buildCreate();
  buildRun();
  buildDestroyAndError();
  if (emitMain)
    buildMain();
}

struct ConvertIOSRTToEmitCPass
    : ios::impl::ConvertIOSRTToEmitCBase<ConvertIOSRTToEmitCPass> {
  using Base::Base;

  /// The entry points' prefix: `ios_NAME`, or a generated `ios_programN`
  /// for symbol names that are not C identifiers (they reach C++ only as
  /// escaped strings).
  FailureOr<std::string> prefixOf(func::FuncOp func, unsigned &generated) {
    std::string prefix =
        isIdentifierText(func.getSymName())
            ? ("ios_" + func.getSymName()).str()
            : llvm::formatv("ios_program{0}", generated++).str();
    if (getOperation().lookupSymbol(prefix + "_create")) {
      func.emitError() << "generated entry point '" << prefix
                       << "_create' clashes with another symbol";
      return failure();
    }
    return prefix;
  }

  /// Replaces each program function by what `build` makes of it, in place.
  LogicalResult
  replacePrograms(ArrayRef<func::FuncOp> programs, OpBuilder &b,
                  llvm::function_ref<void(Program &, func::FuncOp)> build) {
    unsigned generated = 0;
    for (func::FuncOp func : programs) {
      FailureOr<std::string> prefix = prefixOf(func, generated);
      if (failed(prefix))
        return failure();
      b.setInsertionPoint(func);
      Program program(func, *prefix, b);
      build(program, func);
      func.erase();
    }
    return success();
  }

  /// The module becomes the C header of its programs' entry points.
  void buildHeader(ArrayRef<func::FuncOp> programs) {
    ModuleOp module = getOperation();
    OpBuilder b(module.getContext());
    Location loc = module.getLoc();
    b.setInsertionPointToStart(module.getBody());
    emitc::VerbatimOp::create(b, loc,
                              "// The entry points of a program generated by "
                              "IOS-MLIR (C and C++).\n#pragma once");
    emitc::IncludeOp::create(b, loc, "stddef.h", true);
    emitc::IncludeOp::create(b, loc, "stdint.h", true);
    emitc::VerbatimOp::create(b, loc,
                              "#ifdef __cplusplus\nextern \"C\" {\n#endif");
    if (failed(replacePrograms(programs, b, [](Program &p, func::FuncOp) {
          p.buildDeclarations();
        })))
      return signalPassFailure();
    b.setInsertionPointToEnd(module.getBody());
    emitc::VerbatimOp::create(b, loc, "#ifdef __cplusplus\n}\n#endif");
    module->setAttr(rt::kTargetAttrName, b.getStringAttr(target));
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (target != "cpu" && target != "cuda") {
      module.emitError() << "target='" << target
                         << "': expected 'cpu' or 'cuda'";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> programs;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func->hasAttr(rt::kArenaAttrName)) {
        programs.push_back(func);
        continue;
      }
      if (!func.isExternal() && !func.getBody().front().empty() &&
          llvm::any_of(func.getBody().front(), [](Operation &op) {
            return isa<SchedulableOpInterface, StageOp>(op);
          })) {
        func.emitError() << "function @" << func.getSymName()
                         << " holds ios ops; lower it with "
                            "--convert-ios-to-iosrt first";
        return signalPassFailure();
      }
    }
    if (header) {
      buildHeader(programs);
      return;
    }
    // main() runs one program.
    func::FuncOp mainProgram;
    if (emitMain && !programs.empty()) {
      if (!mainName.empty()) {
        for (func::FuncOp p : programs)
          if (p.getSymName() == mainName)
            mainProgram = p;
        if (!mainProgram) {
          module.emitError() << "main=" << mainName
                             << ": no program function of that name";
          return signalPassFailure();
        }
      } else if (programs.size() == 1) {
        mainProgram = programs.front();
      } else {
        module.emitError()
            << "the module holds " << programs.size()
            << " programs; choose the one main() runs with main=NAME, or "
               "emit-main=false";
        return signalPassFailure();
      }
    }

    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    if (target == "cuda") {
      emitc::VerbatimOp::create(
          b, module.getLoc(),
          "// CUDA program: nvcc -std=c++17 -I<ios>/include model.cu "
          "-L<build>/lib -lIOSRuntimeCUDA -lcudnn -lcudart");
      emitc::IncludeOp::create(b, module.getLoc(), "cuda_runtime.h", true);
    }
    emitc::IncludeOp::create(b, module.getLoc(), "cstdint", true);
    emitc::IncludeOp::create(b, module.getLoc(), "ios/Runtime/Runtime.h",
                             false);
    module->setAttr(rt::kTargetAttrName, b.getStringAttr(target));
    if (failed(replacePrograms(programs, b,
                               [&](Program &p, func::FuncOp func) {
                                 p.build(func == mainProgram);
                               })))
      return signalPassFailure();

    TypeConverter converter;
    converter.addConversion([](Type type) { return type; });
    converter.addConversion([](rt::ViewType type) -> Type {
      return emitc::OpaqueType::get(type.getContext(), "ios::rt::View");
    });
    ConversionTarget target(*ctx);
    target.addLegalDialect<emitc::EmitCDialect>();
    target.addIllegalDialect<rt::IOSRTDialect>();
    RewritePatternSet patterns(ctx);
    patterns.add<RuntimeCallPattern>(converter, ctx, module);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
