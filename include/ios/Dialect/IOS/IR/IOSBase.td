//===- IOSBase.td - IOS dialect definition and enums -------*- tablegen -*-===//
//
// The `ios` dialect: CNN graphs as value-semantic ops on NCHW f32 tensors, and
// the stage/group regions that express an inter-operator schedule.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOS_IR_IOSBASE_TD
#define IOS_DIALECT_IOS_IR_IOSBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "ios/Dialect/IOS/IR/IOSInterfaces.td"

def IOS_Dialect : Dialect {
  let name = "ios";
  let cppNamespace = "::ios";
  let summary = "Inter-operator scheduling of CNN inference graphs";
  let description = [{
    The `ios` dialect has two layers.

    *Graph ops* (`ios.conv2d`, `ios.pool2d`, `ios.activation`, `ios.add`,
    `ios.mul`, `ios.affine`, `ios.pad`, `ios.upsample`,
    `ios.channel_shuffle`, `ios.concat`, `ios.slice`, `ios.flatten`,
    `ios.linear`, `ios.softmax`) describe a CNN with value semantics on ranked, statically
    shaped f32 tensors in NCHW layout. The batch size is part of the types:
    another batch size is another compile.

    *Schedule ops* (`ios.stage`, `ios.group`, `ios.yield`) express an
    inter-operator schedule in the IR itself: a function body is a sequence of
    stages run one after the other; a stage holds groups that run concurrently
    (one stream each); a group holds graph ops run in order. A `merge` stage
    holds one convolution that replaces several convolutions sharing an input,
    and the channel slices that give each original consumer its part.

    Discardable attributes of the dialect:
    * `ios.param = "name"` on a function argument: the argument is a parameter
      (weight or bias) stored under that name in the weights file.
    * `ios.input` on a function argument: the argument is a network input.
    * `ios.unit = "name"` on schedulable ops: ops with the same unit name form one
      scheduling unit (IOS's `Sequential`: e.g. relu + depthwise conv +
      pointwise conv) that the scheduler never splits.
    * `ios.part = N` on schedulable ops: an explicit partition hint; the scheduler
      solves each part on its own (IOS: one part per NasNet cell).
    * `ios.name = "layer"` on schedulable ops: the op's layer name, kept in
      the IR whatever the printing flags (reports, generated code and
      runtime errors use it; without it, the op's `loc("layer")` is used).
    * `ios.schedule = #ios.schedule<...>` on a scheduled function: what the
      schedule was made for (device, batch, profiler, r, s, strategy) and its
      estimated latency.
  }];
  let hasRegionArgAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Attribute names of the dialect's discardable attributes.
    static constexpr ::llvm::StringLiteral kParamAttrName = "ios.param";
    static constexpr ::llvm::StringLiteral kInputAttrName = "ios.input";
    static constexpr ::llvm::StringLiteral kUnitAttrName = "ios.unit";
    static constexpr ::llvm::StringLiteral kPartAttrName = "ios.part";
    static constexpr ::llvm::StringLiteral kScheduleAttrName = "ios.schedule";
    static constexpr ::llvm::StringLiteral kNameAttrName = "ios.name";
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def IOS_Activation : I32EnumAttr<"Activation", "activation function", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"relu", 1>,
    I32EnumAttrCase<"sigmoid", 2>,
    I32EnumAttrCase<"tanh", 3>,
    // min(max(x, 0), 6)
    I32EnumAttrCase<"relu6", 4>,
    // PyTorch's: relu6(x + 3) / 6
    I32EnumAttrCase<"hardsigmoid", 5>,
    // x * hardsigmoid(x)
    I32EnumAttrCase<"hardswish", 6>,
    // x * sigmoid(x)
    I32EnumAttrCase<"silu", 7>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}
def IOS_ActivationAttr : EnumAttr<IOS_Dialect, IOS_Activation, "act"> {
  let assemblyFormat = "`<` $value `>`";
}

def IOS_PoolKind : I32EnumAttr<"PoolKind", "pooling kind", [
    I32EnumAttrCase<"max", 0>,
    I32EnumAttrCase<"avg", 1>,
    I32EnumAttrCase<"global_max", 2>,
    I32EnumAttrCase<"global_avg", 3>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}
def IOS_PoolKindAttr : EnumAttr<IOS_Dialect, IOS_PoolKind, "pool"> {
  let assemblyFormat = "`<` $value `>`";
}

def IOS_UpsampleMode : I32EnumAttr<"UpsampleMode", "upsampling interpolation", [
    I32EnumAttrCase<"nearest", 0>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}
def IOS_UpsampleModeAttr : EnumAttr<IOS_Dialect, IOS_UpsampleMode, "upsample"> {
  let assemblyFormat = "`<` $value `>`";
}

def IOS_Strategy : I32EnumAttr<"Strategy", "stage execution strategy", [
    I32EnumAttrCase<"concurrent", 0>,
    I32EnumAttrCase<"merge", 1>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}
def IOS_StrategyAttr : EnumAttr<IOS_Dialect, IOS_Strategy, "strategy"> {
  let assemblyFormat = "`<` $value `>`";
}

def IOS_ScheduleStrategy : I32EnumAttr<"ScheduleStrategy",
    "how a function's schedule was made", [
    I32EnumAttrCase<"both", 0>,
    I32EnumAttrCase<"concurrent", 1>,
    I32EnumAttrCase<"merge", 2>,
    I32EnumAttrCase<"sequential", 3>,
    I32EnumAttrCase<"greedy", 4>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}

def IOS_Enumeration : I32EnumAttr<"Enumeration",
    "which concurrent endings the scheduler enumerates", [
    I32EnumAttrCase<"ios", 0>,
    I32EnumAttrCase<"full", 1>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}

def IOS_UnitMode : I32EnumAttr<"UnitMode",
    "what the scheduler's atoms (units) are", [
    I32EnumAttrCase<"op", 0>,
    I32EnumAttrCase<"chain", 1>
  ]> {
  let cppNamespace = "::ios";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def IOS_ScheduleAttr : AttrDef<IOS_Dialect, "Schedule"> {
  let mnemonic = "schedule";
  let summary = "what a function's schedule was made for, and its estimate";
  let description = [{
    Attached as `ios.schedule` to a function by `--ios-schedule`. A schedule
    is specific to a device, a batch size (also visible in the tensor types)
    and the profiler that costed it; tools that consume a scheduled function
    check it against what they are asked to do, so a schedule made for one
    GPU or batch is never silently used for another.

    ```mlir
    func.func @net(...) attributes {ios.schedule = #ios.schedule<
        device = "v100", batch = 1, profiler = "analytic:v100",
        strategy = both, enumeration = ios, max_group_size = 3,
        max_groups = 8, latency_ms = 4.03 : f64, sequential_ms = 6.51 : f64>}
    ```
  }];
  let parameters = (ins
    StringRefParameter<"device name or file">:$device,
    "int64_t":$batch,
    StringRefParameter<"profiler that costed the stages">:$profiler,
    EnumParameter<IOS_ScheduleStrategy>:$strategy,
    EnumParameter<IOS_Enumeration>:$enumeration,
    "int64_t":$max_group_size,
    "int64_t":$max_groups,
    "::mlir::FloatAttr":$latency_ms,
    "::mlir::FloatAttr":$sequential_ms);
  let assemblyFormat = "`<` struct(params) `>`";
}

//===----------------------------------------------------------------------===//
// Types and base classes
//===----------------------------------------------------------------------===//

def IOS_Tensor : RankedTensorOf<[F32]>;
def IOS_NCHWTensor : 4DTensorOf<[F32]>;

class IOS_Op<string mnemonic, list<Trait> traits = []>
    : Op<IOS_Dialect, mnemonic, traits>;

// Graph ops are value-semantic, side-effect free and schedulable: each
// implements the schedulable-op interface: its signature, its signature
// kind, how it is built back from a signature, and `schedMethods` (the
// other interface methods it overrides).
class IOS_GraphOp<string mnemonic, list<Trait> traits = [],
                  list<string> schedMethods = []>
    : IOS_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor,
        DeclareOpInterfaceMethods<IOS_SchedulableOpInterface,
                                  !listconcat(["getScheduleKind"],
                                              schedMethods)>])> {
  // One function checks operands/attributes and infers the result type; the
  // verifier reports its diagnostics and compares the declared type.
  let hasVerifier = 1;
}

#endif // IOS_DIALECT_IOS_IR_IOSBASE_TD
