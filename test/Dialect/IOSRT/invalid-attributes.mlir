// RUN: ios-opt %s -split-input-file -verify-diagnostics
// RUN: not ios-translate --ios-to-cpp %s -split-input-file 2>&1 | FileCheck %s --check-prefix=TRANSLATE
// The attributes of a program function are integers the lowering reads as
// such: before these checks, an `iosrt.arena` of another kind crashed
// --convert-iosrt-to-emitc (ios-fuzz --seed 100, cases 70929 and 79652:
// SIGSEGV in IntegerAttr::getInt).
// TRANSLATE-COUNT-7: error:
// TRANSLATE-NOT: Stack dump

!t = tensor<1x4x8x8xf32>
// expected-error @+1 {{a program function needs 'iosrt.arena': an integer in [0, 9223372036854775807]}}
func.func @outside(%x: !t {ios.input}) -> !t attributes {iosrt.arena = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = ios.activation relu %x : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

// expected-error @+1 {{a program function needs 'iosrt.streams': an integer in [1, 2147483647]}}
func.func @no_streams() attributes {iosrt.arena = 16 : i64, iosrt.events = 1 : i32} {
  return
}

// -----

// expected-error @+1 {{a program function needs 'iosrt.streams': an integer in [1, 2147483647]}}
func.func @zero_streams() attributes {iosrt.arena = 16 : i64, iosrt.events = 1 : i32, iosrt.streams = 0 : i32} {
  return
}

// -----

// expected-error @+1 {{a program function needs 'iosrt.arena': an integer in [0, 9223372036854775807]}}
func.func @negative_arena() attributes {iosrt.arena = -1 : i64, iosrt.events = 1 : i32, iosrt.streams = 1 : i32} {
  return
}

// -----

// expected-error @+1 {{'iosrt.events' is only valid on functions}}
module attributes {iosrt.events = 1 : i32} {
}

// -----

// expected-error @+1 {{'iosrt.target' must be "cpu" or "cuda"}}
module attributes {iosrt.target = "gpu"} {
}

// -----

// expected-error @+1 {{unknown iosrt attribute 'iosrt.arenas'}}
func.func @typo() attributes {iosrt.arenas = 16 : i64} {
  return
}
