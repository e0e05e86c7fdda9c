//===- Passes.td - IOS conversion passes -------------------*- tablegen -*-===//

#ifndef IOS_CONVERSION_PASSES_TD
#define IOS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertIOSToEmitC : Pass<"convert-ios-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower scheduled ios functions to EmitC calls of the IOS runtime";
  let description = [{
    Turns every scheduled function `@f` (a body of `ios.stage` ops, as
    `--ios-schedule` produces) into three `emitc.func`s with C linkage that
    call the runtime API of `include/ios/Runtime/Runtime.h`:

    * `ios_f_create(const char *weightsPath) -> void *`: a runtime context
      with one stream per group index, the fork/join events and the arena;
      loads the safetensors weights and packs merged convolutions' weights
      once;
    * `ios_f_run(void *model, const float *input, float *output) -> int32_t`:
      one inference (1 on success);
    * `ios_f_destroy(void *model)`.

    Tensors live in one arena laid out by the memory plan (channel slices
    and flattens are views, concat operands are written in place by their
    producers, buffers of overlapping live ranges never share memory). A
    stage of several groups forks from stream 0 (`record` + `wait` of event
    0) and joins back into it (each stream `s > 0` records event `s`, stream
    0 waits for it); groups run on streams 0, 1, ...; a single-group stage
    runs on stream 0 with no event. Nothing synchronises the device inside
    an inference.

    `ios-translate --ios-to-cpp` / `--ios-to-cuda` run this pass and print
    the result with the upstream C++ emitter.
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"\"",
           "if set, fail on functions scheduled for another device">,
    Option<"emitMain", "emit-main", "bool", /*default=*/"true",
           "emit a main() (compiled with -DIOS_MAIN) that loads, runs and times inferences">
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // IOS_CONVERSION_PASSES_TD
