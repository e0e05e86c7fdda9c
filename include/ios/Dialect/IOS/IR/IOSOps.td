//===- IOSOps.td - IOS graph and schedule ops --------------*- tablegen -*-===//

#ifndef IOS_DIALECT_IOS_IR_IOSOPS_TD
#define IOS_DIALECT_IOS_IR_IOSOPS_TD

include "ios/Dialect/IOS/IR/IOSBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

def IOS_Conv2dOp : IOS_GraphOp<"conv2d", [],
    ["getMergeKey", "getMergedSignature", "buildMerge"]> {
  let summary = "2-D convolution with fused bias and activation";
  let description = [{
    Cross-correlation of an NCHW `input` with an OIHW `weight`
    (`O x C/groups x KH x KW`), plus `bias` (`O`), followed by the fused
    activation `act`. Padding is symmetric (`[pad_h, pad_w]`), as cuDNN's
    convolution descriptor is; dilation is supported.

    Output size per spatial dimension:
    `(in + 2 * pad - dilation * (k - 1) - 1) / stride + 1`.

    ```mlir
    %y = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>, act = #ios.act<relu>}
       : (tensor<1x375x15x15xf32>, tensor<375x375x3x3xf32>, tensor<375xf32>)
       -> tensor<1x375x15x15xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, IOS_NCHWTensor:$weight,
                   1DTensorOf<[F32]>:$bias,
                   DefaultValuedAttr<DenseI64ArrayAttr, "::ios::kDefaultOnes">:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "::ios::kDefaultZeros">:$padding,
                   DefaultValuedAttr<DenseI64ArrayAttr, "::ios::kDefaultOnes">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups,
                   DefaultValuedAttr<IOS_ActivationAttr, "::ios::Activation::none">:$act);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def IOS_Pool2dOp : IOS_GraphOp<"pool2d"> {
  let summary = "2-D max or average pooling, windowed or global";
  let description = [{
    `max` and `avg` pool over `kernel` windows with `strides` (default: the
    kernel) and symmetric `padding` (default 0, at most half the kernel).
    `global_max` and `global_avg` reduce each channel to `1 x 1` and take no
    window attributes.

    Output size per spatial dimension, with `span = in + 2 * pad - kernel`:
    `span / stride + 1`; with `ceil_mode` (PyTorch's), `ceil(span / stride) +
    1`, minus one if the last window would start past the input and its left
    padding (`(out - 1) * stride >= in + pad`).

    `max` takes the maximum of a window's taps inside the input. `avg` divides
    their sum by the window's size clipped to the padded input
    (`count_include_pad`, the default: padding counts, as IOS's cuDNN runtime
    does, and only the `ceil_mode` overhang past the padding does not), or by
    the number of taps inside the input (`count_include_pad = false`).

    ```mlir
    %y = ios.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>}
       : tensor<1x64x147x147xf32> -> tensor<1x64x73x73xf32>
    %z = ios.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
                            padding = array<i64: 1, 1>, ceil_mode, count_include_pad = false}
       : tensor<1x64x147x147xf32> -> tensor<1x64x74x74xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, IOS_PoolKindAttr:$kind,
                   OptionalAttr<DenseI64ArrayAttr>:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   OptionalAttr<DenseI64ArrayAttr>:$padding,
                   UnitAttr:$ceil_mode,
                   DefaultValuedAttr<BoolAttr, "true">:$count_include_pad);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $input attr-dict `:` type($input) `->` type($output)
  }];
  let extraClassDeclaration = [{
    bool isGlobal() {
      return getKind() == PoolKind::global_max || getKind() == PoolKind::global_avg;
    }
  }];
}

def IOS_ActivationOp : IOS_GraphOp<"activation"> {
  let summary = "element-wise activation function";
  let description = [{
    Applies `relu`, `sigmoid`, `tanh`, `relu6` (`min(max(x, 0), 6)`),
    `hardsigmoid` (PyTorch's `relu6(x + 3) / 6`), `hardswish`
    (`x * hardsigmoid(x)`) or `silu` (`x * sigmoid(x)`) element-wise; the same
    kinds are the fused activations of `ios.conv2d`.

    ```mlir
    %y = ios.activation relu %x : tensor<1x64x8x8xf32>
    ```
  }];
  let arguments = (ins IOS_Tensor:$input, IOS_ActivationAttr:$kind);
  let results = (outs IOS_Tensor:$output);
  let assemblyFormat = "custom<EnumKeyword>($kind) $input attr-dict `:` type($input)";
}

def IOS_AddOp : IOS_GraphOp<"add"> {
  let summary = "n-ary element-wise sum, broadcasting (N, C, 1, 1) operands";
  let description = [{
    Sums two or more tensors (IOS: the values of one input term). Operands
    have the result's type, or, for NCHW results, are `(N, C, 1, 1)` and
    broadcast over the spatial dimensions (at least one operand has the full
    type). Equal operand types are printed once; otherwise each is listed.

    ```mlir
    %y = ios.add %a, %b, %c : tensor<1x64x8x8xf32>
    %z = ios.add %a, %s : tensor<1x64x8x8xf32>, tensor<1x64x1x1xf32>
    ```
  }];
  let arguments = (ins Variadic<IOS_Tensor>:$inputs);
  let results = (outs IOS_Tensor:$output);
  let assemblyFormat =
      "$inputs attr-dict `:` custom<OperandTypes>(ref($inputs), type($inputs))";
}

def IOS_MulOp : IOS_GraphOp<"mul"> {
  let summary = "element-wise product, broadcasting an (N, C, 1, 1) operand";
  let description = [{
    Multiplies two tensors of one type, or an NCHW tensor by an `(N, C, 1, 1)`
    one (per-channel scaling, as in squeeze-and-excitation blocks), in either
    order; the result has the full type.

    ```mlir
    %y = ios.mul %x, %s : tensor<1x64x8x8xf32>, tensor<1x64x1x1xf32>
    ```
  }];
  let arguments = (ins IOS_Tensor:$lhs, IOS_Tensor:$rhs);
  let results = (outs IOS_Tensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` custom<BinaryOperandTypes>(type($lhs), type($rhs))";
}

def IOS_AffineOp : IOS_GraphOp<"affine"> {
  let summary = "per-channel scale and shift (an unfolded batch normalization)";
  let description = [{
    `y[n, c, ...] = x[n, c, ...] * scale[c] + shift[c]` for an NCHW or an
    `N x C` input; `scale` and `shift` are `tensor<Cxf32>` parameters.

    ```mlir
    %y = ios.affine %x, %scale, %shift : tensor<1x64x8x8xf32>, tensor<64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins IOS_Tensor:$input, 1DTensorOf<[F32]>:$scale,
                   1DTensorOf<[F32]>:$shift);
  let results = (outs IOS_Tensor:$output);
  let assemblyFormat =
      "$input `,` $scale `,` $shift attr-dict `:` type($input) `,` type($scale) `,` type($shift)";
}

def IOS_PadOp : IOS_GraphOp<"pad"> {
  let summary = "constant spatial padding of an NCHW tensor";
  let description = [{
    Pads the spatial dimensions by `pads = [top, left, bottom, right]` (each
    >= 0) with the finite constant `value` (default 0). Importers use it for
    the asymmetric part of a convolution's or pool's padding.

    ```mlir
    %y = ios.pad %x {pads = array<i64: 0, 0, 1, 1>, value = 0.0 : f32}
       : tensor<1x192x35x35xf32> -> tensor<1x192x36x36xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<F32Attr, "0.0f">:$value);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def IOS_UpsampleOp : IOS_GraphOp<"upsample"> {
  let summary = "nearest-neighbour upsampling by integer factors";
  let description = [{
    `y[n, c, h, w] = x[n, c, h / scale_h, w / scale_w]`.

    ```mlir
    %y = ios.upsample nearest %x {scale = array<i64: 2, 2>}
       : tensor<1x64x8x8xf32> -> tensor<1x64x16x16xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, IOS_UpsampleModeAttr:$mode,
                   DenseI64ArrayAttr:$scale);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = [{
    custom<EnumKeyword>($mode) $input attr-dict `:` type($input) `->` type($output)
  }];
}

def IOS_ChannelShuffleOp : IOS_GraphOp<"channel_shuffle"> {
  let summary = "ShuffleNet's channel shuffle";
  let description = [{
    Reshapes the channels into `groups x C/groups`, transposes them and
    flattens back: output channel `j * groups + g` is input channel
    `g * C/groups + j`. `groups` divides the channels.

    ```mlir
    %y = ios.channel_shuffle %x {groups = 2} : tensor<1x64x8x8xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, I64Attr:$groups);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def IOS_ConcatOp : IOS_GraphOp<"concat", [], ["concatenatesOperands"]> {
  let summary = "concatenation along the channel axis";
  let description = [{
    Concatenates two or more NCHW tensors with equal batch and spatial sizes
    along channels.

    ```mlir
    %y = ios.concat %a, %b : (tensor<1x64x8x8xf32>, tensor<1x32x8x8xf32>)
                          -> tensor<1x96x8x8xf32>
    ```
  }];
  let arguments = (ins Variadic<IOS_NCHWTensor>:$inputs);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $output)";
}

def IOS_SliceOp : IOS_GraphOp<"slice", [], ["getResultLayout"]> {
  let summary = "channel range [begin, end) of an NCHW tensor";
  let description = [{
    Selects channels `[begin, end)`. Merge stages split their merged
    convolution's result with slices; the runtime makes them views where the
    layout allows.

    ```mlir
    %y = ios.slice %x[64:112] : tensor<1x176x35x35xf32> -> tensor<1x48x35x35xf32>
    ```
  }];
  let arguments = (ins IOS_NCHWTensor:$input, I64Attr:$begin, I64Attr:$end);
  let results = (outs IOS_NCHWTensor:$output);
  let assemblyFormat = [{
    $input `[` $begin `:` $end `]` attr-dict `:` type($input) `->` type($output)
  }];
}

def IOS_FlattenOp : IOS_GraphOp<"flatten", [], ["getResultLayout"]> {
  let summary = "NCHW to N x (C*H*W)";
  let arguments = (ins IOS_NCHWTensor:$input);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def IOS_LinearOp : IOS_GraphOp<"linear"> {
  let summary = "fully connected layer: input * weight^T + bias";
  let description = [{
    `input` is `N x K`, `weight` is `M x K` (PyTorch's layout), `bias` is `M`;
    the result is `N x M`.
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input,
                   2DTensorOf<[F32]>:$weight,
                   1DTensorOf<[F32]>:$bias);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def IOS_SoftmaxOp : IOS_GraphOp<"softmax"> {
  let summary = "softmax over the last axis of an N x M tensor";
  let arguments = (ins 2DTensorOf<[F32]>:$input);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Schedule ops
//===----------------------------------------------------------------------===//

def IOS_StageOp : IOS_Op<"stage", [
    SingleBlock, RecursiveMemoryEffects, RecursivelySpeculatable,
    DeclareOpInterfaceMethods<RegionBranchOpInterface>]> {
  let summary = "one stage of a schedule: groups run concurrently or one merged conv";
  let description = [{
    A stage runs after every stage before it has finished. Its body holds
    `ios.group` ops and ends with `ios.yield`, whose operands (results of the
    stage's groups) become the stage's results.

    * `concurrent`: each group runs on its own stream; groups exchange no
      values (a group may not use a result of another group of the same
      stage).
    * `merge`: a single group holding one mergeable op (the merged op, e.g.
      an `ios.conv2d` with `groups = 1` over packed weights) and two or more
      `ios.slice` ops that split its output channels, disjointly and
      completely, back into the original ops' results.

    `latency_ms` is the profiler's estimate for the stage, when scheduled.

    ```mlir
    %s:2 = ios.stage concurrent latency_ms = 0.161 {
      %a = ios.group {
        %0 = ios.conv2d ...
        ios.yield %0 : tensor<1x375x15x15xf32>
      } -> tensor<1x375x15x15xf32>
      %b = ios.group { ... }
      ios.yield %a, %b : tensor<1x375x15x15xf32>, tensor<1x375x15x15xf32>
    } -> tensor<1x375x15x15xf32>, tensor<1x375x15x15xf32>
    ```
  }];
  let arguments = (ins IOS_StrategyAttr:$strategy,
                   OptionalAttr<F64Attr>:$latency_ms);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    custom<EnumKeyword>($strategy) (`latency_ms` `=` $latency_ms^)?
    attr-dict-with-keyword $body (`->` type($results)^)?
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The stage's groups, in order (group i runs on stream i).
    auto getGroups() { return getBody().front().getOps<GroupOp>(); }
  }];
}

def IOS_GroupOp : IOS_Op<"group", [
    SingleBlock, HasParent<"StageOp">, RecursiveMemoryEffects,
    RecursivelySpeculatable,
    DeclareOpInterfaceMethods<RegionBranchOpInterface>]> {
  let summary = "ops of one stage that run in order on one stream";
  let description = [{
    The body holds graph ops run one after the other and ends with
    `ios.yield`, whose operands become the group's results.
  }];
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body (`->` type($results)^)?";
  let hasRegionVerifier = 1;
}

def IOS_YieldOp : IOS_Op<"yield", [
    Pure, Terminator, ReturnLike, ParentOneOf<["StageOp", "GroupOp"]>]> {
  let summary = "ends a stage or a group and yields its results";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // IOS_DIALECT_IOS_IR_IOSOPS_TD
