// RUN: ios-opt %s --ios-schedule="units=op report=%t.op.json" -o /dev/null
// RUN: %python %S/Inputs/search_stats.py %t.op.json | FileCheck %s --check-prefix=OP
// RUN: ios-opt %s --ios-schedule="units=chain report=%t.chain.json" | FileCheck %s --check-prefix=CHAIN
// RUN: %python %S/Inputs/search_stats.py %t.chain.json | FileCheck %s --check-prefix=CHAINSTATS

// units=chain fuses maximal single-producer/single-user chains into one
// scheduling unit: a -> b -> c travel together (one group), which shrinks
// the search; ios.unit hints are kept as they are.

!t = tensor<1x4x8x8xf32>

// OP: chains: units 5 blocks {{[0-9]+}} parts {{[0-9]+}} states {{[0-9]+}}
// CHAINSTATS: chains: units 3
// CHAIN-LABEL: func.func @chains
// CHAIN:         ios.stage concurrent
// CHAIN:         ios.stage concurrent
// CHAIN-NEXT:      ios.group {
// CHAIN-NEXT:        ios.activation relu %arg0
// CHAIN-NEXT:        ios.activation tanh
// CHAIN-NEXT:        ios.activation sigmoid
func.func @chains(%x: !t {ios.input}) -> !t {
  %a = ios.activation relu %x : !t
  %b = ios.activation tanh %a : !t
  %c = ios.activation sigmoid %b : !t
  %d = ios.activation relu %x : !t
  %e = ios.add %c, %d : !t
  return %e : !t
}
