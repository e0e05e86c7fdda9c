"""IOS-MLIR python frontend.

* :mod:`ios.builder`     -- build graphs of ``ios`` dialect ops and print them as
  textual MLIR that ``ios-opt`` parses.
* :mod:`ios.safetensors` -- read and write safetensors weight files (no
  dependency beyond numpy).
* :mod:`ios.zoo`         -- the IOS benchmark networks (``python3 -m ios.zoo``).
* :mod:`ios.reference`   -- a PyTorch evaluation of a built graph, the numerical
  reference for compiled programs (``python3 -m ios.reference``).

See ``docs/Zoo.md``.
"""

__all__ = ["builder", "safetensors", "zoo", "reference"]
