//===- IOSInterfaces.td - The schedulable-op interface -----*- tablegen -*-===//
//
// What an op means to every layer above the dialect, answered by the op
// itself, once.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOS_IR_IOSINTERFACES_TD
#define IOS_DIALECT_IOS_IR_IOSINTERFACES_TD

include "mlir/IR/OpBase.td"

def IOS_SchedulableOpInterface : OpInterface<"SchedulableOpInterface"> {
  let cppNamespace = "::ios";
  let description = [{
    An op the inter-operator scheduler can place in a stage, and everything
    the layers above the dialect ask of it: the scheduling adapter and the
    profilers (its signature: kind, attributes, per-sample shapes, batch and
    the kernels it launches with their FLOPs and bytes), the memory plan
    (whether its result is a view of its first operand, whether it computes
    its whole result, whether it concatenates its operands), and the merge
    rewrite (its merge key, the signature of a merged op and how to build
    one), and the measuring profilers (how to build the op back from its
    signature, `buildFromSignature`). No layer keeps a table of op kinds: adding an op is one
    implementation of this interface plus its kernels and tests. Ops outside
    the dialect can implement it through external models.

    Merging: ops with equal, non-empty merge keys that are independent of
    each other run as one op (a merge stage). The key must make that merge
    *exact*: `buildMerge` of any set of ops with equal keys computes exactly
    what the ops computed. The scheduler offers nothing else to its search,
    so the search and the rewrite always agree.
  }];

  let methods = [
    StaticInterfaceMethod<[{
        The `kind` of the op's signature (`conv`, `pool`, ...): unique among
        the ops that implement the interface, so a signature names the op
        it describes.
      }],
      "::llvm::StringRef", "getScheduleKind", (ins), [{}],
      /*defaultImplementation=*/[{ return ConcreteOp::getOperationName(); }]>,
    StaticInterfaceMethod<[{
        The inverse of `getScheduleSignature`: builds, at the builder's
        insertion point, an op of this kind on `inputs` (values of the
        signature's input shapes at its batch, in order) whose signature is
        `signature`. Parameters (weights, biases, ...) come from `params`
        (a role such as "weight" and the tensor type). Attributes the
        signature leaves out take the op's defaults. Emits an error at `loc`
        and fails when the signature's attributes cannot describe an op of
        this kind; the op is not verified yet (use
        ::ios::buildFromSignature, which verifies it and checks the round
        trip).
      }],
      "::mlir::FailureOr<::mlir::Operation *>", "buildFromSignature",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "const ::ios::sched::OpSignature &":$signature,
           "::mlir::ValueRange":$inputs,
           "::ios::ParamBuilder":$params)>,
    InterfaceMethod<[{
        The op as the scheduler, the stage-cost cache and the profilers see
        it: kind, attributes, per-sample input/output shapes (batch dropped),
        batch, and the kernels it launches (`work`, `modeled = true`).
        Parameters (ios.param arguments and constants) are not inputs.
      }],
      "::ios::sched::OpSignature", "getScheduleSignature">,
    InterfaceMethod<[{
        How the result relates to the first operand in memory: computed by a
        kernel, a channel range of it, or the same bytes seen with another
        shape (a view only when the operand is contiguous; otherwise the op
        copies).
      }],
      "::ios::ResultLayout", "getResultLayout", (ins), [{}],
      /*defaultImplementation=*/[{ return ::ios::ResultLayout(); }]>,
    InterfaceMethod<[{
        Whether the op's kernels write every element of its result, so it can
        write straight into a slot of a wider buffer (a concat operand).
      }],
      "bool", "writesWholeResult", (ins), [{}],
      /*defaultImplementation=*/[{
        return $_op.getResultLayout().kind == ::ios::ResultLayout::Kind::Computed;
      }]>,
    InterfaceMethod<[{
        Whether the result is the channel concatenation of the operands, in
        order (their producers may write into it in place).
      }],
      "bool", "concatenatesOperands", (ins), [{}],
      /*defaultImplementation=*/[{ return false; }]>,
    InterfaceMethod<[{
        A key such that ops with equal keys can be merged exactly into one op
        (see the interface description); std::nullopt if this op never
        merges. Keys identify the operand values, so equal keys mean the same
        inputs.
      }],
      "std::optional<std::string>", "getMergeKey", (ins), [{}],
      /*defaultImplementation=*/[{ return std::nullopt; }]>,
    InterfaceMethod<[{
        The signature of the op that merges `members` (this op first, all
        with this op's merge key), without building it.
      }],
      "::llvm::FailureOr<::ios::sched::OpSignature>", "getMergedSignature",
      (ins "::llvm::ArrayRef<::mlir::Operation *>":$members), [{}],
      /*defaultImplementation=*/[{ return ::mlir::failure(); }]>,
    InterfaceMethod<[{
        Replaces `members` (this op first, all with this op's merge key) by
        one merged op at the builder's insertion point and ops that hand each
        member's users its part of the result; erases the members. Returns
        the new ops in execution order (the merged op first). Parameter
        packing (e.g. weights padded and concatenated) is built before them.
      }],
      "::llvm::FailureOr<::llvm::SmallVector<::mlir::Operation *>>",
      "buildMerge",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Operation *>":$members), [{}],
      /*defaultImplementation=*/[{ return ::mlir::failure(); }]>,
  ];
}

#endif // IOS_DIALECT_IOS_IR_IOSINTERFACES_TD
