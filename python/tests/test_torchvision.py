"""torchvision models imported both ways (torch.fx and torch.onnx.export +
ONNX), evaluated by ios.reference and compared with the torch model itself
(random init, randomised BatchNorm statistics and affine parameters, eval
mode): max |a - b| / max |b| <= 1e-4. Both paths must give the same graph
(ops, attributes, shapes, operand structure, hence the same schedule).

CI runs FAST_MODELS; ``IOS_TEST_TORCHVISION=all`` runs every model of
ios.importer.models.MODELS (see docs/Import.md for the times).
"""

import io
import os
import unittest

import numpy as np

try:
    import onnx
    import torch
    import torchvision
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torchvision = None

if torchvision is not None:
    import ios.torch
    from ios import reference
    from ios.importer import import_onnx
    from ios.importer.models import MODELS, torchvision_model
    from ios.pipeline import relative_error

TOLERANCE = 1e-4
FAST_MODELS = ["resnet18", "squeezenet1_1", "mobilenet_v3_small", "shufflenet_v2_x0_5"]


def models():
    return MODELS if os.environ.get("IOS_TEST_TORCHVISION") == "all" else FAST_MODELS


def onnx_model(model, x):
    f = io.BytesIO()
    torch.onnx.export(model, x, f)
    return onnx.load_from_string(f.getvalue())


@unittest.skipIf(torchvision is None, "needs python3-torchvision and python3-onnx")
class TorchvisionTest(unittest.TestCase):
    def test_models(self):
        for name in models():
            with self.subTest(model=name):
                model, x = torchvision_model(name)
                with torch.no_grad():
                    expected = model(x).numpy()
                g_fx, p_fx = ios.torch.import_module(model, x)
                g_onnx, p_onnx = import_onnx(onnx_model(model, x))
                for g, p in ((g_fx, p_fx), (g_onnx, p_onnx)):
                    (y,) = reference.run(g, p, x.numpy())
                    self.assertLessEqual(relative_error(y.numpy(), expected), TOLERANCE)
                self.assertEqual(g_fx.structure(), g_onnx.structure())
                # no batch norm, dropout or unfused conv activation survives where
                # the network allows folding: every affine follows a non-conv
                for op in g_fx.ops:
                    if op.kind == "affine":
                        producer = op.operands[0].op
                        self.assertFalse(producer is not None and producer.kind == "conv2d"
                                         and producer.attrs["act"] == "none"
                                         and len([o for o in g_fx.ops
                                                  if op.operands[0] in o.operands]) == 1)


if __name__ == "__main__":
    unittest.main()
