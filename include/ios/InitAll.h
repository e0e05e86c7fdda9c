//===- InitAll.h - Register every dialect, pass and translation -*- C++ -*-===//
//
// The one place that says what the IOS tools know about: ios-opt,
// ios-translate and the unit tests all register through it.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_INITALL_H
#define IOS_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace ios {

/// The ios dialect plus the upstream dialects the project uses (func, arith,
/// tensor, emitc, tosa).
void registerAllDialects(mlir::DialectRegistry &registry);

/// Every project pass (and the upstream passes useful on ios IR).
void registerAllPasses();

/// Every ios-translate translation.
void registerAllTranslations();

} // namespace ios

#endif // IOS_INITALL_H
