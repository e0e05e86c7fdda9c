"""PyTorch import through torch.fx (ios.torch): modules and functions
compared with the module itself, export files, rejected modules."""

import os
import tempfile
import unittest

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torch = None

if torch is not None:
    import ios.torch
    from ios import mlir_reader, reference, safetensors
    from ios.importer import ImporterError

    class Block(nn.Module):
        """Shapes computed from x.size(), chunk, channel shuffle by view /
        transpose, SE with broadcasting, hardtanh as relu6, slicing."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding="same", bias=False)
            self.bn = nn.BatchNorm2d(8)
            self.act = nn.Hardtanh(0.0, 6.0)
            self.fc1 = nn.Conv2d(8, 4, 1)
            self.fc2 = nn.Conv2d(4, 8, 1)
            self.pool = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
            self.head = nn.Linear(16 * 10 * 10, 10)

        def forward(self, x):
            n, c, h, w = x.size()
            a, b = x.chunk(2, dim=1)
            y = torch.cat([a, self.act(self.bn(self.conv(x)))[:, 4:]], 1)
            y = y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, -1, h, w)
            s = F.hardsigmoid(self.fc2(F.relu(self.fc1(y.mean((2, 3), keepdim=True)))))
            y = y * s
            y = torch.cat([self.pool(y), F.max_pool2d(F.pad(y, (0, 1, 0, 1)), 2,
                                                      ceil_mode=True)], 1)
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            return F.softmax(self.head(torch.flatten(y, 1)), -1), b * 2.0 - 1.0

    class Gelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.gelu = nn.GELU()

        def forward(self, x):
            return self.gelu(self.conv(x))

    class ValueBranch(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x


@unittest.skipIf(torch is None, "needs python3-torch")
class TorchImportTest(unittest.TestCase):
    def module(self):
        torch.manual_seed(0)
        m = Block().eval()
        with torch.no_grad():
            m.bn.running_mean.uniform_(-0.2, 0.2)
            m.bn.running_var.uniform_(0.5, 1.5)
            m.bn.weight.uniform_(0.5, 1.5)
        return m, torch.randn(2, 8, 8, 8)

    def test_block(self):
        m, x = self.module()
        g, params = ios.torch.import_module(m, x)
        with torch.no_grad():
            expected = m(x)
        outs = reference.run(g, params, x.numpy())
        for y, e in zip(outs, expected):
            err = (y - e).abs().max() / e.abs().max()
            self.assertLessEqual(float(err), 1e-5)
        kinds = [op.kind for op in g.ops]
        for kind in ("channel_shuffle", "mul", "pad", "upsample", "slice", "softmax", "affine"):
            self.assertIn(kind, kinds)
        conv = g.ops[[op.name for op in g.ops].index("conv")]
        self.assertEqual(conv.attrs["act"], "relu6")  # BN folded, hardtanh(0, 6) fused
        self.assertEqual([a.name for a in conv.params], ["conv.weight.folded",
                                                         "conv.weight.folded_bias"])

    def test_export_files(self):
        m, x = self.module()
        with tempfile.TemporaryDirectory() as d:
            g, params = ios.torch.export(m, x, os.path.join(d, "block.mlir"))
            self.assertEqual(sorted(os.listdir(d)), ["block.mlir", "block.safetensors"])
            g2 = mlir_reader.read(os.path.join(d, "block.mlir"))
            p2, meta = safetensors.load(os.path.join(d, "block.safetensors"))
            self.assertEqual(meta["importer"], "ios.torch (torch.fx)")
            self.assertEqual(g2.name, "block")
            a = reference.run(g, params, x.numpy())
            b = reference.run(g2, p2, x.numpy())
            for u, v in zip(a, b):
                self.assertTrue(torch.equal(u, v))

    def test_errors(self):
        x = torch.randn(1, 3, 4, 4)
        cases = [
            (Gelu().eval(), 'FX node 2 "gelu" (call_module gelu): unsupported module '
                            'torch.nn.modules.activation.GELU'),
            (Gelu(), "the module is in training mode: call .eval() first"),
        ]
        for m, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(ImporterError) as cm:
                    ios.torch.import_module(m, x)
                self.assertEqual(str(cm.exception), message)
        with self.assertRaises(ImporterError) as cm:
            ios.torch.import_module(ValueBranch().eval(), x)
        self.assertTrue(str(cm.exception).startswith("torch.fx cannot trace the module: "
                                                     "TraceError"), str(cm.exception))


if __name__ == "__main__":
    unittest.main()
