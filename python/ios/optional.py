"""Imports of the optional Debian packages, with one message when missing."""

import importlib


def require(module, package, user):
    """Import ``module`` (e.g. ``torch.fx``) and return its top-level package;
    without it, exit naming the Debian ``package`` that ``user`` needs."""
    try:
        importlib.import_module(module)
        return importlib.import_module(module.split(".")[0])
    except ImportError:  # pragma: no cover - depends on the machine
        raise SystemExit(f"{user} needs {package}: apt-get install {package}")
