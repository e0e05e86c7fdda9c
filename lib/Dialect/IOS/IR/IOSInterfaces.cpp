//===- IOSInterfaces.cpp - The schedulable-op interface -------------------===//

#include "ios/Dialect/IOS/IR/IOSInterfaces.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;

#include "ios/Dialect/IOS/IR/IOSInterfaces.cpp.inc"

namespace {

/// The registered op whose signature kind is `kind`, found through the
/// interface (no table of kinds).
const ios::SchedulableOpInterface::Concept *opOfKind(MLIRContext *ctx,
                                                     StringRef kind) {
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (auto *op = name.getInterface<ios::SchedulableOpInterface>())
      if (op->getScheduleKind() == kind)
        return op;
  return nullptr;
}

/// Whether `built` gives `requested` back: equal inputs, output and batch,
/// and every attribute `requested` names with the same value (attributes it
/// leaves out took the op's defaults).
bool givesBack(const ios::sched::OpSignature &built,
               const ios::sched::OpSignature &requested) {
  if (built.kind != requested.kind ||
      built.inputShapes != requested.inputShapes ||
      built.outputShape != requested.outputShape ||
      built.batch != requested.batch)
    return false;
  return llvm::all_of(requested.attrs, [&](const auto &attr) {
    const ios::sched::AttrValue *v = built.get(attr.first);
    return v && *v == attr.second;
  });
}

} // namespace

FailureOr<Operation *>
ios::buildFromSignature(OpBuilder &builder, Location loc,
                        const sched::OpSignature &signature, ValueRange inputs,
                        ParamBuilder params) {
  const SchedulableOpInterface::Concept *op =
      opOfKind(builder.getContext(), signature.kind);
  if (!op)
    return emitError(loc) << "no op has the signature kind '"
                          << signature.kind << "'";
  // Types are made of the shapes: they must be valid before anything is
  // built (the op's verifier then checks the sizes).
  auto positive = [](ArrayRef<int64_t> shape) {
    return llvm::all_of(shape, [](int64_t d) { return d >= 1; });
  };
  if (signature.batch < 1 || !positive(signature.outputShape) ||
      !llvm::all_of(signature.inputShapes, positive))
    return emitError(loc) << "signature " << signature.str()
                          << " has a batch or a dimension < 1";
  if (inputs.size() != signature.inputShapes.size())
    return emitError(loc) << "signature " << signature.str() << " has "
                          << signature.inputShapes.size()
                          << " inputs, given " << inputs.size() << " values";
  FailureOr<Operation *> built =
      op->buildFromSignature(builder, loc, signature, inputs, params);
  if (failed(built))
    return failure();
  if (failed(verify(*built))) {
    (*built)->erase();
    return failure();
  }
  sched::OpSignature back =
      cast<SchedulableOpInterface>(*built).getScheduleSignature();
  if (!givesBack(back, signature)) {
    (*built)->erase();
    return emitError(loc) << "the op built from signature " << signature.str()
                          << " has signature " << back.str();
  }
  return built;
}
