// RUN: ios-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the schedule ops, one case each.

!t = tensor<1x4x8x8xf32>

// The mis-scheduled sample: conv3 reads conv1, but both are in one stage.
func.func @cross_group(%x: !t, %w: tensor<4x4x3x3xf32>, %b: tensor<4xf32>) -> !t {
  %s:2 = ios.stage concurrent {
    // expected-note @+1 {{value produced here}}
    %g0 = ios.group {
      %c1 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!t, tensor<4x4x3x3xf32>, tensor<4xf32>) -> !t
      ios.yield %c1 : !t
    } -> !t
    %g1 = ios.group {
      // expected-error @+1 {{'ios.conv2d' op in group #1 of a stage uses a value of group #0 of the same stage; groups of one stage run concurrently and exchange no values}}
      %c3 = ios.conv2d %g0, %w, %b {padding = array<i64: 1, 1>} : (!t, tensor<4x4x3x3xf32>, tensor<4xf32>) -> !t
      ios.yield %c3 : !t
    } -> !t
    ios.yield %g0, %g1 : !t, !t
  } -> !t, !t
  return %s#1 : !t
}

// -----

!t = tensor<1x4x8x8xf32>

// A stage used before it ran: dominance rejects it.
func.func @use_before_stage(%x: !t) -> !t {
  %s0 = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{operand #0 does not dominate this use}}
      %0 = ios.activation relu %s1 : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  // expected-note @+1 {{operand defined here}}
  %s1 = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s0 : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @op_outside_group(%x: !t) -> !t {
  // expected-error @+1 {{'ios.stage' op may only contain 'ios.group' ops, found 'ios.activation'}}
  %s = ios.stage concurrent {
    %0 = ios.activation relu %x : !t
    ios.yield %0 : !t
  } -> !t
  return %s : !t
}

// -----

func.func @empty_stage() {
  // expected-error @+1 {{'ios.stage' op must contain at least one 'ios.group'}}
  ios.stage concurrent {
    ios.yield
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @stage_yield_types(%x: !t) {
  // The stage is a RegionBranchOpInterface: its yield must forward exactly
  // its results.
  // expected-error @+1 {{'ios.stage' op along control flow edge from Operation ios.yield to parent: region branch point has 1 operands, but region successor needs 0 inputs}}
  ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    // expected-note @+1 {{region branch point}}
    ios.yield %g : !t
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @stage_yields_outer_value(%x: !t) -> !t {
  // expected-error @+1 {{'ios.stage' op yield operand #0 must be a result of one of the stage's groups}}
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %x : !t
  } -> !t
  return %s : !t
}

// -----

func.func @bad_strategy() {
  // expected-error @+1 {{expected one of 'concurrent', 'merge', got 'parallel'}}
  ios.stage parallel {
    ios.yield
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @empty_group(%x: !t) {
  ios.stage concurrent {
    // expected-error @+1 {{'ios.group' op must contain at least one op}}
    ios.group {
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @group_yield_types(%x: !t) {
  ios.stage concurrent {
    // expected-error @+1 {{'ios.group' op along control flow edge from Operation ios.yield to parent: region branch point has 1 operands, but region successor needs 0 inputs}}
    ios.group {
      %0 = ios.activation relu %x : !t
      // expected-note @+1 {{region branch point}}
      ios.yield %0 : !t
    }
    ios.yield
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @nested_stage(%x: !t) {
  ios.stage concurrent {
    // expected-error @+1 {{'ios.group' op must not contain schedule ops, found 'ios.stage'}}
    ios.group {
      ios.stage concurrent {
        ios.group {
          %0 = ios.activation relu %x : !t
          ios.yield
        }
        ios.yield
      }
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @group_outside_stage(%x: !t) {
  // expected-error @+1 {{'ios.group' op expects parent op 'ios.stage'}}
  ios.group {
    %0 = ios.activation relu %x : !t
    ios.yield
  }
  return
}

// -----

// Merge stages.

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_two_groups(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage must have exactly one group, has 2}}
  ios.stage merge {
    ios.group {
      %0 = ios.activation relu %x : !x
      ios.yield
    }
    ios.group {
      %0 = ios.activation relu %x : !x
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_two_convs(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage may hold only one merged op and the channel slices that split its result, found 'ios.conv2d'}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_other_op(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage may hold only one merged op and the channel slices that split its result, found 'ios.activation'}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.activation relu %0 : !m
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>

func.func @merge_no_conv(%x: !x) {
  // expected-error @+1 {{'ios.stage' op merge stage holds no merged op}}
  ios.stage merge {
    ios.group {
      %0 = ios.slice %x[0:2] : !x -> tensor<1x2x8x8xf32>
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x2x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_grouped(%x: !x, %w: !w, %b: !b) {
  ios.stage merge {
    ios.group {
      // expected-error @+1 {{'ios.conv2d' op cannot be the op of a merge stage (it does not merge; e.g. a grouped or dilated convolution)}}
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>, groups = 2 : i64} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:4] : !m -> !h
      %2 = ios.slice %0[4:8] : !m -> !h
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_dilated(%x: !x, %w: !w, %b: !b) {
  ios.stage merge {
    ios.group {
      // expected-error @+1 {{'ios.conv2d' op cannot be the op of a merge stage (it does not merge; e.g. a grouped or dilated convolution)}}
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 2, 2>, dilations = array<i64: 2, 2>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:4] : !m -> !h
      %2 = ios.slice %0[4:8] : !m -> !h
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>

func.func @merge_one_slice(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage must split its merged op into at least two channel slices, has 1}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:8] : !m -> !m
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_foreign_slice(%x: !x, %w: !w, %b: !b) {
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:4] : !m -> !h
      // expected-error @+1 {{'ios.slice' op in a merge stage must slice the merged op's result}}
      %2 = ios.slice %x[0:4] : !x -> !h
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>

func.func @merge_overlap(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage slices must cover channels [0, 8) exactly once; overlap at channel 4}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:6] : !m -> tensor<1x6x8x8xf32>
      %2 = ios.slice %0[4:8] : !m -> tensor<1x4x8x8xf32>
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>

func.func @merge_gap(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage slices must cover channels [0, 8) exactly once; gap at channel 2}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:2] : !m -> tensor<1x2x8x8xf32>
      %2 = ios.slice %0[4:8] : !m -> tensor<1x4x8x8xf32>
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>

func.func @merge_short(%x: !x, %w: !w, %b: !b) {
  // expected-error @+1 {{'ios.stage' op merge stage slices must cover channels [0, 8) exactly once; gap at channel 6}}
  ios.stage merge {
    ios.group {
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:2] : !m -> tensor<1x2x8x8xf32>
      %2 = ios.slice %0[2:6] : !m -> tensor<1x4x8x8xf32>
      ios.yield
    }
    ios.yield
  }
  return
}

// -----

!x = tensor<1x4x8x8xf32>
!w = tensor<8x4x3x3xf32>
!b = tensor<8xf32>
!m = tensor<1x8x8x8xf32>
!h = tensor<1x4x8x8xf32>

func.func @merge_escaping_conv(%x: !x, %w: !w, %b: !b) -> !m {
  %s = ios.stage merge {
    %g = ios.group {
      // expected-error @+1 {{'ios.conv2d' op result of a merged op may only be used by its slices}}
      %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, !w, !b) -> !m
      %1 = ios.slice %0[0:4] : !m -> !h
      %2 = ios.slice %0[4:8] : !m -> !h
      ios.yield %0 : !m
    } -> !m
    ios.yield %g : !m
  } -> !m
  return %s : !m
}
