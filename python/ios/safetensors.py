"""Read and write the safetensors format with numpy only.

Layout: an 8-byte little-endian unsigned header length ``n``, ``n`` bytes of
UTF-8 JSON, then the raw little-endian tensor bytes. The JSON maps each tensor
name to ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}``
(offsets relative to the start of the data section; the tensors cover it
exactly, without gaps or overlaps) and may hold ``"__metadata__"``, a
string-to-string map. The header is padded with spaces to a multiple of 8
bytes, so every tensor of the file starts 8-byte aligned.
"""

import json
import math
import struct

import numpy as np

# safetensors dtype name -> numpy little-endian dtype
DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}
# Refuse absurd headers before reading them (the format itself caps at 100 MB).
MAX_HEADER = 100 * 1000 * 1000


class SafetensorsError(ValueError):
    """The file is not a well-formed safetensors file."""


def _st_dtype(arr):
    for name, np_str in DTYPES.items():
        dt = np.dtype(np_str)
        if arr.dtype == dt or arr.dtype == dt.newbyteorder(">"):
            return name
    raise SafetensorsError(f"unsupported dtype {arr.dtype}")


def dumps(tensors, metadata=None):
    """Serialize ``{name: ndarray}`` (in the given order) to bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is not a valid tensor name")
        arr = np.asarray(arr)
        dtype = _st_dtype(arr)
        data = np.ascontiguousarray(arr, dtype=np.dtype(DTYPES[dtype])).tobytes()
        header[name] = {"dtype": dtype, "shape": [int(d) for d in arr.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def save(path, tensors, metadata=None):
    """Write ``{name: ndarray}`` to ``path`` (see :func:`dumps`)."""
    data = dumps(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)


def _unique_keys(pairs):
    """object_pairs_hook for json.loads: a key given twice is an error (plain
    json.loads would silently keep the last value)."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise SafetensorsError(f"duplicate key {key!r} in the header")
        obj[key] = value
    return obj


def loads(data):
    """Parse bytes into ``(tensors, metadata)``: ``{name: ndarray}``, ``{str: str}``.

    Checks the header length, JSON (no key twice, in any object), dtypes,
    shapes against byte sizes, and that the non-empty tensors tile the data
    section exactly. Empty tensors hold no byte: they only need offsets inside
    the data section and never overlap anything. Linear in the number of
    tensors (plus one sort).
    """
    if len(data) < 8:
        raise SafetensorsError("file too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise SafetensorsError(f"header length {n} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError) as e:
        if isinstance(e, SafetensorsError):
            raise
        raise SafetensorsError(f"invalid JSON header: {e}")
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError("__metadata__ must map strings to strings")
    body = memoryview(data)[8 + n:]
    spans = []
    tensors = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(DTYPES[info["dtype"]])
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"malformed header entry for {name!r}: {info!r}")
        if any(d < 0 for d in shape):
            raise SafetensorsError(f"negative dimension in {name!r}")
        nbytes = math.prod(shape) * dtype.itemsize
        if not 0 <= begin <= end <= len(body) or end - begin != nbytes:
            raise SafetensorsError(f"tensor {name!r}: offsets [{begin}, {end}] do not match "
                                   f"shape {list(shape)} ({nbytes} bytes) in a "
                                   f"{len(body)}-byte data section")
        if nbytes:
            spans.append((begin, end, name))
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).copy()
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise SafetensorsError(f"tensor {name!r} at byte {begin}: data section has a gap "
                                   f"or overlap at byte {pos}")
        pos = end
    if pos != len(body):
        raise SafetensorsError(f"{len(body) - pos} trailing bytes after the last tensor")
    return tensors, metadata


def load(path):
    """Read ``path`` into ``(tensors, metadata)`` (see :func:`loads`)."""
    with open(path, "rb") as f:
        return loads(f.read())
