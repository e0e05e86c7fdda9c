//===- IOSDialect.h - IOS dialect -------------------------------*- C++ -*-===//

#ifndef IOS_DIALECT_IOS_IR_IOSDIALECT_H
#define IOS_DIALECT_IOS_IR_IOSDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"

#include "ios/Dialect/IOS/IR/IOSDialect.h.inc"

#endif // IOS_DIALECT_IOS_IR_IOSDIALECT_H
