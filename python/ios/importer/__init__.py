"""Bring-your-own-model import: ONNX files and PyTorch modules to ``ios`` graphs.

* :func:`import_onnx` / ``python3 -m ios.importer model.onnx -o graph.mlir
  --weights w.safetensors`` (:mod:`ios.importer.onnx`);
* :func:`ios.torch.export` for an ``nn.Module`` (torch.fx, an independent path).

Both lower through :mod:`ios.importer.lower` and rewrite with
:mod:`ios.importer.fuse`, so a network gives the same graph either way. See
``docs/Import.md``.
"""

import os
import tempfile

from ios import safetensors
from ios.importer.lower import ImporterError

__all__ = ["ImporterError", "import_onnx", "write"]


def import_onnx(model, batch=None):
    """Import an ONNX model (a path or an ``onnx.ModelProto``); returns
    ``(graph, params)``. Raises :class:`ImporterError`."""
    from ios.importer import onnx as onnx_importer
    if isinstance(model, (str, os.PathLike)):
        return onnx_importer.import_model(None, batch, path=os.fspath(model))
    return onnx_importer.import_model(model, batch)


def _write_atomic(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder,
    so a failed write leaves no partial file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ios-import-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(graph, params, mlir_path=None, weights_path=None, metadata=None, locations=True):
    """Write the graph's MLIR and its weights (safetensors, in argument order).

    Both are rendered before either file is written."""
    text = graph.to_mlir(locations=locations).encode()
    blob = safetensors.dumps({a.name: params[a.name] for a in graph.params}, metadata)
    if mlir_path is not None:
        _write_atomic(mlir_path, text)
    if weights_path is not None:
        _write_atomic(weights_path, blob)
    return text.decode()
