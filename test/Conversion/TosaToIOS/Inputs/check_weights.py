"""Prints the weights tosa-to-ios wrote: one tap of branch5x5_2 (OIHW) and
the number of tensors."""
import sys

from ios import safetensors

tensors, _ = safetensors.load(sys.argv[1])
w = tensors["branch5x5_2.weight"]
print(f"branch5x5_2.weight {list(w.shape)} tap (o=1, i=2, h=3, w=4) = "
      f"{w[1, 2, 3, 4]:.3f}")
print("tensors", len(tensors))
