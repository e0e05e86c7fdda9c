"""Reads or changes a stage database's binary index (FILE.index, see
include/ios/Profiler/DatabaseProfiler.h) for database-index.mlir.

    db_index.py show DB           prints what the index covers
    db_index.py scale DB FACTOR   multiplies every latency in it by FACTOR
    db_index.py ratio A.mlir B.mlir   prints latency_ms of A / latency_ms of B
                                      (the first function of each)
"""

import os
import re
import struct
import sys

HEADER = struct.Struct("<8s8Q")  # magic, covered, lines, prefix hash,
                                 # size, mtime ns, inode, device, count
RECORD = struct.Struct("<QQd")


def read(db):
    with open(db + ".index", "rb") as f:
        data = f.read()
    head = HEADER.unpack_from(data)
    return data, head


cmd = sys.argv[1]
if cmd == "show":
    db = sys.argv[2]
    data, (magic, covered, lines, _, size, _, _, _, count) = read(db)
    whole = len(data) == HEADER.size + count * RECORD.size
    print(f"{magic.decode()} covers {'all' if covered == os.path.getsize(db) else covered} "
          f"bytes, {lines} lines, {count} records, whole {whole}")
elif cmd == "scale":
    db, factor = sys.argv[2], float(sys.argv[3])
    data, head = read(db)
    out = bytearray(data)
    for i in range(head[-1]):
        at = HEADER.size + i * RECORD.size
        lo, hi, ms = RECORD.unpack_from(out, at)
        RECORD.pack_into(out, at, lo, hi, ms * factor)
    # In place: the database's identity (size, mtime, inode) is unchanged.
    with open(db + ".index", "r+b") as f:
        f.write(out)
elif cmd == "ratio":
    def latency(path):
        text = open(path).read()
        return float(re.search(r"latency_ms = ([0-9.e+-]+) : f64", text).group(1))
    print(f"ratio {latency(sys.argv[2]) / latency(sys.argv[3]):.3f}")
