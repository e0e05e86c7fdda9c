//===- IOSInterfaces.cpp - The schedulable-op interface -------------------===//

#include "ios/Dialect/IOS/IR/IOSInterfaces.h"

#include "ios/Dialect/IOS/IR/IOSInterfaces.cpp.inc"
