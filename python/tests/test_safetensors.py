"""Tests of ios.safetensors against a byte layout assembled by hand."""

import json
import os
import struct
import tempfile
import unittest

import numpy as np

from ios import safetensors as st


class RoundTripTest(unittest.TestCase):
    def test_round_trip(self):
        rng = np.random.default_rng(1)
        tensors = {
            "conv.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
            "conv.bias": rng.standard_normal(4).astype(np.float32),
            "scalar": np.array(2.5, np.float32),
            "empty": np.zeros((0, 5), np.float32),
            "ints": np.arange(-3, 4, dtype=np.int64),
            "half": np.array([1.5, -2.0], np.float16),
            "bytes": np.array([1, 255], np.uint8),
            "bigendian": np.array([1.0, 2.0], dtype=">f4"),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w.safetensors")
            st.save(path, tensors, {"model": "x", "seed": 3})
            back, meta = st.load(path)
        self.assertEqual(meta, {"model": "x", "seed": "3"})
        self.assertEqual(list(back), list(tensors))
        for k, v in tensors.items():
            self.assertEqual(back[k].shape, v.shape, k)
            np.testing.assert_array_equal(back[k], v)
        self.assertEqual(back["bigendian"].dtype, np.dtype("<f4"))
        self.assertEqual(back["half"].dtype, np.float16)

    def test_layout(self):
        a = np.array([[1, 2], [3, 4]], np.float32)
        b = np.array([7], np.float32)
        data = st.dumps({"a": a, "b": b}, {"k": "v"})
        (n,) = struct.unpack("<Q", data[:8])
        self.assertEqual(n % 8, 0)  # tensors start 8-byte aligned
        header = json.loads(data[8:8 + n])
        self.assertEqual(header["__metadata__"], {"k": "v"})
        self.assertEqual(header["a"], {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]})
        self.assertEqual(header["b"], {"dtype": "F32", "shape": [1], "data_offsets": [16, 20]})
        self.assertEqual(data[8 + n:], struct.pack("<5f", 1, 2, 3, 4, 7))

    def test_reads_hand_made_file(self):
        header = json.dumps({"w": {"dtype": "F32", "shape": [3], "data_offsets": [8, 20]},
                             "i": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}})
        blob = struct.pack("<2i", -1, 5) + struct.pack("<3f", 0.5, -1.0, 3.0)
        data = struct.pack("<Q", len(header)) + header.encode() + blob
        tensors, meta = st.loads(data)
        self.assertEqual(meta, {})
        np.testing.assert_array_equal(tensors["w"], [0.5, -1.0, 3.0])
        np.testing.assert_array_equal(tensors["i"], [-1, 5])


class MalformedTest(unittest.TestCase):
    @staticmethod
    def file(header, body):
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + body

    def test_errors(self):
        ok = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
        cases = {
            "short": b"\x01\x00",
            "header past end": struct.pack("<Q", 1000) + b"{}",
            "bad json": struct.pack("<Q", 3) + b"{x}",
            "not an object": self.file([1, 2], b""),
            "size mismatch": self.file({"a": {"dtype": "F32", "shape": [3],
                                              "data_offsets": [0, 8]}}, bytes(8)),
            "past end": self.file({"a": {"dtype": "F32", "shape": [2],
                                         "data_offsets": [0, 8]}}, bytes(4)),
            "gap": self.file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                             bytes(8)),
            "overlap": self.file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                                 bytes(8)),
            "trailing": self.file(ok, bytes(12)),
            "dtype": self.file({"a": {"dtype": "F99", "shape": [2], "data_offsets": [0, 8]}},
                               bytes(8)),
            "metadata": self.file(dict(ok, __metadata__={"k": 1}), bytes(8)),
        }
        self.assertEqual(st.loads(self.file(ok, bytes(8)))[0]["a"].shape, (2,))
        for name, data in cases.items():
            with self.subTest(case=name):
                with self.assertRaises(st.SafetensorsError):
                    st.loads(data)

    @staticmethod
    def raw(text, body):
        text = text.encode()
        return struct.pack("<Q", len(text)) + text + body

    def test_duplicate_keys_are_named(self):
        t = '{"dtype": "F32", "shape": [1], "data_offsets": [%d, %d]}'
        cases = {
            "a": self.raw('{"a": %s, "a": %s}' % (t % (0, 4), t % (4, 8)), bytes(8)),
            "k": self.raw('{"__metadata__": {"k": "1", "j": "2", "k": "3"}}', b""),
            "__metadata__": self.raw('{"__metadata__": {}, "__metadata__": {"k": "v"}}',
                                     b""),
            "dtype": self.raw('{"a": {"dtype": "F32", "dtype": "F32", "shape": [1],'
                              ' "data_offsets": [0, 4]}}', bytes(4)),
        }
        for key, data in cases.items():
            with self.subTest(key=key):
                with self.assertRaisesRegex(st.SafetensorsError,
                                            f"duplicate key '{key}'"):
                    st.loads(data)

    def test_empty_tensors_never_overlap(self):
        a = '"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}'
        inside = '"e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}'
        start = '"f": {"dtype": "F32", "shape": [3, 0], "data_offsets": [0, 0]}'
        end = '"g": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]}'
        body = struct.pack("<2f", 1, 2)
        for order in ([a, inside, start, end], [end, inside, start, a],
                      [start, a, end, inside]):
            with self.subTest(order=order):
                tensors, _ = st.loads(self.raw("{" + ", ".join(order) + "}", body))
                np.testing.assert_array_equal(tensors["a"], [1, 2])
                self.assertEqual(tensors["e"].shape, (0,))
                self.assertEqual(tensors["f"].shape, (3, 0))
        # Still bounds-checked.
        outside = '"e": {"dtype": "F32", "shape": [0], "data_offsets": [12, 12]}'
        with self.assertRaisesRegex(st.SafetensorsError, "tensor 'e': offsets"):
            st.loads(self.raw("{" + a + ", " + outside + "}", body))

    def test_bad_name(self):
        with self.assertRaises(st.SafetensorsError):
            st.dumps({"__metadata__": np.zeros(1, np.float32)})


if __name__ == "__main__":
    unittest.main()
