"""IOS-MLIR python frontend.

* :mod:`ios.builder`     -- build graphs of ``ios`` dialect ops and print them as
  textual MLIR that ``ios-opt`` parses.
* :mod:`ios.safetensors` -- read and write safetensors weight files (no
  dependency beyond numpy).
* :mod:`ios.zoo`         -- the IOS benchmark networks (``python3 -m ios.zoo``).
* :mod:`ios.reference`   -- a PyTorch evaluation of a built graph, the numerical
  reference for compiled programs (``python3 -m ios.reference``).
* :mod:`ios.mlir_reader` -- graph-level ``ios`` MLIR back into a builder graph.
* :mod:`ios.importer`    -- ONNX models to ``ios`` graphs (``python3 -m ios.importer``).
* :mod:`ios.torch`       -- ``nn.Module`` to ``ios`` graphs through torch.fx.
* :mod:`ios.pipeline`    -- import / zoo -> schedule -> C++ -> CPU run -> checks.

See ``docs/Zoo.md`` and ``docs/Import.md``.
"""

__all__ = ["builder", "safetensors", "zoo", "reference", "mlir_reader", "importer", "torch",
           "pipeline"]
