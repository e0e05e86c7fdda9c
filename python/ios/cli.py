"""Command-line conventions shared by the package's entry points."""

import os
import sys


def prog(module):
    """The program name for usage lines: the console script's name when run
    as one (``ios-zoo``), else ``python3 -m MODULE``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name and not name.endswith(".py") and name not in ("-c", "-m"):
        return name
    return f"python3 -m {module}"
