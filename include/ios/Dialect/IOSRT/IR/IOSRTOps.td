//===- IOSRTOps.td - The IOS runtime program dialect ------*- tablegen -*-===//
//
// `iosrt` is a scheduled network as the runtime runs it: tensors placed in
// one arena (views with offsets and batch strides), each op a kernel on
// views enqueued on a stream, explicit events between streams. It is the
// form between the value-semantic `ios` dialect and the printed program:
// `--convert-ios-to-iosrt` produces it (memory plan, launch order, fork and
// join), `--convert-iosrt-to-emitc` turns each op into runtime API calls.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_DIALECT_IOSRT_IR_IOSRTOPS_TD
#define IOS_DIALECT_IOSRT_IR_IOSRTOPS_TD

include "ios/Dialect/IOS/IR/IOSBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def IOSRT_Dialect : Dialect {
  let name = "iosrt";
  let hasOperationAttrVerify = 1;
  let cppNamespace = "::ios::rtir";
  let summary = "A scheduled network as the IOS runtime runs it";
  let description = [{
    The program form of a scheduled `ios` function. A function holds, in
    program order:

    * `iosrt.view` ops: where each tensor lives in the program's arena (an
      offset and a shape; a channel slice of a wider tensor is a view with
      the wider tensor's batch stride);
    * `iosrt.input` / `iosrt.output`: which views the caller's tensors are
      copied into and out of;
    * weight preparation (`iosrt.pack_conv_weight`, `iosrt.pack_bias`: the
      packed weights of merged convolutions) and constants
      (`iosrt.constant`);
    * kernels on views (`iosrt.conv2d`, ..., `iosrt.copy`), each enqueued on
      a `stream` and named after its layer, in launch order;
    * synchronisation: `iosrt.record` (an event completes when a stream's
      work so far has) and `iosrt.wait` (a stream waits for an event);
    * `iosrt.stage` markers (the schedule's stages, for reports and
      profiles).

    Its function carries `iosrt.arena` (floats), `iosrt.streams` and
    `iosrt.events`. Weights are referenced by name (the weights file's keys,
    or the names of packed weights and constants).
  }];
  let useDefaultTypePrinterParser = 1;
}

def IOSRT_ViewType : TypeDef<IOSRT_Dialect, "View"> {
  let mnemonic = "view";
  let summary = "a tensor's place in the program's arena";
}

def IOSRT_RuntimeCallOpInterface : OpInterface<"RuntimeCallOpInterface"> {
  let cppNamespace = "::ios::rtir";
  let description = [{
    An op that is one call of the runtime API: which function, with which
    arguments, and when (at load, as a kernel prepared at load and launched
    at each inference, or at each inference). The EmitC lowering prints the
    call and the stage server makes it, from this one answer.
  }];
  let methods = [
    InterfaceMethod<"The runtime API call this op is.",
                    "::ios::rtir::RuntimeCall", "getRuntimeCall">
  ];
}

class IOSRT_Op<string mnemonic, list<Trait> traits = []>
    : Op<IOSRT_Dialect, mnemonic,
         !listconcat(traits,
                     [DeclareOpInterfaceMethods<IOSRT_RuntimeCallOpInterface>])>;

def IOSRT_ViewOp : IOSRT_Op<"view", [Pure]> {
  let summary = "an NCHW tensor at an arena offset";
  let description = [{
    Image `n` of the tensor starts at `offset + n * batch_stride` floats in
    the arena; inside an image the layout is dense C x H x W. Rank-2 tensors
    are `N x F x 1 x 1`.

    ```mlir
    %v = iosrt.view offset 4096 shape [1, 64, 35, 35] batch_stride 78400
    ```
  }];
  let arguments = (ins I64Attr:$offset, DenseI64ArrayAttr:$shape,
                   I64Attr:$batch_stride);
  let results = (outs IOSRT_ViewType:$view);
  let assemblyFormat = [{
    `offset` $offset `shape` $shape `batch_stride` $batch_stride attr-dict
  }];
  let hasVerifier = 1;
}

def IOSRT_InputOp : IOSRT_Op<"input"> {
  let summary = "the caller's input #index is copied into this view";
  let description = [{
    `rank` is the tensor's (2: an N x F tensor seen as N x F x 1 x 1).
  }];
  let arguments = (ins IOSRT_ViewType:$view, I64Attr:$index, I64Attr:$rank);
  let assemblyFormat = "$index `to` $view attr-dict";
}

def IOSRT_OutputOp : IOSRT_Op<"output"> {
  let summary = "output #index is copied out of this view";
  let description = [{
    `rank` is the tensor's (2: an N x F tensor seen as N x F x 1 x 1).
  }];
  let arguments = (ins IOSRT_ViewType:$view, I64Attr:$index, I64Attr:$rank);
  let assemblyFormat = "$index `from` $view attr-dict";
}

def IOSRT_ConstantOp : IOSRT_Op<"constant"> {
  let summary = "a weight the program carries itself";
  let description = [{
    A constant operand of the network (not in the weights file), registered
    under `name` when the program loads.
  }];
  let arguments = (ins StrAttr:$name, FloatElementsAttr<32>:$value);
  let assemblyFormat = "$name `=` $value attr-dict";
}

def IOSRT_PackConvWeightOp : IOSRT_Op<"pack_conv_weight"> {
  let summary = "copies a convolution weight into a merged one, at load";
  let description = [{
    `name` (created zero-filled, `total_out x in_channels x kh x kw`)
    receives weight `source` (`out x in_channels x src_kh x src_kw`) at
    output channels `[out_offset, out_offset + out)`, its kernel at rows
    `top ...` and columns `left ...` of the window.
  }];
  let arguments = (ins StrAttr:$name, I64Attr:$total_out, I64Attr:$in_channels,
                   I64Attr:$kh, I64Attr:$kw, StrAttr:$source,
                   I64Attr:$out_offset, I64Attr:$out, I64Attr:$src_kh,
                   I64Attr:$src_kw, I64Attr:$top, I64Attr:$left);
  let assemblyFormat = "$name `from` $source attr-dict";
  let hasVerifier = 1;
}

def IOSRT_PackBiasOp : IOSRT_Op<"pack_bias"> {
  let summary = "copies a bias into a merged one, at load";
  let arguments = (ins StrAttr:$name, I64Attr:$total, StrAttr:$source,
                   I64Attr:$offset, I64Attr:$size);
  let assemblyFormat = "$name `from` $source attr-dict";
  let hasVerifier = 1;
}

def IOSRT_StageOp : IOSRT_Op<"stage"> {
  let summary = "the start of a stage of the schedule";
  let arguments = (ins I64Attr:$index, IOS_StrategyAttr:$strategy,
                   I64Attr:$groups, OptionalAttr<F64Attr>:$latency_ms);
  let assemblyFormat = "$index attr-dict";
}

def IOSRT_RecordOp : IOSRT_Op<"record"> {
  let summary = "event completes when the stream's work so far has";
  let arguments = (ins I32Attr:$event, I32Attr:$stream);
  let assemblyFormat = "`event` $event `on` `stream` $stream attr-dict";
}

def IOSRT_WaitOp : IOSRT_Op<"wait"> {
  let summary = "the stream's later work waits for the event";
  let arguments = (ins I32Attr:$stream, I32Attr:$event);
  let assemblyFormat = "`stream` $stream `for` `event` $event attr-dict";
}

//===----------------------------------------------------------------------===//
// Kernels: enqueued on `stream`, named after their layer.
//===----------------------------------------------------------------------===//

class IOSRT_KernelOp<string mnemonic, dag args, string format>
    : IOSRT_Op<mnemonic> {
  let arguments = !con((ins I32Attr:$stream, StrAttr:$layer), args);
  let assemblyFormat = "$layer `on` `stream` $stream `:` " # format # " attr-dict";
  let hasVerifier = 1;
}

def IOSRT_Conv2dOp : IOSRT_KernelOp<"conv2d",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output, StrAttr:$weight,
         StrAttr:$bias, DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
         DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilations,
         I64Attr:$groups, IOS_ActivationAttr:$act),
    "$input `->` $output"> {
  let summary = "convolution with fused bias and activation";
}

def IOSRT_Pool2dOp : IOSRT_KernelOp<"pool2d",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output,
         IOS_PoolKindAttr:$kind, DenseI64ArrayAttr:$kernel,
         DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
         BoolAttr:$ceil_mode, BoolAttr:$count_include_pad),
    "$input `->` $output"> {
  let summary = "max or average pooling (global: the whole plane)";
}

def IOSRT_ActivationOp : IOSRT_KernelOp<"activation",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output,
         IOS_ActivationAttr:$kind),
    "$input `->` $output"> {
  let summary = "element-wise activation";
}

def IOSRT_AddOp : IOSRT_KernelOp<"add",
    (ins Variadic<IOSRT_ViewType>:$inputs, IOSRT_ViewType:$output),
    "$inputs `->` $output"> {
  let summary = "sum of the inputs ((N, C, 1, 1) inputs broadcast)";
}

def IOSRT_MulOp : IOSRT_KernelOp<"mul",
    (ins IOSRT_ViewType:$lhs, IOSRT_ViewType:$rhs, IOSRT_ViewType:$output),
    "$lhs `,` $rhs `->` $output"> {
  let summary = "product ((N, C, 1, 1) operands broadcast)";
}

def IOSRT_AffineOp : IOSRT_KernelOp<"affine",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output, StrAttr:$scale,
         StrAttr:$shift),
    "$input `->` $output"> {
  let summary = "per-channel scale and shift";
}

def IOSRT_PadOp : IOSRT_KernelOp<"pad",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output,
         DenseI64ArrayAttr:$pads, F32Attr:$value),
    "$input `->` $output"> {
  let summary = "constant spatial padding";
}

def IOSRT_UpsampleOp : IOSRT_KernelOp<"upsample",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output,
         DenseI64ArrayAttr:$scale),
    "$input `->` $output"> {
  let summary = "nearest-neighbour upsampling";
}

def IOSRT_ChannelShuffleOp : IOSRT_KernelOp<"channel_shuffle",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output, I64Attr:$groups),
    "$input `->` $output"> {
  let summary = "ShuffleNet's channel shuffle";
}

def IOSRT_CopyOp : IOSRT_KernelOp<"copy",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output),
    "$input `->` $output"> {
  let summary = "copies a tensor between views of one shape";
}

def IOSRT_LinearOp : IOSRT_KernelOp<"linear",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output, StrAttr:$weight,
         StrAttr:$bias),
    "$input `->` $output"> {
  let summary = "fully connected layer";
}

def IOSRT_SoftmaxOp : IOSRT_KernelOp<"softmax",
    (ins IOSRT_ViewType:$input, IOSRT_ViewType:$output),
    "$input `->` $output"> {
  let summary = "softmax over the features of an N x F view";
}

#endif // IOS_DIALECT_IOSRT_IR_IOSRTOPS_TD
