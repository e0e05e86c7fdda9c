//===- Passes.td - IOS conversion passes -------------------*- tablegen -*-===//

#ifndef IOS_CONVERSION_PASSES_TD
#define IOS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertIOSToIOSRT : Pass<"convert-ios-to-iosrt", "::mlir::ModuleOp"> {
  let summary = "Place a scheduled network in memory and order its launches";
  let description = [{
    Turns every scheduled function (a body of `ios.stage` ops, as
    `--ios-schedule` produces) into an `iosrt` program: the same function,
    with no arguments or results, whose body

    * binds the caller's inputs and outputs to arena views
      (`iosrt.input`, `iosrt.output`);
    * packs merged convolutions' weights at load (`iosrt.pack_conv_weight`,
      `iosrt.pack_bias`) and carries constant operands (`iosrt.constant`);
    * runs each stage as `iosrt.stage`, a fork (`iosrt.record` of event 0
      on stream 0, `iosrt.wait` of every other stream), the kernels of its
      groups - group `i` on stream `i`, enqueued round-robin: op 1 of every
      group, then op 2, ... so every stream starts early (`launch-order`) -
      and a join
      (stream `s` records event `s`, stream 0 waits for it). A single-group
      stage runs on stream 0 with no event.

    Tensors are `iosrt.view`s in one arena laid out by the memory plan
    (`-test-ios-memory-plan` prints it): channel slices and flattens are
    views, concatenation operands are written in place by their producers
    where the plan allows (else copied), buffers of overlapping live ranges
    never share memory. The function gets `iosrt.arena`, `iosrt.streams`
    and `iosrt.events`.

    What the runtime cannot run (an op outside stages, a weight that is not
    a parameter, a constant or a packed weight, a constant read as an
    activation) is a located error before anything changes.
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"\"",
           "if set, fail on functions scheduled for another device">,
    Option<"launchOrder", "launch-order", "::ios::LaunchOrder",
           /*default=*/"::ios::LaunchOrder::roundRobin",
           "The order a stage's kernels are enqueued in",
           [{::llvm::cl::values(
             clEnumValN(::ios::LaunchOrder::roundRobin, "round-robin",
                        "op i of every group before op i + 1 of any"),
             clEnumValN(::ios::LaunchOrder::grouped, "grouped",
                        "group by group"))}]>
  ];
  let dependentDialects = ["::ios::rtir::IOSRTDialect"];
}

def ConvertIOSRTToEmitC : Pass<"convert-iosrt-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Turn iosrt programs into the C entry points of a program";
  let description = [{
    Every `iosrt` program function `@f` (from `--convert-ios-to-iosrt`)
    becomes `extern "C"` EmitC functions calling the runtime API of
    `include/ios/Runtime/Runtime.h`:

    * `void *ios_f_create(const char *weightsPath)`: the context, the
      weights (the file, the program's constants, packed merged weights),
      every view (range-checked) and every kernel prepared, in program
      order; nullptr if any of it failed (`ios_f_error(nullptr)` says why);
    * `void *ios_f_create_from_memory(const void *data, size_t size)`: the
      same with the weights' safetensors file already in memory (copied);
    * `int32_t ios_f_run(void *model, const float *const *inputs,
      float *const *outputs)`: one inference - the inputs uploaded, the
      kernels launched by number with the records, waits and stage markers
      between them, the outputs downloaded; 1 on success;
    * `void ios_f_destroy(void *model)`, `const char *ios_f_error(void
      *model)`;
    * with `emit-main`, a `main` (compiled with `-DIOS_MAIN`) that runs
      `ios::rt::runMain` on one program (the only one, or `main=NAME`).

    With `header`, the module becomes the C header declaring those entry
    points instead (C and C++, one comment per program with its inputs'
    and outputs' shapes, `PREFIX_NUM_INPUTS` / `PREFIX_NUM_OUTPUTS` and
    each tensor's `PREFIX_INPUTi_ELEMENTS` / `PREFIX_OUTPUTi_ELEMENTS`).

    Each op lowers through its `RuntimeCallOpInterface` answer, so the
    lowering has one pattern. A symbol name that is not a C identifier
    becomes a generated prefix (`ios_program0`, ...); names and strings
    reach the C++ only as escaped string literals or comment text.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "the runtime backend the program is for: cpu or cuda">,
    Option<"emitMain", "emit-main", "bool", /*default=*/"true",
           "emit a main() (compiled with -DIOS_MAIN) that loads, runs and times inferences">,
    Option<"mainName", "main", "std::string", /*default=*/"\"\"",
           "the program main() runs (default: the module's only one)">,
    Option<"header", "header", "bool", /*default=*/"false",
           "emit the C header declaring the entry points instead of the program">
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

def TosaToIOS : Pass<"tosa-to-ios", "::mlir::ModuleOp"> {
  let summary = "Convert fp32 TOSA graphs (NHWC) to graph-level ios ops (NCHW)";
  let description = [{
    Rewrites every function holding TOSA ops into graph-level `ios` ops that
    `--ios-schedule` schedules and the lowering runs.

    Layout: TOSA is NHWC with OHWI convolution weights and HWCM depthwise
    weights; ios is NCHW with OIHW weights. A rank-4 argument or result
    `[N, H, W, C]` becomes `[N, C, H, W]` (the converted function takes and
    returns NCHW tensors, marked `ios.input`); `[1, N, K]` values of a fully
    connected layer become `[N, K]`. Constants are converted where they are
    used: as `arith.constant`s, or, with `weights=FILE`, as `ios.param`
    arguments named after their use (`<layer>.weight`, `.bias`, ...) whose
    values are written to `FILE` (safetensors).

    | TOSA | ios |
    | --- | --- |
    | `conv2d` | `ios.conv2d` (+ `ios.pad` for asymmetric padding) |
    | `depthwise_conv2d` | `ios.conv2d` with `groups` = channels |
    | `max_pool2d` | `ios.pool2d max` (+ `ios.pad` with the lowest float) |
    | `avg_pool2d` | `ios.pool2d avg` with `count_include_pad = false` (TOSA averages the taps inside the input) |
    | `add`, `mul` | `ios.add`, `ios.mul` (broadcasting `[N, 1, 1, C]`) |
    | `add` of a `[1, 1, M]` constant after `matmul` | `ios.affine` (the bias) |
    | `concat` (axis 3) | `ios.concat` |
    | `clamp` [0, 6] / [0, inf) | `ios.activation relu6` / `relu` |
    | `sigmoid`, `tanh` | `ios.activation` |
    | `reshape` `[N, 1, 1, C]` -> `[N, C]` | `ios.flatten` |
    | `reshape` `[N, K]` <-> `[1, N, K]` | nothing |
    | `matmul` with a constant `[1, K, M]` | `ios.linear` |

    Everything else (other ops, quantized graphs with non-zero zero points,
    clamps to other bounds, reshapes that depend on the NHWC element order,
    asymmetric average-pool padding) is an error at the op; every function
    is checked before any is changed.
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"\"",
           "write the constants as ios.param weights to this safetensors file (else arith.constant)">
  ];
  let dependentDialects = [
    "::ios::IOSDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect"
  ];
}

#endif // IOS_CONVERSION_PASSES_TD
