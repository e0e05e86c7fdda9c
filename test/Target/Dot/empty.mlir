// RUN: not ios-translate --ios-to-dot %s 2>&1 | FileCheck %s
// CHECK: error: --ios-to-dot found no function to draw
module {}
