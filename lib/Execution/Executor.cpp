//===- Executor.cpp - Run iosrt programs in process -----------------------===//
//
// One binding per runtime function: bind() turns the function's parameter
// list into the conversion of an op's RuntimeCall arguments (ints, bools,
// floats, enumerators, strings, views, float arrays), so the table below is
// the whole map from callee names to the runtime API.
//
//===----------------------------------------------------------------------===//

#include "ios/Execution/Executor.h"

#include "ios/Dialect/IOSRT/IR/IOSRT.h"
#include "ios/Runtime/Runtime.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <deque>
#include <tuple>
#include <type_traits>
#include <variant>

using namespace mlir;
using namespace ios;
using namespace ios::exec;
using rtir::RuntimeArg;
using rtir::RuntimeCall;

namespace {

/// The remaining arguments of a call, as one parameter (prepareAddN's
/// views).
template <typename T>
struct Rest {
  std::vector<T> values;
};

/// What a call's arguments become: converted values and the storage the
/// pointers among them point into (kept as long as the call may be made).
struct ArgStorage {
  std::deque<std::string> strings;
  std::deque<std::vector<float>> floats;
};

/// Converts the arguments of one call, in order, to parameter types.
class ArgReader {
public:
  ArgReader(const RuntimeCall &call,
            const llvm::DenseMap<Value, rt::View> &views, ArgStorage &storage)
      : call(call), views(views), storage(storage) {}

  template <typename T>
  T get() {
    using Kind = RuntimeArg::Kind;
    if constexpr (std::is_same_v<T, Rest<rt::View>>) {
      Rest<rt::View> rest;
      while (next < call.args.size())
        rest.values.push_back(get<rt::View>());
      return rest;
    } else if constexpr (std::is_same_v<T, rt::View>) {
      const RuntimeArg *a = take(Kind::View, "a view");
      auto it = a ? views.find(a->value) : views.end();
      if (a && it == views.end())
        fail("a view no earlier op made");
      return it == views.end() ? rt::View{} : it->second;
    } else if constexpr (std::is_same_v<T, const char *>) {
      const RuntimeArg *a = take(Kind::String, "a string");
      return a ? storage.strings.emplace_back(a->s).c_str() : "";
    } else if constexpr (std::is_same_v<T, const float *>) {
      const RuntimeArg *a = take(Kind::Floats, "a float array");
      if (!a)
        return nullptr;
      std::vector<float> &data = storage.floats.emplace_back();
      for (const APFloat &v : a->data.getValues<APFloat>())
        data.push_back(v.convertToFloat());
      return data.data();
    } else if constexpr (std::is_enum_v<T>) {
      const RuntimeArg *a = take(Kind::Enum, "an enumerator");
      return T(a ? a->i : 0);
    } else if constexpr (std::is_same_v<T, bool>) {
      const RuntimeArg *a = take(Kind::Bool, "a bool");
      return a && a->i != 0;
    } else if constexpr (std::is_same_v<T, float>) {
      const RuntimeArg *a = take(Kind::Float, "a float");
      return a ? float(a->f) : 0.0f;
    } else if constexpr (std::is_same_v<T, int32_t>) {
      const RuntimeArg *a = take(Kind::Int32, "an int32");
      return a ? int32_t(a->i) : 0;
    } else {
      static_assert(std::is_same_v<T, int64_t>, "no conversion to T");
      const RuntimeArg *a = take(Kind::Int64, "an int64");
      return a ? a->i : 0;
    }
  }

  /// The error, if an argument did not convert or some were left over.
  std::optional<std::string> error() {
    if (next < call.args.size() && message.empty())
      fail("no more arguments");
    if (message.empty())
      return std::nullopt;
    return message;
  }

private:
  const RuntimeArg *take(RuntimeArg::Kind kind, llvm::StringRef what) {
    if (next >= call.args.size()) {
      fail(llvm::Twine(what) + " (the call has " +
           llvm::Twine(call.args.size()) + " arguments)");
      return nullptr;
    }
    const RuntimeArg &a = call.args[next++];
    if (a.kind != kind) {
      fail(what);
      return nullptr;
    }
    return &a;
  }

  void fail(const llvm::Twine &expected) {
    if (message.empty())
      message = llvm::formatv("argument {0} of '{1}' does not convert: the "
                              "function takes {2}",
                              next, call.callee, expected.str())
                    .str();
  }

  const RuntimeCall &call;
  const llvm::DenseMap<Value, rt::View> &views;
  ArgStorage &storage;
  size_t next = 0;
  std::string message;
};

/// What a runtime function returns: nothing, a view, a kernel id or success.
using Result = std::variant<std::monostate, rt::View, int32_t, bool>;
/// A call with its arguments converted, to be made (once at load, or at
/// each run).
using Thunk = std::function<Result(rt::Context *)>;
/// Converts a call's arguments; the thunk owns what they point to.
using Binding = std::function<FailureOr<Thunk>(
    const RuntimeCall &, const llvm::DenseMap<Value, rt::View> &,
    std::string &error)>;

/// The binding of runtime function `fn`: each parameter after the context
/// converts the next argument of the op's call.
template <typename R, typename... Params>
Binding bind(R (*fn)(rt::Context *, Params...)) {
  return [fn](const RuntimeCall &call,
              const llvm::DenseMap<Value, rt::View> &views,
              std::string &error) -> FailureOr<Thunk> {
    auto storage = std::make_shared<ArgStorage>();
    ArgReader reader(call, views, *storage);
    // Braced initialisation converts the arguments left to right.
    std::tuple<std::decay_t<Params>...> args{
        reader.template get<std::decay_t<Params>>()...};
    if (std::optional<std::string> e = reader.error()) {
      error = *e;
      return failure();
    }
    return Thunk([fn, args = std::move(args),
                  storage](rt::Context *ctx) -> Result {
      auto call = [&](auto... a) { return fn(ctx, a...); };
      if constexpr (std::is_void_v<R>) {
        std::apply(call, args);
        return std::monostate();
      } else {
        return Result(std::apply(call, args));
      }
    });
  };
}

/// rt::view of a context (not the inline overload on a raw pointer).
rt::View (*const viewInArena)(rt::Context *, int64_t, int64_t, int64_t,
                              int64_t, int64_t, int64_t) = &rt::view;

/// The runtime API by callee name (RuntimeCall::callee).
const llvm::StringMap<Binding> &bindings() {
  static const llvm::StringMap<Binding> table = {
      {"view", bind(viewInArena)},
      {"bindInput", bind(&rt::bindInput)},
      {"bindOutput", bind(&rt::bindOutput)},
      {"addWeight", bind(&rt::addWeight)},
      {"packConvWeight", bind(&rt::packConvWeight)},
      {"packBias", bind(&rt::packBias)},
      {"stage", bind(&rt::stage)},
      {"record", bind(&rt::record)},
      {"wait", bind(&rt::wait)},
      {"prepareConv2d", bind(&rt::prepareConv2d)},
      {"preparePool2d", bind(&rt::preparePool2d)},
      {"prepareActivation", bind(&rt::prepareActivation)},
      {"prepareAddN",
       bind(+[](rt::Context *c, int32_t s, const char *l, rt::View out,
                Rest<rt::View> in) {
         return rt::prepareAdd(c, s, l, out, int32_t(in.values.size()),
                               in.values.data());
       })},
      {"prepareMul", bind(&rt::prepareMul)},
      {"prepareAffine", bind(&rt::prepareAffine)},
      {"preparePad", bind(&rt::preparePad)},
      {"prepareUpsample", bind(&rt::prepareUpsample)},
      {"prepareChannelShuffle", bind(&rt::prepareChannelShuffle)},
      {"prepareCopy", bind(&rt::prepareCopy)},
      {"prepareLinear", bind(&rt::prepareLinear)},
      {"prepareSoftmax", bind(&rt::prepareSoftmax)},
  };
  return table;
}

llvm::Error opError(Operation *op, const llvm::Twine &message) {
  std::string name = op->getName().getStringRef().str();
  return llvm::createStringError("'" + name + "': " + message.str());
}

} // namespace

llvm::Expected<std::unique_ptr<LoadedProgram>>
LoadedProgram::load(func::FuncOp program, llvm::ArrayRef<Weight> weights) {
  auto attr = [&](llvm::StringRef name) -> std::optional<int64_t> {
    if (auto a = program->getAttrOfType<IntegerAttr>(name))
      return a.getInt();
    return std::nullopt;
  };
  std::optional<int64_t> arena = attr(rtir::kArenaAttrName),
                         streams = attr(rtir::kStreamsAttrName),
                         events = attr(rtir::kEventsAttrName);
  if (!arena || !streams || !events)
    return llvm::createStringError(
        "@" + program.getSymName().str() +
        " is not an iosrt program (no iosrt.arena, iosrt.streams, "
        "iosrt.events): lower it with --convert-ios-to-iosrt");
  std::unique_ptr<LoadedProgram> loaded(new LoadedProgram(rt::createContext(
      int32_t(*streams), int32_t(*events), std::max<int64_t>(*arena, 1))));
  rt::Context *ctx = loaded->ctx;
  for (const Weight &w : weights)
    rt::addWeight(ctx, w.name.c_str(), w.data.data(), int64_t(w.data.size()));

  llvm::DenseMap<Value, rt::View> views;
  for (Operation &op : program.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      continue;
    auto callOp = dyn_cast<rtir::RuntimeCallOpInterface>(op);
    if (!callOp)
      return opError(&op, "not a runtime call");
    RuntimeCall call = callOp.getRuntimeCall();
    auto binding = bindings().find(call.callee);
    if (binding == bindings().end())
      return opError(&op, "no runtime function '" + call.callee + "'");
    std::string error;
    FailureOr<Thunk> thunk = binding->second(call, views, error);
    if (failed(thunk))
      return opError(&op, error);
    switch (call.phase) {
    case rtir::RuntimePhase::Run:
      loaded->steps.push_back([thunk = std::move(*thunk)](rt::Context *c) {
        thunk(c);
      });
      break;
    case rtir::RuntimePhase::Load:
    case rtir::RuntimePhase::Kernel: {
      Result result = (*thunk)(ctx);
      if (auto *view = std::get_if<rt::View>(&result))
        views[op.getResult(0)] = *view;
      if (call.phase == rtir::RuntimePhase::Kernel) {
        // Launched by the id the runtime gave (-1 after a load error, which
        // finishCreate reports).
        const int32_t *id = std::get_if<int32_t>(&result);
        if (!id)
          return opError(&op, "'" + call.callee + "' returns no kernel id");
        loaded->steps.push_back(
            [id = *id](rt::Context *c) { rt::launch(c, id); });
        ++loaded->kernels;
      }
      break;
    }
    }
  }
  if (!rt::finishCreate(ctx)) {
    loaded->ctx = nullptr; // finishCreate destroyed it
    return llvm::createStringError(std::string("runtime: ") +
                                   rt::lastError(nullptr));
  }
  return std::move(loaded);
}

LoadedProgram::~LoadedProgram() { rt::destroyContext(ctx); }

void LoadedProgram::upload(const float *const *inputs) {
  rt::upload(ctx, inputs);
}

void LoadedProgram::runPhase() {
  for (const auto &step : steps)
    step(ctx);
}

llvm::Error LoadedProgram::finishRun(float *const *outputs) {
  if (rt::finishRun(ctx, outputs) == 1)
    return llvm::Error::success();
  return llvm::createStringError(std::string("runtime: ") +
                                 rt::lastError(ctx));
}
