"""Random testing of the whole compiler (docs/Fuzzing.md).

* :mod:`ios.fuzz.graphs`: random CNN DAGs (:class:`ios.builder.Graph`) from a
  seed, with every op kind and attribute the dialect supports;
* :mod:`ios.fuzz.differential`: schedules them (IOS-Both and sequential),
  emits, compiles and runs the programs on the CPU runtime and compares both
  with the PyTorch reference.

The mutation fuzzer of the parser and the passes is the C++ tool
``ios-fuzz`` (``tools/ios-fuzz``).
"""
