//===- IOSDialect.cpp - IOS dialect registration and attributes ----------===//

#include "ios/Dialect/IOS/IR/IOSDialect.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"

#include "llvm/ADT/StringExtras.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace ios;

#include "ios/Dialect/IOS/IR/IOSDialect.cpp.inc"
#include "ios/Dialect/IOS/IR/IOSEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "ios/Dialect/IOS/IR/IOSAttrs.cpp.inc"

void IOSDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ios/Dialect/IOS/IR/IOSOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ios/Dialect/IOS/IR/IOSAttrs.cpp.inc"
      >();
}

LogicalResult IOSDialect::verifyRegionArgAttribute(Operation *op,
                                                   unsigned regionIndex,
                                                   unsigned argIndex,
                                                   NamedAttribute attr) {
  auto func = dyn_cast<FunctionOpInterface>(op);
  StringRef name = attr.getName().getValue();
  if (name != kParamAttrName && name != kInputAttrName)
    return op->emitError() << "unknown ios argument attribute '" << name
                           << "'";
  if (!func)
    return op->emitError() << "'" << name
                           << "' is only valid on function arguments";
  if (name == kInputAttrName) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a unit attribute";
    return success();
  }
  auto str = dyn_cast<StringAttr>(attr.getValue());
  if (!str || str.getValue().empty())
    return op->emitError() << "'" << name
                           << "' on argument #" << argIndex
                           << " must be a non-empty string";
  Type argTy = func.getArgumentTypes()[argIndex];
  auto tensorTy = dyn_cast<RankedTensorType>(argTy);
  if (!tensorTy || !tensorTy.hasStaticShape() ||
      !tensorTy.getElementType().isF32())
    return op->emitError() << "parameter '" << str.getValue()
                           << "' must be a statically shaped f32 tensor, got "
                           << argTy;
  // Parameter names key the weights file: they must be unique. Report the
  // clash once, at the later argument.
  for (unsigned i = 0; i < argIndex; ++i)
    if (auto other = func.getArgAttrOfType<StringAttr>(i, kParamAttrName))
      if (other == str)
        return op->emitError() << "parameter name '" << str.getValue()
                               << "' is used by arguments #" << i << " and #"
                               << argIndex;
  return success();
}

LogicalResult IOSDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kUnitAttrName) {
    auto str = dyn_cast<StringAttr>(attr.getValue());
    if (!str || str.getValue().empty())
      return op->emitError() << "'" << name << "' must be a non-empty string";
    if (!isa<SchedulableOpInterface>(op))
      return op->emitError() << "'" << name
                             << "' is only valid on schedulable ops";
    return success();
  }
  if (name == kNameAttrName) {
    auto str = dyn_cast<StringAttr>(attr.getValue());
    if (!str || str.getValue().empty())
      return op->emitError() << "'" << name << "' must be a non-empty string";
    return success();
  }
  if (name == kPartAttrName) {
    auto i = dyn_cast<IntegerAttr>(attr.getValue());
    if (!i || i.getType().isIndex() || i.getInt() < 0)
      return op->emitError() << "'" << name
                             << "' must be a non-negative integer";
    if (!isa<SchedulableOpInterface>(op))
      return op->emitError() << "'" << name
                             << "' is only valid on schedulable ops";
    return success();
  }
  if (name == kScheduleAttrName) {
    if (!isa<ScheduleAttr>(attr.getValue()))
      return op->emitError() << "'" << name
                             << "' must be an #ios.schedule attribute";
    if (!isa<FunctionOpInterface>(op))
      return op->emitError() << "'" << name << "' is only valid on functions";
    return success();
  }
  if (name == kParamAttrName || name == kInputAttrName)
    return op->emitError() << "'" << name
                           << "' is only valid on function arguments";
  return op->emitError() << "unknown ios attribute '" << name << "'";
}

/// The names in a location: a NameLoc's, or those inside a FusedLoc joined
/// with '+' (a merged op's location fuses its sources').
static std::optional<std::string> locationName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    SmallVector<std::string> names;
    for (Location inner : fused.getLocations())
      if (std::optional<std::string> n = locationName(inner))
        names.push_back(*n);
    if (!names.empty())
      return llvm::join(names, "+");
  }
  return std::nullopt;
}

std::optional<std::string> ios::layerName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>(IOSDialect::kNameAttrName))
    return name.getValue().str();
  return locationName(op->getLoc());
}
