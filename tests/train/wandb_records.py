"""Read back the history rows of an offline W&B run (``run-<id>.wandb``), for the tracker test.

The file is W&B's record log: a 7-byte header (``:W&B``, magic, version), then records in
32 KiB blocks, each with a 7-byte header (CRC32 4, little-endian length 2, type 1: full, first,
middle, last) followed by a serialised ``wandb_internal_pb2.Record``.
"""
from __future__ import annotations

import json
from pathlib import Path

BLOCK = 32 * 1024
HEADER = 7
FULL, LAST = 1, 4


def records(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B record log"
    pos, chunk, out = HEADER, b"", []
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # block trailer: padding
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        chunk += data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        if kind in (FULL, LAST):
            out.append(chunk)
            chunk = b""
    return out


def history(path: Path) -> list[dict]:
    """Every ``run.log`` row of the run, as {key: value}."""
    from wandb.proto import wandb_internal_pb2 as pb

    rows = []
    for raw in records(path):
        record = pb.Record()
        record.ParseFromString(raw)
        if record.WhichOneof("record_type") == "history":
            rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                         for item in record.history.item})
    return rows
