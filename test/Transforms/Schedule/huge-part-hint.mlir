// RUN: ios-opt %s --ios-schedule=report=%t.json -o /dev/null
// RUN: FileCheck %s --input-file=%t.json
// A part hint of INT64_MAX is valid, but it is DenseMap's empty key: the
// scheduler's grouping of units by hint read an empty bucket for it, so the
// units got a garbage block (here: all in one block; in ios-fuzz --seed 101,
// case 64091, a SIGSEGV). Part 0 and part INT64_MAX are two blocks.
// CHECK: "blocks": 2

!a = tensor<1x4x8x8xf32>
func.func @huge_part(%x: !a {ios.input}) -> !a {
  %0 = ios.activation relu %x {ios.part = 0 : i64} : !a
  %1 = ios.activation tanh %0 {ios.part = 9223372036854775807 : i64} : !a
  %2 = ios.activation sigmoid %1 {ios.part = 9223372036854775807 : i64} : !a
  return %2 : !a
}
