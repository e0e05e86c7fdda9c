"""The IOS benchmark networks as ``ios`` dialect graphs.

``MODELS`` maps a model name to a builder ``f(batch=1) -> ios.builder.Graph``::

    from ios import zoo
    g = zoo.build("inception_v3", batch=1)
    text = g.to_mlir()
    params = g.random_params(seed=0)

Command line: ``python3 -m ios.zoo --help``. See ``docs/Zoo.md``.
"""

# The submodules keep their names (ios.zoo.squeezenet is the module); the
# builders are reached through MODELS / build().
from ios.zoo import inception_v3 as _inception_v3
from ios.zoo import nasnet as _nasnet
from ios.zoo import randwire as _randwire
from ios.zoo import sample as _sample
from ios.zoo import squeezenet as _squeezenet

MODELS = {
    "sample": _sample.sample,
    "inception_v3": _inception_v3.inception_v3,
    "squeezenet": _squeezenet.squeezenet,
    "randwire": _randwire.randwire,
    "nasnet": _nasnet.nasnet,
}

DESCRIPTIONS = {
    "sample": "IOS README example: 375x15x15, four 3x3 convs + concat",
    "inception_v3": "Inception V3, 3x299x299 (13 blocks)",
    "squeezenet": "SqueezeNet with bypasses (IOS variant), 3x224x224",
    "randwire": "RandWire large (4 Watts-Strogatz stages), 3x224x224",
    "nasnet": "NasNet-A large (6 @ 4032, 25 cells), 3x331x331",
}


class UnknownModelError(KeyError):
    pass


def build(name, batch=1):
    """Build model ``name`` at batch size ``batch``."""
    try:
        fn = MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; available: {', '.join(MODELS)}") from None
    return fn(batch=batch)
